"""The PostgreSQL store: the SQLite store's schema and behaviour on a server many workers share.

``PostgresStore.open("postgresql://user@host:5432/db?schema=NAME")`` opens (and creates or
migrates) a store in the PostgreSQL schema ``NAME`` (default ``public``). Everything else is as
in :mod:`storage.sqlite`:

- the same tables, translated (BIGSERIAL ids, BYTEA bodies, BOOLEAN flags; JSON stays text, and
  every text column sorts byte-wise with ``COLLATE "C"``, as SQLite does, so both stores return
  identical values in identical order);
- versioned migrations, recorded in ``govmon_schema`` and applied in one transaction under an
  advisory lock, so several workers may start at once;
- the protocol's methods and the batching writer of :class:`storage.sqlbase.SQLStore`, run by
  psycopg 3 (:mod:`storage.pgconn`) on a pool of connections: the store's own, or the one its
  process shares between its stores and the job queue (``open(pool=...)``, see
  :func:`shared_pool`); the writer takes a connection per batch, and a batch that conflicts
  with another writer (deadlock, serialization) is redone;
- the same :class:`StoreError` messages for a server that cannot be reached, a store that does
  not exist (``create=False``) and a schema newer than this govmon.

PostgreSQL text cannot hold NUL characters: they are stored as U+FFFD, as an HTML parser would.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

import psycopg

from crawler import __version__
from storage.base import NotInStore, StoreError
from storage.dburl import DbUrlError, scrub, shown, split_db_url
from storage.pgconn import (
    DB_ERRORS,
    Pool,
    connect_kwargs,
    is_transient,
    live_connection,
    numbered,
    open_pool,
    params,
    psycopg_sql,
)
from storage.rows import Row, Table
from storage.sqlbase import SQLStore
from storage.writer import why

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "PostgresStore",
    "is_postgres_url",
    "parse_url",
    "shared_pool",
]

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
    8: f"""
    ALTER TABLE ignores ADD COLUMN author {_T} NOT NULL DEFAULT '';
    ALTER TABLE ignores ADD COLUMN changed_at {_T};
    CREATE TABLE ignore_rules (
        id BIGSERIAL PRIMARY KEY,
        pattern {_T} NOT NULL,
        check_code {_T} NOT NULL,
        site {_T} NOT NULL,
        reason {_T} NOT NULL,
        created_at {_T} NOT NULL,
        author {_T} NOT NULL,
        changed_at {_T},
        UNIQUE (pattern, check_code, site)
    );
    CREATE TABLE ignore_log (
        id BIGSERIAL PRIMARY KEY,
        at {_T} NOT NULL,
        author {_T} NOT NULL,
        action {_T} NOT NULL,
        target {_T} NOT NULL,
        subject {_T} NOT NULL,
        reason {_T} NOT NULL,
        previous {_T}
    );
    CREATE INDEX findings_by_identity ON findings (identity);
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


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_OPEN_ERRORS: tuple[type[BaseException], ...] = (*DB_ERRORS, ValueError)  # ValueError: a bad URL


def is_postgres_url(db: str) -> bool:
    return db.startswith(("postgresql://", "postgres://"))


def parse_url(url: str) -> tuple[str, str, str]:
    """``(dsn, schema, display)``: the URL for the driver without ``schema=``, the schema name,
    and the URL to show in messages (no password, no other parameters). Raises
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


def _checked_schema(schema: str, display: str) -> str:
    if not _NAME.fullmatch(schema):
        raise StoreError(
            f"{display}: schema {schema!r}: expected a PostgreSQL name (letters,"
            " digits and _, at most 63)"
        )
    return schema


async def shared_pool(
    url: str, size: int, *, application_name: str = "govmon", wait: float = 120.0
) -> Pool:
    """A pool of at most ``size`` connections to the store at ``url``, for a process whose
    stores (``PostgresStore.open(url, pool=...)``) and queue share it. A server that cannot be
    reached is a :class:`StoreError` without the password."""
    dsn, schema, display = parse_url(url)
    kwargs = connect_kwargs(
        dsn, _checked_schema(schema, display), application_name=application_name
    )
    try:
        return await open_pool(dsn, kwargs, size=size, wait=wait)
    except _OPEN_ERRORS as exc:
        raise StoreError(f"{display}: cannot connect: {scrub(why(exc), dsn)}") from None


def _clean(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """PostgreSQL text cannot hold NUL: U+FFFD instead (what HTML parsers make of it)."""
    if any(type(v) is str and "\x00" in v for v in row):
        return tuple(v.replace("\x00", "\ufffd") if type(v) is str else v for v in row)
    return row


def _query(sql: str, args: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """A statement of the store (``?`` placeholders) and its arguments, as psycopg takes them."""
    return numbered(_numbered(sql), _clean(tuple(args)))


async def _value(conn: psycopg.AsyncConnection[Any], sql: str, *args: Any) -> Any:
    """The first column of the first row of a query (``?`` placeholders)."""
    row = await (await conn.execute(*_query(sql, args))).fetchone()
    return None if row is None else row[0]


class PostgresStore(SQLStore):
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
        super().__init__(queue_size=queue_size, batch_size=batch_size)
        self.url = url
        self.dsn, url_schema, self.path = parse_url(url)
        self.schema = url_schema if schema is None else schema
        if self.schema != url_schema:  # what messages show: the schema really used
            self.path = parse_url(self.dsn)[2] + (
                "" if self.schema == "public" else f"?schema={self.schema}"
            )
        self.read_only = read_only
        self.connect_timeout = 10.0
        self.command_timeout: float | None = 300.0
        self._pool: Pool | None = None
        self._own_pool = True  # False: the process's shared pool, closed by its owner

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
        pool: Pool | None = None,
    ) -> PostgresStore:
        """Open (and create or migrate) the store at ``url``.

        ``queue_size`` records wait for the writer at most (as in SQLite: 1,024, page bodies
        included, keep its backlog within tens of MB); ``schema`` overrides the URL's
        ``?schema=``; ``busy_timeout`` is how long a batch that conflicts with another writer
        (deadlock, serialization) is retried; ``connect_timeout``
        bounds connecting, ``command_timeout`` every statement; ``pool_size`` is the most
        connections held (the writer takes one per batch); ``read_only`` neither migrates nor
        writes (the web view), and wants a store of exactly this version. ``pool`` (from
        :func:`shared_pool`, on the same URL) is the process's pool, shared with other stores
        and the queue: the store then opens no connection of its own, and leaves the pool open
        when it closes.
        """
        store = cls(
            url, schema=schema, queue_size=queue_size, batch_size=batch_size, read_only=read_only
        )
        store.busy_timeout = busy_timeout
        store.connect_timeout = connect_timeout
        store.command_timeout = command_timeout
        await store._open(create, max(2, pool_size), pool)
        return store

    async def _open(self, create: bool, pool_size: int, pool: Pool | None) -> None:
        _checked_schema(self.schema, self.path)
        kwargs = connect_kwargs(
            self.dsn,
            self.schema,
            read_only=self.read_only,
            connect_timeout=self.connect_timeout,
            command_timeout=self.command_timeout,
        )
        try:
            if pool is None:
                wait = self.command_timeout or 300.0
                self._pool = await open_pool(self.dsn, kwargs, size=pool_size, wait=wait)
            else:
                self._pool, self._own_pool = pool, False
            async with live_connection(self._pool) as conn:
                await self._migrate(conn, create)
        except StoreError:
            await self._close_quietly()
            raise
        except _OPEN_ERRORS as exc:
            await self._close_quietly()
            reason = scrub(why(exc), self.dsn)
            raise StoreError(f"{self.path}: cannot open the store: {reason}") from None
        except BaseException:
            await self._close_quietly()
            raise

    async def _close_quietly(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None or not self._own_pool:
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(pool.close(timeout=5.0), timeout=10.0)

    async def _migrate(self, conn: psycopg.AsyncConnection[Any], create: bool) -> None:
        version = await self._version(conn)
        if version is None and (self.read_only or not create):
            raise NotInStore(f"{self.path}: no such store (run `govmon scan` first)")
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
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_LOCK_CLASS, self.schema)
            )
            exists = await _value(
                conn, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = ?)", self.schema
            )
            if not exists:
                await conn.execute(f'CREATE SCHEMA "{self.schema}"')
            await conn.execute(_VERSION_TABLE)
            version = int(await _value(conn, "SELECT coalesce(max(version), 0) FROM govmon_schema"))
            if version > SCHEMA_VERSION:
                raise self._newer(version)
            for target in range(version + 1, SCHEMA_VERSION + 1):
                await conn.execute(MIGRATIONS[target])
                await conn.execute(
                    "INSERT INTO govmon_schema (version, govmon) VALUES (%s, %s)",
                    (target, __version__),
                )

    async def _version(self, conn: psycopg.AsyncConnection[Any]) -> int | None:
        """The store's schema version; None when the schema holds no store."""
        exists = await _value(
            conn,
            "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = ?"
            " AND tablename = 'govmon_schema')",
            self.schema,
        )
        if not exists:
            return None
        return int(await _value(conn, "SELECT coalesce(max(version), 0) FROM govmon_schema"))

    def _newer(self, version: int) -> StoreError:
        return StoreError(
            f"{self.path}: schema version {version} is newer than this govmon "
            f"({SCHEMA_VERSION}); upgrade govmon"
        )

    def _require(self) -> Pool:
        if self._pool is None:
            raise StoreError(f"{self.path}: the store is closed")
        return self._pool

    @contextlib.asynccontextmanager
    async def _conn(self, verb: str = "read") -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A pooled connection; a failure of the server becomes a :class:`StoreError`."""
        pool = self._require()
        try:
            async with live_connection(pool) as conn:
                yield conn
        except StoreError:
            raise
        except DB_ERRORS as exc:
            raise StoreError(f"{self.path}: cannot {verb}: {why(exc)}") from None

    # -- the hooks of SQLStore and BatchWriter ---------------------------------------------

    async def _rows(self, sql: str, args: Sequence[Any] = ()) -> AsyncIterator[Sequence[Any]]:
        async with self._conn() as conn:
            rows = await (await conn.execute(*_query(sql, args))).fetchall()
        for row in rows:
            yield row

    async def _execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        async with self._conn("write") as conn:
            cursor = await conn.execute(*_query(sql, args))
        return max(0, cursor.rowcount)

    async def _insert_id(self, sql: str, args: Sequence[Any]) -> int:
        async with self._conn("write") as conn:
            return int(await _value(conn, sql + " RETURNING id", *args))

    async def _executemany(self, statements: list[tuple[str, list[Row]]], writer: bool) -> None:
        if not writer:
            async with self._conn("write") as conn:
                await _transaction(conn, statements)
            return
        # the writer's batch: the driver's own errors, for its retries; a connection the
        # server closed fails the batch (and so the writing) rather than being replaced
        async with self._require().connection() as conn:
            await _transaction(conn, statements)

    def _insert(self, table: Table) -> str:
        return _insert(table)

    def _row(self, values: Row) -> Row:
        return _clean(values)

    def _retryable(self, exc: BaseException) -> bool:
        return is_transient(exc)


async def _transaction(
    conn: psycopg.AsyncConnection[Any], statements: list[tuple[str, list[Row]]]
) -> None:
    async with conn.transaction(), conn.cursor() as cursor:
        for sql, rows in statements:
            await cursor.executemany(psycopg_sql(_numbered(sql)), [params(row) for row in rows])


@functools.lru_cache(maxsize=1024)
def _numbered(sql: str) -> str:
    """``sql`` with its ``?`` placeholders numbered as PostgreSQL wants them: ``$1``, ``$2``, …
    (no statement of the store holds a ``?`` in a string)."""
    head, *rest = sql.split("?")
    return head + "".join(f"${i}{part}" for i, part in enumerate(rest, 1))


@functools.cache
def _insert(table: Table) -> str:
    """SQLite's ``INSERT OR IGNORE`` and ``INSERT OR REPLACE`` as ``ON CONFLICT`` clauses."""
    sql = f"INSERT INTO {table.into}"
    if table.conflict == "ignore":
        return sql + " ON CONFLICT DO NOTHING"
    if table.conflict == "replace":
        return sql + table.upsert(c for c in table.columns if c not in table.key)
    if table.conflict == "update":
        return sql + table.upsert(table.update)
    return sql
