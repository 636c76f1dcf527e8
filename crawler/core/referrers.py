"""Referrers: the targets judged broken, blocked or suspect, who links them, and their findings.

A target's verdict is known before all its referrers are: the pages that link a target wait in
the frontier's pending refs (:class:`crawler.core.spill.PendingRefs`) until it is judged, then
each new referrer of a bad target is stored (a ref row) and the first one of each site commits
the site's finding. At the end (:meth:`Referrers.finish`) every bad target's findings are
rewritten with every page that links it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from checks.base import Finding
from checks.links import LinkVerdict
from checks.readers.extract import link_kind
from crawler.core.frontier import Kind, Request
from crawler.core.spill import Ref
from crawler.core.state import ScanState
from crawler.net.fetcher import FetchResult
from storage.base import RefRow

#: a bad target's outcome -> the finding's check code
_LINK_CHECKS = {"broken": "link.broken", "blocked": "link.blocked", "suspect": "link.wrong_type"}

# a referrer of a bad target is one int: the page id above SITE_BITS, the site's index below
SITE_BITS = 16
SITE_MASK = (1 << SITE_BITS) - 1


@dataclass(slots=True)
class Bad:
    """A target judged broken or blocked, and who links it. Kept small (a crawl of a million
    pages has a hundred thousand): what a finding shows of the fetch, one dict of refs, a bit
    per site; its URL is the frontier's."""

    verdict: LinkVerdict
    status: int | None
    redirects: tuple[str, ...]
    error_detail: str
    attempts: int
    # who links it, in the order seen: (page id << SITE_BITS) | site index -> tag; the first ref
    # inline (most bad targets have one), the others in a dict
    first_key: int = -1
    first_tag: str = ""
    more: dict[int, str] | None = None
    reported: int = 0  # bit per site index: a finding of it was committed

    def add_ref(self, key: int, tag: str) -> bool:
        """Add a ref; False when that page already links it from that site."""
        if self.first_key < 0:
            self.first_key, self.first_tag = key, tag
            return True
        if key == self.first_key:
            return False
        more = self.more
        if more is None:
            self.more = {key: tag}
            return True
        if key in more:
            return False
        more[key] = tag
        return True

    def refs(self) -> Iterator[tuple[int, str]]:
        """``(key, tag)`` of every ref, in the order they were added."""
        if self.first_key >= 0:
            yield self.first_key, self.first_tag
            if self.more:
                yield from self.more.items()


class Referrers:
    """The bad targets of a scan and their referrers; ``emit`` commits a finding."""

    def __init__(self, state: ScanState, emit: Callable[[Finding], Awaitable[None]]) -> None:
        self._state = state
        self._emit = emit
        # target id -> 0 pending, 1 ok, 2 bad (a byte per id); the URLs are the frontier's
        self._status = state.frontier.status
        self._pending_refs = state.frontier.pending  # target id -> who links it, until judged
        # bad targets whose older refs spilled: refs seen since, until they are all added
        self._deferred: dict[int, list[Ref]] = {}
        self._resolving = False
        self._verdicts: dict[tuple[str, str], LinkVerdict] = {}  # one object per distinct verdict
        self._bad: dict[int, Bad] = {}

    def get(self, target_id: int) -> Bad | None:
        """The target's bad verdict and referrers, if it was judged bad."""
        return self._bad.get(target_id)

    def judge(self, req: Request, result: FetchResult, verdict: LinkVerdict) -> None:
        """``req``'s target is bad (broken, blocked or suspect)."""
        self._status[req.id] = 2
        stats = self._state.stats
        if verdict.outcome == "broken":
            stats.broken += 1
        elif verdict.outcome == "blocked":
            stats.blocked += 1
        else:
            stats.suspect += 1
        verdict = self._verdicts.setdefault((verdict.outcome, verdict.reason), verdict)
        redirects = tuple(result.redirects) if result.redirects else ()
        self._bad[req.id] = Bad(
            verdict, result.status, redirects, result.error_detail, result.requests
        )

    def judge_without_request(self, req: Request, verdict: LinkVerdict) -> None:
        """A target bad without asking (a private address): its refs are added at the end."""
        result = FetchResult(url=req.url, final_url=req.url, error=verdict.reason, requests=0)
        self.judge(req, result, verdict)
        # refs arrive through _pending_refs -> flushed at the end by finish()

    async def record(
        self, req: Request, result: FetchResult, verdict: LinkVerdict, *, seed_finding: bool
    ) -> None:
        """Judge a fetched target bad and add the referrers that waited for its verdict. A seed
        (home page or configured column) has no referrer: ``seed_finding`` says whether its own
        finding is committed now."""
        self.judge(req, result, verdict)
        bad = self._bad[req.id]
        refs, spilled = self._pending_refs.pop(req.id)
        if spilled:
            # older refs are in the frontier's spill file: they are added first, in bulk, and
            # this target's refs wait with them until then (resolve)
            self._deferred[req.id] = refs
            if len(self._deferred) >= 256 * (self._pending_refs.runs + 1):
                await self.resolve()
        else:
            for site, page_id, tag in refs:
                await self.add(req.id, site, page_id, tag)
        if req.depth == 0 and req.kind is Kind.PAGE:
            bad.reported |= 1 << req.site
            if seed_finding:
                await self._emit(self.finding(req.id, bad, req.site))

    async def add_all(self, refs: list[tuple[int, Ref]]) -> None:
        """A page's refs of targets already judged bad."""
        for target_id, ref in refs:
            deferred = self._deferred.get(target_id)
            if deferred is not None:
                deferred.append(ref)
            else:
                await self.add(target_id, *ref)

    async def resolve(self) -> None:
        """Add the refs of the targets judged bad whose older refs had spilled: those from the
        spill file first, then those seen since, in order (more may arrive while this awaits:
        they join the same list, and a target leaves ``_deferred`` only when it is empty)."""
        if self._resolving or not self._deferred:
            return
        self._resolving = True
        try:
            targets = list(self._deferred)
            older = self._pending_refs.collect(targets)
            for target_id in targets:
                refs = self._deferred[target_id]
                refs[:0] = older.get(target_id, [])
                i = 0
                while i < len(refs):
                    site, page_id, tag = refs[i]
                    i += 1
                    await self.add(target_id, site, page_id, tag)
                del self._deferred[target_id]
        finally:
            self._resolving = False

    async def add(self, target_id: int, site: int, page_id: int, tag: str) -> None:
        """One referrer of a bad target: stored, and the site's first one commits a finding."""
        bad = self._bad[target_id]
        if not bad.add_ref((page_id << SITE_BITS) | site, tag):
            return
        site_id = self._state.sites[site].site.id
        await self._state.store.put(RefRow(target_id, page_id, site_id, tag))
        if not (bad.reported >> site) & 1:
            bad.reported |= 1 << site
            await self._emit(self.finding(target_id, bad, site))

    def finding(self, target_id: int, bad: Bad, site: int) -> Finding:
        """The finding of a bad target, as seen from one site, with every page linking it."""
        state = self._state
        st = state.sites[site]
        url = state.frontier.url_of(target_id) or ""
        owner = state.scopes.owner(url)
        pages = {key >> SITE_BITS: tag for key, tag in bad.refs() if key & SITE_MASK == site}
        tag = next(iter(pages.values()), "a")
        kind = link_kind(tag, url, owner is not None)
        if owner is not None and owner != site and kind == "page":
            kind = "external"  # another configured site's page, seen from this site
        page_ids = sorted(pages)
        check = _LINK_CHECKS.get(bad.verdict.outcome, "link.blocked")
        detail: dict[str, Any] = {
            "kind": kind,
            "reason": bad.verdict.reason,
            "status": bad.status,
            "pages": [],  # filled with URLs by the caller's store lookup at the end
            "on_homepage": any(p in st.home_ids for p in page_ids),
            "redirects": list(bad.redirects),
        }
        if bad.error_detail:
            detail["error"] = bad.error_detail
        urls = state.frontier.urls_of(page_ids)
        first = urls.get(page_ids[0]) if page_ids else None
        detail["pages"] = sorted(urls.values())
        return Finding(
            check=check, site=st.site.id, unit=st.site.unit, url=url, page=first, detail=detail
        )

    async def finish(self) -> None:
        """Rewrite every bad target's findings with all the pages that link it."""
        for target_id in list(self._bad):  # judged without a request: the first ref waits
            refs, spilled = self._pending_refs.pop(target_id)
            deferred = self._deferred.get(target_id)
            if spilled or deferred is not None:
                self._deferred.setdefault(target_id, []).extend(refs)
                continue
            for site, page_id, tag in refs:
                await self.add(target_id, site, page_id, tag)
        await self.resolve()
        for target_id, bad in self._bad.items():
            for site in dict.fromkeys(key & SITE_MASK for key, _ in bad.refs()):
                await self._emit(self.finding(target_id, bad, site))
