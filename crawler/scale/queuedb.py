"""The job queue's tables as ``submit``, the site jobs and ``status`` use them.

:class:`QueueDB` is :class:`storage.queue_sql.QueueSQL` (the queue's tables and their SQL) with
what needs a config and the checks: a submitted scan's config kept with it and loaded back by
each site job, and the policy documents each site job keeps, matched across the whole scan when
its last site ends (:meth:`QueueDB.reconcile`).
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import structlog

from checks.page_checks import (
    doc_from_json,
    doc_to_json,
    policy_documents,
    reconcile_interpretations,
)
from crawler.config import Config, ConfigError, Site, parse_config
from crawler.core.reconcile import withdraw_explained
from storage.pgconn import Pool
from storage.postgres import PostgresStore
from storage.queue_sql import QueueSQL

__all__ = ["QueueDB", "QueueError", "require_postgres", "site_host"]

log = structlog.get_logger("govmon.queue")


class QueueError(Exception):
    """The queue cannot do what was asked (no such scan, not a PostgreSQL store, ...)."""


def require_postgres(db: str, command: str) -> None:
    if not db.startswith(("postgresql://", "postgres://")):
        raise QueueError(
            f"{command}: --db must be a postgresql:// URL (the queue lives in PostgreSQL), "
            f"not {db!r}"
        )


def site_host(site: Site) -> str:
    """The politeness key a site's job locks: its home page's host and port."""
    parts = urlsplit(site.url)
    return f"{parts.hostname or ''}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


class QueueDB(QueueSQL):
    """The queue's tables (:class:`storage.queue_sql.QueueSQL`) as submit and site jobs use
    them: a scan's config, its sites' policy documents matched across the whole scan. ``pool``
    is the process's connection pool (``govmon worker``'s), or None for one of its own."""

    def __init__(self, db: str, pool: Pool | None = None) -> None:
        require_postgres(db, "queue")
        super().__init__(db, pool)

    async def add_scan(
        self, scan_id: int, config: Config, text: str, window_end: dt.datetime | None
    ) -> None:
        sites = [(s.id, site_host(s)) for s in config.sites]
        await self.add_scan_rows(scan_id, config.path, text, window_end, sites)

    async def scan_config(self, scan_id: int) -> tuple[Config, str]:
        row = await self.config_text(scan_id)
        if row is None:
            raise QueueError(f"{self.display}: scan {scan_id} was not submitted to the queue")
        path, text, as_of = row
        try:
            config = parse_config(tomllib.loads(text), path)
        except (tomllib.TOMLDecodeError, ConfigError) as exc:
            raise QueueError(f"scan {scan_id}: its config no longer loads here: {exc}") from None
        return config, as_of

    async def keep_docs(self, scan_id: int, site: str, checks: Iterable[object]) -> None:
        """Keep a finished site job's policy documents and interpretations (read by its
        ``checks``) for :meth:`reconcile`."""
        policies, interpretations = policy_documents(checks)
        if not policies and not interpretations:
            return
        kinds = [("policy", d) for d in policies.get(site, [])]
        kinds += [("interpretation", d) for d in interpretations]
        await self.replace_docs(
            scan_id, site, [(kind, json.dumps(doc_to_json(d))) for kind, d in kinds]
        )

    async def reconcile(self, scan_id: int) -> int:
        """Withdraw the ``policy.no_interpretation`` findings that an interpretation read by
        another site's job explains; how many went. Idempotent."""
        rows = await self.docs(scan_id)
        if not rows:
            return 0
        policies: dict[str, list[Any]] = {}
        interpretations = []
        for r in rows:
            doc = doc_from_json(json.loads(r["doc"]))
            if r["kind"] == "policy":
                policies.setdefault(r["site"], []).append(doc)
            else:
                interpretations.append(doc)
        as_of = dt.datetime.fromisoformat(rows[0]["as_of"]).date()
        explained = reconcile_interpretations(policies, interpretations, as_of)
        if not explained:
            return 0
        store = await PostgresStore.open(self.db, create=False, pool_size=2, pool=self._pool)
        try:
            gone = await withdraw_explained(store, scan_id, explained)
        finally:
            await store.close()
        log.info("queue.reconciled", scan=scan_id, withdrawn=gone)
        return gone
