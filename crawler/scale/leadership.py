"""One planner among many daemons: a PostgreSQL advisory lock elects the leader."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import psycopg
import structlog

from crawler.scale.queuedb import require_postgres
from storage.pgconn import connect, connect_kwargs
from storage.postgres import parse_url

__all__ = ["Leadership"]

log = structlog.get_logger("govmon.queue")


class Leadership:
    """One ``govmon daemon`` per config plans and samples; the others stand by.

    Every daemon of a config asks for a PostgreSQL advisory lock keyed by the config's digest on
    a connection of its own; the one that holds it leads (submits the scans, takes the
    availability samples). The server releases the lock when that connection ends, so when the
    leader dies a standby takes over within ``every`` seconds.
    """

    def __init__(self, db: str, digest: str) -> None:
        require_postgres(db, "daemon")
        self.dsn, self.schema, self.display = parse_url(db)
        self.key = int(digest[:8], 16) - (1 << 31)  # a signed 32-bit key from the digest
        self._conn: psycopg.AsyncConnection[Any] | None = None

    async def acquire(self, stop: asyncio.Event, every: float = 5.0) -> bool:
        """Wait until this daemon leads (True) or ``stop`` is set (False)."""
        announced = False
        while not stop.is_set():
            try:
                if self._conn is None or self._conn.closed:
                    kwargs = connect_kwargs(self.dsn, self.schema, application_name="govmon-lead")
                    self._conn = await connect(self.dsn, kwargs)
                cursor = await self._conn.execute(
                    "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (self.key, self.schema)
                )
                row = await cursor.fetchone()
                if row is not None and row[0]:
                    log.info("daemon.leader", db=self.display)
                    return True
                if not announced:
                    log.info("daemon.standby", db=self.display, note="another daemon leads")
                    announced = True
            except (OSError, psycopg.Error) as exc:
                log.warning("daemon.leader_check_failed", error=str(exc))
                await self.release()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
        return False

    async def held(self) -> bool:
        """Whether the lock is still ours (its connection alive)."""
        if self._conn is None or self._conn.closed:
            return False
        try:
            await self._conn.execute("SELECT 1")
        except Exception:
            return False
        return True

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()  # the server drops the session's advisory lock
