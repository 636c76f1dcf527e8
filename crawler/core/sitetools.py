""":class:`checks.base.SiteTools` for a running scan: every request a check makes of its own
(a search, the IPv6 probe, a page as a browser shows it) goes through the host's politeness and
the private-address rule; the store answers for earlier scans."""

from __future__ import annotations

from collections.abc import Sequence

from checks.ipv6 import Ipv6Probe
from checks.readers.encoding import decode_html
from checks.readers.extract import parse_html_off_loop
from checks.readers.scripted import ScriptedPages
from crawler.core.ipv6probe import probe_home
from crawler.core.state import ScanState
from crawler.net.fetcher import FetchResult
from crawler.net.urls import canonicalize, origin
from storage.base import ItemRow


class ScanSiteTools:
    """The site tools of one scan; also the scan's reader of pages built by script
    (:attr:`scripted`, whose own requests go through :meth:`fetch`)."""

    def __init__(self, state: ScanState) -> None:
        self._state = state
        config = state.config
        # pages built by script: static readers, and the browser for the rest
        # (checks.readers.scripted)
        self.scripted = ScriptedPages(config.crawl, config.tz, self.fetch)

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        data: bytes | None = None,
        content_type: str | None = None,
        max_body: int = 262144,
    ) -> FetchResult:
        state = self._state
        canon = canonicalize(url)
        if canon is None:
            return FetchResult(url=url, final_url=url, error="invalid url", requests=0)
        if not state.config.crawl.allow_private and state.scopes.literal_private(canon):
            return FetchResult(url=canon, final_url=canon, error="private address", requests=0)
        return await state.fetch_aside(
            canon, max_body, method=method, data=data, content_type=content_type
        )

    async def browser_view(
        self, url: str, result: FetchResult, *, always: bool = False
    ) -> tuple[str | None, str]:
        """A fetched page as a browser shows it (:class:`checks.base.BrowserTools`)."""
        if always:
            return await self.scripted.rendered(url, result)
        decoded = decode_html(result.body, result.content_type)
        parsed = await parse_html_off_loop(result.final_url, decoded.text, decoded.charset)
        read = await self.scripted.read(url, result, parsed, important=True)
        if read is None:
            return decoded.text, ""
        if read.note.unreadable:
            return None, read.note.reason
        return read.parsed.html, ""

    async def previous_target(self, url: str) -> tuple[str, str] | None:
        state = self._state
        assert state.scan_id is not None
        return await state.store.previous_target(state.scan_id, url)

    async def remember_target(self, url: str, title: str, final_host: str) -> None:
        state = self._state
        assert state.scan_id is not None
        await state.store.add_target(state.scan_id, url, title, final_host)

    def external_links(self, site: str) -> Sequence[str]:
        state = self._state
        index = next((st.index for st in state.sites if st.site.id == site), None)
        ids = state.external.get(index) if index is not None else None
        status = state.frontier.status
        ok = [i for i in ids or () if status.get(i) == 1]
        urls = state.frontier.urls_of(ok)
        return [urls[i] for i in ok if i in urls]

    async def probe_ipv6(self, url: str) -> Ipv6Probe | None:
        state = self._state
        key = origin(url)
        await state.scheduler.acquire(key)
        probe: Ipv6Probe | None = None
        try:
            probe = await probe_home(url, state.config.crawl)
            return probe
        finally:
            status = probe.result.status if probe is not None else None
            state.scheduler.release_origin(key, status)

    async def previous_items(self, site: str) -> tuple[str | None, Sequence[ItemRow]]:
        store = self._state.store
        for info in await store.scans():
            if info.status == "complete" and any(s["id"] == site for s in info.sites):
                return info.started_at, await store.items(info.id, site)
        return None, []
