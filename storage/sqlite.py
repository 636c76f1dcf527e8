"""The SQLite store: WAL, a versioned schema, one batching writer behind a bounded queue.

Only the writer task writes, so batches never interleave on the connection (aiosqlite runs every
call of a connection on one thread, in order). A kill at any moment leaves a database that opens
with every committed batch; a scan that did not finish keeps the status ``running`` and is
reported as ``incomplete``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import sqlite3
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiosqlite
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_delay,
    wait_exponential,
)

from crawler import __version__
from storage.base import (
    BodyRow,
    ColumnRow,
    CoverageRow,
    FindingRow,
    FrontierRow,
    ItemRow,
    Journal,
    LinkRow,
    PageRow,
    Progress,
    Record,
    RefRow,
    SampleRow,
    ScanInfo,
    StoreError,
    resumable_alone,
)

SCHEMA_VERSION = 7
MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE scans (
        id INTEGER PRIMARY KEY,
        config_path TEXT NOT NULL,
        config_digest TEXT NOT NULL,
        as_of TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL,
        pages INTEGER NOT NULL DEFAULT 0,
        requests INTEGER NOT NULL DEFAULT 0,
        sites TEXT NOT NULL,
        version TEXT NOT NULL
    );
    CREATE TABLE pages (
        scan_id INTEGER NOT NULL REFERENCES scans(id),
        url_id INTEGER NOT NULL,
        site TEXT NOT NULL,
        url TEXT NOT NULL,
        final_url TEXT NOT NULL,
        status INTEGER,
        error TEXT,
        content_type TEXT NOT NULL,
        charset TEXT,
        title TEXT,
        depth INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        elapsed_ms INTEGER NOT NULL,
        fetched_at TEXT NOT NULL,
        PRIMARY KEY (scan_id, url_id)
    ) WITHOUT ROWID;
    CREATE TABLE links (
        scan_id INTEGER NOT NULL REFERENCES scans(id),
        url_id INTEGER NOT NULL,
        url TEXT NOT NULL,
        outcome TEXT NOT NULL,
        reason TEXT NOT NULL,
        status INTEGER,
        final_url TEXT NOT NULL,
        method TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        checked_at TEXT NOT NULL,
        PRIMARY KEY (scan_id, url_id)
    ) WITHOUT ROWID;
    CREATE TABLE refs (
        scan_id INTEGER NOT NULL REFERENCES scans(id),
        target_id INTEGER NOT NULL,
        page_id INTEGER NOT NULL,
        site TEXT NOT NULL,
        tag TEXT NOT NULL,
        PRIMARY KEY (scan_id, target_id, site, page_id)
    ) WITHOUT ROWID;
    CREATE TABLE findings (
        id INTEGER PRIMARY KEY,
        scan_id INTEGER NOT NULL REFERENCES scans(id),
        identity TEXT NOT NULL,
        check_code TEXT NOT NULL,
        severity TEXT NOT NULL,
        site TEXT NOT NULL,
        unit TEXT NOT NULL,
        column_name TEXT,
        url TEXT NOT NULL,
        page TEXT,
        detail TEXT NOT NULL,
        observed_at TEXT NOT NULL,
        UNIQUE (scan_id, identity)
    );
    CREATE INDEX findings_by_check ON findings (scan_id, check_code);
    """,
    2: """
    CREATE TABLE columns (
        scan_id INTEGER NOT NULL REFERENCES scans(id),
        site TEXT NOT NULL,
        url TEXT NOT NULL,
        name TEXT NOT NULL,
        category TEXT NOT NULL,
        unit TEXT NOT NULL,
        top_level INTEGER NOT NULL,
        configured INTEGER NOT NULL,
        parent TEXT,
        items INTEGER NOT NULL,
        dated_items INTEGER NOT NULL,
        newest TEXT,
        pages INTEGER NOT NULL,
        is_list INTEGER NOT NULL,
        why TEXT NOT NULL,
        PRIMARY KEY (scan_id, site, url)
    ) WITHOUT ROWID;
    ALTER TABLE scans ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
    CREATE TABLE ignores (
        identity TEXT PRIMARY KEY,
        site TEXT NOT NULL,
        check_code TEXT NOT NULL,
        url TEXT NOT NULL,
        reason TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    """,
    3: """
    CREATE TABLE samples (
        id INTEGER PRIMARY KEY,
        site TEXT NOT NULL,
        url TEXT NOT NULL,
        at TEXT NOT NULL,
        ok INTEGER NOT NULL,
        status INTEGER,
        total_ms INTEGER,
        dns_ms INTEGER,
        connect_ms INTEGER,
        tls_ms INTEGER,
        first_byte_ms INTEGER,
        failed_at TEXT,
        error TEXT
    );
    CREATE INDEX samples_by_site ON samples (site, at);
    """,
    4: """
    CREATE TABLE frontier (
        scan_id INTEGER NOT NULL REFERENCES scans(id),
        url_id INTEGER NOT NULL,
        url TEXT NOT NULL,
        kind INTEGER NOT NULL,
        site INTEGER NOT NULL,
        depth INTEGER NOT NULL,
        link_kind TEXT NOT NULL,
        follow INTEGER NOT NULL,
        PRIMARY KEY (scan_id, url_id)
    ) WITHOUT ROWID;
    CREATE TABLE bodies (
        scan_id INTEGER NOT NULL REFERENCES scans(id),
        url_id INTEGER NOT NULL,
        content_type TEXT NOT NULL,
        redirects TEXT NOT NULL,
        body BLOB NOT NULL,
        PRIMARY KEY (scan_id, url_id)
    ) WITHOUT ROWID;
    """,
    5: """
    CREATE TABLE items (
        scan_id INTEGER NOT NULL REFERENCES scans(id),
        site TEXT NOT NULL,
        column_url TEXT NOT NULL,
        url TEXT NOT NULL,
        title TEXT NOT NULL,
        date TEXT,
        PRIMARY KEY (scan_id, site, column_url, url)
    ) WITHOUT ROWID;
    """,
    6: """
    CREATE TABLE targets (
        scan_id INTEGER NOT NULL REFERENCES scans(id),
        url TEXT NOT NULL,
        title TEXT NOT NULL,
        final_host TEXT NOT NULL,
        PRIMARY KEY (scan_id, url)
    ) WITHOUT ROWID;
    """,
    7: """
    CREATE TABLE coverage (
        scan_id INTEGER NOT NULL REFERENCES scans(id),
        site TEXT NOT NULL,
        detail TEXT NOT NULL,
        PRIMARY KEY (scan_id, site)
    ) WITHOUT ROWID;
    """,
}

_SQL_PAGE = "INSERT OR REPLACE INTO pages VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
_SQL_LINK = "INSERT OR REPLACE INTO links VALUES (?,?,?,?,?,?,?,?,?,?)"
_SQL_REF = "INSERT OR IGNORE INTO refs VALUES (?,?,?,?,?)"
_SQL_FRONTIER = "INSERT OR IGNORE INTO frontier VALUES (?,?,?,?,?,?,?,?)"
_SQL_BODY = "INSERT OR REPLACE INTO bodies VALUES (?,?,?,?,?)"
_SQL_ITEM = "INSERT OR REPLACE INTO items VALUES (?,?,?,?,?,?)"
_SQL_COLUMN = "INSERT OR REPLACE INTO columns VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
_SQL_COVERAGE = "INSERT OR REPLACE INTO coverage VALUES (?,?,?)"
_SQL_FINDING = """
    INSERT INTO findings
        (scan_id, identity, check_code, severity, site, unit, column_name, url, page, detail,
         observed_at)
    VALUES (?,?,?,?,?,?,?,?,?,?,?)
    ON CONFLICT (scan_id, identity) DO UPDATE SET
        page = excluded.page, detail = excluded.detail, severity = excluded.severity
"""
_STOP = object()


def _why_not_writable(path: str) -> str:
    """A hint for an open that failed: a read-only file system or folder (WAL needs to write
    its -wal and -shm files beside the store)."""
    import os

    folder = os.path.dirname(os.path.abspath(path)) or "."
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return f" (the file system of {folder} is mounted read-only)"
    except OSError:
        return ""
    if not os.access(folder, os.W_OK):
        return f" (the folder {folder} is read-only for this user)"
    if os.path.exists(path) and not os.access(path, os.W_OK):
        return " (the store file is read-only for this user)"
    return ""


def _is_busy(exc: BaseException) -> bool:
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")


class SQLiteStore:
    """A govmon store in one SQLite file."""

    # 1,024 records: with page bodies queued for the resume journal (up to ~50 KB each) the
    # writer's backlog stays within tens of MB; the crawl waits for the disk beyond that
    def __init__(self, path: str | Path, *, queue_size: int = 1024, batch_size: int = 2000) -> None:
        self.path = str(path)
        self.scan_id: int | None = None
        self._conn: aiosqlite.Connection | None = None
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=queue_size)
        self._batch_size = batch_size
        self._writer: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self.busy_timeout = 60.0

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        create: bool = True,
        queue_size: int = 1024,
        batch_size: int = 2000,
        busy_timeout: float = 60.0,
    ) -> SQLiteStore:
        """Open (and create or migrate) a store; ``busy_timeout`` is how long a lock is waited."""
        store = cls(path, queue_size=queue_size, batch_size=batch_size)
        store.busy_timeout = busy_timeout
        await store._open(create)
        return store

    async def _open(self, create: bool) -> None:
        if not create and not await asyncio.to_thread(Path(self.path).exists):
            raise StoreError(f"{self.path}: no such store (run `govmon scan` first)")
        try:
            self._conn = await aiosqlite.connect(self.path, timeout=self.busy_timeout)
            await self._conn.execute("PRAGMA journal_mode=WAL")
            await self._conn.execute("PRAGMA synchronous=NORMAL")
            await self._conn.execute("PRAGMA foreign_keys=ON")
            await self._migrate()
        except sqlite3.Error as exc:
            await self._close_quietly()
            hint = _why_not_writable(self.path)
            raise StoreError(f"{self.path}: cannot open the store: {exc}{hint}") from None
        except BaseException:
            await self._close_quietly()
            raise

    async def _close_quietly(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None

    async def _migrate(self) -> None:
        conn = self._require()
        async with conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: schema version {version} is newer than this govmon "
                f"({SCHEMA_VERSION}); upgrade govmon"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            await conn.executescript(
                "BEGIN;" + MIGRATIONS[target] + f"PRAGMA user_version={target}; COMMIT;"
            )

    def _require(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise StoreError(f"{self.path}: the store is closed")
        return self._conn

    # -- writing ----------------------------------------------------------------------------

    async def begin_scan(
        self,
        *,
        config_path: str,
        config_digest: str,
        as_of: str,
        sites: list[dict[str, Any]],
        settings: dict[str, Any] | None = None,
    ) -> int:
        conn = self._require()
        try:
            cur = await conn.execute(
                "INSERT INTO scans (config_path, config_digest, as_of, started_at, status, sites,"
                " version, settings) VALUES (?,?,?,?,?,?,?,?)",
                (
                    config_path,
                    config_digest,
                    as_of,
                    now_iso(),
                    "running",
                    json.dumps(sites, ensure_ascii=False),
                    __version__,
                    json.dumps(settings or {}, ensure_ascii=False),
                ),
            )
            await conn.commit()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot write: {exc}") from None
        assert cur.lastrowid is not None
        self.scan_id = cur.lastrowid
        self._start_writer()
        return self.scan_id

    def _start_writer(self) -> None:
        """One writer for the store's life: a store that runs several scans (the daemon) keeps
        the writer it has; a second one would take the stop signal meant for the first."""
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_loop(), name="store-writer")

    async def put(self, record: Record) -> None:
        """Queue a record for the writer; waits while the queue is full."""
        if self._error is not None:
            raise StoreError(f"{self.path}: writing failed: {self._error}")
        await self._queue.put(record)

    async def flush(self) -> None:
        """Wait until everything queued so far is committed."""
        if self._writer is None:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put(done)
        waiter = asyncio.ensure_future(done)
        finished, _ = await asyncio.wait({waiter, self._writer}, return_when="FIRST_COMPLETED")
        if waiter not in finished:
            waiter.cancel()
        if self._error is not None:
            raise StoreError(f"{self.path}: writing failed: {self._error}")

    async def _write_loop(self) -> None:
        queue = self._queue
        while True:
            item = await queue.get()
            batch = [item]
            while len(batch) < self._batch_size and not queue.empty():
                batch.append(queue.get_nowait())
            stop = any(x is _STOP for x in batch)
            try:
                await self._write_with_retries(batch)
            except (sqlite3.Error, OSError) as exc:
                self._error = exc
                self._resolve_waiters(batch)
                self._drain_after_error()
                return
            self._resolve_waiters(batch)
            if stop:
                return

    def _drain_after_error(self) -> None:
        # unblock producers; what is queued after a failed write is lost with a clear error
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if isinstance(item, asyncio.Future) and not item.done():
                item.set_result(None)

    @staticmethod
    def _resolve_waiters(batch: list[object]) -> None:
        for item in batch:
            if isinstance(item, asyncio.Future) and not item.done():
                item.set_result(None)

    async def _write_with_retries(self, batch: list[object]) -> None:
        """One transaction per batch; a busy or locked database is waited for, not lost."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(_is_busy),
            stop=stop_after_delay(self.busy_timeout),
            wait=wait_exponential(multiplier=0.05, max=2.0),
            reraise=True,
        ):
            with attempt:
                try:
                    await self._write_batch(batch)
                except sqlite3.Error:
                    with contextlib.suppress(sqlite3.Error):
                        await self._require().rollback()
                    raise

    async def _write_batch(self, batch: list[object]) -> None:
        scan = self.scan_id
        pages: list[tuple[Any, ...]] = []
        links: list[tuple[Any, ...]] = []
        refs: list[tuple[Any, ...]] = []
        findings: list[tuple[Any, ...]] = []
        columns: list[tuple[Any, ...]] = []
        frontier: list[tuple[Any, ...]] = []
        bodies: list[tuple[Any, ...]] = []
        items: list[tuple[Any, ...]] = []
        coverage: list[tuple[Any, ...]] = []
        progress: Progress | None = None
        for item in batch:
            if isinstance(item, PageRow):
                pages.append(
                    (
                        scan,
                        item.url_id,
                        item.site,
                        item.url,
                        item.final_url,
                        item.status,
                        item.error,
                        item.content_type,
                        item.charset,
                        item.title,
                        item.depth,
                        item.bytes,
                        item.elapsed_ms,
                        item.fetched_at,
                    )
                )
            elif isinstance(item, LinkRow):
                links.append(
                    (
                        scan,
                        item.url_id,
                        item.url,
                        item.outcome,
                        item.reason,
                        item.status,
                        item.final_url,
                        item.method,
                        item.attempts,
                        item.checked_at,
                    )
                )
            elif isinstance(item, RefRow):
                refs.append((scan, item.target_id, item.page_id, item.site, item.tag))
            elif isinstance(item, FindingRow):
                f = item.finding
                findings.append(
                    (
                        scan,
                        f.identity,
                        f.check,
                        f.severity,
                        f.site,
                        f.unit,
                        f.column,
                        f.url,
                        f.page,
                        f.detail_json(),
                        item.observed_at,
                    )
                )
            elif isinstance(item, ColumnRow):
                columns.append(
                    (scan, item.site, item.url, item.name, item.category, item.unit,
                     int(item.top_level), int(item.configured), item.parent, item.items,
                     item.dated_items, item.newest, item.pages, int(item.is_list), item.why)
                )  # fmt: skip
            elif isinstance(item, ItemRow):
                items.append((scan, item.site, item.column_url, item.url, item.title, item.date))
            elif isinstance(item, FrontierRow):
                frontier.append(
                    (scan, item.url_id, item.url, item.kind, item.site, item.depth,
                     item.link_kind, int(item.follow))
                )  # fmt: skip
            elif isinstance(item, BodyRow):
                bodies.append(
                    (scan, item.url_id, item.content_type, json.dumps(item.redirects),
                     zlib.compress(item.body, 1))
                )  # fmt: skip
            elif isinstance(item, CoverageRow):
                coverage.append((scan, item.site, json.dumps(item.coverage, sort_keys=True)))
            elif isinstance(item, Progress):
                progress = item
        if not (
            pages or links or refs or findings or columns or frontier or bodies or items
            or coverage or progress
        ):  # fmt: skip
            return
        conn = self._require()
        if frontier:
            await conn.executemany(_SQL_FRONTIER, frontier)
        if pages:
            await conn.executemany(_SQL_PAGE, pages)
        if bodies:
            await conn.executemany(_SQL_BODY, bodies)
        if links:
            await conn.executemany(_SQL_LINK, links)
        if refs:
            await conn.executemany(_SQL_REF, refs)
        if findings:
            await conn.executemany(_SQL_FINDING, findings)
        if columns:
            await conn.executemany(_SQL_COLUMN, columns)
        if items:
            await conn.executemany(_SQL_ITEM, items)
        if coverage:
            await conn.executemany(_SQL_COVERAGE, coverage)
        if progress is not None:
            await conn.execute(
                "UPDATE scans SET pages = ?, requests = ? WHERE id = ?",
                (progress.pages, progress.requests, scan),
            )
        await conn.commit()

    async def finish_scan(self, status: str, pages: int, requests: int) -> None:
        await self.put(Progress(pages, requests))
        await self.flush()
        conn = self._require()
        try:
            await conn.execute(
                "UPDATE scans SET status = ?, finished_at = ?, pages = ?, requests = ?"
                " WHERE id = ?",
                (status, now_iso(), pages, requests, self.scan_id),
            )
            await conn.commit()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot write: {exc}") from None

    async def close(self) -> None:
        if self._writer is not None and not self._writer.done():
            await self._queue.put(_STOP)
            with contextlib.suppress(Exception):
                await self._writer
        self._writer = None
        await self._close_quietly()

    # -- reading ----------------------------------------------------------------------------

    async def scan_info(self, ref: str | int = "latest") -> ScanInfo:
        conn = self._require()
        sql = (
            "SELECT id, config_path, as_of, started_at, finished_at, status, pages, requests,"
            " sites, settings FROM scans "
        )
        if ref == "latest":
            query = conn.execute(sql + "ORDER BY id DESC LIMIT 1")
        else:
            try:
                scan_id = int(ref)
            except ValueError:
                raise StoreError(f"scan {ref!r}: expected a scan number or 'latest'") from None
            query = conn.execute(sql + "WHERE id = ?", (scan_id,))
        async with query as cur:
            row = await cur.fetchone()
        if row is None:
            raise StoreError(f"{self.path}: no scan {ref} in the store")
        status = row[5]
        if status == "running":
            status = "incomplete"
        return ScanInfo(
            id=row[0],
            config_path=row[1],
            as_of=row[2],
            started_at=row[3],
            finished_at=row[4],
            status=status,
            pages=row[6],
            requests=row[7],
            sites=json.loads(row[8]),
            settings=json.loads(row[9]),
        )

    async def findings(self, scan_id: int) -> list[dict[str, Any]]:
        conn = self._require()
        out: list[dict[str, Any]] = []
        async with conn.execute(
            "SELECT identity, check_code, severity, site, unit, column_name, url, page, detail,"
            " observed_at FROM findings WHERE scan_id = ? ORDER BY site, check_code, url, identity",
            (scan_id,),
        ) as cur:
            async for row in cur:
                out.append(
                    {
                        "id": row[0],
                        "check": row[1],
                        "severity": row[2],
                        "site": row[3],
                        "unit": row[4],
                        "column": row[5],
                        "url": row[6],
                        "page": row[7],
                        "detail": json.loads(row[8]),
                        "observed_at": row[9],
                    }
                )
        return out

    async def scans(self) -> list[ScanInfo]:
        """Every scan in the store, newest first."""
        conn = self._require()
        async with conn.execute("SELECT id FROM scans ORDER BY id DESC") as cur:
            ids = [int(row[0]) for row in await cur.fetchall()]
        return [await self.scan_info(i) for i in ids]

    async def ignore(self, identity: str, reason: str) -> dict[str, Any]:
        """Mark the finding ``identity`` as a false positive or an accepted exception."""
        conn = self._require()
        async with conn.execute(
            "SELECT site, check_code, url FROM findings WHERE identity = ? ORDER BY scan_id DESC"
            " LIMIT 1",
            (identity,),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            raise StoreError(f"{self.path}: no finding {identity!r} in the store")
        try:
            await conn.execute(
                "INSERT OR REPLACE INTO ignores VALUES (?,?,?,?,?,?)",
                (identity, row[0], row[1], row[2], reason, now_iso()),
            )
            await conn.commit()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot write: {exc}") from None
        return {"id": identity, "site": row[0], "check": row[1], "url": row[2], "reason": reason}

    async def withdraw_findings(
        self, scan_id: int, check: str, site: str, urls: Sequence[str]
    ) -> int:
        conn = self._require()
        await self.flush()
        try:
            cur = await conn.executemany(
                "DELETE FROM findings WHERE scan_id = ? AND check_code = ? AND site = ?"
                " AND url = ?",
                [(scan_id, check, site, url) for url in urls],
            )
            await conn.commit()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot write: {exc}") from None
        return max(0, cur.rowcount)

    async def unignore(self, identity: str) -> bool:
        """Undo :meth:`ignore`; whether there was anything to undo."""
        conn = self._require()
        try:
            cur = await conn.execute("DELETE FROM ignores WHERE identity = ?", (identity,))
            await conn.commit()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot write: {exc}") from None
        return cur.rowcount > 0

    async def ignores(self) -> dict[str, dict[str, Any]]:
        """Every ignored finding identity with its reason."""
        conn = self._require()
        async with conn.execute(
            "SELECT identity, site, check_code, url, reason, created_at FROM ignores"
        ) as cur:
            rows = await cur.fetchall()
        keys = ("id", "site", "check", "url", "reason", "since")
        return {str(r[0]): dict(zip(keys, r, strict=True)) for r in rows}

    async def resumable(self, config_digest: str) -> ScanInfo | None:
        """The newest scan of this config that did not complete, if it can be resumed."""
        conn = self._require()
        async with conn.execute(
            "SELECT id FROM scans WHERE config_digest = ? AND status IN ('running', 'interrupted')"
            " AND id = (SELECT max(id) FROM scans WHERE config_digest = ?)",
            (config_digest, config_digest),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        info = await self.scan_info(int(row[0]))
        return info if resumable_alone(info) else None

    async def reopen_scan(self, scan_id: int) -> None:
        """Continue writing into ``scan_id`` (``scan --resume``)."""
        conn = self._require()
        try:
            await conn.execute(
                "UPDATE scans SET status = 'running', finished_at = NULL WHERE id = ?", (scan_id,)
            )
            await conn.commit()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot write: {exc}") from None
        self.scan_id = scan_id
        self._start_writer()

    async def join_scan(self, scan_id: int) -> None:
        """Write into ``scan_id`` without touching its status (a site job of a queued scan)."""
        self._require()
        self.scan_id = scan_id
        self._start_writer()

    async def journal(self, scan_id: int) -> Journal:
        """What a scan had done before it stopped: its frontier, the pages fetched (with their
        bodies) and the targets checked, in the order they were first seen."""
        conn = self._require()
        journal = Journal()
        async with conn.execute(
            "SELECT url_id, url, kind, site, depth, link_kind, follow FROM frontier"
            " WHERE scan_id = ? ORDER BY url_id",
            (scan_id,),
        ) as cur:
            async for r in cur:
                journal.frontier.append(
                    FrontierRow(int(r[0]), r[1], int(r[2]), int(r[3]), int(r[4]), r[5], bool(r[6]))
                )
        async with conn.execute(
            "SELECT p.url_id, p.final_url, p.status, p.error, p.content_type, b.redirects, b.body"
            " FROM pages p LEFT JOIN bodies b ON b.scan_id = p.scan_id AND b.url_id = p.url_id"
            " WHERE p.scan_id = ?",
            (scan_id,),
        ) as cur:
            async for r in cur:
                body = zlib.decompress(r[6]) if r[6] is not None else b""
                redirects = json.loads(r[5]) if r[5] is not None else []
                journal.pages[int(r[0])] = (r[1], r[2], r[3], r[4], redirects, body)
        async with conn.execute(
            "SELECT url_id, outcome, reason, status, final_url, method, attempts FROM links"
            " WHERE scan_id = ?",
            (scan_id,),
        ) as cur:
            async for r in cur:
                journal.links[int(r[0])] = (r[1], r[2], r[3], r[4], r[5], int(r[6]))
        return journal

    async def items(self, scan_id: int, site: str | None = None) -> list[ItemRow]:
        """The dated items each column listed at a scan (what ``content.backdated`` compares)."""
        conn = self._require()
        sql = "SELECT site, column_url, url, title, date FROM items WHERE scan_id = ?"
        args: list[Any] = [scan_id]
        if site is not None:
            sql += " AND site = ?"
            args.append(site)
        async with conn.execute(sql + " ORDER BY site, column_url, url", args) as cur:
            rows = await cur.fetchall()
        return [ItemRow(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    async def site_sizes(self, scan_id: int) -> dict[str, int]:
        """Requests each site needed at a scan (its frontier: pages and checked targets), for
        the daemon's planner; the pages fetched when the scan kept no frontier."""
        info = await self.scan_info(scan_id)
        ids = [s["id"] for s in info.sites]
        conn = self._require()
        async with conn.execute(
            "SELECT site, count(*) FROM frontier WHERE scan_id = ? GROUP BY site", (scan_id,)
        ) as cur:
            rows = await cur.fetchall()
        sizes = {ids[int(r[0])]: int(r[1]) for r in rows if 0 <= int(r[0]) < len(ids)}
        if sizes:
            return sizes
        async with conn.execute(
            "SELECT site, count(*) FROM pages WHERE scan_id = ? GROUP BY site", (scan_id,)
        ) as cur:
            return {str(r[0]): int(r[1]) for r in await cur.fetchall()}

    async def add_target(self, scan_id: int, url: str, title: str, final_host: str) -> None:
        """What an external link's target was at a scan (for ``link.hijacked`` next time)."""
        conn = self._require()
        try:
            await conn.execute(
                "INSERT OR REPLACE INTO targets VALUES (?,?,?,?)", (scan_id, url, title, final_host)
            )
            await conn.commit()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot write: {exc}") from None

    async def previous_target(self, before_scan: int, url: str) -> tuple[str, str] | None:
        """``(title, final_host)`` of ``url`` at the newest earlier complete scan that saw it."""
        conn = self._require()
        async with conn.execute(
            "SELECT t.title, t.final_host FROM targets t JOIN scans s ON s.id = t.scan_id"
            " WHERE t.url = ? AND t.scan_id < ? AND s.status = 'complete'"
            " ORDER BY t.scan_id DESC LIMIT 1",
            (url, before_scan),
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    async def add_samples(self, samples: Sequence[SampleRow]) -> None:
        """Availability samples, committed in one transaction (outside any scan)."""
        conn = self._require()
        rows = [
            (s.site, s.url, s.at, int(s.ok), s.status, s.total_ms, s.dns_ms, s.connect_ms,
             s.tls_ms, s.first_byte_ms, s.failed_at, s.error)
            for s in samples
        ]  # fmt: skip
        try:
            await conn.executemany(
                "INSERT INTO samples (site, url, at, ok, status, total_ms, dns_ms, connect_ms,"
                " tls_ms, first_byte_ms, failed_at, error) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            await conn.commit()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot write: {exc}") from None

    async def samples(
        self, site: str | None = None, since: str | None = None, until: str | None = None
    ) -> list[SampleRow]:
        """Samples in time order; ``since``/``until`` are ISO times (inclusive)."""
        conn = self._require()
        where, args = [], []
        for clause, value in (("site = ?", site), ("at >= ?", since), ("at <= ?", until)):
            if value is not None:
                where.append(clause)
                args.append(value)
        sql = (
            "SELECT site, url, at, ok, status, total_ms, dns_ms, connect_ms, tls_ms,"
            " first_byte_ms, failed_at, error FROM samples"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        async with conn.execute(sql + " ORDER BY at, id", args) as cur:
            rows = await cur.fetchall()
        return [
            SampleRow(site=r[0], url=r[1], at=r[2], ok=bool(r[3]), status=r[4], total_ms=r[5],
                      dns_ms=r[6], connect_ms=r[7], tls_ms=r[8], first_byte_ms=r[9],
                      failed_at=r[10], error=r[11])
            for r in rows
        ]  # fmt: skip

    async def columns(self, scan_id: int) -> list[dict[str, Any]]:
        """Every column of every site in a scan: category, items, newest date, how it was read."""
        conn = self._require()
        async with conn.execute(
            "SELECT site, url, name, category, unit, top_level, configured, parent, items,"
            " dated_items, newest, pages, is_list, why FROM columns WHERE scan_id = ?"
            " ORDER BY site, url",
            (scan_id,),
        ) as cur:
            rows = await cur.fetchall()
        keys = ("site", "url", "name", "category", "unit", "top_level", "configured", "parent",
                "items", "dated_items", "newest", "pages", "is_list", "why")  # fmt: skip
        out = []
        for row in rows:
            item = dict(zip(keys, row, strict=True))
            for flag in ("top_level", "configured", "is_list"):
                item[flag] = bool(item[flag])
            out.append(item)
        return out

    async def coverage(self, scan_id: int) -> dict[str, dict[str, Any]]:
        conn = self._require()
        async with conn.execute(
            "SELECT site, detail FROM coverage WHERE scan_id = ? ORDER BY site", (scan_id,)
        ) as cur:
            rows = await cur.fetchall()
        return {str(r[0]): json.loads(r[1]) for r in rows}

    async def page_urls(self, scan_id: int, url_ids: Sequence[int]) -> dict[int, str]:
        conn = self._require()
        out: dict[int, str] = {}
        ids = list(url_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            async with conn.execute(
                f"SELECT url_id, url FROM pages WHERE scan_id = ? AND url_id IN ({marks})",
                (scan_id, *chunk),
            ) as cur:
                async for row in cur:
                    out[int(row[0])] = str(row[1])
        return out
