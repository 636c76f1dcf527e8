"""The PostgreSQL test server: fixtures ``server`` and ``pg`` (a fresh schema per test).

The server is ``GOVMON_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/test``,
trust authentication on this project's machines). Without a server the tests that use it are
skipped with a loud reason; with ``GOVMON_REQUIRE_POSTGRES=1`` (CI) a missing server fails them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import functools
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from storage.pgconn import numbered
from storage.postgres import PostgresStore, parse_url

REQUIRED = os.environ.get("GOVMON_REQUIRE_POSTGRES") == "1"
SERVER = os.environ.get("GOVMON_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _not_run(reason: str) -> None:
    reason = f"POSTGRESQL TESTS NOT RUN: {reason}"
    if REQUIRED:
        pytest.fail(reason + " (GOVMON_REQUIRE_POSTGRES=1 requires them)", pytrace=False)
    pytest.skip(reason)


@functools.cache
def _server_problem() -> str | None:
    """Why the test server cannot be used, or None. Asked once, off the event loop."""

    async def probe() -> None:
        async with await psycopg.AsyncConnection.connect(SERVER, connect_timeout=5) as conn:
            await conn.execute("SELECT 1")

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        try:
            pool.submit(asyncio.run, probe()).result(timeout=30)
        except (OSError, TimeoutError, psycopg.Error) as exc:
            return f"no PostgreSQL server at {parse_url(SERVER)[2]} ({type(exc).__name__}: {exc})"
    return None


@pytest.fixture(scope="session")
def server() -> str:
    problem = _server_problem()
    if problem is not None:
        _not_run(problem + "; start one or set GOVMON_TEST_POSTGRES")
    return SERVER


def _with(url: str, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return url + ("&" if "?" in url else "?") + query


class Admin:
    """A connection of the tests' own, queried with PostgreSQL's ``$1`` placeholders; rows by
    column name or position."""

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self.conn = conn

    async def execute(self, query: str, *args: Any) -> str:
        if args:
            sql, params = numbered(query, args)
            cursor = await self.conn.execute(sql, params)
        else:  # as it is: several statements, no placeholders
            cursor = await self.conn.execute(query)
        return cursor.statusmessage or ""

    async def fetch(self, query: str, *args: Any) -> list[Row]:
        sql, params = numbered(query, args)
        async with self.conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(sql, params)
            return [Row(r) for r in await cursor.fetchall()]

    async def fetchval(self, query: str, *args: Any) -> Any:
        rows = await self.fetch(query, *args)
        return rows[0][0] if rows else None

    def transaction(self) -> Transaction:
        return Transaction(self.conn)


class Transaction:
    """A transaction begun by :meth:`start` or ``async with``; committed or rolled back."""

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self.conn = conn

    async def start(self) -> None:
        await self.conn.execute("BEGIN")

    async def commit(self) -> None:
        await self.conn.execute("COMMIT")

    async def rollback(self) -> None:
        await self.conn.execute("ROLLBACK")

    async def __aenter__(self) -> Transaction:
        await self.start()
        return self

    async def __aexit__(self, kind: object, *exc: object) -> None:
        await (self.rollback() if kind is not None else self.commit())


class Row(dict[str, Any]):
    """A row by column name (``row["site"]``) or position (``row[0]``)."""

    def __getitem__(self, key: str | int) -> Any:
        if isinstance(key, int):
            return list(self.values())[key]
        return super().__getitem__(key)


@contextlib.asynccontextmanager
async def admin(url: str = SERVER) -> AsyncIterator[Any]:
    """A connection of our own to the test database (outside any store); ``url`` may name a
    schema (``?schema=``), which it then searches first."""
    dsn, schema, _ = parse_url(url)
    options = f'-c search_path="{schema}"'
    async with await psycopg.AsyncConnection.connect(
        dsn, autocommit=True, connect_timeout=10, options=options
    ) as conn:
        yield Admin(conn)


async def rows(url: str, query: str, *args: Any) -> list[Row]:
    """The rows of one query in the schema of the store at ``url``."""
    async with admin(url) as conn:
        found: list[Row] = await conn.fetch(query, *args)
        return found


async def _drop(schema: str) -> None:
    async with admin() as conn:
        await conn.execute("SET lock_timeout = '20s'")
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@dataclasses.dataclass
class PG:
    """A fresh schema of the test server: ``url`` opens a store in it."""

    schema: str
    url: str

    @property
    def shown(self) -> str:
        """How the store names itself in messages."""
        return parse_url(self.url)[2]

    async def open(self, **kw: Any) -> PostgresStore:
        return await PostgresStore.open(self.url, **kw)


@pytest.fixture
async def pg(server: str) -> AsyncIterator[PG]:
    schema = f"govmon_test_{uuid.uuid4().hex[:12]}"
    async with admin() as conn:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield PG(schema, _with(server, schema=schema))
    finally:
        await _drop(schema)
