"""The scan engine: wires frontier, scheduler, fetcher, extraction, checks and the store.

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
import contextlib
import datetime as dt
import hashlib
import time
import urllib.robotparser
import uuid
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from checks.base import (
    Finding,
    HasInventory,
    PageCheck,
    PageView,
    ScanContext,
    SiteCheck,
    WantsBrowserView,
)
from checks.ipv6 import Ipv6Probe
from checks.links import (
    Fingerprint,
    classify,
    head_is_enough,
    is_soft_404,
    shingles,
)
from checks.links import LinkVerdict as Verdict
from checks.readers.encoding import decode_html
from checks.readers.extract import (
    ParsedPage,
    UnreadablePage,
    link_kind,
    parse_html,
    parse_html_off_loop,
)
from checks.readers.scripted import ScriptedPages, ScriptNote
from crawler.config import Config, Site
from crawler.core.frontier import Frontier, Kind, Request
from crawler.core.scheduler import Clock, Scheduler
from crawler.core.spill import Ref, SpillLimits
from crawler.net.fetcher import (
    SNIFF_BYTES,
    Fetcher,
    FetchResult,
    GovResolver,
    HttpFetcher,
    Recorder,
    is_private_address,
)
from crawler.net.ipv6probe import probe_home
from crawler.net.ratelimit import HostPolicy, parse_retry_after
from crawler.net.urls import canonicalize, hostname, origin
from storage.base import (
    BodyRow,
    ColumnRow,
    CoverageRow,
    FindingRow,
    FrontierRow,
    ItemRow,
    Journal,
    LinkRow,
    PageRow,
    Progress,
    RefRow,
    ScanInfo,
    Store,
    StoreError,
)

log = structlog.get_logger("govmon.scan")


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
            "at": _now(),
            "phase": phase,
            "status": result.status,
            "elapsed_ms": int(result.elapsed * 1000),
            "recheck": req.recheck,
        }
        if result.error_detail:
            entry["error"] = result.error_detail[:300]
        self.home_attempts.append(entry)


#: link kinds that name a file, not a page: answered with a web page, they are suspect
FILE_KINDS = frozenset({"attachment", "image"})
#: a bad target's outcome -> the finding's check code
_LINK_CHECKS = {"broken": "link.broken", "blocked": "link.blocked", "suspect": "link.wrong_type"}

#: the home page's requests kept as a site.unreachable's evidence (retries and the re-check)
MAX_HOME_ATTEMPTS = 12

# a referrer of a bad target is one int: the page id above SITE_BITS, the site's index below
SITE_BITS = 16
_SITE_MASK = (1 << SITE_BITS) - 1


@dataclass(slots=True)
class Bad:
    """A target judged broken or blocked, and who links it. Kept small (a crawl of a million
    pages has a hundred thousand): what a finding shows of the fetch, one dict of refs, a bit
    per site; its URL is the frontier's."""

    verdict: Verdict
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
    scan_id: int
    status: str
    pages: int
    requests: int
    broken: int
    blocked: int
    elapsed: float


def config_digest(config: Config) -> str:
    """Which config a scan ran: the file's bytes when it came from a file (stable across govmon
    versions, so ``--resume`` finds its scan after an upgrade), else the parsed values."""
    if config.digest:
        return config.digest
    return hashlib.sha256(repr(config).encode("utf-8")).hexdigest()[:16]


def scan_settings(config: Config) -> dict[str, Any]:
    """What a report of a scan needs from its config, kept with the scan: the scoring table's
    overrides, the time zone, and the availability judgement's sampling period and minimum
    (:func:`checks.availability.scan_period`)."""
    window = config.schedule.window(config.tz)
    return {
        "scoring": dict(config.scoring),
        "timezone": config.timezone,
        "availability": {
            "window": [window[0].isoformat(), window[1].isoformat()] if window else None,
            "days": config.rules.availability_period_days,
            "min_samples": config.rules.availability_min_samples,
        },
    }


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
        resume: ScanInfo | None = None,
        recorder: Recorder | None = None,
        proxy: str | None = None,
        join: int | None = None,
        id_base: int = 0,
        spill: SpillLimits | None = None,
    ) -> None:
        """``join``: write into that existing scan instead of beginning one, and leave its
        status and totals alone (a site job of a queued scan,
        :mod:`crawler.scale.jobqueue`); ``id_base``:
        the URL ids of this run start after it, so jobs of one scan never share an id;
        ``spill``: where the frontier starts spilling to disk (tests make it tiny)."""
        self._join = join
        self._recorder = recorder
        self._proxy = proxy
        self.config = config
        self.crawl = config.crawl
        self.store = store
        self.sites = [SiteState(i, s) for i, s in enumerate(sites or config.sites)]
        if len(self.sites) > _SITE_MASK + 1:
            raise ValueError(
                f"{len(self.sites)} sites in one scan process: at most {_SITE_MASK + 1} "
                "(share them out with `scan --processes N` or `govmon submit`)"
            )
        self.resume = resume
        if resume is not None:  # judged at the time point the scan started with
            as_of = dt.datetime.fromisoformat(resume.as_of)
        self.as_of = as_of or config.as_of or dt.datetime.now(config.tz)
        self._stopping = False
        self.scan_id: int | None = None
        self._journal: list[FrontierRow] = []
        self._journal_lock = asyncio.Lock()
        self._external: dict[int, array[int]] = {}  # site index -> external page targets
        self._fetcher = fetcher
        self.frontier = Frontier(id_base, spill)
        self.scheduler = Scheduler(self.frontier, self._policy_for, clock)
        self.stats = Stats()
        self._progress = progress
        # scope prefixes, longest first: a URL belongs to the most specific site; in a site job
        # (``sites`` a subset of the config's) the other sites' scopes still claim their URLs
        # (index -1): such a page is checked as a link target, and crawled by its own job
        pairs = [(p, st.index) for st in self.sites for p in st.site.scope]
        mine = {id(st.site) for st in self.sites}
        pairs += [(p, -1) for s in config.sites if id(s) not in mine for p in s.scope]
        self._scopes = sorted(pairs, key=lambda x: -len(x[0]))
        self._trusted_hosts = frozenset(hostname(p) for p, _ in pairs)
        # target id -> 0 pending, 1 ok, 2 bad (a byte per id); the URLs are the frontier's
        self._status = self.frontier.status
        self._pending_refs = self.frontier.pending  # target id -> who links it, until judged
        # bad targets whose older refs spilled: refs seen since, until they are all added
        self._deferred: dict[int, list[Ref]] = {}
        self._resolving = False
        self._verdicts: dict[tuple[str, str], Verdict] = {}  # one object per distinct verdict
        self._bad: dict[int, Bad] = {}
        self._robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}
        self._fingerprints: dict[str, Fingerprint | None] = {}
        self._probe_locks: dict[str, asyncio.Lock] = {}
        self._owned_fetcher = fetcher is None
        if checks is None:
            from checks.registry import load_checks

            checks = load_checks(ScanContext(config, self.as_of))
        self.checks = checks
        # pages built by script: static readers, and the browser for the rest
        # (checks.readers.scripted)
        self.scripted = ScriptedPages(config.crawl, config.tz, _SiteTools(self).fetch)
        self._browser_views = [c for c in checks if isinstance(c, WantsBrowserView)]

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
            trusted_hosts=self._trusted_hosts,
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

    def owner(self, url: str) -> int | None:
        """The index of the site whose scope holds ``url``, if any."""
        index = self._scope_of(url)
        return index if index is not None and index >= 0 else None

    def _scope_of(self, url: str) -> int | None:
        """Like :meth:`owner`, but -1 for a URL of a configured site another job crawls."""
        for prefix, index in self._scopes:
            if url.startswith(prefix) or (prefix.endswith("/") and url == prefix[:-1]):
                return index
        return None

    # -- running ----------------------------------------------------------------------------

    async def run(self) -> ScanResult:
        sites_json = [
            {
                "id": s.site.id,
                "name": s.site.name,
                "unit": s.site.unit,
                "kind": s.site.kind,
                "url": s.site.url,
            }
            for s in self.sites
        ]
        journal: Journal | None = None
        if self._join is not None:
            scan_id = self._join
            await self.store.join_scan(scan_id)
        elif self.resume is not None:
            scan_id = self.resume.id
            journal = await self.store.journal(scan_id)
            await self.store.reopen_scan(scan_id)
            self.stats.requests = self.resume.requests
        else:
            scan_id = await self.store.begin_scan(
                config_path=self.config.path,
                config_digest=config_digest(self.config),
                as_of=self.as_of.isoformat(),
                sites=sites_json,
                settings=scan_settings(self.config),
            )
        self.scan_id = scan_id
        log.info(
            "scan.start",
            scan=scan_id,
            sites=len(self.sites),
            as_of=self.as_of.isoformat(),
            resumed=journal is not None,
        )
        fetcher = self._fetcher or self._make_fetcher()
        self._fetcher = fetcher
        status = "interrupted"
        try:
            await self._prepare(fetcher)
            if journal is not None:
                await self._replay(journal)
            for st in self.sites:
                self._seed(st)
            await self._flush_journal()
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
            if self._join is not None:  # the queue owns the shared scan's status and totals
                if status == "complete":
                    await self.store.flush()
            else:
                with contextlib.suppress(Exception):
                    await self.store.put(Progress(self.stats.pages, self.stats.requests))
            if status != "complete" and self._stopping:
                # stopped before the end: every site is unfinished (its column rules and
                # site-level checks run at the end), so every verdict is "unchecked"
                with contextlib.suppress(Exception):
                    for row in self.coverage_rows(done=False):
                        await self.store.put(row)
            if self._join is None and (status == "complete" or self._stopping):
                await self.store.finish_scan(status, self.stats.pages, self.stats.requests)
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

    async def _replay(self, journal: Journal) -> None:
        """Rebuild an interrupted scan: ids, statuses, and every check's state, by running the
        pages fetched before (from their stored bodies) through the same steps again; the
        requests not yet done go back into the frontier. Nothing is fetched twice."""
        for row in journal.frontier:
            self.frontier.restore(row.url, row.url_id)
            self._status[row.url_id] = 0
        for st in self.sites:  # is_home must hold while the pages are replayed
            known = self.frontier.known(st.site.url)
            if known is not None:
                st.home_ids.add(known)
        pending: list[Request] = []
        for row in journal.frontier:
            req = Request(
                url=row.url, id=row.url_id, kind=Kind(row.kind), site=row.site, depth=row.depth,
                origin=origin(row.url), link_kind=row.link_kind, follow=row.follow,
            )  # fmt: skip
            if req.kind is Kind.PAGE:
                self.sites[req.site].enqueued += 1
            page = journal.pages.get(row.url_id) if req.kind is Kind.PAGE else None
            link = journal.links.get(row.url_id) if req.kind is Kind.CHECK else None
            if page is not None:
                final_url, status, error, content_type, redirects, body = page
                result = FetchResult(
                    url=row.url, final_url=final_url, status=status, error=error,
                    content_type=content_type, body=body, redirects=redirects, requests=0,
                )  # fmt: skip
                await self._handle(req, result, replay=True)
            elif link is not None:
                outcome, reason, status, final_url, method, attempts = link
                result = FetchResult(
                    url=row.url, final_url=final_url, status=status, method=method,
                    requests=attempts, error=reason if status is None and reason else None,
                )  # fmt: skip
                await self._record(req, result, Verdict(outcome, reason), None)
            else:
                pending.append(req)
        for req in pending:
            if self._status.get(req.id) == 0:
                self.scheduler.submit(req)
        log.info("scan.replayed", done=len(journal.frontier) - len(pending), pending=len(pending))

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            if self._progress is not None:
                self._progress(self)
            await self.store.put(Progress(self.stats.pages, self.stats.requests))

    async def _prepare(self, fetcher: Fetcher) -> None:
        """robots.txt of every origin the sites' scopes cover (when obeyed)."""
        if self.crawl.robots != "obey":
            return
        origins = {origin(p) for p, _ in self._scopes}

        async def one(o: str) -> None:
            await self.scheduler.acquire(o)
            result = await fetcher.fetch(o + "/robots.txt", max_body=512 * 1024)
            self.scheduler.release(_probe_request(o), result.status, None)
            self.stats.requests += result.requests
            self._robots[o] = _robots_parser(result, self.crawl.user_agent)

        await asyncio.gather(*(one(o) for o in sorted(origins)))

    def _allowed_by_robots(self, url: str) -> bool:
        parser = self._robots.get(origin(url))
        if parser is None:
            return True
        return parser.can_fetch(self.crawl.user_agent, url)

    def _seed(self, st: SiteState) -> None:
        seeds = [st.site.url, *(c.url for c in st.site.columns)]
        for i, url in enumerate(seeds):
            url_id, new = self.frontier.url_id(url)
            if i == 0:
                st.home_ids.add(url_id)
            if new:
                self._enqueue(url, url_id, Kind.PAGE, st.index, 0, "page")
        for media in st.site.newmedia:
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
        if kind is Kind.PAGE and not self._allowed_by_robots(url):
            self.stats.robots_skipped += 1
            st = self.sites[site]
            st.robots_skipped += 1
            if depth == 0 and url_id in st.home_ids:
                st.home = "robots"
            self._status[url_id] = 1  # not requested, not judged
            self._pending_refs.discard(url_id)
            return
        if not self.crawl.allow_private and self._literal_private(url):
            self._judge_without_request(req, Verdict("blocked", "private address"))
            return
        if kind is Kind.PAGE:
            self.sites[site].enqueued += 1
        if self.crawl.resumable:
            self._journal.append(FrontierRow(url_id, url, int(kind), site, depth, lk, follow))
        self.scheduler.submit(req)

    async def _flush_journal(self) -> None:
        """Store the frontier rows queued since the last call (the resume journal). Under a
        lock: a worker that returns from here knows every row queued before the call is in the
        store's queue (another worker's flush in progress included)."""
        async with self._journal_lock:
            rows, self._journal = self._journal, []
            for row in rows:
                await self.store.put(row)

    def _literal_private(self, url: str) -> bool:
        host = hostname(url)
        return host not in self._trusted_hosts and is_private_address(host)

    # -- the worker -------------------------------------------------------------------------

    async def _worker(self, fetcher: Fetcher) -> None:
        while (req := await self.scheduler.get()) is not None:
            try:
                result = await self._fetch(fetcher, req)
            except BaseException:
                self.scheduler.release(req, None, None)
                raise
            try:
                await self._handle(req, result)
            except (asyncio.CancelledError, StoreError):
                raise  # a store that cannot be written (full disk) ends the scan, clearly
            except Exception as exc:  # a bug must not kill the scan: record it, go on
                log.exception("scan.internal_error", url=req.url)
                await self._record_check_error(req, exc)

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

    async def _handle(self, req: Request, result: FetchResult, *, replay: bool = False) -> None:
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
            verdict = Verdict(verdict.final, verdict.reason)
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
                    req.url, result, parsed, important=self._wants_browser_view(req), replay=replay
                )
                if read is not None:  # built by script: as a browser shows it (and stored so)
                    result, parsed, script = read.result, read.parsed, read.note
        elif verdict.outcome == "ok":
            verdict = await self._soft_404_without_body(req, result)
        if (
            verdict.outcome == "ok"
            and req.kind is Kind.CHECK
            and req.link_kind in FILE_KINDS
            and result.is_html
        ):
            # an attachment or image answered with an ordinary web page instead of the file:
            # not the host's "not found" page, but not the file either (a person looks)
            verdict = Verdict("suspect", f"{req.link_kind} answered with a web page")
        if verdict.outcome == "broken" and not req.recheck and not replay:
            # every failure is confirmed once more, after a pause, before it is reported
            req.recheck = True
            req.previous = verdict.reason
            req.attempt = 0
            self.stats.rechecks += 1
            self.scheduler.defer(req, c.recheck_delay)
            return
        unreadable = result.error is not None and result.error.startswith("unreadable")
        if self.crawl.resumable and not replay and req.kind is Kind.PAGE:
            # the page's own frontier row first (another worker found it and may still be
            # flushing): a committed page row always has its frontier row, so a resumed scan
            # knows the page and does not fetch it again
            await self._flush_journal()
        if (parsed is not None or unreadable) and self.crawl.resumable and not replay:
            # before the page row: a committed page always has its body
            await self.store.put(
                BodyRow(req.id, result.content_type, list(result.redirects), result.body)
            )
        await self._record(req, result, verdict, parsed, replay=replay)
        if parsed is not None and req.kind is Kind.PAGE and verdict.outcome == "ok":
            if req.follow:
                await self._follow(req, parsed)
            if self.checks:
                await self._run_checks(req, result, parsed, script)
        # the parsed page (its lexbor tree, ~0.5 MB) is not held while the journal's rows wait
        # for room in the store's queue
        parsed = None
        if self._journal:
            await self._flush_journal()

    async def _read_page(
        self, req: Request, result: FetchResult
    ) -> tuple[ParsedPage | None, Verdict]:
        decoded = decode_html(result.body, result.content_type)
        try:
            parsed = await parse_html_off_loop(result.final_url, decoded.text, decoded.charset)
        except UnreadablePage as exc:
            return None, await self._unreadable(req, result, exc)
        if self._is_home(req):
            return parsed, Verdict("ok")  # a site's own front door answering is never a soft-404
        # every target kind is compared: pages, attachments, images, external pages
        probe = await self._fingerprint(origin(req.url))
        text_sh = None
        if probe is not None and not probe.honest and probe.final_url is None:
            text_sh = _text_shingles(parsed)
        if is_soft_404(
            probe,
            url=req.url,
            final_url=result.final_url,
            redirected=bool(result.redirects),
            title=parsed.title,
            text_shingles=text_sh,
        ):
            return parsed, Verdict("broken", "soft-404")
        return parsed, Verdict("ok")

    async def _unreadable(self, req: Request, result: FetchResult, exc: UnreadablePage) -> Verdict:
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
            await self._emit(finding)
        return Verdict("ok")

    def _is_home(self, req: Request) -> bool:
        return req.depth == 0 and req.kind is Kind.PAGE and req.id in self.sites[req.site].home_ids

    async def _soft_404_without_body(self, req: Request, result: FetchResult) -> Verdict:
        """Judge a target answered without a body (HEAD) against its host's missing-page answer.

        Every kind is judged: a missing attachment on a host that answers 200 with a "页面不存在"
        page is as broken as a missing page. An answer that is not a web page and was not
        redirected (an image, a PDF, a style sheet) needs no comparison, and costs no probe of
        its host."""
        if self._is_home(req):
            return Verdict("ok")
        file_kind = req.kind is Kind.CHECK and req.link_kind in FILE_KINDS
        if not result.redirects and not result.is_html and (result.content_type or file_kind):
            return Verdict("ok")
        probe = await self._fingerprint(origin(req.url))
        if probe is None or probe.honest:
            return Verdict("ok")
        if probe.final_url is not None:
            # the host redirects missing paths; did this one go to the same place?
            soft = is_soft_404(
                probe,
                url=req.url,
                final_url=result.final_url,
                redirected=bool(result.redirects),
                title="",
                text_shingles=None,
            )
            return Verdict("broken", "soft-404") if soft else Verdict("ok")
        if result.content_type and not result.is_html:
            return Verdict("ok")
        # the host answers 200 for missing paths: read the target and compare
        got = await self._fetch_aside(req.url, SNIFF_BYTES)
        if not got.ok or not got.body or not got.is_html:
            return Verdict("ok")
        decoded = decode_html(got.body, got.content_type)
        try:
            parsed = parse_html(got.final_url, decoded.text, decoded.charset)
        except UnreadablePage:
            return Verdict("ok")  # it answered; what it says cannot be read
        soft = is_soft_404(
            probe,
            url=req.url,
            final_url=got.final_url,
            redirected=bool(got.redirects),
            title=parsed.title,
            text_shingles=_text_shingles(parsed),
        )
        return Verdict("broken", "soft-404") if soft else Verdict("ok")

    async def _fetch_aside(
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
        fetcher = self._fetcher
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
            self.scheduler.release(_probe_request(key), status, None)
        self.stats.requests += result.requests
        return result

    async def _fingerprint(self, key: str) -> Fingerprint | None:
        """What ``key`` (an origin) serves for a surely-missing path, fetched once."""
        if key in self._fingerprints:
            return self._fingerprints[key]
        lock = self._probe_locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key in self._fingerprints:
                return self._fingerprints[key]
            # the same path for an origin in every scan: a recording holds it, a replay answers it
            tag = uuid.uuid5(uuid.NAMESPACE_URL, key).hex[:12]
            probe_url = f"{key}/govmon-404-probe-{tag}.html"
            result = await self._fetch_aside(probe_url, 256 * 1024)
            fp: Fingerprint | None = None
            if result.error is None and result.status is not None:
                title, sh = "", frozenset[int]()
                if result.status < 400 and result.body:
                    d = decode_html(result.body, result.content_type)
                    with contextlib.suppress(UnreadablePage):  # then: no title, no text
                        page = parse_html(result.final_url, d.text, d.charset)
                        title = page.title
                        sh = _text_shingles(page)
                final = result.final_url if result.redirects else None
                fp = Fingerprint(result.status, final, title, sh)
            self._fingerprints[key] = fp
            return fp

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
                scope = self._scope_of(url)
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
                    external = self._external.get(site)
                    if external is None:
                        external = self._external[site] = array("q")
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
        for target_id, ref in bad:
            deferred = self._deferred.get(target_id)
            if deferred is not None:
                deferred.append(ref)
            else:
                await self._add_bad_ref(target_id, *ref)

    async def _resolve_refs(self) -> None:
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
                    await self._add_bad_ref(target_id, site, page_id, tag)
                del self._deferred[target_id]
        finally:
            self._resolving = False

    async def _add_bad_ref(self, target_id: int, site: int, page_id: int, tag: str) -> None:
        bad = self._bad[target_id]
        if not bad.add_ref((page_id << SITE_BITS) | site, tag):
            return
        await self.store.put(RefRow(target_id, page_id, self.sites[site].site.id, tag))
        if not (bad.reported >> site) & 1:
            bad.reported |= 1 << site
            await self._emit(self._finding(target_id, bad, site))

    # -- recording ----------------------------------------------------------------------------

    async def _record(
        self,
        req: Request,
        result: FetchResult,
        verdict: Verdict,
        parsed: ParsedPage | None,
        *,
        replay: bool = False,
    ) -> None:
        now = _now()
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
                await self._emit(self._unreachable(st, req, result, verdict))
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
                    fetched_at=now,
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
                    checked_at=now,
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
        self._judge(req, result, verdict)
        if verdict.outcome == "broken":
            st.errors += 1
        bad = self._bad[req.id]
        refs, spilled = self._pending_refs.pop(req.id)
        if spilled:
            # older refs are in the frontier's spill file: they are added first, in bulk, and
            # this target's refs wait with them until then (_resolve_refs)
            self._deferred[req.id] = refs
            if len(self._deferred) >= 256 * (self._pending_refs.runs + 1):
                await self._resolve_refs()
        else:
            for site, page_id, tag in refs:
                await self._add_bad_ref(req.id, site, page_id, tag)
        if req.depth == 0 and req.kind is Kind.PAGE:
            # a seed (home page or configured column) that is itself broken; a home page that
            # never answered is the site.unreachable above, not also a broken link
            bad.reported |= 1 << req.site
            if st.home != "unreachable" or not home:
                await self._emit(self._finding(req.id, bad, req.site))

    def _unreachable(
        self, st: SiteState, req: Request, result: FetchResult, verdict: Verdict
    ) -> Finding:
        """``site.unreachable`` (veto): the home page never answered during the scan, after its
        retries and the confirming re-check; every attempt is the evidence. Nothing else is
        claimed about the site (its site-level checks do not run; reports withhold the rest)."""
        detail: dict[str, Any] = {
            "source": "scan",
            "reason": verdict.reason,
            "status": result.status,
            "attempts": list(st.home_attempts),
            "requests": len(st.home_attempts),
        }
        if result.error_detail:
            detail["error"] = result.error_detail[:300]
        return Finding(
            check="site.unreachable",
            site=st.site.id,
            unit=st.site.unit,
            url=st.site.url,
            page=req.url,
            detail=detail,
        )

    def _judge(self, req: Request, result: FetchResult, verdict: Verdict) -> None:
        self._status[req.id] = 2
        if verdict.outcome == "broken":
            self.stats.broken += 1
        elif verdict.outcome == "blocked":
            self.stats.blocked += 1
        else:
            self.stats.suspect += 1
        verdict = self._verdicts.setdefault((verdict.outcome, verdict.reason), verdict)
        redirects = tuple(result.redirects) if result.redirects else ()
        self._bad[req.id] = Bad(
            verdict, result.status, redirects, result.error_detail, result.requests
        )

    def _judge_without_request(self, req: Request, verdict: Verdict) -> None:
        result = FetchResult(url=req.url, final_url=req.url, error=verdict.reason, requests=0)
        self._judge(req, result, verdict)
        # refs arrive through _pending_refs -> flushed at the end by _finalise

    def _finding(self, target_id: int, bad: Bad, site: int) -> Finding:
        st = self.sites[site]
        url = self.frontier.url_of(target_id) or ""
        owner = self.owner(url)
        pages = {key >> SITE_BITS: tag for key, tag in bad.refs() if key & _SITE_MASK == site}
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
        urls = self.frontier.urls_of(page_ids)
        first = urls.get(page_ids[0]) if page_ids else None
        detail["pages"] = sorted(urls.values())
        return Finding(
            check=check, site=st.site.id, unit=st.site.unit, url=url, page=first, detail=detail
        )

    async def _finalise(self) -> None:
        """Rewrite every broken/blocked target's findings with all the pages that link it."""
        for target_id in list(self._bad):  # judged without a request: the first ref waits
            refs, spilled = self._pending_refs.pop(target_id)
            deferred = self._deferred.get(target_id)
            if spilled or deferred is not None:
                self._deferred.setdefault(target_id, []).extend(refs)
                continue
            for site, page_id, tag in refs:
                await self._add_bad_ref(target_id, site, page_id, tag)
        await self._resolve_refs()
        for target_id, bad in self._bad.items():
            for site in dict.fromkeys(key & _SITE_MASK for key, _ in bad.refs()):
                await self._emit(self._finding(target_id, bad, site))
        await self._finish_checks()
        for row in self.coverage_rows(done=True):
            await self.store.put(row)
        await self.store.flush()

    def _wants_browser_view(self, req: Request) -> bool:
        st = self.sites[req.site]
        return req.id in st.home_ids or any(
            c.wants_browser_view(st.site, req.url) for c in self._browser_views
        )

    async def _run_checks(
        self, req: Request, result: FetchResult, parsed: ParsedPage, script: ScriptNote | None
    ) -> None:
        st = self.sites[req.site]
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
                await self._emit(finding)

    def _follow_extra(self, req: Request, url: str) -> None:
        """A page a check asks for (a list page reached only through a script call)."""
        canon = canonicalize(url)
        if canon is None:
            return
        url_id, new = self.frontier.url_id(canon)
        owner = self.owner(canon)
        if new and owner is not None:
            self._pending_refs.start(url_id, (req.site, req.id, "a"))
            self._enqueue(canon, url_id, Kind.PAGE, owner, req.depth + 1, "page")

    async def _finish_checks(self) -> None:
        for st in self.sites:
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
                    await self._emit(finding)
                for row in rows:
                    if isinstance(row, ColumnRow):
                        self._count_column(st, row)
                    await self.store.put(row)
        tools = _SiteTools(self)
        for st in self.sites:
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
                    await self._emit(finding)

    def _count_column(self, st: SiteState, row: ColumnRow) -> None:
        counts = st.columns
        counts["found"] = counts.get("found", 0) + 1
        if row.why.startswith("column.unreadable:") and row.items == 0:
            return  # a list built by script that could not be read: fetched, not read
        if row.pages > 0:
            counts["read"] = counts.get("read", 0) + 1
            return
        url_id = self.frontier.known(row.url)
        bad = self._bad.get(url_id) if url_id is not None else None
        if bad is not None and bad.verdict.outcome == "broken":
            counts["failed"] = counts.get("failed", 0) + 1

    def coverage_rows(self, *, done: bool) -> list[CoverageRow]:
        """Every site's coverage, as the store keeps it (:mod:`crawler.core.coverage`)."""
        return [CoverageRow(st.site.id, st.coverage(done)) for st in self.sites]

    async def _emit(self, finding: Finding) -> None:
        if finding.check == "column.unreadable":
            st = next((s for s in self.sites if s.site.id == finding.site), None)
            if st is not None:
                st.unreadable += 1
        if self.config.checks.enabled(finding.check):
            await self.store.put(FindingRow(finding, _now()))

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
        await self.store.put(FindingRow(finding, _now()))

    async def _record_check_error(self, req: Request, exc: Exception) -> None:
        st = self.sites[req.site]
        finding = Finding(
            check="check.error",
            site=st.site.id,
            unit=st.site.unit,
            url=req.url,
            detail={"error": f"{type(exc).__name__}: {exc}"[:500]},
        )
        self._status[req.id] = 1
        with contextlib.suppress(Exception):
            await self.store.put(FindingRow(finding, _now()))


class _SiteTools:
    """:class:`checks.base.SiteTools` for a running scan."""

    def __init__(self, scan: Scan) -> None:
        self._scan = scan

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        data: bytes | None = None,
        content_type: str | None = None,
        max_body: int = 262144,
    ) -> FetchResult:
        scan = self._scan
        canon = canonicalize(url)
        if canon is None:
            return FetchResult(url=url, final_url=url, error="invalid url", requests=0)
        if not scan.crawl.allow_private and scan._literal_private(canon):
            return FetchResult(url=canon, final_url=canon, error="private address", requests=0)
        return await scan._fetch_aside(
            canon, max_body, method=method, data=data, content_type=content_type
        )

    async def browser_view(
        self, url: str, result: FetchResult, *, always: bool = False
    ) -> tuple[str | None, str]:
        """A fetched page as a browser shows it (:class:`checks.base.BrowserTools`)."""
        if always:
            return await self._scan.scripted.rendered(url, result)
        decoded = decode_html(result.body, result.content_type)
        parsed = parse_html(result.final_url, decoded.text, decoded.charset)
        read = await self._scan.scripted.read(url, result, parsed, important=True)
        if read is None:
            return decoded.text, ""
        if read.note.unreadable:
            return None, read.note.reason
        return read.parsed.html, ""

    async def previous_target(self, url: str) -> tuple[str, str] | None:
        scan = self._scan
        assert scan.scan_id is not None
        return await scan.store.previous_target(scan.scan_id, url)

    async def remember_target(self, url: str, title: str, final_host: str) -> None:
        scan = self._scan
        assert scan.scan_id is not None
        await scan.store.add_target(scan.scan_id, url, title, final_host)

    def external_links(self, site: str) -> Sequence[str]:
        scan = self._scan
        index = next((st.index for st in scan.sites if st.site.id == site), None)
        ids = scan._external.get(index) if index is not None else None
        ok = [i for i in ids or () if scan._status.get(i) == 1]
        urls = scan.frontier.urls_of(ok)
        return [urls[i] for i in ok if i in urls]

    async def probe_ipv6(self, url: str) -> Ipv6Probe | None:
        scan = self._scan
        key = origin(url)
        await scan.scheduler.acquire(key)
        probe: Ipv6Probe | None = None
        try:
            probe = await probe_home(url, scan.crawl)
            return probe
        finally:
            status = probe.result.status if probe is not None else None
            scan.scheduler.release(_probe_request(key), status, None)

    async def previous_items(self, site: str) -> tuple[str | None, Sequence[ItemRow]]:
        store = self._scan.store
        for info in await store.scans():
            if info.status == "complete" and any(s["id"] == site for s in info.sites):
                return info.started_at, await store.items(info.id, site)
        return None, []


def _text_shingles(parsed: ParsedPage) -> frozenset[int]:
    body = parsed.tree.body if parsed.tree is not None else None
    return shingles(body.text(separator=" ") if body is not None else "")


def _probe_request(key: str) -> Request:
    return Request(url=key + "/", id=0, kind=Kind.CHECK, site=0, depth=0, origin=key)


def _robots_parser(result: FetchResult, agent: str) -> urllib.robotparser.RobotFileParser | None:
    if result.error is not None or result.status is None:
        return None
    if result.status >= 400:
        return None  # no robots.txt: everything allowed
    parser = urllib.robotparser.RobotFileParser()
    text = result.body.decode("utf-8", "replace")
    parser.parse(text.splitlines())
    return parser


_NOW_CACHE: list[tuple[int, str]] = [(0, "")]


def _now() -> str:
    """The time of day to the second (formatted once a second: it is on the hot path)."""
    second = int(time.time())
    cached = _NOW_CACHE[0]
    if cached[0] != second:
        text = dt.datetime.fromtimestamp(second, dt.UTC).astimezone().isoformat()
        cached = _NOW_CACHE[0] = (second, text)
    return cached[1]
