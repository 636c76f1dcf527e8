"""What the parts of a scan share: each site's state, the counters, the sites' scopes, and the
one way to make a request outside the queue within a host's politeness.

The engine (:mod:`crawler.core.engine`) builds one :class:`ScanState`; the referrers, the
soft-404 test, robots.txt, the check runner and the site tools read and update it.
"""

from __future__ import annotations

import datetime as dt
import time
from array import array
from dataclasses import dataclass, field
from typing import Any

from checks.base import Finding
from checks.links import LinkVerdict
from crawler.config import Config, Site
from crawler.core.frontier import Frontier, Request
from crawler.core.scheduler import Scheduler
from crawler.net.fetcher import Fetcher, FetchResult, is_private_address
from crawler.net.urls import hostname, origin
from storage.base import CoverageRow, Store

#: the home page's requests kept as a site.unreachable's evidence (retries and the re-check)
MAX_HOME_ATTEMPTS = 12


@dataclass(slots=True)
class SiteState:
    index: int
    site: Site
    home_ids: set[int] = field(default_factory=set)
    pages: int = 0
    enqueued: int = 0
    errors: int = 0
    # coverage (crawler/core/coverage.py): what became of the site's pages, and of its home page
    pages_read: int = 0
    pages_failed: int = 0
    pages_blocked: int = 0
    robots_skipped: int = 0
    home: str = "pending"  # pending | read | unreachable | blocked | robots | unreadable
    home_attempts: list[dict[str, Any]] = field(default_factory=list)
    columns: dict[str, int] = field(default_factory=dict)  # columns_found, _read, _failed
    unreadable: int = 0  # column.unreadable findings: lists built by script, not read

    def coverage(self, done: bool) -> dict[str, Any]:
        found = self.enqueued + self.robots_skipped
        return {
            "done": done,
            "home": self.home,
            "pages_found": found,
            "pages_read": self.pages_read,
            "pages_failed": self.pages_failed,
            "pages_blocked": self.pages_blocked + self.robots_skipped,
            "columns_found": self.columns.get("found", 0),
            "columns_read": self.columns.get("read", 0),
            "columns_failed": self.columns.get("failed", 0),
            "columns_unreadable": self.unreadable,
        }

    def attempt(self, req: Request, result: FetchResult) -> None:
        """One request of the home page: the evidence of a ``site.unreachable``."""
        if len(self.home_attempts) >= MAX_HOME_ATTEMPTS:
            return
        phase = result.error or (f"http {result.status}" if result.status else "no answer")
        entry: dict[str, Any] = {
            "at": now(),
            "phase": phase,
            "status": result.status,
            "elapsed_ms": int(result.elapsed * 1000),
            "recheck": req.recheck,
        }
        if result.error_detail:
            entry["error"] = result.error_detail[:300]
        self.home_attempts.append(entry)

    def unreachable(self, req: Request, result: FetchResult, verdict: LinkVerdict) -> Finding:
        """``site.unreachable`` (veto): the home page never answered during the scan, after its
        retries and the confirming re-check; every attempt is the evidence. Nothing else is
        claimed about the site (its site-level checks do not run; reports withhold the rest)."""
        detail: dict[str, Any] = {
            "source": "scan",
            "reason": verdict.reason,
            "status": result.status,
            "attempts": list(self.home_attempts),
            "requests": len(self.home_attempts),
        }
        if result.error_detail:
            detail["error"] = result.error_detail[:300]
        return Finding(
            check="site.unreachable",
            site=self.site.id,
            unit=self.site.unit,
            url=self.site.url,
            page=req.url,
            detail=detail,
        )


@dataclass(slots=True)
class Stats:
    started: float = field(default_factory=time.monotonic)
    pages: int = 0
    requests: int = 0
    checked: int = 0
    broken: int = 0
    blocked: int = 0
    suspect: int = 0  # files answered with a web page (link.wrong_type)
    retries: int = 0
    rechecks: int = 0
    robots_skipped: int = 0


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What a scan's run ends with."""

    scan_id: int
    status: str
    pages: int
    requests: int
    broken: int
    blocked: int
    elapsed: float


class Scopes:
    """Which configured site a URL belongs to: its scope prefixes, longest first (a URL belongs
    to the most specific site). In a site job (``sites`` a subset of the config's) the other
    sites' scopes still claim their URLs (index -1): such a page is checked as a link target,
    and crawled by its own job."""

    def __init__(self, config: Config, sites: list[SiteState]) -> None:
        pairs = [(p, st.index) for st in sites for p in st.site.scope]
        mine = {id(st.site) for st in sites}
        pairs += [(p, -1) for s in config.sites if id(s) not in mine for p in s.scope]
        self._scopes = sorted(pairs, key=lambda x: -len(x[0]))
        # the configured sites' hosts, and the office's own RSSHub instance ([newmedia] rsshub)
        rsshub = [config.newmedia.rsshub] if config.newmedia.rsshub else []
        self.trusted_hosts = frozenset(hostname(p) for p in [*(p for p, _ in pairs), *rsshub])

    def origins(self) -> set[str]:
        """The origins the scopes cover."""
        return {origin(p) for p, _ in self._scopes}

    def owner(self, url: str) -> int | None:
        """The index of the site whose scope holds ``url``, if any."""
        index = self.scope_of(url)
        return index if index is not None and index >= 0 else None

    def scope_of(self, url: str) -> int | None:
        """Like :meth:`owner`, but -1 for a URL of a configured site another job crawls."""
        for prefix, index in self._scopes:
            if url.startswith(prefix) or (prefix.endswith("/") and url == prefix[:-1]):
                return index
        return None

    def literal_private(self, url: str) -> bool:
        """Whether ``url``'s host is a private address literal of no configured site."""
        host = hostname(url)
        return host not in self.trusted_hosts and is_private_address(host)


@dataclass(slots=True)
class ScanState:
    """The state the parts of one scan share."""

    config: Config
    store: Store
    sites: list[SiteState]
    frontier: Frontier
    scheduler: Scheduler
    scopes: Scopes
    stats: Stats = field(default_factory=Stats)
    scan_id: int | None = None
    fetcher: Fetcher | None = None  # set when the scan runs
    # site index -> the ids of the external pages its pages link to (for ``link.hijacked``)
    external: dict[int, array[int]] = field(default_factory=dict)

    def coverage_rows(self, *, done: bool) -> list[CoverageRow]:
        """Every site's coverage, as the store keeps it (:mod:`crawler.core.coverage`)."""
        return [CoverageRow(st.site.id, st.coverage(done)) for st in self.sites]

    async def fetch_aside(
        self,
        url: str,
        max_body: int,
        *,
        method: str = "GET",
        data: bytes | None = None,
        content_type: str | None = None,
    ) -> FetchResult:
        """A request outside the queue (a probe, a confirmation, a site check's), within the
        host's politeness."""
        fetcher = self.fetcher
        assert fetcher is not None
        key = origin(url)
        await self.scheduler.acquire(key)
        status: int | None = None
        try:
            result = await fetcher.fetch(
                url, method=method, max_body=max_body, data=data, content_type=content_type
            )
            status = result.status if result.error is None else None
        finally:
            self.scheduler.release_origin(key, status)
        self.stats.requests += result.requests
        return result


_NOW_CACHE: list[tuple[int, str]] = [(0, "")]


def now() -> str:
    """The time of day to the second (formatted once a second: it is on the hot path)."""
    second = int(time.time())
    cached = _NOW_CACHE[0]
    if cached[0] != second:
        text = dt.datetime.fromtimestamp(second, dt.UTC).astimezone().isoformat()
        cached = _NOW_CACHE[0] = (second, text)
    return cached[1]
