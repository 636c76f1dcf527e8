"""How a scan begins and ends in the store: a fresh scan, the resumption of an interrupted one,
or a site job joining a queued scan. The caller chooses one and hands it to
:class:`crawler.core.engine.Scan`; the engine calls the same four members of each:

- :attr:`Start.id_base`, :meth:`Start.as_of`: where the run's URL ids start, and the time point
  the scan is judged at when the strategy fixes one;
- :meth:`Start.open`: the scan's id in the store (begun, reopened or joined);
- :meth:`Start.restore`: what an earlier run did, rebuilt before the crawl starts;
- :meth:`Start.close`: what the store keeps of the run's end (status, totals).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
from typing import Any, Protocol

import structlog

from checks.links import LinkVerdict
from checks.readers.extract import ParsedPage
from crawler.config import Config
from crawler.core.frontier import Kind, Request
from crawler.core.state import ScanState
from crawler.net.fetcher import FetchResult
from crawler.net.urls import origin
from storage.base import BodyRow, FrontierRow, Journal, Progress, ScanInfo, Store

log = structlog.get_logger("govmon.scan")


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


class ResumeJournal:
    """What a scan keeps for ``scan --resume`` (``[crawl] resumable``): a frontier row for every
    request queued, and the body of every page read, so that :class:`Resume` rebuilds it."""

    def __init__(self, store: Store, enabled: bool) -> None:
        self.enabled = enabled
        self._store = store
        self._rows: list[FrontierRow] = []
        self._lock = asyncio.Lock()

    @property
    def pending(self) -> bool:
        """Whether frontier rows wait to be stored."""
        return bool(self._rows)

    def add(self, row: FrontierRow) -> None:
        """A request queued (nothing when the scan is not resumable)."""
        if self.enabled:
            self._rows.append(row)

    async def flush(self) -> None:
        """Store the frontier rows queued since the last call. Under a lock: a worker that
        returns from here knows every row queued before the call is in the store's queue
        (another worker's flush in progress included)."""
        async with self._lock:
            rows, self._rows = self._rows, []
            for row in rows:
                await self._store.put(row)

    async def keep_body(self, url_id: int, result: FetchResult) -> None:
        """A page's body, stored before its page row: a committed page always has its body."""
        await self._store.put(
            BodyRow(url_id, result.content_type, list(result.redirects), result.body)
        )


class Replayer(Protocol):
    """What :class:`Resume` needs of the engine to run stored results through it again."""

    async def handle(self, req: Request, result: FetchResult, *, replay: bool = False) -> None:
        """Judge a fetch, then record and follow it (``replay``: already final)."""
        ...

    async def record(
        self,
        req: Request,
        result: FetchResult,
        verdict: LinkVerdict,
        parsed: ParsedPage | None,
        *,
        replay: bool = False,
    ) -> None:
        """Record a judged fetch."""
        ...


class Start:
    """A scan of its own, begun afresh (the base of :class:`FreshStart` and :class:`Resume`)."""

    id_base = 0
    resumed = False

    def as_of(self) -> dt.datetime | None:
        """The time point this start fixes, if any (else the caller's or the config's)."""
        return None

    async def open(self, state: ScanState, as_of: dt.datetime) -> int:
        """Begin the scan in the store; its id."""
        config = state.config
        sites = [
            {
                "id": s.site.id,
                "name": s.site.name,
                "unit": s.site.unit,
                "kind": s.site.kind,
                "url": s.site.url,
            }
            for s in state.sites
        ]
        return await state.store.begin_scan(
            config_path=config.path,
            config_digest=config_digest(config),
            as_of=as_of.isoformat(),
            sites=sites,
            settings=scan_settings(config),
        )

    async def restore(self, state: ScanState, replayer: Replayer) -> None:
        """Nothing was done before."""
        return

    async def close(self, state: ScanState, status: str, stopping: bool) -> None:
        """The scan's totals, the coverage of an unfinished scan, and its status."""
        stats = state.stats
        with contextlib.suppress(Exception):
            await state.store.put(Progress(stats.pages, stats.requests))
        if status != "complete" and stopping:
            await put_unfinished(state)
        if status == "complete" or stopping:
            await state.store.finish_scan(status, stats.pages, stats.requests)


class FreshStart(Start):
    """A new scan."""


class Resume(Start):
    """Resume an interrupted scan from the store's journal (``scan --resume``): its ids, its
    statuses, every check's state are rebuilt by replaying the pages fetched before; the
    requests not yet done go back into the frontier. Nothing is fetched twice."""

    resumed = True

    def __init__(self, info: ScanInfo) -> None:
        self.info = info
        self._journal: Journal | None = None

    def as_of(self) -> dt.datetime | None:
        return dt.datetime.fromisoformat(self.info.as_of)  # the scan's own time point

    async def open(self, state: ScanState, as_of: dt.datetime) -> int:
        scan_id = self.info.id
        self._journal = await state.store.journal(scan_id)
        await state.store.reopen_scan(scan_id)
        state.stats.requests = self.info.requests
        return scan_id

    async def restore(self, state: ScanState, replayer: Replayer) -> None:
        journal = self._journal
        assert journal is not None
        frontier = state.frontier
        status = frontier.status
        for row in journal.frontier:
            frontier.restore(row.url, row.url_id)
            status[row.url_id] = 0
        for st in state.sites:  # is_home must hold while the pages are replayed
            known = frontier.known(st.site.url)
            if known is not None:
                st.home_ids.add(known)
        pending: list[Request] = []
        for row in journal.frontier:
            req = Request(
                url=row.url, id=row.url_id, kind=Kind(row.kind), site=row.site, depth=row.depth,
                origin=origin(row.url), link_kind=row.link_kind, follow=row.follow,
            )  # fmt: skip
            if req.kind is Kind.PAGE:
                state.sites[req.site].enqueued += 1
            page = journal.pages.get(row.url_id) if req.kind is Kind.PAGE else None
            link = journal.links.get(row.url_id) if req.kind is Kind.CHECK else None
            if page is not None:
                final_url, code, error, content_type, redirects, body = page
                result = FetchResult(
                    url=row.url, final_url=final_url, status=code, error=error,
                    content_type=content_type, body=body, redirects=redirects, requests=0,
                )  # fmt: skip
                await replayer.handle(req, result, replay=True)
            elif link is not None:
                outcome, reason, code, final_url, method, attempts = link
                result = FetchResult(
                    url=row.url, final_url=final_url, status=code, method=method,
                    requests=attempts, error=reason if code is None and reason else None,
                )  # fmt: skip
                await replayer.record(req, result, LinkVerdict(outcome, reason), None)
            else:
                pending.append(req)
        for req in pending:
            if status.get(req.id) == 0:
                state.scheduler.submit(req)
        log.info("scan.replayed", done=len(journal.frontier) - len(pending), pending=len(pending))


class JoinQueued(Start):
    """Write into an existing scan instead of beginning one (a site job of a queued scan,
    :mod:`crawler.scale.jobqueue`, or a process of ``scan --processes``), and leave its status
    and totals alone: whoever shared the scan out owns them. ``id_base``: the URL ids of this
    run start after it, so the jobs of one scan never share an id."""

    def __init__(self, scan_id: int, *, id_base: int = 0) -> None:
        self.scan_id = scan_id
        self.id_base = id_base

    async def open(self, state: ScanState, as_of: dt.datetime) -> int:
        await state.store.join_scan(self.scan_id)
        return self.scan_id

    async def close(self, state: ScanState, status: str, stopping: bool) -> None:
        if status == "complete":
            await state.store.flush()
        elif stopping:
            await put_unfinished(state)


async def put_unfinished(state: ScanState) -> None:
    """Stopped before the end: every site is unfinished (its column rules and site-level checks
    run at the end), so every verdict is "unchecked"."""
    with contextlib.suppress(Exception):
        for row in state.coverage_rows(done=False):
            await state.store.put(row)
