"""The scan engine: the crawl loop. Frontier, scheduler and workers; each request fetched,
judged, and followed; the parts with a job of their own are wired here:

- :mod:`crawler.core.start`: how the scan begins and ends in the store (fresh, resumed, joined);
- :mod:`crawler.core.robots` and :mod:`crawler.core.soft404`: robots.txt, and each host's
  answer for a missing page;
- :mod:`crawler.core.referrers`: the bad targets, who links them, and their findings;
- :mod:`crawler.core.checkrunner` and :mod:`crawler.core.sitetools`: the checks, and the
  requests they make of their own.

Flow of one request (see ``docs/architecture.md``)::

    scheduler.get() ─▶ fetch ─▶ release the host slot ─▶ judge (checks.links.classify)
        ├─ transient and retries left ─▶ back into the frontier with a not-before time
        ├─ broken, not yet re-checked ─▶ back into the frontier after ``recheck_delay``
        ├─ an in-scope HTML page ─▶ soft-404 test ─▶ parse once ─▶ new links into the frontier
        └─ record: page / link rows, and a finding per (site, target) when broken or blocked

Every finding is committed as the scan goes; at the end each broken or blocked target's finding
is rewritten with every page that links it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from array import array
from collections.abc import Callable

import structlog

from checks.base import Finding, PageCheck, ScanContext
from checks.links import LinkVerdict, classify, head_is_enough
from checks.readers.encoding import decode_html
from checks.readers.extract import ParsedPage, UnreadablePage, link_kind, parse_html_off_loop
from checks.readers.scripted import ScriptNote
from checks.registry import load_checks
from crawler.config import Config, Site
from crawler.core.checkrunner import CheckRunner
from crawler.core.frontier import Frontier, Kind, Request
from crawler.core.referrers import SITE_MASK, Referrers
from crawler.core.robots import Robots
from crawler.core.scheduler import Clock, Scheduler
from crawler.core.sitetools import ScanSiteTools
from crawler.core.soft404 import FILE_KINDS, Soft404
from crawler.core.spill import Ref, SpillLimits
from crawler.core.start import FreshStart, ResumeJournal, Start
from crawler.core.state import ScanResult, ScanState, Scopes, SiteState, now
from crawler.net.fetcher import (
    SNIFF_BYTES,
    Fetcher,
    FetchResult,
    GovResolver,
    HttpFetcher,
    Recorder,
)
from crawler.net.ratelimit import HostPolicy, parse_retry_after
from crawler.net.urls import origin
from storage.base import FrontierRow, LinkRow, PageRow, Progress, Store, StoreError

log = structlog.get_logger("govmon.scan")


class Scan:
    """One inspection of a set of sites into a store."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        sites: tuple[Site, ...] | None = None,
        as_of: dt.datetime | None = None,
        fetcher: Fetcher | None = None,
        clock: Clock | None = None,
        progress: Callable[[Scan], None] | None = None,
        checks: list[PageCheck] | None = None,
        start: Start | None = None,
        recorder: Recorder | None = None,
        proxy: str | None = None,
        spill: SpillLimits | None = None,
    ) -> None:
        """``start``: how the scan begins and ends in the store (:mod:`crawler.core.start`; a
        :class:`~crawler.core.start.FreshStart` when not given); ``spill``: where the frontier
        starts spilling to disk (tests make it tiny)."""
        self.start = start or FreshStart()
        self._recorder = recorder
        self._proxy = proxy
        self.config = config
        self.crawl = config.crawl
        self.store = store
        self.sites = [SiteState(i, s) for i, s in enumerate(sites or config.sites)]
        if len(self.sites) > SITE_MASK + 1:
            raise ValueError(
                f"{len(self.sites)} sites in one scan process: at most {SITE_MASK + 1} "
                "(share them out with `scan --processes N` or `govmon submit`)"
            )
        # judged at the time point the scan started with, when it is resumed
        self.as_of = self.start.as_of() or as_of or config.as_of or dt.datetime.now(config.tz)
        self._stopping = False
        self.journal = ResumeJournal(store, config.crawl.resumable)
        self.frontier = Frontier(self.start.id_base, spill)
        self.scheduler = Scheduler(self.frontier, self._policy_for, clock)
        self._scopes = Scopes(config, self.sites)
        self.state = ScanState(
            config, store, self.sites, self.frontier, self.scheduler, self._scopes
        )
        self.state.fetcher = fetcher
        self.stats = self.state.stats
        self._progress = progress
        # target id -> 0 pending, 1 ok, 2 bad (a byte per id); the URLs are the frontier's
        self._status = self.frontier.status
        self._pending_refs = self.frontier.pending  # target id -> who links it, until judged
        self._owned_fetcher = fetcher is None
        if checks is None:
            checks = load_checks(ScanContext(config, self.as_of))
        self.checks = checks
        self.runner = CheckRunner(self.state, checks, self._enqueue)
        self.referrers = Referrers(self.state, self.runner.emit)
        self.robots = Robots(self.state)
        self.soft404 = Soft404(self.state)
        self.tools = ScanSiteTools(self.state)
        self.scripted = self.tools.scripted  # pages built by script (checks.readers.scripted)

    @property
    def scan_id(self) -> int | None:
        return self.state.scan_id

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.stats.started

    # -- wiring -----------------------------------------------------------------------------

    def _policy_for(self, key: str) -> HostPolicy:
        return HostPolicy(rate=self.crawl.rate, concurrency=self.crawl.concurrency)

    def _make_fetcher(self) -> Fetcher:
        c = self.crawl
        resolver = GovResolver(
            c.resolve,
            only=c.resolve_only,
            allow_private=c.allow_private,
            trusted_hosts=self._scopes.trusted_hosts,
        )
        return HttpFetcher(
            user_agent=c.user_agent,
            timeout=c.timeout,
            max_body=c.max_body,
            max_redirects=c.max_redirects,
            resolver=resolver,
            connections=max(c.workers * 2, 16),
            recorder=self._recorder,
            proxy=self._proxy,
        )

    # -- running ----------------------------------------------------------------------------

    async def run(self) -> ScanResult:
        scan_id = await self.start.open(self.state, self.as_of)
        self.state.scan_id = scan_id
        log.info(
            "scan.start",
            scan=scan_id,
            sites=len(self.sites),
            as_of=self.as_of.isoformat(),
            resumed=self.start.resumed,
        )
        fetcher = self.state.fetcher or self._make_fetcher()
        self.state.fetcher = fetcher
        status = "interrupted"
        try:
            await self.robots.prepare()
            await self.start.restore(self.state, self)
            for st in self.sites:
                self._seed(st)
            await self.journal.flush()
            try:
                async with asyncio.TaskGroup() as tg:
                    workers = [
                        tg.create_task(self._worker(fetcher), name=f"worker-{i}")
                        for i in range(self.crawl.workers)
                    ]
                    ticker = tg.create_task(self._tick(), name="progress")
                    await asyncio.gather(*workers)
                    ticker.cancel()
            except BaseExceptionGroup as group:
                # one clear error for the command line: the store's, when it is the cause
                store_errors = group.subgroup(StoreError)
                if store_errors is not None:
                    raise store_errors.exceptions[0] from None
                raise
            if not self._stopping:
                await self._finalise()
                status = "complete"
        finally:
            self.frontier.close()  # its spill file, if it made one
            await self.scripted.close()  # the browser, if one was started
            await self.start.close(self.state, status, self._stopping)
            if self._owned_fetcher:
                await fetcher.close()
        elapsed = time.monotonic() - self.stats.started
        log.info(
            "scan.done",
            scan=scan_id,
            status=status,
            pages=self.stats.pages,
            requests=self.stats.requests,
            broken=self.stats.broken,
            blocked=self.stats.blocked,
            seconds=round(elapsed, 2),
        )
        return ScanResult(
            scan_id,
            status,
            self.stats.pages,
            self.stats.requests,
            self.stats.broken,
            self.stats.blocked,
            elapsed,
        )

    def stop(self) -> None:
        """Stop gracefully (SIGTERM, SIGINT): finish the requests in flight, keep the rest of
        the frontier in the store for ``scan --resume``, flush, and end as ``interrupted``."""
        if not self._stopping:
            log.warning("scan.stopping", queued=self.frontier.queued, delayed=self.frontier.delayed)
        self._stopping = True
        self.scheduler.close()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            if self._progress is not None:
                self._progress(self)
            await self.store.put(Progress(self.stats.pages, self.stats.requests))

    async def _finalise(self) -> None:
        """Every bad target's findings with all its referrers, the checks' end, coverage."""
        await self.referrers.finish()
        await self.runner.finish(self.tools, self.referrers)
        for row in self.state.coverage_rows(done=True):
            await self.store.put(row)
        await self.store.flush()

    # -- the frontier -----------------------------------------------------------------------

    def _seed(self, st: SiteState) -> None:
        seeds = [st.site.url, *(c.url for c in st.site.columns)]
        for i, url in enumerate(seeds):
            url_id, new = self.frontier.url_id(url)
            if i == 0:
                st.home_ids.add(url_id)
            if new:
                self._enqueue(url, url_id, Kind.PAGE, st.index, 0, "page")
        for media in st.site.newmedia:
            if media.route is not None:
                continue  # read through RSSHub by the columns check itself, after the crawl
            # an account's page or feed is read for its dates, not crawled
            url_id, new = self.frontier.url_id(media.url)
            if new:
                self._enqueue(media.url, url_id, Kind.PAGE, st.index, 0, "page", follow=False)

    def _enqueue(
        self,
        url: str,
        url_id: int,
        kind: Kind,
        site: int,
        depth: int,
        lk: str,
        *,
        follow: bool = True,
    ) -> None:
        self._status[url_id] = 0
        req = Request(
            url=url,
            id=url_id,
            kind=kind,
            site=site,
            depth=depth,
            origin=origin(url),
            link_kind=lk,
            follow=follow,
        )
        if kind is Kind.PAGE and not self.robots.allowed(url):
            self.stats.robots_skipped += 1
            st = self.sites[site]
            st.robots_skipped += 1
            if depth == 0 and url_id in st.home_ids:
                st.home = "robots"
            self._status[url_id] = 1  # not requested, not judged
            self._pending_refs.discard(url_id)
            return
        if not self.crawl.allow_private and self._scopes.literal_private(url):
            self.referrers.judge_without_request(req, LinkVerdict("blocked", "private address"))
            return
        if kind is Kind.PAGE:
            self.sites[site].enqueued += 1
        self.journal.add(FrontierRow(url_id, url, int(kind), site, depth, lk, follow))
        self.scheduler.submit(req)

    # -- the worker -------------------------------------------------------------------------

    async def _worker(self, fetcher: Fetcher) -> None:
        while (req := await self.scheduler.get()) is not None:
            try:
                result = await self._fetch(fetcher, req)
            except BaseException:
                self.scheduler.release(req, None, None)
                raise
            try:
                await self.handle(req, result)
            except (asyncio.CancelledError, StoreError):
                raise  # a store that cannot be written (full disk) ends the scan, clearly
            except Exception as exc:  # a bug must not kill the scan: record it, go on
                log.exception("scan.internal_error", url=req.url)
                await self.runner.record_error(req, exc)

    async def _fetch(self, fetcher: Fetcher, req: Request) -> FetchResult:
        """Fetch with the host slot held; the slot is released before anything else."""
        if req.kind is Kind.PAGE:
            result = await fetcher.fetch(req.url)
        else:
            result = await self._check_fetch(fetcher, req)
        retry_after = parse_retry_after(result.retry_after, time.time())
        self.scheduler.release(req, result.status if result.error is None else None, retry_after)
        self.stats.requests += result.requests
        return result

    async def _check_fetch(self, fetcher: Fetcher, req: Request) -> FetchResult:
        """HEAD first; GET (a prefix of the body only) when HEAD is refused or fails."""
        if not req.recheck:
            head = await fetcher.fetch(req.url, method="HEAD")
            if head_is_enough(head) or head.error in ("dns", "tls", "connect", "private address"):
                return head
            if head.status == 429:
                return head
            requests = head.requests
        else:
            requests = 0
        got = await fetcher.fetch(req.url, method="GET", max_body=SNIFF_BYTES)
        got.requests += requests
        return got

    async def handle(self, req: Request, result: FetchResult, *, replay: bool = False) -> None:
        """Judge a fetch, then retry, re-check, or record and follow it. ``replay``: a result
        from the journal of an interrupted scan, already final (no retry, no re-check)."""
        verdict = classify(result)
        c = self.crawl
        if req.depth == 0 and req.kind is Kind.PAGE and not replay:
            st = self.sites[req.site]
            if req.id in st.home_ids:
                st.attempt(req, result)
        if verdict.outcome == "retry":
            if req.attempt < c.retries and not replay:
                req.attempt += 1
                self.stats.retries += 1
                delay = parse_retry_after(result.retry_after, time.time())
                if delay is None:
                    delay = c.retry_backoff * (2 ** (req.attempt - 1))
                log.debug("fetch.retry", url=req.url, reason=verdict.reason, delay=delay)
                self.scheduler.defer(req, delay)
                return
            verdict = LinkVerdict(verdict.final, verdict.reason)
        parsed: ParsedPage | None = None
        script: ScriptNote | None = None
        if verdict.outcome == "ok" and result.body and req.kind is Kind.PAGE:
            result = self.scripted.api_page(req.url, result)  # a platform's JSON list as HTML
        if (
            verdict.outcome == "ok"
            and result.body
            and (result.is_html or (not req.follow and result.is_feed))
        ):
            parsed, verdict = await self._read_page(req, result)
            if verdict.outcome == "ok" and req.kind is Kind.PAGE and parsed is not None:
                read = await self.scripted.read(
                    req.url,
                    result,
                    parsed,
                    important=self.runner.wants_browser_view(req),
                    replay=replay,
                )
                if read is not None:  # built by script: as a browser shows it (and stored so)
                    result, parsed, script = read.result, read.parsed, read.note
        elif verdict.outcome == "ok" and not self._is_home(req):
            verdict = await self.soft404.judge_without_body(req, result)
        if (
            verdict.outcome == "ok"
            and req.kind is Kind.CHECK
            and req.link_kind in FILE_KINDS
            and result.is_html
        ):
            # an attachment or image answered with an ordinary web page instead of the file:
            # not the host's "not found" page, but not the file either (a person looks)
            verdict = LinkVerdict("suspect", f"{req.link_kind} answered with a web page")
        if verdict.outcome == "broken" and not req.recheck and not replay:
            # every failure is confirmed once more, after a pause, before it is reported
            req.recheck = True
            req.previous = verdict.reason
            req.attempt = 0
            self.stats.rechecks += 1
            self.scheduler.defer(req, c.recheck_delay)
            return
        unreadable = result.error is not None and result.error.startswith("unreadable")
        if self.journal.enabled and not replay and req.kind is Kind.PAGE:
            # the page's own frontier row first (another worker found it and may still be
            # flushing): a committed page row always has its frontier row, so a resumed scan
            # knows the page and does not fetch it again
            await self.journal.flush()
        if (parsed is not None or unreadable) and self.journal.enabled and not replay:
            await self.journal.keep_body(req.id, result)  # before the page row
        await self.record(req, result, verdict, parsed, replay=replay)
        if parsed is not None and req.kind is Kind.PAGE and verdict.outcome == "ok":
            if req.follow:
                await self._follow(req, parsed)
            if self.checks:
                await self.runner.run(req, result, parsed, script)
        # the parsed page (its lexbor tree, ~0.5 MB) is not held while the journal's rows wait
        # for room in the store's queue
        parsed = None
        if self.journal.pending:
            await self.journal.flush()

    async def _read_page(
        self, req: Request, result: FetchResult
    ) -> tuple[ParsedPage | None, LinkVerdict]:
        decoded = decode_html(result.body, result.content_type)
        try:
            parsed = await parse_html_off_loop(result.final_url, decoded.text, decoded.charset)
        except UnreadablePage as exc:
            return None, await self._unreadable(req, result, exc)
        if self._is_home(req):
            # a site's own front door answering is never a soft-404
            return parsed, LinkVerdict("ok")
        return parsed, await self.soft404.judge_page(req, result, parsed)

    async def _unreadable(
        self, req: Request, result: FetchResult, exc: UnreadablePage
    ) -> LinkVerdict:
        """A page not parsed (:mod:`checks.readers.nesting`): recorded with the error ``unreadable:
        REASON``, neither followed nor checked, and a ``page.unreadable`` warning when it is a
        page of a site. It answered, so as a link it is fine."""
        result.error = f"unreadable: {exc.reason}"
        result.error_detail = str(exc)
        log.warning("page.unreadable", url=req.url, reason=exc.reason)
        if req.kind is Kind.PAGE:
            st = self.sites[req.site]
            detail = {"reason": exc.reason, "error": str(exc), "bytes": len(result.body)}
            finding = Finding("page.unreadable", st.site.id, st.site.unit, req.url, detail=detail)
            await self.runner.emit(finding)
        return LinkVerdict("ok")

    def _is_home(self, req: Request) -> bool:
        return req.depth == 0 and req.kind is Kind.PAGE and req.id in self.sites[req.site].home_ids

    # -- links --------------------------------------------------------------------------------

    async def _follow(self, req: Request, parsed: ParsedPage) -> None:
        site = req.site
        page_id = req.id
        depth = req.depth + 1
        max_depth = self.crawl.max_depth
        links = parsed.links
        if len(links) > self.crawl.max_links:
            log.warning(
                "page.too_many_links", url=req.url, links=len(links), kept=self.crawl.max_links
            )
            links = links[: self.crawl.max_links]
        # every id at once (one disk lookup once the index has spilled); nothing below awaits
        # until the bad refs at the end, so no other worker sees a new id before its state
        ids = self.frontier.url_ids([link.url for link in links])
        status = self._status
        pending = self._pending_refs
        refs: dict[str, Ref] = {}  # one ref per tag, shared by the targets of this page
        bad: list[tuple[int, Ref]] = []
        for link, (target_id, new) in zip(links, ids, strict=True):
            tag = link.tag
            ref = refs.get(tag)
            if ref is None:
                ref = refs[tag] = (site, page_id, tag)
            if new:
                url = link.url
                scope = self._scopes.scope_of(url)
                owner = scope if scope is not None and scope >= 0 else None
                # a page of a site another job crawls is a page (checked here), not external
                lk = link_kind(tag, url, scope is not None)
                if owner is not None and lk == "page":
                    st = self.sites[owner]
                    if depth <= max_depth and st.enqueued < self.crawl.max_pages:
                        pending.start(target_id, ref)
                        self._enqueue(url, target_id, Kind.PAGE, owner, depth, "page")
                        continue
                pending.start(target_id, ref)
                if lk == "external" and tag in ("a", "area"):
                    external = self.state.external.get(site)
                    if external is None:
                        external = self.state.external[site] = array("q")
                    external.append(target_id)
                self._enqueue(
                    url, target_id, Kind.CHECK, owner if owner is not None else site, depth, lk
                )
                continue
            state = status.get(target_id, 1)
            if state == 1:
                continue
            if state == 0:
                pending.add(target_id, ref)
            else:
                bad.append((target_id, ref))
        await self.referrers.add_all(bad)

    # -- recording ----------------------------------------------------------------------------

    async def record(
        self,
        req: Request,
        result: FetchResult,
        verdict: LinkVerdict,
        parsed: ParsedPage | None,
        *,
        replay: bool = False,
    ) -> None:
        at = now()
        st = self.sites[req.site]
        home = req.kind is Kind.PAGE and req.depth == 0 and req.id in st.home_ids
        # a page that answered but could not be parsed (checks/readers/nesting.py) was not read
        unreadable = verdict.outcome == "ok" and (result.error or "").startswith("unreadable")
        if home:
            st.home = {"ok": "read", "broken": "unreachable"}.get(verdict.outcome, "blocked")
            if unreadable:
                st.home = "unreadable"
            if st.home == "unreachable" and not replay:
                # before the page row: a committed page row means its finding is committed too,
                # so a resumed scan (which replays the row) need not make it again
                await self.runner.emit(st.unreachable(req, result, verdict))
        if req.kind is Kind.PAGE:
            if verdict.outcome == "ok" and not unreadable:
                st.pages_read += 1
            elif verdict.outcome == "broken":
                st.pages_failed += 1
            else:
                st.pages_blocked += 1
            st.pages += 1
            self.stats.pages += 1
            await self.store.put(
                PageRow(
                    url_id=req.id,
                    site=st.site.id,
                    url=req.url,
                    final_url=result.final_url,
                    status=result.status,
                    error=result.error,
                    content_type=result.content_type,
                    charset=parsed.charset if parsed else None,
                    title=parsed.title if parsed else None,
                    depth=req.depth,
                    bytes=len(result.body),
                    elapsed_ms=int(result.elapsed * 1000),
                    fetched_at=at,
                )
            )
            if req.id in st.home_ids and result.final_url != req.url:
                final_id, _ = self.frontier.url_id(result.final_url)
                st.home_ids.add(final_id)
        else:
            self.stats.checked += 1
            await self.store.put(
                LinkRow(
                    url_id=req.id,
                    url=req.url,
                    outcome=verdict.outcome,
                    reason=verdict.reason,
                    status=result.status,
                    final_url=result.final_url,
                    method=result.method,
                    attempts=result.requests,
                    checked_at=at,
                )
            )
        # the final URL of a redirect is the same resource: do not fetch it again
        if result.redirects and verdict.outcome == "ok":
            final_id, new = self.frontier.url_id(result.final_url)
            if new:
                self._status[final_id] = 1
        if verdict.outcome == "ok":
            self._status[req.id] = 1
            self._pending_refs.discard(req.id)
            return
        if verdict.outcome == "broken":
            st.errors += 1
        # a seed that is itself broken; a home page that never answered is the
        # site.unreachable above, not also a broken link
        seed_finding = st.home != "unreachable" or not home
        await self.referrers.record(req, result, verdict, seed_finding=seed_finding)
