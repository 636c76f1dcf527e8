"""The check runner: every page check on every page read, the checks' end of site, the
site-level checks after the crawl, and the findings they make (committed as the scan goes).

A check that raises never stops the scan: it becomes a ``check.error`` finding naming it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import structlog

from checks.base import (
    Finding,
    HasInventory,
    PageCheck,
    PageView,
    SiteCheck,
    SiteTools,
    WantsBrowserView,
)
from checks.readers.extract import ParsedPage
from checks.readers.scripted import ScriptNote
from crawler.core.frontier import Kind, Request
from crawler.core.referrers import Referrers
from crawler.core.state import ScanState, SiteState, now
from crawler.net.fetcher import FetchResult
from crawler.net.urls import canonicalize
from storage.base import ColumnRow, FindingRow

log = structlog.get_logger("govmon.scan")

#: queue a page: ``(url, url id, kind, site index, depth, link kind)``
Enqueue = Callable[[str, int, Kind, int, int, str], None]


class CheckRunner:
    """Runs a scan's checks and commits their findings."""

    def __init__(self, state: ScanState, checks: list[PageCheck], enqueue: Enqueue) -> None:
        self._state = state
        self.checks = checks
        self._enqueue = enqueue
        self._browser_views = [c for c in checks if isinstance(c, WantsBrowserView)]

    def wants_browser_view(self, req: Request) -> bool:
        """Whether the page is read as a browser shows it when it is built by script."""
        st = self._state.sites[req.site]
        return req.id in st.home_ids or any(
            c.wants_browser_view(st.site, req.url) for c in self._browser_views
        )

    async def run(
        self, req: Request, result: FetchResult, parsed: ParsedPage, script: ScriptNote | None
    ) -> None:
        """Every page check on one page read."""
        st = self._state.sites[req.site]
        view = PageView(
            url=req.url,
            final_url=result.final_url,
            status=result.status or 0,
            depth=req.depth,
            is_home=req.id in st.home_ids,
            parsed=parsed,
            follow=lambda url: self._follow_extra(req, url),
            script=script,
        )
        for check in self.checks:
            try:
                found = list(check.on_page(st.site, view))
            except Exception as exc:
                await self._check_failed(st, check, req.url, exc)
                continue
            for finding in found:
                await self.emit(finding)

    def _follow_extra(self, req: Request, url: str) -> None:
        """A page a check asks for (a list page reached only through a script call)."""
        canon = canonicalize(url)
        if canon is None:
            return
        frontier = self._state.frontier
        url_id, new = frontier.url_id(canon)
        owner = self._state.scopes.owner(canon)
        if new and owner is not None:
            frontier.pending.start(url_id, (req.site, req.id, "a"))
            self._enqueue(canon, url_id, Kind.PAGE, owner, req.depth + 1, "page")

    async def finish(self, tools: SiteTools, referrers: Referrers) -> None:
        """The checks' end of each site (findings and inventory), then the site-level checks
        of each site whose home page was read."""
        state = self._state
        for st in state.sites:
            if st.home == "unreachable":
                continue  # nothing could be read: nothing is claimed
            for check in self.checks:
                try:
                    found = list(check.finish(st.site))
                    rows = check.inventory(st.site) if isinstance(check, HasInventory) else []
                except Exception as exc:
                    await self._check_failed(st, check, st.site.url, exc)
                    continue
                for finding in found:
                    await self.emit(finding)
                for row in rows:
                    if isinstance(row, ColumnRow):
                        self._count_column(st, row, referrers)
                    await state.store.put(row)
        for st in state.sites:
            if st.home != "read":
                continue  # search, IPv6, 找错 ... are judged from a home page that answered
            for check in self.checks:
                if not isinstance(check, SiteCheck):
                    continue
                try:
                    found = list(await check.run_site(st.site, tools))
                except Exception as exc:
                    await self._check_failed(st, check, st.site.url, exc)
                    continue
                for finding in found:
                    await self.emit(finding)

    def _count_column(self, st: SiteState, row: ColumnRow, referrers: Referrers) -> None:
        counts = st.columns
        counts["found"] = counts.get("found", 0) + 1
        if row.why.startswith("column.unreadable:") and row.items == 0:
            return  # a list built by script that could not be read: fetched, not read
        if row.pages > 0:
            counts["read"] = counts.get("read", 0) + 1
            return
        url_id = self._state.frontier.known(row.url)
        bad = referrers.get(url_id) if url_id is not None else None
        if bad is not None and bad.verdict.outcome == "broken":
            counts["failed"] = counts.get("failed", 0) + 1

    async def emit(self, finding: Finding) -> None:
        """Commit a finding (when its check is enabled)."""
        state = self._state
        if finding.check == "column.unreadable":
            st = next((s for s in state.sites if s.site.id == finding.site), None)
            if st is not None:
                st.unreadable += 1
        if state.config.checks.enabled(finding.check):
            await state.store.put(FindingRow(finding, now()))

    async def _check_failed(
        self, st: SiteState, check: PageCheck, url: str, exc: Exception
    ) -> None:
        log.error("check.failed", check=type(check).__name__, url=url, error=str(exc))
        finding = Finding(
            check="check.error",
            site=st.site.id,
            unit=st.site.unit,
            url=url,
            detail={"check": type(check).__name__, "error": f"{type(exc).__name__}: {exc}"[:500]},
        )
        await self._state.store.put(FindingRow(finding, now()))

    async def record_error(self, req: Request, exc: Exception) -> None:
        """A page whose handling failed (a bug): a ``check.error`` finding, and the page is
        taken as answered."""
        st = self._state.sites[req.site]
        finding = Finding(
            check="check.error",
            site=st.site.id,
            unit=st.site.unit,
            url=req.url,
            detail={"error": f"{type(exc).__name__}: {exc}"[:500]},
        )
        self._state.frontier.status[req.id] = 1
        with contextlib.suppress(Exception):
            await self._state.store.put(FindingRow(finding, now()))
