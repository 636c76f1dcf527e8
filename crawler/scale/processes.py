"""Several processes share one crawl: ``govmon scan CONFIG --processes N``.

The parent validates the config, opens the store and begins the scan exactly as a one-process
scan does. It splits the sites into at most N groups and starts one process per group (the
``spawn`` start method, so no event loop or connection is inherited). Each child runs one
:class:`crawler.core.engine.Scan` over its sites that joins the parent's scan (``Scan(join=...)``):

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
import dataclasses
import datetime as dt
import os
import resource
import signal
import sys
import time
from collections.abc import Callable, Collection, Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from statistics import median
from typing import Any, TextIO

import structlog

from crawler.config import Config, Site
from crawler.core.logs import draw
from crawler.net.urls import hostname
from storage.base import Store, StoreError
from storage.dburl import shown

log = structlog.get_logger("govmon.multiproc")

ID_SHIFT = (
    32  # as in crawler.scale.jobqueue: the process whose first site is k numbers from (k+1) << 32
)
STOP_GRACE = 60.0  # seconds a child has to stop after the parent gives up on it, then SIGKILL


# -- the partition (pure) -----------------------------------------------------------------------


def site_hosts(site: Site) -> frozenset[str]:
    """The hosts a site's crawl requests pages from: its URL's, its scope prefixes', its pinned
    columns'. Sites sharing one of them share a politeness owner (a host name, whatever the
    scheme or port: one server, however it is reached)."""
    urls = [site.url, *site.scope, *(c.url for c in site.columns)]
    return frozenset(hostname(u).lower() for u in urls)


def partition(
    hosts: Sequence[Collection[str]], weights: Sequence[int], processes: int
) -> list[list[int]]:
    """Split items ``0 … len(hosts) - 1`` (sites, with the hosts each one crawls) into at most
    ``processes`` non-empty groups of indices, each sorted.

    Items that share a host, directly or through others, form one *site group* and stay
    together. Site groups are placed heaviest first (by the sum of their ``weights``) on the
    lightest process so far (then the one with fewest site groups, then the first): the
    heaviest and lightest process differ by at most the weight of one site group, and with
    equal weights the processes differ by at most one site group.
    """
    if processes < 1:
        raise ValueError("processes must be at least 1")
    if len(weights) != len(hosts):
        raise ValueError("one weight per item")
    parent = list(range(len(hosts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with: dict[str, int] = {}
    for i, item_hosts in enumerate(hosts):
        for h in sorted(item_hosts):
            j = first_with.setdefault(h, i)
            a, b = find(i), find(j)
            if a != b:
                parent[max(a, b)] = min(a, b)
    members: dict[int, list[int]] = {}
    for i in range(len(hosts)):
        members.setdefault(find(i), []).append(i)
    groups = sorted(members.values(), key=lambda g: (-sum(weights[i] for i in g), g[0]))
    load = [0] * processes
    count = [0] * processes
    out: list[list[int]] = [[] for _ in range(processes)]
    for g in groups:
        k = min(range(processes), key=lambda p: (load[p], count[p], p))
        out[k].extend(g)
        load[k] += sum(weights[i] for i in g)
        count[k] += 1
    return sorted((sorted(o) for o in out if o), key=lambda o: o[0])


def size_weights(sites: Sequence[Site], sizes: Mapping[str, int]) -> list[int]:
    """Each site's weight: its requests in an earlier scan; a site that scan did not have
    counts as the median of those it had; with no earlier scan every site counts 1."""
    known = [sizes[s.id] for s in sites if s.id in sizes]
    if not known:
        return [1] * len(sites)
    default = max(1, round(median(known)))
    return [max(1, sizes.get(s.id, default)) for s in sites]


def plan(sites: Sequence[Site], processes: int, sizes: Mapping[str, int]) -> list[tuple[Site, ...]]:
    """The sites of each process, in config order (fewer than ``processes`` when fewer site
    groups)."""
    groups = partition([site_hosts(s) for s in sites], size_weights(sites, sizes), processes)
    return [tuple(sites[i] for i in g) for g in groups]


async def previous_sizes(store: Store) -> dict[str, int]:
    """Requests per site id in the newest complete scan of the store (empty: none)."""
    for info in await store.scans():
        if info.status == "complete":
            return await store.site_sizes(info.id)
    return {}


# -- a child ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChildSpec:
    """What a child process needs (pickled to it)."""

    number: int
    config: Config
    site_ids: tuple[str, ...]
    scan_id: int
    id_base: int
    as_of: str
    db: str
    proxy: str | None
    log_level: str


def child_main(spec: ChildSpec, conn: Connection) -> None:
    """The child process: one event loop, one joined :class:`Scan`; its outcome goes back over
    ``conn`` as ``("result", dict)`` or ``("error", text)``."""
    stop_requested: list[bool] = []

    def early_stop(signum: int, frame: object) -> None:  # until the loop's handlers are in
        stop_requested.append(True)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, early_stop)
    from crawler.core.logs import configure

    configure(spec.log_level)
    code = 0
    try:
        result = _run(_child(spec, conn, stop_requested))
        _send(conn, ("result", result))
    except BaseException as exc:  # every failure goes to the parent, in words
        text = str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"
        log.error("multiproc.child_failed", process=spec.number, error=text)
        _send(conn, ("error", text))
        code = 1
    finally:
        conn.close()
    sys.exit(code)


def _run(coro: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency, but not on every platform
        return asyncio.run(coro)
    return uvloop.run(coro)


def _send(conn: Connection, message: tuple[str, Any]) -> bool:
    try:
        conn.send(message)
    except (OSError, ValueError):  # the parent is gone: nobody to tell
        return False
    return True


async def _child(spec: ChildSpec, conn: Connection, stop_requested: list[bool]) -> dict[str, Any]:
    from crawler.core.engine import Scan
    from storage.open import open_store

    # nothing can resume a scan run by several processes: no journal to write
    config = dataclasses.replace(
        spec.config, crawl=dataclasses.replace(spec.config.crawl, resumable=False)
    )
    sites = tuple(s for s in config.sites if s.id in spec.site_ids)
    store = await open_store(spec.db)
    loop = asyncio.get_running_loop()
    reporting = [True]
    last = [0.0]

    def progress(scan: Scan) -> None:
        now = time.monotonic()
        if not reporting[0] or now - last[0] < 1.0:
            return
        last[0] = now
        s, f = scan.stats, scan.frontier
        snapshot = (s.pages, s.requests, f.queued + f.delayed, s.broken, s.blocked,
                    tuple((st.site.id, st.pages) for st in scan.sites))  # fmt: skip
        reporting[0] = _send(conn, ("progress", snapshot))
        if not reporting[0]:  # the parent is gone: nobody can finish the scan, stop
            log.warning("multiproc.parent_lost", process=spec.number)
            scan.stop()

    try:
        scan = Scan(
            config,
            store,
            sites=sites,
            as_of=dt.datetime.fromisoformat(spec.as_of),
            progress=progress,
            proxy=spec.proxy,
            join=spec.scan_id,
            id_base=spec.id_base,
        )
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, scan.stop)
        if stop_requested:
            scan.stop()
        try:
            result = await scan.run()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
    finally:
        await store.close()
    s = scan.stats
    from checks.page_checks import doc_to_json, policy_documents

    policies, interpretations = policy_documents(scan.checks)
    return {
        "policies": {k: [doc_to_json(d) for d in v] for k, v in policies.items()},
        "interpretations": [doc_to_json(d) for d in interpretations],
        "status": result.status,
        "pages": result.pages,
        "requests": result.requests,
        "broken": result.broken,
        "blocked": result.blocked,
        "retries": s.retries,
        "rechecks": s.rechecks,
        "elapsed": result.elapsed,
        "sites": [(st.site.id, st.pages, st.errors) for st in scan.sites],
        "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


# -- the parent ---------------------------------------------------------------------------------


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
    import multiprocessing

    from crawler.core.engine import config_digest, scan_settings
    from storage.open import open_store

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
    from checks.page_checks import doc_from_json, reconcile_interpretations
    from crawler.core.reconcile import withdraw_explained

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
