"""PostgreSQL connections for the store and the job queue: one driver (psycopg 3), one pool.

Every connection govmon makes to PostgreSQL is a psycopg :class:`~psycopg.AsyncConnection` in
autocommit mode (a batch opens its own transaction), with the store's schema first on its
``search_path`` and ``application_name`` ``govmon`` unless the URL names one. A process that runs
many site jobs at once (``govmon worker``) opens one :func:`open_pool` and hands it to every job's
store, to the queue's tables and to procrastinate, so it holds at most the pool's size in
connections, whatever the number of jobs (procrastinate adds one of its own, to LISTEN).

Statements are written with PostgreSQL's own ``$1``-numbered placeholders (the store numbers
its ``?``); :func:`numbered` turns them and their arguments into psycopg's.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import psycopg
import psycopg_pool
from psycopg import errors

__all__ = [
    "DB_ERRORS",
    "Pool",
    "connect",
    "connect_kwargs",
    "is_transient",
    "live_connection",
    "numbered",
    "open_pool",
    "params",
    "psycopg_sql",
]

Pool = psycopg_pool.AsyncConnectionPool[psycopg.AsyncConnection[Any]]

# what a failed statement or a lost server raises (a pool that cannot connect in time raises
# psycopg_pool.PoolTimeout, a psycopg.OperationalError)
DB_ERRORS: tuple[type[BaseException], ...] = (psycopg.Error, OSError, TimeoutError)


def connect_kwargs(
    dsn: str,
    schema: str,
    *,
    application_name: str = "govmon",
    read_only: bool = False,
    connect_timeout: float = 10.0,
    command_timeout: float | None = None,
) -> dict[str, Any]:
    """The keyword arguments of every connection to ``dsn`` that works in ``schema`` (a name
    already checked by the caller): autocommit, the schema first on the ``search_path``, the
    URL's own ``application_name`` or ``application_name``, and the timeouts (seconds). Not
    autocommit: :func:`connect` and the pool set it (procrastinate adds it to these arguments
    for its own LISTEN connection)."""
    options = [f'-c search_path="{schema}"']
    if read_only:
        options.append("-c default_transaction_read_only=on")
    if command_timeout is not None:
        options.append(f"-c statement_timeout={max(1, round(command_timeout * 1000))}")
    kwargs: dict[str, Any] = {
        "options": " ".join(options),
        "connect_timeout": max(2, round(connect_timeout)),  # libpq's least
    }
    if "application_name" not in dict(parse_qsl(urlsplit(dsn).query)):
        kwargs["application_name"] = application_name
    return kwargs


async def connect(dsn: str, kwargs: dict[str, Any]) -> psycopg.AsyncConnection[Any]:
    """One connection of its own (the driver's errors name what went wrong)."""
    return await psycopg.AsyncConnection.connect(dsn, autocommit=True, **kwargs)


async def _autocommit(conn: psycopg.AsyncConnection[Any]) -> None:
    await conn.set_autocommit(True)


async def open_pool(dsn: str, kwargs: dict[str, Any], *, size: int, wait: float) -> Pool:
    """A pool of at most ``size`` connections (``kwargs`` from :func:`connect_kwargs`); one
    is made first, outside the pool, so that a server that cannot be reached raises the
    driver's own error rather than a pool's timeout. ``wait`` bounds waiting for a free
    connection (seconds)."""
    first = await connect(dsn, kwargs)
    await first.close()
    pool: Pool = psycopg_pool.AsyncConnectionPool(
        dsn,
        kwargs=kwargs,
        configure=_autocommit,
        min_size=1,
        max_size=max(1, size),
        timeout=wait,
        open=False,
        name="govmon",
    )
    await pool.open(wait=True, timeout=max(wait, 5.0))
    return pool


@contextlib.asynccontextmanager
async def live_connection(pool: Pool) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """A pooled connection that answers: one the server has closed since it was last used
    (restarted, terminated) is dropped and another taken, as many times as the pool holds."""
    for _ in range(pool.max_size):
        conn = await pool.getconn()
        try:
            await psycopg_pool.AsyncConnectionPool.check_connection(conn)
        except psycopg.Error:
            await pool.putconn(conn)  # broken: the pool discards it
            continue
        break
    else:
        conn = await pool.getconn()
    try:
        yield conn
    finally:
        await pool.putconn(conn)


def is_transient(exc: BaseException) -> bool:
    """Conflicts between concurrent writers: the batch is rolled back and can simply be redone."""
    return isinstance(
        exc, errors.DeadlockDetected | errors.SerializationFailure | errors.LockNotAvailable
    )


_DOLLAR = re.compile(r"\$(\d+)")


@functools.lru_cache(maxsize=1024)
def psycopg_sql(sql: str) -> str:
    """A statement with ``$1``, ``$2``, … placeholders (each may appear more than once) as
    psycopg takes it: ``%(1)s``, ``%(2)s``, … (no statement holds a ``$`` digit in a string)."""
    return _DOLLAR.sub(r"%(\1)s", sql.replace("%", "%%"))


def params(args: Sequence[Any]) -> dict[str, Any]:
    """The arguments of a :func:`psycopg_sql` statement: ``$1`` is the first."""
    return {str(i): v for i, v in enumerate(args, 1)}


def numbered(sql: str, args: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """A ``$1``-numbered statement and its arguments, as psycopg takes them."""
    return psycopg_sql(sql), params(args)
