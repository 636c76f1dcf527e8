"""Several processes share one crawl: ``govmon scan CONFIG --processes N``.

The parent validates the config, opens the store and begins the scan exactly as a one-process
scan does. It splits the sites into at most N groups and starts one process per group (the
``spawn`` start method, so no event loop or connection is inherited). Each child
(:mod:`crawler.scale.child`) runs one :class:`crawler.core.engine.Scan` over its sites that joins
the parent's scan (``JoinQueued``); :mod:`crawler.scale.partition` makes the groups:

- sites that share a host go to the same process, because per-host politeness needs one owner
  per host; the groups are balanced by the sites' sizes in the newest complete scan of the store
  (:meth:`Store.site_sizes`), every site counting the same when there is none;
- a child numbers its URLs from ``(index of its first site in the config + 1) << 32``, so the rows
  of two children never share an id;
- the other children's sites are claimed by their scopes: a page of theirs is checked as a link
  target, not crawled (its owner crawls it).

The parent sums the children's pages and requests and ends the scan ``complete`` only when every
child completed. A child that fails ends the scan ``interrupted`` (the others are stopped) with
exit status 1; SIGTERM/SIGINT are forwarded to the children, which stop as a one-process scan
does, and the scan ends ``interrupted``. The progress display is a one-process scan's
(:class:`crawler.core.logs.ScanProgress`), fed twice a second the children's latest reports
summed (:func:`summed`).

What differs from one process: a scan run by several processes cannot be resumed (each child
would need its own part of the journal), so the children keep no resume journal
(``resumable = false``: no frontier rows, no page bodies) and ``scan --resume`` does not pick
such a scan up; a target linked from sites of two processes is checked by both (two rows in
``links``, two requests to its host); policy interpretations are matched within each process.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, TextIO

import structlog

from checks.page_checks import doc_from_json, reconcile_interpretations
from crawler.config import Config, Site
from crawler.core import config_digest, scan_settings
from crawler.core.logs import ScanProgress
from crawler.core.reconcile import withdraw_explained
from crawler.core.state import SiteState, Stats
from crawler.scale.child import ChildSpec, Snapshot, child_main
from crawler.scale.partition import plan, previous_sizes
from storage.base import Store
from storage.dburl import shown
from storage.open import open_store

__all__ = ["Child", "Outcome", "Summed", "run_processes", "scan_command", "summary", "summed"]

log = structlog.get_logger("govmon.multiproc")

ID_SHIFT = (
    32  # as in crawler.scale.jobqueue: the process whose first site is k numbers from (k+1) << 32
)
STOP_GRACE = 60.0  # seconds a child has to stop after the parent gives up on it, then SIGKILL
TICK = 0.5  # seconds between redraws of the progress display, as a one-process scan


@dataclass
class Child:
    """The parent's view of one child process."""

    spec: ChildSpec
    process: Any  # multiprocessing.context.SpawnProcess
    conn: Connection
    result: dict[str, Any] | None = None
    error: str | None = None
    progress: Snapshot | None = None
    exitcode: int | None = None

    @property
    def label(self) -> str:
        return f"process {self.spec.number} ({', '.join(self.spec.site_ids)})"

    @property
    def snapshot(self) -> Snapshot:
        """Where the child is: its result once it has one, else its latest report."""
        r = self.result
        if r is not None:
            sites = tuple((sid, pages) for sid, pages, _errors in r["sites"])
            return Snapshot(r["pages"], r["requests"], 0, r["broken"], r["blocked"], sites)
        return self.progress or Snapshot()

    @property
    def pages(self) -> int:
        return int(self.snapshot.pages)

    @property
    def requests(self) -> int:
        return int(self.snapshot.requests)


@dataclass
class _Queue:
    queued: int = 0
    delayed: int = 0


@dataclass
class Summed:
    """The children's reports summed: what :class:`ScanProgress` reads of a running scan."""

    stats: Stats
    frontier: _Queue
    sites: list[SiteState]


def summed(snapshots: Sequence[Snapshot], sites: Sequence[Site]) -> Summed:
    """One scan's figures out of its processes' ``snapshots``; ``sites`` in the config's order
    (a site no process has reported on yet counts 0 pages)."""
    pages = {sid: n for snap in snapshots for sid, n in snap.sites}
    states = [SiteState(index=i, site=s, pages=pages.get(s.id, 0)) for i, s in enumerate(sites)]
    stats = Stats(
        pages=sum(s.pages for s in snapshots),
        requests=sum(s.requests for s in snapshots),
        broken=sum(s.broken for s in snapshots),
        blocked=sum(s.blocked for s in snapshots),
    )
    return Summed(stats, _Queue(queued=sum(s.queued for s in snapshots)), states)


@dataclass
class Outcome:
    """How a scan run by several processes ended."""

    scan_id: int
    status: str  # complete | interrupted
    pages: int
    requests: int
    elapsed: float
    children: list[Child] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    signal: int | None = None  # the signal that stopped it (SIGINT, SIGTERM), if one did

    @property
    def failed(self) -> bool:
        return bool(self.failures)


async def run_processes(
    config: Config,
    sites: tuple[Site, ...],
    *,
    db: str,
    as_of: dt.datetime | None,
    processes: int,
    proxy: str | None = None,
    log_level: str = "warning",
    progress_stream: TextIO | None = None,
) -> Outcome:
    """Begin a scan of ``sites`` in ``db`` and crawl it with up to ``processes`` processes."""
    started = time.monotonic()
    as_of = as_of or config.as_of or dt.datetime.now(config.tz)  # as Scan does
    store = await open_store(db)
    show = ScanProgress(progress_stream)  # drawn from here on a terminal: ended below
    try:
        sizes = await previous_sizes(store)
        show.expected = sum(sizes.get(s.id, 0) for s in sites) or None  # as one process
        groups = plan(sites, processes, sizes)
        position = {s.id: i for i, s in enumerate(config.sites)}
        scan_id = await store.begin_scan(
            config_path=config.path,
            config_digest=config_digest(config),
            as_of=as_of.isoformat(),
            sites=[
                {"id": s.id, "name": s.name, "unit": s.unit, "kind": s.kind, "url": s.url}
                for s in sites
            ],
            settings={
                **scan_settings(config),
                "processes": max(processes, 2),  # shared out: never resumed by one process
            },
        )
        log.info(
            "multiproc.start",
            scan=scan_id,
            processes=len(groups),
            groups=[[s.id for s in g] for g in groups],
            sized=bool(sizes),
        )
        ctx = multiprocessing.get_context("spawn")
        children: list[Child] = []
        outcome = Outcome(scan_id, "interrupted", 0, 0, 0.0, children)
        status = "interrupted"
        loop = asyncio.get_running_loop()
        stopping: list[int] = []  # the signals received (0: a child failed)

        def stop_all(sig: int = 0) -> None:
            """SIGTERM/SIGINT, or a child failed: every child stops as a scan does."""
            if not stopping:
                log.warning("multiproc.stopping", processes=len(children))
            stopping.append(int(sig))
            for c in children:
                if c.process.is_alive() and c.process.pid is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(c.process.pid, signal.SIGTERM)

        for sig in (signal.SIGTERM, signal.SIGINT):  # before any child exists
            loop.add_signal_handler(sig, stop_all, sig)
        try:
            for k, group in enumerate(groups):
                if stopping:
                    break
                spec = ChildSpec(
                    number=k + 1,
                    config=config,
                    site_ids=tuple(s.id for s in group),
                    scan_id=scan_id,
                    id_base=(position[group[0].id] + 1) << ID_SHIFT,
                    as_of=as_of.isoformat(),
                    db=db,
                    proxy=proxy,
                    log_level=log_level,
                )
                reader, writer = ctx.Pipe(duplex=False)
                process = ctx.Process(
                    target=child_main, args=(spec, writer), name=f"govmon-scan-{k + 1}"
                )
                process.start()
                writer.close()  # the child holds its end: EOF here when it exits
                children.append(Child(spec, process, reader))
            status = await _supervise(children, outcome, stopping, stop_all, show, sites)
        finally:
            show.done()  # before anything else is said on stderr
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            await _reap(children)
            outcome.pages = sum(c.pages for c in children)
            outcome.requests = sum(c.requests for c in children)
            if status == "complete":
                await _reconcile(store, scan_id, as_of, [c.result for c in children if c.result])
            await store.finish_scan(status, outcome.pages, outcome.requests)
        outcome.status = status
        outcome.signal = next((s for s in stopping if s), None)
        outcome.elapsed = time.monotonic() - started
        log.info(
            "multiproc.done",
            scan=scan_id,
            status=status,
            pages=outcome.pages,
            requests=outcome.requests,
            seconds=round(outcome.elapsed, 2),
            max_rss_mb=[
                round(c.result["max_rss_kb"] / 1024, 1) if c.result else None for c in children
            ],
        )
        return outcome
    finally:
        show.done()
        await store.close()


async def _supervise(
    children: list[Child],
    outcome: Outcome,
    stopping: list[int],
    stop_all: Callable[[], None],
    show: ScanProgress,
    sites: Sequence[Site],
) -> str:
    """Wait for every child (one that fails stops the others), showing their progress summed;
    the scan's final status."""
    loop = asyncio.get_running_loop()
    if stopping:  # stopped while they started: the started ones stop too
        stop_all()

    def report() -> None:
        show(summed([c.snapshot for c in children], sites))

    async def tick() -> None:
        while True:
            await asyncio.sleep(TICK)
            report()

    pool = ThreadPoolExecutor(max_workers=max(1, len(children)), thread_name_prefix="govmon-child")
    try:
        ticker = asyncio.create_task(tick())
        try:
            await asyncio.gather(*(_watch(c, loop, pool, outcome, stop_all) for c in children))
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
        report()  # the final figures, before the display ends
    finally:
        pool.shutdown(wait=False)
    complete = all(c.result is not None and c.result["status"] == "complete" for c in children)
    return "complete" if complete and not stopping and not outcome.failed else "interrupted"


async def _watch(
    child: Child,
    loop: asyncio.AbstractEventLoop,
    pool: ThreadPoolExecutor,
    outcome: Outcome,
    stop_all: Callable[[], None],
) -> None:
    while True:
        try:
            kind, payload = await loop.run_in_executor(pool, child.conn.recv)
        except (EOFError, OSError):
            break
        if kind == "progress":
            child.progress = payload
        elif kind == "result":
            child.result = payload
        elif kind == "error":
            child.error = str(payload)
    await loop.run_in_executor(pool, child.process.join)
    child.exitcode = child.process.exitcode
    child.conn.close()
    if child.result is None:
        why = child.error or _death(child.exitcode)
        outcome.failures.append(f"{child.label}: {why}")
        log.error("multiproc.child_failed", process=child.spec.number, error=why)
        stop_all()


def _death(code: int | None) -> str:
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exited with status {code} before it could say why"


async def _reap(children: list[Child]) -> None:
    """No child outlives the parent: those still running get SIGTERM, then SIGKILL."""
    alive = [c for c in children if c.process.is_alive()]
    for c in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(c.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    for c in alive:
        await asyncio.to_thread(c.process.join, max(0.0, deadline - time.monotonic()))
        if c.process.is_alive():
            c.process.kill()
            await asyncio.to_thread(c.process.join, 5)


async def _reconcile(
    store: Store, scan_id: int, as_of: dt.datetime, results: list[dict[str, Any]]
) -> None:
    """Match every process's policies against the interpretations all of them read, and
    withdraw the ``policy.no_interpretation`` findings another process's sites explain."""
    policies = {
        site: [doc_from_json(d) for d in docs]
        for r in results
        for site, docs in r.get("policies", {}).items()
    }
    interpretations = [doc_from_json(d) for r in results for d in r.get("interpretations", [])]
    explained = reconcile_interpretations(policies, interpretations, as_of.date())
    await withdraw_explained(store, scan_id, explained)


def summary(outcome: Outcome, sites: Sequence[Site], db: str, out: TextIO) -> None:
    """The one-screen summary of a complete scan, as ``govmon scan`` prints it."""
    results = [c.result for c in outcome.children if c.result is not None]

    def total(key: str) -> int:
        return sum(int(r[key]) for r in results)

    out.write(
        f"scan {outcome.scan_id} complete: {outcome.pages} pages, {outcome.requests} requests, "
        f"{total('broken')} broken, {total('blocked')} blocked, {total('retries')} retries, "
        f"{total('rechecks')} re-checks in {outcome.elapsed:.1f}s"
        f" ({len(outcome.children)} processes)\n"
    )
    per_site = {sid: (pages, errors) for r in results for sid, pages, errors in r["sites"]}
    for site in sites:
        pages, errors = per_site.get(site.id, (0, 0))
        out.write(f"  {site.id:<12} {pages:>6} pages  {errors:>4} broken  {site.name}\n")
    out.write(f"report: govmon report --db {shown(db)} --scan {outcome.scan_id} --format md\n")


async def scan_command(
    config: Config,
    sites: tuple[Site, ...],
    *,
    config_arg: str,
    db: str,
    as_of: dt.datetime | None,
    processes: int,
    proxy: str | None,
    log_level: str,
) -> int:
    """``govmon scan --processes N`` (N > 1): the exit status, with what it prints."""
    outcome = await run_processes(
        config, sites, db=db, as_of=as_of, processes=processes, proxy=proxy, log_level=log_level
    )
    if outcome.failed:
        for failure in outcome.failures:
            print(f"govmon: scan {outcome.scan_id}: {failure}", file=sys.stderr)
        print(
            f"govmon: scan {outcome.scan_id} stored as interrupted (what was done is kept;"
            " a scan run by several processes cannot be resumed: run it again)",
            file=sys.stderr,
        )
        return 1
    if outcome.status != "complete":
        print(
            f"govmon: scan {outcome.scan_id} stopped ({outcome.status}); everything done so far"
            f" is stored. A scan run by several processes cannot be resumed: run"
            f" `govmon scan {config_arg} --db {shown(db)}` again",
            file=sys.stderr,
        )
        return 128 + (outcome.signal or signal.SIGTERM)
    summary(outcome, sites, db, sys.stdout)
    return 0
