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

import asyncpg  # type: ignore[import-untyped]
import pytest

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
        conn = await asyncpg.connect(SERVER, timeout=5)
        try:
            await conn.fetchval("SELECT 1")
        finally:
            await conn.close()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        try:
            pool.submit(asyncio.run, probe()).result(timeout=30)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
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


@contextlib.asynccontextmanager
async def admin() -> AsyncIterator[Any]:
    """A connection of our own to the test database (outside any store)."""
    conn = await asyncpg.connect(SERVER, timeout=10)
    try:
        yield conn
    finally:
        await conn.close()


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
