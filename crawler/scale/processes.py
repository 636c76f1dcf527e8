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
does, and the scan ends ``interrupted``.

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
from crawler.core.logs import draw
from crawler.core.reconcile import withdraw_explained
from crawler.scale.child import ChildSpec, child_main
from crawler.scale.partition import plan, previous_sizes
from storage.base import Store
from storage.dburl import shown
from storage.open import open_store

__all__ = ["Child", "Outcome", "run_processes", "scan_command", "summary"]

log = structlog.get_logger("govmon.multiproc")

ID_SHIFT = (
    32  # as in crawler.scale.jobqueue: the process whose first site is k numbers from (k+1) << 32
)
STOP_GRACE = 60.0  # seconds a child has to stop after the parent gives up on it, then SIGKILL


@dataclass
class Child:
    """The parent's view of one child process."""

    spec: ChildSpec
    process: Any  # multiprocessing.context.SpawnProcess
    conn: Connection
    result: dict[str, Any] | None = None
    error: str | None = None
    progress: tuple[Any, ...] | None = None
    exitcode: int | None = None

    @property
    def label(self) -> str:
        return f"process {self.spec.number} ({', '.join(self.spec.site_ids)})"

    @property
    def pages(self) -> int:
        if self.result is not None:
            return int(self.result["pages"])
        return int(self.progress[0]) if self.progress else 0

    @property
    def requests(self) -> int:
        if self.result is not None:
            return int(self.result["requests"])
        return int(self.progress[1]) if self.progress else 0


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
    try:
        sizes = await previous_sizes(store)
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
            status = await _supervise(children, outcome, stopping, stop_all, progress_stream)
        finally:
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
        await store.close()


async def _supervise(
    children: list[Child],
    outcome: Outcome,
    stopping: list[int],
    stop_all: Callable[[], None],
    stream: TextIO | None,
) -> str:
    """Wait for every child (one that fails stops the others); the scan's final status."""
    loop = asyncio.get_running_loop()
    if stopping:  # stopped while they started: the started ones stop too
        stop_all()
    line = _ProgressLine(children, stream)
    pool = ThreadPoolExecutor(max_workers=max(1, len(children)), thread_name_prefix="govmon-child")
    try:
        ticker = asyncio.create_task(line.run())
        try:
            await asyncio.gather(*(_watch(c, loop, pool, outcome, stop_all) for c in children))
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            line.done()
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


class _ProgressLine:
    """The children's progress summed into one line on a terminal."""

    def __init__(self, children: list[Child], stream: TextIO | None) -> None:
        self.children = children
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self._last = (0, time.monotonic())

    async def run(self) -> None:
        while self.enabled:
            await asyncio.sleep(1.0)
            self.write()

    def write(self) -> None:
        snaps = [c.progress for c in self.children if c.progress]
        pages, requests = sum(s[0] for s in snaps), sum(s[1] for s in snaps)
        now = time.monotonic()
        rps = (requests - self._last[0]) / max(now - self._last[1], 1e-6)
        self._last = (requests, now)
        per_site = " ".join(f"{sid}:{n}" for s in snaps for sid, n in s[5])
        line = (
            f"pages {pages}  queued {sum(s[2] for s in snaps)}  {rps:5.1f} req/s  "
            f"broken {sum(s[3] for s in snaps)}  blocked {sum(s[4] for s in snaps)}  "
            f"{len(self.children)} processes  [{per_site}]"
        )
        draw(self.stream, line)

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


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
