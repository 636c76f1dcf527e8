"""The PostgreSQL store: the SQLite store's schema and behaviour on a server many workers share.

``PostgresStore.open("postgresql://user@host:5432/db?schema=NAME")`` opens (and creates or
migrates) a store in the PostgreSQL schema ``NAME`` (default ``public``). Everything else is as
in :mod:`storage.sqlite`:

- the same tables, translated (BIGSERIAL ids, BYTEA bodies, BOOLEAN flags; JSON stays text, and
  every text column sorts byte-wise with ``COLLATE "C"``, as SQLite does, so both stores return
  identical values in identical order);
- versioned migrations, recorded in ``govmon_schema`` and applied in one transaction under an
  advisory lock, so several workers may start at once;
- one batching writer task behind a bounded queue, holding one connection: every batch is one
  transaction (``executemany`` per table), findings upserted on ``(scan_id, identity)``; a
  failed batch (the server went away) becomes a :class:`StoreError` at the next ``put`` or
  ``flush``, and producers are never left waiting;
- the same :class:`StoreError` messages for a server that cannot be reached, a store that does
  not exist (``create=False``) and a schema newer than this govmon.

PostgreSQL text cannot hold NUL characters: they are stored as U+FFFD, as an HTML parser would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import zlib
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import asyncpg  # type: ignore[import-untyped]
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

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
from storage.dburl import DbUrlError, scrub, shown, split_db_url
from storage.sqlite import now_iso

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "PostgresStore", "is_postgres_url", "parse_url"]

_T = 'TEXT COLLATE "C"'  # byte-wise order and comparison, as in SQLite
MIGRATIONS: dict[int, str] = {
    1: f"""
    CREATE TABLE scans (
        id BIGSERIAL PRIMARY KEY,
        config_path {_T} NOT NULL,
        config_digest {_T} NOT NULL,
        as_of {_T} NOT NULL,
        started_at {_T} NOT NULL,
        finished_at {_T},
        status {_T} NOT NULL,
        pages BIGINT NOT NULL DEFAULT 0,
        requests BIGINT NOT NULL DEFAULT 0,
        sites {_T} NOT NULL,
        version {_T} NOT NULL
    );
    CREATE TABLE pages (
        scan_id BIGINT NOT NULL REFERENCES scans(id),
        url_id BIGINT NOT NULL,
        site {_T} NOT NULL,
        url {_T} NOT NULL,
        final_url {_T} NOT NULL,
        status BIGINT,
        error {_T},
        content_type {_T} NOT NULL,
        charset {_T},
        title {_T},
        depth BIGINT NOT NULL,
        bytes BIGINT NOT NULL,
        elapsed_ms BIGINT NOT NULL,
        fetched_at {_T} NOT NULL,
        PRIMARY KEY (scan_id, url_id)
    );
    CREATE TABLE links (
        scan_id BIGINT NOT NULL REFERENCES scans(id),
        url_id BIGINT NOT NULL,
        url {_T} NOT NULL,
        outcome {_T} NOT NULL,
        reason {_T} NOT NULL,
        status BIGINT,
        final_url {_T} NOT NULL,
        method {_T} NOT NULL,
        attempts BIGINT NOT NULL,
        checked_at {_T} NOT NULL,
        PRIMARY KEY (scan_id, url_id)
    );
    CREATE TABLE refs (
        scan_id BIGINT NOT NULL REFERENCES scans(id),
        target_id BIGINT NOT NULL,
        page_id BIGINT NOT NULL,
        site {_T} NOT NULL,
        tag {_T} NOT NULL,
        PRIMARY KEY (scan_id, target_id, site, page_id)
    );
    CREATE TABLE findings (
        id BIGSERIAL PRIMARY KEY,
        scan_id BIGINT NOT NULL REFERENCES scans(id),
        identity {_T} NOT NULL,
        check_code {_T} NOT NULL,
        severity {_T} NOT NULL,
        site {_T} NOT NULL,
        unit {_T} NOT NULL,
        column_name {_T},
        url {_T} NOT NULL,
        page {_T},
        detail {_T} NOT NULL,
        observed_at {_T} NOT NULL,
        UNIQUE (scan_id, identity)
    );
    CREATE INDEX findings_by_check ON findings (scan_id, check_code);
    """,
    2: f"""
    CREATE TABLE columns (
        scan_id BIGINT NOT NULL REFERENCES scans(id),
        site {_T} NOT NULL,
        url {_T} NOT NULL,
        name {_T} NOT NULL,
        category {_T} NOT NULL,
        unit {_T} NOT NULL,
        top_level BOOLEAN NOT NULL,
        configured BOOLEAN NOT NULL,
        parent {_T},
        items BIGINT NOT NULL,
        dated_items BIGINT NOT NULL,
        newest {_T},
        pages BIGINT NOT NULL,
        is_list BOOLEAN NOT NULL,
        why {_T} NOT NULL,
        PRIMARY KEY (scan_id, site, url)
    );
    ALTER TABLE scans ADD COLUMN settings {_T} NOT NULL DEFAULT '{{}}';
    CREATE TABLE ignores (
        identity {_T} PRIMARY KEY,
        site {_T} NOT NULL,
        check_code {_T} NOT NULL,
        url {_T} NOT NULL,
        reason {_T} NOT NULL,
        created_at {_T} NOT NULL
    );
    """,
    3: f"""
    CREATE TABLE samples (
        id BIGSERIAL PRIMARY KEY,
        site {_T} NOT NULL,
        url {_T} NOT NULL,
        at {_T} NOT NULL,
        ok BOOLEAN NOT NULL,
        status BIGINT,
        total_ms BIGINT,
        dns_ms BIGINT,
        connect_ms BIGINT,
        tls_ms BIGINT,
        first_byte_ms BIGINT,
        failed_at {_T},
        error {_T}
    );
    CREATE INDEX samples_by_site ON samples (site, at);
    """,
    4: f"""
    CREATE TABLE frontier (
        scan_id BIGINT NOT NULL REFERENCES scans(id),
        url_id BIGINT NOT NULL,
        url {_T} NOT NULL,
        kind BIGINT NOT NULL,
        site BIGINT NOT NULL,
        depth BIGINT NOT NULL,
        link_kind {_T} NOT NULL,
        follow BOOLEAN NOT NULL,
        PRIMARY KEY (scan_id, url_id)
    );
    CREATE TABLE bodies (
        scan_id BIGINT NOT NULL REFERENCES scans(id),
        url_id BIGINT NOT NULL,
        content_type {_T} NOT NULL,
        redirects {_T} NOT NULL,
        body BYTEA NOT NULL,
        PRIMARY KEY (scan_id, url_id)
    );
    """,
    5: f"""
    CREATE TABLE items (
        scan_id BIGINT NOT NULL REFERENCES scans(id),
        site {_T} NOT NULL,
        column_url {_T} NOT NULL,
        url {_T} NOT NULL,
        title {_T} NOT NULL,
        date {_T},
        PRIMARY KEY (scan_id, site, column_url, url)
    );
    """,
    6: f"""
    CREATE TABLE targets (
        scan_id BIGINT NOT NULL REFERENCES scans(id),
        url {_T} NOT NULL,
        title {_T} NOT NULL,
        final_host {_T} NOT NULL,
        PRIMARY KEY (scan_id, url)
    );
    -- previous_target() looks a URL up across scans (once per external link per scan)
    CREATE INDEX targets_by_url ON targets (url, scan_id);
    """,
    7: f"""
    CREATE TABLE coverage (
        scan_id BIGINT NOT NULL REFERENCES scans(id),
        site {_T} NOT NULL,
        detail {_T} NOT NULL,
        PRIMARY KEY (scan_id, site)
    );
    """,
}
SCHEMA_VERSION = max(MIGRATIONS)

_VERSION_TABLE = """
    CREATE TABLE IF NOT EXISTS govmon_schema (
        version INTEGER PRIMARY KEY,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        govmon TEXT NOT NULL
    )
"""
_LOCK_CLASS = 0x676F76  # "gov": the advisory lock (class, hashtext(schema)) guards migrations


def _replace(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    """SQLite's ``INSERT OR REPLACE``: the row with this key becomes the new one."""
    marks = ",".join(f"${i}" for i in range(1, len(columns) + 1))
    update = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in key)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {update}"
    )


def _insert_or_ignore(table: str, columns: Sequence[str]) -> str:
    marks = ",".join(f"${i}" for i in range(1, len(columns) + 1))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) ON CONFLICT DO NOTHING"


_PAGE_COLUMNS = ("scan_id", "url_id", "site", "url", "final_url", "status", "error",
                 "content_type", "charset", "title", "depth", "bytes", "elapsed_ms",
                 "fetched_at")  # fmt: skip
_LINK_COLUMNS = ("scan_id", "url_id", "url", "outcome", "reason", "status", "final_url",
                 "method", "attempts", "checked_at")  # fmt: skip
_COLUMN_COLUMNS = ("scan_id", "site", "url", "name", "category", "unit", "top_level",
                   "configured", "parent", "items", "dated_items", "newest", "pages", "is_list",
                   "why")  # fmt: skip
_SQL_PAGE = _replace("pages", _PAGE_COLUMNS, ("scan_id", "url_id"))
_SQL_LINK = _replace("links", _LINK_COLUMNS, ("scan_id", "url_id"))
_SQL_REF = _insert_or_ignore("refs", ("scan_id", "target_id", "page_id", "site", "tag"))
_SQL_FRONTIER = _insert_or_ignore(
    "frontier", ("scan_id", "url_id", "url", "kind", "site", "depth", "link_kind", "follow")
)
_SQL_BODY = _replace(
    "bodies", ("scan_id", "url_id", "content_type", "redirects", "body"), ("scan_id", "url_id")
)
_SQL_ITEM = _replace(
    "items",
    ("scan_id", "site", "column_url", "url", "title", "date"),
    ("scan_id", "site", "column_url", "url"),
)
_SQL_COLUMN = _replace("columns", _COLUMN_COLUMNS, ("scan_id", "site", "url"))
_SQL_COVERAGE = _replace("coverage", ("scan_id", "site", "detail"), ("scan_id", "site"))
_SQL_TARGET = _replace("targets", ("scan_id", "url", "title", "final_host"), ("scan_id", "url"))
_SQL_IGNORE = _replace(
    "ignores", ("identity", "site", "check_code", "url", "reason", "created_at"), ("identity",)
)
_SQL_FINDING = """
    INSERT INTO findings
        (scan_id, identity, check_code, severity, site, unit, column_name, url, page, detail,
         observed_at)
    VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)
    ON CONFLICT (scan_id, identity) DO UPDATE SET
        page = EXCLUDED.page, detail = EXCLUDED.detail, severity = EXCLUDED.severity
"""
_SCAN_COLUMNS = (
    "SELECT id, config_path, as_of, started_at, finished_at, status, pages, requests, sites,"
    " settings FROM scans "
)
_STOP = object()
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
# what a failed statement or a lost server raises
_DB_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
    TimeoutError,
)
_OPEN_ERRORS: tuple[type[BaseException], ...] = (*_DB_ERRORS, ValueError)  # ValueError: a bad URL


def is_postgres_url(db: str) -> bool:
    return db.startswith(("postgresql://", "postgres://"))


def parse_url(url: str) -> tuple[str, str, str]:
    """``(dsn, schema, display)``: the URL for asyncpg without ``schema=``, the schema name, and
    the URL to show in messages (no password, no other parameters). Raises
    :class:`storage.base.StoreError` (naming the URL without its password) for a URL a driver
    would misread (:func:`storage.dburl.split_db_url`)."""
    try:
        parts = split_db_url(url)
    except DbUrlError as exc:
        raise StoreError(str(exc)) from None
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = "public"
    rest: list[tuple[str, str]] = []
    for key, value in query:
        if key == "schema":
            schema = value
        else:
            rest.append((key, value))
    dsn = url
    if len(rest) != len(query):  # (urlunsplit would turn postgresql:///db into postgresql:/db)
        dsn = f"{parts.scheme}://{parts.netloc}{parts.path}"
        dsn += f"?{urlencode(rest)}" if rest else ""
        dsn += f"#{parts.fragment}" if parts.fragment else ""
    return dsn, schema, shown(url)


def _clean(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """PostgreSQL text cannot hold NUL: U+FFFD instead (what HTML parsers make of it)."""
    if any(type(v) is str and "\x00" in v for v in row):
        return tuple(v.replace("\x00", "\ufffd") if type(v) is str else v for v in row)
    return row


def _is_transient(exc: BaseException) -> bool:
    """Conflicts between concurrent writers: the batch is rolled back and can simply be redone."""
    return isinstance(
        exc,
        asyncpg.exceptions.DeadlockDetectedError
        | asyncpg.exceptions.SerializationError
        | asyncpg.exceptions.LockNotAvailableError,
    )


class PostgresStore:
    """A govmon store in one PostgreSQL schema, shared by any number of processes."""

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        queue_size: int = 1024,
        batch_size: int = 2000,
        read_only: bool = False,
    ) -> None:
        self.url = url
        self.dsn, url_schema, self.path = parse_url(url)
        self.schema = url_schema if schema is None else schema
        if self.schema != url_schema:  # what messages show: the schema really used
            self.path = parse_url(self.dsn)[2] + (
                "" if self.schema == "public" else f"?schema={self.schema}"
            )
        self.read_only = read_only
        self.scan_id: int | None = None
        self.busy_timeout = 60.0
        self.connect_timeout = 10.0
        self.command_timeout: float | None = 300.0
        self._pool: Any = None
        self._writer_conn: Any = None
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=queue_size)
        self._batch_size = batch_size
        self._writer: asyncio.Task[None] | None = None
        self._error: BaseException | None = None

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        create: bool = True,
        schema: str | None = None,
        queue_size: int = 1024,
        batch_size: int = 2000,
        busy_timeout: float = 60.0,
        connect_timeout: float = 10.0,
        command_timeout: float | None = 300.0,
        pool_size: int = 4,
        read_only: bool = False,
    ) -> PostgresStore:
        """Open (and create or migrate) the store at ``url``.

        ``queue_size`` records wait for the writer at most (as in SQLite: 1,024, page bodies
        included, keep its backlog within tens of MB); ``schema`` overrides the URL's
        ``?schema=``; ``busy_timeout`` is how long a batch that conflicts with another writer
        (deadlock, serialization) is retried; ``connect_timeout``
        bounds connecting, ``command_timeout`` every statement; ``pool_size`` is the most
        connections held (the writer's included); ``read_only`` neither migrates nor writes
        (the web view), and wants a store of exactly this version.
        """
        store = cls(
            url, schema=schema, queue_size=queue_size, batch_size=batch_size, read_only=read_only
        )
        store.busy_timeout = busy_timeout
        store.connect_timeout = connect_timeout
        store.command_timeout = command_timeout
        await store._open(create, max(2, pool_size))
        return store

    async def _open(self, create: bool, pool_size: int) -> None:
        if not _NAME.fullmatch(self.schema):
            raise StoreError(
                f"{self.path}: schema {self.schema!r}: expected a PostgreSQL name (letters,"
                " digits and _, at most 63)"
            )
        settings = {"search_path": f'"{self.schema}"'}
        if "application_name" not in dict(parse_qsl(urlsplit(self.dsn).query)):
            settings["application_name"] = "govmon"
        if self.read_only:
            settings["default_transaction_read_only"] = "on"
        try:
            self._pool = await asyncpg.create_pool(
                self.dsn,
                min_size=1,
                max_size=pool_size,
                timeout=self.connect_timeout,
                command_timeout=self.command_timeout,
                server_settings=settings,
            )
            await self._migrate(create)
        except StoreError:
            await self._close_quietly()
            raise
        except _OPEN_ERRORS as exc:
            await self._close_quietly()
            why = scrub(_why(exc), self.dsn)
            raise StoreError(f"{self.path}: cannot open the store: {why}") from None
        except BaseException:
            await self._close_quietly()
            raise

    async def _close_quietly(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            await asyncio.wait_for(pool.close(), timeout=10.0)
        except Exception:
            pool.terminate()

    async def _migrate(self, create: bool) -> None:
        async with self._require().acquire() as conn:
            version = await self._version(conn)
            if version is None and (self.read_only or not create):
                raise StoreError(f"{self.path}: no such store (run `govmon scan` first)")
            if version is not None and version > SCHEMA_VERSION:
                raise self._newer(version)
            if self.read_only:
                if version != SCHEMA_VERSION:
                    raise StoreError(
                        f"{self.path}: schema version {version}, this govmon reads"
                        f" {SCHEMA_VERSION} (an older store is migrated by any writing command,"
                        f" e.g. `govmon report --db {self.path}`)"
                    )
                return
            if version == SCHEMA_VERSION:
                return
            async with conn.transaction():
                # one migrator at a time per schema; the others wait here, then find it done
                await conn.execute(
                    "SELECT pg_advisory_xact_lock($1, hashtext($2))", _LOCK_CLASS, self.schema
                )
                exists = await conn.fetchval(
                    "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", self.schema
                )
                if not exists:
                    await conn.execute(f'CREATE SCHEMA "{self.schema}"')
                await conn.execute(_VERSION_TABLE)
                version = int(
                    await conn.fetchval("SELECT coalesce(max(version), 0) FROM govmon_schema")
                )
                if version > SCHEMA_VERSION:
                    raise self._newer(version)
                for target in range(version + 1, SCHEMA_VERSION + 1):
                    await conn.execute(MIGRATIONS[target])
                    await conn.execute(
                        "INSERT INTO govmon_schema (version, govmon) VALUES ($1, $2)",
                        target,
                        __version__,
                    )

    async def _version(self, conn: Any) -> int | None:
        """The store's schema version; None when the schema holds no store."""
        exists = await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = $1"
            " AND tablename = 'govmon_schema')",
            self.schema,
        )
        if not exists:
            return None
        return int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM govmon_schema"))

    def _newer(self, version: int) -> StoreError:
        return StoreError(
            f"{self.path}: schema version {version} is newer than this govmon "
            f"({SCHEMA_VERSION}); upgrade govmon"
        )

    def _require(self) -> Any:
        if self._pool is None:
            raise StoreError(f"{self.path}: the store is closed")
        return self._pool

    @contextlib.asynccontextmanager
    async def _conn(self, verb: str = "read") -> AsyncIterator[Any]:
        """A pooled connection; a failure of the server becomes a :class:`StoreError`."""
        pool = self._require()
        try:
            async with pool.acquire() as conn:
                yield conn
        except StoreError:
            raise
        except _DB_ERRORS as exc:
            raise StoreError(f"{self.path}: cannot {verb}: {_why(exc)}") from None

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
        async with self._conn("write") as conn:
            row = _clean(
                (
                    config_path,
                    config_digest,
                    as_of,
                    now_iso(),
                    "running",
                    json.dumps(sites, ensure_ascii=False),
                    __version__,
                    json.dumps(settings or {}, ensure_ascii=False),
                )
            )
            scan_id = int(
                await conn.fetchval(
                    "INSERT INTO scans (config_path, config_digest, as_of, started_at, status,"
                    " sites, version, settings) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id",
                    *row,
                )
            )
        await self._start_writer(scan_id)
        return scan_id

    async def _start_writer(self, scan_id: int) -> None:
        """Write into ``scan_id`` from now on. A writer still running (the daemon's scans, one
        after another on one store) is flushed first, so what was queued stays with its scan;
        a writer that failed is replaced by one on a new connection."""
        if self._writer is not None and not self._writer.done() and self._error is None:
            with contextlib.suppress(StoreError):
                await self.flush()
            if self._error is None:
                self.scan_id = scan_id
                return
        await self._stop_writer()
        try:
            self._writer_conn = await self._require().acquire()
        except _DB_ERRORS as exc:
            raise StoreError(f"{self.path}: cannot write: {_why(exc)}") from None
        self.scan_id = scan_id
        self._error = None
        self._writer = asyncio.create_task(self._write_loop(), name="store-writer")

    async def _stop_writer(self) -> None:
        """Let the writer commit what is queued and end; give its connection back."""
        if self._writer is not None and not self._writer.done():
            await self._queue.put(_STOP)
            with contextlib.suppress(Exception):
                await self._writer
        self._writer = None
        conn, self._writer_conn = self._writer_conn, None
        if conn is not None and self._pool is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pool.release(conn), timeout=10.0)

    async def put(self, record: Record) -> None:
        """Queue a record for the writer; waits while the queue is full."""
        if self._error is not None:
            raise StoreError(f"{self.path}: writing failed: {_why(self._error)}")
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
            raise StoreError(f"{self.path}: writing failed: {_why(self._error)}")

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
            except Exception as exc:
                self._error = exc
                self._resolve_waiters(batch)
                if not stop:
                    await self._discard_until_stop()
                return
            self._resolve_waiters(batch)
            if stop:
                return

    async def _discard_until_stop(self) -> None:
        """After a failed write: keep taking what is queued (it is lost, with a clear error at
        the next put or flush) so that no producer waits on a full queue; until close()."""
        while True:
            item = await self._queue.get()
            if isinstance(item, asyncio.Future) and not item.done():
                item.set_result(None)
            if item is _STOP:
                return

    @staticmethod
    def _resolve_waiters(batch: list[object]) -> None:
        for item in batch:
            if isinstance(item, asyncio.Future) and not item.done():
                item.set_result(None)

    async def _write_with_retries(self, batch: list[object]) -> None:
        """One transaction per batch; a conflict with another writer is retried, not lost."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(_is_transient),
            stop=stop_after_delay(self.busy_timeout),
            wait=wait_exponential(multiplier=0.05, max=2.0),
            reraise=True,
        ):
            with attempt:
                await self._write_batch(batch)

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
                    _clean(
                        (scan, item.url_id, item.site, item.url, item.final_url, item.status,
                         item.error, item.content_type, item.charset, item.title, item.depth,
                         item.bytes, item.elapsed_ms, item.fetched_at)
                    )
                )  # fmt: skip
            elif isinstance(item, LinkRow):
                links.append(
                    _clean(
                        (scan, item.url_id, item.url, item.outcome, item.reason, item.status,
                         item.final_url, item.method, item.attempts, item.checked_at)
                    )
                )  # fmt: skip
            elif isinstance(item, RefRow):
                refs.append(_clean((scan, item.target_id, item.page_id, item.site, item.tag)))
            elif isinstance(item, FindingRow):
                f = item.finding
                findings.append(
                    _clean(
                        (scan, f.identity, f.check, f.severity, f.site, f.unit, f.column, f.url,
                         f.page, f.detail_json(), item.observed_at)
                    )
                )  # fmt: skip
            elif isinstance(item, ColumnRow):
                columns.append(
                    _clean(
                        (scan, item.site, item.url, item.name, item.category, item.unit,
                         item.top_level, item.configured, item.parent, item.items,
                         item.dated_items, item.newest, item.pages, item.is_list, item.why)
                    )
                )  # fmt: skip
            elif isinstance(item, ItemRow):
                items.append(
                    _clean((scan, item.site, item.column_url, item.url, item.title, item.date))
                )
            elif isinstance(item, FrontierRow):
                frontier.append(
                    _clean(
                        (scan, item.url_id, item.url, item.kind, item.site, item.depth,
                         item.link_kind, item.follow)
                    )
                )  # fmt: skip
            elif isinstance(item, BodyRow):
                bodies.append(
                    _clean(
                        (scan, item.url_id, item.content_type, json.dumps(item.redirects),
                         zlib.compress(item.body, 1))
                    )
                )  # fmt: skip
            elif isinstance(item, CoverageRow):
                coverage.append(
                    _clean((scan, item.site, json.dumps(item.coverage, sort_keys=True)))
                )
            elif isinstance(item, Progress):
                progress = item
        if not (
            pages or links or refs or findings or columns or frontier or bodies or items
            or coverage or progress
        ):  # fmt: skip
            return
        conn = self._writer_conn
        if conn is None:
            raise StoreError(f"{self.path}: the store is closed")
        async with conn.transaction():
            for sql, rows in (
                (_SQL_FRONTIER, frontier),
                (_SQL_PAGE, pages),
                (_SQL_BODY, bodies),
                (_SQL_LINK, links),
                (_SQL_REF, refs),
                (_SQL_FINDING, findings),
                (_SQL_COLUMN, columns),
                (_SQL_ITEM, items),
                (_SQL_COVERAGE, coverage),
            ):
                if rows:
                    await conn.executemany(sql, rows)
            if progress is not None:
                await conn.execute(
                    "UPDATE scans SET pages = $1, requests = $2 WHERE id = $3",
                    progress.pages,
                    progress.requests,
                    scan,
                )

    async def finish_scan(self, status: str, pages: int, requests: int) -> None:
        await self.put(Progress(pages, requests))
        await self.flush()
        async with self._conn("write") as conn:
            await conn.execute(
                "UPDATE scans SET status = $1, finished_at = $2, pages = $3, requests = $4"
                " WHERE id = $5",
                status,
                now_iso(),
                pages,
                requests,
                self.scan_id,
            )

    async def close(self) -> None:
        await self._stop_writer()
        await self._close_quietly()

    # -- reading ----------------------------------------------------------------------------

    async def scan_info(self, ref: str | int = "latest") -> ScanInfo:
        args: tuple[Any, ...] = ()
        if ref == "latest":
            sql, args = _SCAN_COLUMNS + "ORDER BY id DESC LIMIT 1", ()
        else:
            try:
                scan_id = int(ref)
            except ValueError:
                raise StoreError(f"scan {ref!r}: expected a scan number or 'latest'") from None
            if not -(2**63) <= scan_id < 2**63:  # SQLite finds no such scan; asyncpg would raise
                raise StoreError(f"{self.path}: no scan {ref} in the store")
            sql, args = _SCAN_COLUMNS + "WHERE id = $1", (scan_id,)
        async with self._conn() as conn:
            row = await conn.fetchrow(sql, *args)
        if row is None:
            raise StoreError(f"{self.path}: no scan {ref} in the store")
        return _scan_info(row)

    async def findings(self, scan_id: int) -> list[dict[str, Any]]:
        async with self._conn() as conn:
            rows = await conn.fetch(
                "SELECT identity, check_code, severity, site, unit, column_name, url, page,"
                " detail, observed_at FROM findings WHERE scan_id = $1"
                " ORDER BY site, check_code, url, identity",
                scan_id,
            )
        return [
            {
                "id": r[0],
                "check": r[1],
                "severity": r[2],
                "site": r[3],
                "unit": r[4],
                "column": r[5],
                "url": r[6],
                "page": r[7],
                "detail": json.loads(r[8]),
                "observed_at": r[9],
            }
            for r in rows
        ]

    async def scans(self) -> list[ScanInfo]:
        """Every scan in the store, newest first."""
        async with self._conn() as conn:
            rows = await conn.fetch(_SCAN_COLUMNS + "ORDER BY id DESC")
        return [_scan_info(r) for r in rows]

    async def ignore(self, identity: str, reason: str) -> dict[str, Any]:
        """Mark the finding ``identity`` as a false positive or an accepted exception."""
        async with self._conn("write") as conn:
            row = await conn.fetchrow(
                "SELECT site, check_code, url FROM findings WHERE identity = $1"
                " ORDER BY scan_id DESC LIMIT 1",
                identity,
            )
            if row is None:
                raise StoreError(f"{self.path}: no finding {identity!r} in the store")
            await conn.execute(
                _SQL_IGNORE, *_clean((identity, row[0], row[1], row[2], reason, now_iso()))
            )
        return {"id": identity, "site": row[0], "check": row[1], "url": row[2], "reason": reason}

    async def withdraw_findings(
        self, scan_id: int, check: str, site: str, urls: Sequence[str]
    ) -> int:
        await self.flush()
        async with self._conn("write") as conn:
            result: str = await conn.execute(
                "DELETE FROM findings WHERE scan_id = $1 AND check_code = $2 AND site = $3"
                " AND url = ANY($4::text[])",
                scan_id,
                check,
                site,
                list(urls),
            )
        return int(result.rsplit(maxsplit=1)[-1])

    async def unignore(self, identity: str) -> bool:
        """Undo :meth:`ignore`; whether there was anything to undo."""
        async with self._conn("write") as conn:
            gone = await conn.fetch(
                "DELETE FROM ignores WHERE identity = $1 RETURNING identity", identity
            )
        return len(gone) > 0

    async def ignores(self) -> dict[str, dict[str, Any]]:
        """Every ignored finding identity with its reason."""
        async with self._conn() as conn:
            rows = await conn.fetch(
                "SELECT identity, site, check_code, url, reason, created_at FROM ignores"
                " ORDER BY created_at, identity"
            )
        keys = ("id", "site", "check", "url", "reason", "since")
        return {str(r[0]): dict(zip(keys, tuple(r), strict=True)) for r in rows}

    async def resumable(self, config_digest: str) -> ScanInfo | None:
        """The newest scan of this config that did not complete, if it can be resumed."""
        async with self._conn() as conn:
            row = await conn.fetchrow(
                _SCAN_COLUMNS + "WHERE config_digest = $1 AND status IN ('running', 'interrupted')"
                " AND id = (SELECT max(id) FROM scans WHERE config_digest = $1)",
                config_digest,
            )
        if row is None:
            return None
        info = _scan_info(row)
        return info if resumable_alone(info) else None

    async def reopen_scan(self, scan_id: int) -> None:
        """Continue writing into ``scan_id`` (``scan --resume``)."""
        async with self._conn("write") as conn:
            await conn.execute(
                "UPDATE scans SET status = 'running', finished_at = NULL WHERE id = $1", scan_id
            )
        await self._start_writer(scan_id)

    async def join_scan(self, scan_id: int) -> None:
        """Write into ``scan_id`` without touching its status (a site job of a queued scan)."""
        await self._start_writer(scan_id)

    async def journal(self, scan_id: int) -> Journal:
        """What a scan had done before it stopped: its frontier, the pages fetched (with their
        bodies) and the targets checked, in the order they were first seen."""
        journal = Journal()
        async with self._conn() as conn:
            frontier = await conn.fetch(
                "SELECT url_id, url, kind, site, depth, link_kind, follow FROM frontier"
                " WHERE scan_id = $1 ORDER BY url_id",
                scan_id,
            )
            pages = await conn.fetch(
                "SELECT p.url_id, p.final_url, p.status, p.error, p.content_type, b.redirects,"
                " b.body FROM pages p"
                " LEFT JOIN bodies b ON b.scan_id = p.scan_id AND b.url_id = p.url_id"
                " WHERE p.scan_id = $1 ORDER BY p.url_id",
                scan_id,
            )
            links = await conn.fetch(
                "SELECT url_id, outcome, reason, status, final_url, method, attempts FROM links"
                " WHERE scan_id = $1 ORDER BY url_id",
                scan_id,
            )
        for r in frontier:
            journal.frontier.append(
                FrontierRow(int(r[0]), r[1], int(r[2]), int(r[3]), int(r[4]), r[5], bool(r[6]))
            )
        for r in pages:
            body = zlib.decompress(r[6]) if r[6] is not None else b""
            redirects = json.loads(r[5]) if r[5] is not None else []
            journal.pages[int(r[0])] = (r[1], r[2], r[3], r[4], redirects, body)
        for r in links:
            journal.links[int(r[0])] = (r[1], r[2], r[3], r[4], r[5], int(r[6]))
        return journal

    async def items(self, scan_id: int, site: str | None = None) -> list[ItemRow]:
        """The dated items each column listed at a scan (what ``content.backdated`` compares)."""
        sql = "SELECT site, column_url, url, title, date FROM items WHERE scan_id = $1"
        args: list[Any] = [scan_id]
        if site is not None:
            sql += " AND site = $2"
            args.append(site)
        async with self._conn() as conn:
            rows = await conn.fetch(sql + " ORDER BY site, column_url, url", *args)
        return [ItemRow(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    async def site_sizes(self, scan_id: int) -> dict[str, int]:
        """Requests each site needed at a scan (its frontier: pages and checked targets), for
        the daemon's planner; the pages fetched when the scan kept no frontier."""
        info = await self.scan_info(scan_id)
        ids = [s["id"] for s in info.sites]
        async with self._conn() as conn:
            rows = await conn.fetch(
                "SELECT site, count(*) FROM frontier WHERE scan_id = $1 GROUP BY site", scan_id
            )
            sizes = {ids[int(r[0])]: int(r[1]) for r in rows if 0 <= int(r[0]) < len(ids)}
            if sizes:
                return sizes
            rows = await conn.fetch(
                "SELECT site, count(*) FROM pages WHERE scan_id = $1 GROUP BY site", scan_id
            )
        return {str(r[0]): int(r[1]) for r in rows}

    async def add_target(self, scan_id: int, url: str, title: str, final_host: str) -> None:
        """What an external link's target was at a scan (for ``link.hijacked`` next time)."""
        async with self._conn("write") as conn:
            await conn.execute(_SQL_TARGET, *_clean((scan_id, url, title, final_host)))

    async def previous_target(self, before_scan: int, url: str) -> tuple[str, str] | None:
        """``(title, final_host)`` of ``url`` at the newest earlier complete scan that saw it."""
        async with self._conn() as conn:
            row = await conn.fetchrow(
                "SELECT t.title, t.final_host FROM targets t JOIN scans s ON s.id = t.scan_id"
                " WHERE t.url = $1 AND t.scan_id < $2 AND s.status = 'complete'"
                " ORDER BY t.scan_id DESC LIMIT 1",
                url.replace("\x00", "\ufffd"),
                before_scan,
            )
        return None if row is None else (str(row[0]), str(row[1]))

    async def add_samples(self, samples: Sequence[SampleRow]) -> None:
        """Availability samples, committed in one transaction (outside any scan)."""
        rows = [
            _clean(
                (s.site, s.url, s.at, s.ok, s.status, s.total_ms, s.dns_ms, s.connect_ms,
                 s.tls_ms, s.first_byte_ms, s.failed_at, s.error)
            )
            for s in samples
        ]  # fmt: skip
        if not rows:
            return
        async with self._conn("write") as conn, conn.transaction():
            await conn.executemany(
                "INSERT INTO samples (site, url, at, ok, status, total_ms, dns_ms, connect_ms,"
                " tls_ms, first_byte_ms, failed_at, error)"
                " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)",
                rows,
            )

    async def samples(
        self, site: str | None = None, since: str | None = None, until: str | None = None
    ) -> list[SampleRow]:
        """Samples in time order; ``since``/``until`` are ISO times (inclusive)."""
        where: list[str] = []
        args: list[Any] = []
        for clause, value in (("site = ", site), ("at >= ", since), ("at <= ", until)):
            if value is not None:
                args.append(value)
                where.append(f"{clause}${len(args)}")
        sql = (
            "SELECT site, url, at, ok, status, total_ms, dns_ms, connect_ms, tls_ms,"
            " first_byte_ms, failed_at, error FROM samples"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        async with self._conn() as conn:
            rows = await conn.fetch(sql + " ORDER BY at, id", *args)
        return [
            SampleRow(site=r[0], url=r[1], at=r[2], ok=bool(r[3]), status=r[4], total_ms=r[5],
                      dns_ms=r[6], connect_ms=r[7], tls_ms=r[8], first_byte_ms=r[9],
                      failed_at=r[10], error=r[11])
            for r in rows
        ]  # fmt: skip

    async def columns(self, scan_id: int) -> list[dict[str, Any]]:
        """Every column of every site in a scan: category, items, newest date, how it was read."""
        async with self._conn() as conn:
            rows = await conn.fetch(
                "SELECT site, url, name, category, unit, top_level, configured, parent, items,"
                " dated_items, newest, pages, is_list, why FROM columns WHERE scan_id = $1"
                " ORDER BY site, url",
                scan_id,
            )
        keys = ("site", "url", "name", "category", "unit", "top_level", "configured", "parent",
                "items", "dated_items", "newest", "pages", "is_list", "why")  # fmt: skip
        return [dict(zip(keys, tuple(r), strict=True)) for r in rows]

    async def coverage(self, scan_id: int) -> dict[str, dict[str, Any]]:
        async with self._conn() as conn:
            rows = await conn.fetch(
                "SELECT site, detail FROM coverage WHERE scan_id = $1 ORDER BY site", scan_id
            )
        return {str(r[0]): json.loads(r[1]) for r in rows}

    async def page_urls(self, scan_id: int, url_ids: Sequence[int]) -> dict[int, str]:
        ids = list(url_ids)
        if not ids:
            return {}
        async with self._conn() as conn:
            rows = await conn.fetch(
                "SELECT url_id, url FROM pages WHERE scan_id = $1 AND url_id = ANY($2::bigint[])",
                scan_id,
                ids,
            )
        return {int(r[0]): str(r[1]) for r in rows}


def _scan_info(row: Any) -> ScanInfo:
    status = row[5]
    if status == "running":
        status = "incomplete"
    return ScanInfo(
        id=int(row[0]),
        config_path=row[1],
        as_of=row[2],
        started_at=row[3],
        finished_at=row[4],
        status=status,
        pages=int(row[6]),
        requests=int(row[7]),
        sites=json.loads(row[8]),
        settings=json.loads(row[9]),
    )


def _why(exc: BaseException) -> str:
    """An error's text, never empty (a timeout has none)."""
    text = str(exc).strip()
    if isinstance(exc, TimeoutError):
        return text or "timed out"
    return text or type(exc).__name__
