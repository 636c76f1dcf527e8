"""The SQLite store: WAL, a versioned schema (``PRAGMA user_version``), one connection.

Everything but the opening and the schema is :class:`storage.sqlbase.SQLStore`: the batching
writer, one transaction per batch, a busy or locked database waited out. Only one statement or
batch runs on the connection at a time (aiosqlite runs every call of a connection on one thread,
in order, and a lock keeps a batch's statements together). A kill at any moment leaves a
database that opens with every committed batch; a scan that did not finish keeps the status
``running`` and is reported as ``incomplete``. :class:`ReadOnlyStore` is the web view's: no WAL
switch, no migration, no writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import aiosqlite

from storage.base import NotInStore, StoreError
from storage.rows import Row, Table
from storage.sqlbase import SQLStore, now_iso

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "ReadOnlyStore", "SQLiteStore", "now_iso"]

T = TypeVar("T")


async def _connect(target: str, *, uri: bool = False, busy: float) -> aiosqlite.Connection:
    """``aiosqlite.connect``, but a database that cannot be opened (a missing directory, no
    permission) fails before aiosqlite starts its thread: after a failed connect that thread
    still hands its shutdown to the event loop, which by then may be closed, and dies with a
    traceback (``Event loop is closed``) around govmon's one-line error."""

    def probe() -> None:
        sqlite3.connect(target, uri=uri, timeout=busy).close()

    await asyncio.to_thread(probe)
    return await aiosqlite.connect(target, uri=uri, timeout=busy)


SCHEMA_VERSION = 8
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
    8: """
    ALTER TABLE ignores ADD COLUMN author TEXT NOT NULL DEFAULT '';
    ALTER TABLE ignores ADD COLUMN changed_at TEXT;
    CREATE TABLE ignore_rules (
        id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: r3 stays r3 in the log
        pattern TEXT NOT NULL,
        check_code TEXT NOT NULL,  -- '': every check
        site TEXT NOT NULL,  -- '': every site
        reason TEXT NOT NULL,
        created_at TEXT NOT NULL,
        author TEXT NOT NULL,
        changed_at TEXT,
        UNIQUE (pattern, check_code, site)
    );
    CREATE TABLE ignore_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        author TEXT NOT NULL,
        action TEXT NOT NULL,  -- ignore | update | undo
        target TEXT NOT NULL,  -- a finding's identity, or a rule's id (r3)
        subject TEXT NOT NULL,  -- what it set aside, in words, as it was
        reason TEXT NOT NULL,
        previous TEXT  -- the reason before (update, undo)
    );
    -- govmon ignore finds a finding by (a prefix of) its identity
    CREATE INDEX findings_by_identity ON findings (identity);
    """,
}


def _why_not_writable(path: str) -> str:
    """A hint for an open that failed: a read-only file system or folder (WAL needs to write
    its -wal and -shm files beside the store)."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(folder):
        return f" (there is no folder {folder})"
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


@functools.cache
def _insert(table: Table) -> str:
    if table.conflict == "update":
        return f"INSERT INTO {table.into}{table.upsert(table.update)}"
    verb = {"ignore": "INSERT OR IGNORE", "replace": "INSERT OR REPLACE"}.get(table.conflict)
    return f"{verb or 'INSERT'} INTO {table.into}"


class SQLiteStore(SQLStore):
    """A govmon store in one SQLite file."""

    def __init__(self, path: str | Path, *, queue_size: int = 1024, batch_size: int = 2000) -> None:
        super().__init__(queue_size=queue_size, batch_size=batch_size)
        self.path = str(path)
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()  # one transaction at a time on the connection

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
            raise NotInStore(f"{self.path}: no such store (run `govmon scan` first)")
        try:
            self._conn = await _connect(self.path, busy=self.busy_timeout)
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

    async def _version(self) -> int:
        async with self._require().execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def _migrate(self) -> None:
        version = await self._version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: schema version {version} is newer than this govmon "
                f"({SCHEMA_VERSION}); upgrade govmon"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            await self._require().executescript(
                "BEGIN;" + MIGRATIONS[target] + f"PRAGMA user_version={target}; COMMIT;"
            )

    def _require(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise StoreError(f"{self.path}: the store is closed")
        return self._conn

    # -- the hooks of SQLStore and BatchWriter ---------------------------------------------

    async def _rows(self, sql: str, args: Sequence[Any] = ()) -> AsyncIterator[Sequence[Any]]:
        conn = self._require()
        try:
            async with conn.execute(sql, args) as cur:
                async for row in cur:
                    yield row
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot read: {exc}") from None

    async def _execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        async def run(conn: aiosqlite.Connection) -> int:
            cur = await conn.execute(sql, args)
            return max(0, cur.rowcount)

        return await self._transaction(run)

    async def _insert_id(self, sql: str, args: Sequence[Any]) -> int:
        async def run(conn: aiosqlite.Connection) -> int:
            cur = await conn.execute(sql, args)
            assert cur.lastrowid is not None
            return cur.lastrowid

        return await self._transaction(run)

    async def _executemany(self, statements: list[tuple[str, list[Row]]], writer: bool) -> None:
        async def run(conn: aiosqlite.Connection) -> None:
            for sql, rows in statements:
                await conn.executemany(sql, rows)

        await self._transaction(run, writer)

    async def _transaction(
        self, work: Callable[[aiosqlite.Connection], Awaitable[T]], raw: bool = False
    ) -> T:
        """``work`` committed, or rolled back when it fails: a :class:`StoreError` unless
        ``raw`` (the writer's batches, whose busy errors are retried)."""
        conn = self._require()
        async with self._lock:
            try:
                result = await work(conn)
                await conn.commit()
            except Exception as exc:
                with contextlib.suppress(sqlite3.Error):
                    await conn.rollback()
                if raw or not isinstance(exc, sqlite3.Error):
                    raise
                raise StoreError(f"{self.path}: cannot write: {exc}") from None
        return result

    def _insert(self, table: Table) -> str:
        return _insert(table)  # sqlite3 binds True and False as the INTEGERs 1 and 0

    def _retryable(self, exc: BaseException) -> bool:
        return _is_busy(exc)

    async def _open_writer(self) -> None:
        self._require()


class ReadOnlyStore(SQLiteStore):
    """A :class:`SQLiteStore` opened read-only (the web view): no WAL switch, no migration, no
    writes; a store of this govmon's schema version only."""

    async def _open(self, create: bool) -> None:
        path = Path(self.path)
        if not await asyncio.to_thread(path.is_file):
            raise NotInStore(f"{self.path}: no such store (run `govmon scan` first)")
        resolved = await asyncio.to_thread(path.resolve)
        uri = f"file:{quote(str(resolved), safe='/')}?mode=ro"
        try:
            self._conn = await _connect(uri, uri=True, busy=self.busy_timeout)
            await self._conn.execute("PRAGMA query_only=ON")
            version = await self._version()
        except sqlite3.Error as exc:
            await self._close_quietly()
            raise StoreError(f"{self.path}: cannot open the store: {exc}") from None
        except BaseException:
            await self._close_quietly()
            raise
        if version != SCHEMA_VERSION:
            await self._close_quietly()
            raise StoreError(
                f"{self.path}: schema version {version}, this govmon reads {SCHEMA_VERSION}"
                " (an older store is migrated by any writing command, e.g. `govmon report --db"
                f" {self.path}`)"
            )
