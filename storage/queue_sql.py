"""The job queue's own tables, beside the store's in its PostgreSQL schema, and their SQL.

:mod:`crawler.scale.jobqueue` runs a scan as one job per site (procrastinate); what it keeps of each
queued scan and site lives here: ``queue_scans`` (the config's text, the sampling window),
``queue_sites`` (each site's status, worker, attempts and totals: the attempt number fences a
site job that another worker took over) and ``queue_docs`` (each finished site's policy
documents and interpretations, matched across sites when the scan ends). :meth:`QueueSQL.open`
creates them and procrastinate's tables, once per schema under an advisory lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Self

import structlog
from procrastinate.schema import SchemaManager
from psycopg.rows import dict_row

from storage.pgconn import Pool, live_connection, numbered
from storage.postgres import PostgresStore, parse_url, shared_pool

__all__ = ["QueueSQL"]

log = structlog.get_logger("govmon.queue")

_LOCK_KEY = 0x676F7651  # "govQ": advisory lock guarding the queue's schema creation

_QUEUE_TABLES = """
CREATE TABLE IF NOT EXISTS queue_scans (
    scan_id BIGINT PRIMARY KEY REFERENCES scans(id),
    config_path TEXT NOT NULL,
    config_text TEXT NOT NULL,
    submitted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    window_end TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS queue_sites (
    scan_id BIGINT NOT NULL REFERENCES scans(id),
    site TEXT NOT NULL,
    position INTEGER NOT NULL,
    host TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued',
    worker TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    pages BIGINT NOT NULL DEFAULT 0,
    requests BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    PRIMARY KEY (scan_id, site)
);
CREATE INDEX IF NOT EXISTS queue_sites_by_status ON queue_sites (scan_id, status);
CREATE TABLE IF NOT EXISTS queue_docs (
    scan_id BIGINT NOT NULL REFERENCES scans(id),
    site TEXT NOT NULL,
    kind TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS queue_docs_by_scan ON queue_docs (scan_id, site);
"""

# what an earlier attempt of a site wrote into the shared scan: rows keyed by its URL-id range
# or by its site id
_DROP_BY_ID = ("pages", "links", "frontier", "bodies")
_DROP_BY_SITE = ("findings", "columns", "items", "queue_docs")


class QueueSQL:
    """The queue's tables in the store's PostgreSQL schema (the store's own are created, or
    migrated, first). :meth:`reconcile` is the caller's: what ends a scan's last site runs it
    before marking the scan finished."""

    def __init__(self, db: str, pool: Pool | None = None) -> None:
        self.db = db
        self.dsn, self.schema, self.display = parse_url(db)
        self._pool = pool  # the process's pool (see PostgresStore.open), or one of its own
        self._own_pool = pool is None

    async def open(self) -> Self:
        # the store creates the schema and its tables (and checks the schema name)
        store = await PostgresStore.open(self.db, create=True, pool_size=2, pool=self._pool)
        await store.close()
        if self._pool is None:
            self._pool = await shared_pool(self.db, 2, application_name="govmon")
        await self._ensure_schema()
        return self

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None and self._own_pool:
            await pool.close()

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _require(self) -> Pool:
        assert self._pool is not None, "the queue's tables are not open"
        return self._pool

    async def _ensure_schema(self) -> None:
        async with live_connection(self._require()) as conn, conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_LOCK_KEY, self.schema)
            )
            await conn.execute(_QUEUE_TABLES)
            cursor = await conn.execute("SELECT to_regclass('procrastinate_jobs')")
            exists = await cursor.fetchone()
            if exists is None or exists[0] is None:
                await conn.execute(SchemaManager.get_schema())

    async def fetch(self, query: str, *args: Any) -> list[dict[str, Any]]:
        """The rows of ``query`` (``$1``-numbered placeholders), by column name."""
        sql, params = numbered(query, args)
        async with (
            live_connection(self._require()) as conn,
            conn.cursor(row_factory=dict_row) as cursor,
        ):
            await cursor.execute(sql, params)
            return await cursor.fetchall()

    async def execute(self, query: str, *args: Any) -> str:
        """Run ``query``; its status (``UPDATE 1``)."""
        sql, params = numbered(query, args)
        async with live_connection(self._require()) as conn:
            cursor = await conn.execute(sql, params)
            return cursor.statusmessage or ""

    async def _many(self, statements: Sequence[tuple[str, Sequence[Sequence[Any]]]]) -> None:
        """Each statement once per row of arguments, all in one transaction."""
        async with (
            live_connection(self._require()) as conn,
            conn.transaction(),
            conn.cursor() as cursor,
        ):
            for query, rows in statements:
                for args in rows:
                    sql, params = numbered(query, args)
                    await cursor.execute(sql, params)

    async def reconcile(self, scan_id: int) -> int:
        """What a scan's sites found that only the whole scan can judge; how many findings
        went. Nothing here: :class:`crawler.scale.jobqueue.QueueDB`
        matches policy interpretations."""
        return 0

    # -- scans and their sites ---------------------------------------------------------------

    async def add_scan_rows(
        self,
        scan_id: int,
        config_path: str,
        text: str,
        window_end: dt.datetime | None,
        sites: Sequence[tuple[str, str]],
    ) -> None:
        """A submitted scan: its config's path and text, and its ``(site id, host)`` sites."""
        await self._many(
            [
                (
                    "INSERT INTO queue_scans (scan_id, config_path, config_text, window_end)"
                    " VALUES ($1, $2, $3, $4)",
                    [(scan_id, config_path, text, window_end)],
                ),
                (
                    "INSERT INTO queue_sites (scan_id, site, position, host)"
                    " VALUES ($1, $2, $3, $4)",
                    [(scan_id, site, i, host) for i, (site, host) in enumerate(sites)],
                ),
            ]
        )

    async def config_text(self, scan_id: int) -> tuple[str, str, str] | None:
        """``(config path, config text, as_of)`` of a submitted scan; None for another scan."""
        rows = await self.fetch(
            "SELECT q.config_path, q.config_text, s.as_of FROM queue_scans q"
            " JOIN scans s ON s.id = q.scan_id WHERE q.scan_id = $1",
            scan_id,
        )
        if not rows:
            return None
        return rows[0]["config_path"], rows[0]["config_text"], rows[0]["as_of"]

    async def start_site(self, scan_id: int, site: str, worker: str) -> int:
        """Mark a new attempt at ``site`` running; its number (the fencing token: only the
        newest attempt may record the site's end)."""
        rows = await self.fetch(
            "UPDATE queue_sites SET status = 'running', worker = $3, attempts = attempts + 1,"
            " started_at = now(), finished_at = NULL, error = NULL"
            " WHERE scan_id = $1 AND site = $2 RETURNING attempts",
            scan_id,
            site,
            worker,
        )
        return int(rows[0]["attempts"]) if rows else 0

    async def current_attempt(self, scan_id: int, site: str) -> int:
        rows = await self.fetch(
            "SELECT attempts FROM queue_sites WHERE scan_id = $1 AND site = $2", scan_id, site
        )
        return int(rows[0]["attempts"]) if rows else 0

    async def drop_site(self, scan_id: int, site: str, lo: int, hi: int) -> None:
        """Delete what an earlier attempt of ``site`` wrote into the scan."""
        by_id = [(scan_id, lo, hi)]
        await self._many(
            [
                *(
                    (f"DELETE FROM {t} WHERE scan_id = $1 AND url_id BETWEEN $2 AND $3", by_id)
                    for t in _DROP_BY_ID
                ),
                ("DELETE FROM refs WHERE scan_id = $1 AND target_id BETWEEN $2 AND $3", by_id),
                *(
                    (f"DELETE FROM {t} WHERE scan_id = $1 AND site = $2", [(scan_id, site)])
                    for t in _DROP_BY_SITE
                ),
            ]
        )

    async def end_site(
        self,
        scan_id: int,
        site: str,
        status: str,
        pages: int = 0,
        requests: int = 0,
        error: str | None = None,
        attempt: int | None = None,
    ) -> bool:
        """Record a site's end by ``attempt`` (ignored when a newer attempt has begun); True
        when that ended the whole scan (then reconciled and marked finished)."""
        done = await self.execute(
            "UPDATE queue_sites SET status = $3, pages = $4, requests = $5, error = $6,"
            " finished_at = CASE WHEN $3 IN ('done', 'failed') THEN now() END"
            " WHERE scan_id = $1 AND site = $2 AND ($7::int IS NULL OR attempts = $7)",
            scan_id,
            site,
            status,
            pages,
            requests,
            error,
            attempt,
        )
        if done.endswith(" 0"):
            log.warning("queue.site.superseded", scan=scan_id, site=site, attempt=attempt)
            return False
        if status not in ("done", "failed"):
            return False
        unsettled = await self.fetch(
            "SELECT 1 FROM queue_sites WHERE scan_id = $1 AND status NOT IN ('done', 'failed')"
            " LIMIT 1",
            scan_id,
        )
        if unsettled:
            return False
        await self.reconcile(scan_id)
        # whoever records the last site ends the scan; the status guard makes it happen once
        result = await self.execute(
            "UPDATE scans SET"
            " status = CASE WHEN EXISTS (SELECT 1 FROM queue_sites WHERE scan_id = $1"
            "   AND status = 'failed') THEN 'interrupted' ELSE 'complete' END,"
            " finished_at = $2,"
            " pages = (SELECT COALESCE(SUM(pages), 0) FROM queue_sites WHERE scan_id = $1),"
            " requests = (SELECT COALESCE(SUM(requests), 0) FROM queue_sites WHERE scan_id = $1)"
            " WHERE id = $1 AND status = 'running' AND NOT EXISTS (SELECT 1 FROM queue_sites"
            "   WHERE scan_id = $1 AND status NOT IN ('done', 'failed'))",
            scan_id,
            dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds"),
        )
        return result.endswith(" 1")

    async def unfinished(self) -> int:
        """Sites of any scan not yet done or failed."""
        rows = await self.fetch(
            "SELECT count(*) AS n FROM queue_sites WHERE status NOT IN ('done', 'failed')"
        )
        return int(rows[0]["n"])

    # -- what a site's job keeps for the whole scan ------------------------------------------

    async def replace_docs(self, scan_id: int, site: str, docs: Sequence[tuple[str, str]]) -> None:
        """A finished site's ``(kind, JSON)`` documents, instead of what it kept before."""
        rows = [(scan_id, site, kind, doc) for kind, doc in docs]
        await self._many(
            [
                ("DELETE FROM queue_docs WHERE scan_id = $1 AND site = $2", [(scan_id, site)]),
                ("INSERT INTO queue_docs (scan_id, site, kind, doc) VALUES ($1, $2, $3, $4)", rows),
            ]
        )

    async def docs(self, scan_id: int) -> list[dict[str, Any]]:
        """Every site's documents of a scan: rows of ``site, kind, doc`` and the scan's
        ``as_of``."""
        return await self.fetch(
            "SELECT d.site, d.kind, d.doc, s.as_of FROM queue_docs d JOIN scans s"
            " ON s.id = d.scan_id WHERE d.scan_id = $1",
            scan_id,
        )

    # -- what status and the daemon read -----------------------------------------------------

    async def queued_scans(self, scan: int | None, limit: int) -> list[dict[str, Any]]:
        """The newest submitted scans (or only ``scan``), with their store status."""
        where = "WHERE q.scan_id = $1" if scan is not None else ""
        args: tuple[Any, ...] = (scan,) if scan is not None else ()
        return await self.fetch(
            "SELECT q.scan_id, q.config_path, q.submitted_at, q.window_end, s.status,"
            f" s.finished_at FROM queue_scans q JOIN scans s ON s.id = q.scan_id {where}"
            f" ORDER BY q.scan_id DESC LIMIT {int(limit)}",
            *args,
        )

    async def sites(self, scan_id: int) -> list[dict[str, Any]]:
        return await self.fetch(
            "SELECT status, worker, pages, requests, started_at FROM queue_sites"
            " WHERE scan_id = $1",
            scan_id,
        )

    async def scan_status(self, scan_id: int) -> str:
        """A scan's status in the store; ``missing`` for none."""
        rows = await self.fetch("SELECT status FROM scans WHERE id = $1", scan_id)
        return str(rows[0]["status"]) if rows else "missing"

    async def newest_scan(self, digest: str, since: dt.datetime | None) -> tuple[int, str] | None:
        """The newest submitted scan of a config still running, or begun since ``since``."""
        rows = await self.fetch(
            "SELECT s.id, s.status FROM scans s JOIN queue_scans q ON q.scan_id = s.id"
            " WHERE s.config_digest = $1 AND (s.status = 'running'"
            " OR ($2::timestamptz IS NOT NULL AND s.started_at::timestamptz >= $2))"
            " ORDER BY s.id DESC LIMIT 1",
            digest,
            since,
        )
        return (int(rows[0]["id"]), str(rows[0]["status"])) if rows else None
