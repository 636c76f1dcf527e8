"""Many workers, one PostgreSQL: a scan queued as one job per site.

``govmon submit`` begins a scan in a PostgreSQL store, keeps the config's text with it and
enqueues one job per site; ``govmon worker`` runs site jobs until stopped; ``govmon status``
shows every queued scan's sites (queued, running, done, failed), per worker, with an estimated
finish against the sampling window.

The queue is `procrastinate <https://procrastinate.readthedocs.io>`_, in the store's own
PostgreSQL schema:

- a site is the unit of work, because per-host politeness needs one owner per host: every job
  carries a procrastinate ``lock`` on its site's host, so no host is crawled by two jobs at once
  (two sites on one host, or the same site in two scans, wait for each other);
- a ``queueing_lock`` per (scan, site), so a site is never queued twice in one scan;
- retries: a job that fails is retried (``RetryStrategy``) up to :data:`MAX_ATTEMPTS` times;
- recovery: workers send heartbeats; every worker looks for jobs left ``doing`` by a worker
  whose heartbeat stopped (killed, machine lost) and puts them back in the queue.

A site job writes into the shared scan (``JoinQueued``) with URL ids of its own range
(``id_base``), so jobs never collide. A new attempt first deletes what an earlier attempt of the
same site wrote, then scans the site again from the start: findings are keyed by their identity,
so a site scanned twice ends with exactly one copy of each finding. When the last site is done,
the scan is marked complete with the sites' totals.

Policy interpretations are matched within each site by its job, and across the whole scan when
its last site is done: each job keeps its site's policy documents and interpretations in
``queue_docs``, and a ``policy.no_interpretation`` finding that another site's interpretation
explains is withdrawn, as a single-process scan would never have made it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import procrastinate
import structlog

from crawler.config import load_config
from crawler.core import JoinQueued, Scan, config_digest, scan_settings
from crawler.scale.queuedb import QueueDB, QueueError, require_postgres, site_host
from storage.pgconn import Pool
from storage.postgres import PostgresStore, shared_pool

__all__ = [
    "MAX_ATTEMPTS",
    "POOL_MAX",
    "QUEUE",
    "TASK",
    "SiteInterrupted",
    "pool_size",
    "run_worker",
    "submit",
]

log = structlog.get_logger("govmon.queue")

QUEUE = "govmon-sites"
TASK = "govmon.scan_site"
MAX_ATTEMPTS = 5
ID_SHIFT = 32  # site k of a scan numbers its URLs from (k + 1) << 32
FENCE_EVERY = 3.0  # seconds between a site job's checks that the site is still its own
# a worker's connections: one pool for all its site jobs and the queue, at most
# --jobs + 2 (each job's writer and reads, procrastinate's polling and heartbeat) and never
# more than POOL_MAX; procrastinate's LISTEN connection comes on top
POOL_MAX = 10


def pool_size(jobs: int) -> int:
    """The most connections a worker running ``jobs`` site jobs at once holds in its pool."""
    return max(2, min(jobs + 2, POOL_MAX))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# -- procrastinate ----------------------------------------------------------------------------


def make_app() -> procrastinate.App:
    """A procrastinate app, to be opened on a pool of :func:`storage.postgres.shared_pool`
    (``app.open_async(pool)``): procrastinate's tables live in the store's schema."""
    return procrastinate.App(connector=procrastinate.PsycopgConnector())


async def submit(
    config_path: str | Path,
    db: str,
    *,
    as_of: dt.datetime | None = None,
    window: dt.timedelta | None = None,
) -> tuple[int, int]:
    """Begin a scan of ``config_path`` in ``db`` and queue one job per site.

    Returns ``(scan id, sites queued)``. The config is validated first (a wrong config starts
    nothing) and kept with the scan, so workers need not have the file (paths it names, such as
    lexicons, must exist on every worker).
    """
    require_postgres(db, "submit")
    config = load_config(config_path)
    text = await asyncio.to_thread(Path(config_path).read_text, encoding="utf-8")
    when = as_of or config.as_of or dt.datetime.now(config.tz)
    pool = await shared_pool(db, 2)
    try:
        async with QueueDB(db, pool) as qdb:
            store = await PostgresStore.open(db, create=True, pool=pool)
            try:
                scan_id = await store.begin_scan(
                    config_path=config.path,
                    config_digest=config_digest(config),
                    as_of=when.isoformat(),
                    sites=[
                        {"id": s.id, "name": s.name, "unit": s.unit, "kind": s.kind, "url": s.url}
                        for s in config.sites
                    ],
                    settings={
                        **scan_settings(config),
                        "queued": True,  # no `scan --resume` of it: its sites are the workers'
                    },
                )
            finally:
                await store.close()
            window_end = None if window is None else dt.datetime.now(dt.UTC) + window
            await qdb.add_scan(scan_id, config, text, window_end)
        app = make_app()
        task = _register(app, WorkerState(db))
        async with app.open_async(pool):
            for site in config.sites:
                await task.configure(
                    lock=f"host:{site_host(site)}",
                    queueing_lock=f"scan:{scan_id}:site:{site.id}",
                ).defer_async(scan_id=scan_id, site=site.id)
    finally:
        await pool.close()
    log.info("queue.submitted", scan=scan_id, sites=len(config.sites), db=qdb.display)
    return scan_id, len(config.sites)


@dataclass
class WorkerState:
    """What a worker process shares between its jobs."""

    db: str
    name: str = field(default_factory=worker_name)
    scans: dict[int, Scan] = field(default_factory=dict)  # job id -> running site scan
    stopping: bool = False
    done: int = 0
    qdb: QueueDB | None = None
    pool: Pool | None = None  # the worker's connections, shared by its jobs and the queue


class SiteInterrupted(Exception):
    """A site job stopped by its worker's shutdown: it goes back to the queue."""


def _register(app: procrastinate.App, state: WorkerState) -> Any:
    @app.task(
        name=TASK,
        queue=QUEUE,
        pass_context=True,
        retry=procrastinate.RetryStrategy(max_attempts=MAX_ATTEMPTS, wait=2),
    )
    async def scan_site(context: Any, scan_id: int, site: str) -> None:
        await run_site_job(state, context.job.id, context.job.attempts, scan_id, site)

    return scan_site


async def run_site_job(
    state: WorkerState, job_id: int, attempts: int, scan_id: int, site_id: str
) -> None:
    """One attempt at one site of a queued scan."""
    qdb = state.qdb
    assert qdb is not None
    config, as_of = await qdb.scan_config(scan_id)
    position = next((i for i, s in enumerate(config.sites) if s.id == site_id), None)
    if position is None:
        raise QueueError(f"scan {scan_id}: no site {site_id!r} in its config")
    site = config.sites[position]
    lo = (position + 1) << ID_SHIFT
    hi = lo + (1 << ID_SHIFT) - 1
    attempt = await qdb.start_site(scan_id, site_id, state.name)
    log.info("queue.site.start", scan=scan_id, site=site_id, attempt=attempt, job=job_id)
    store: PostgresStore | None = None
    status, pages, requests = "interrupted", 0, 0
    superseded: list[bool] = []
    fence: asyncio.Task[None] | None = None
    try:  # a store that cannot be opened (connection limit) fails the attempt like any error
        store = await PostgresStore.open(state.db, create=False, pool=state.pool)
        await qdb.drop_site(scan_id, site_id, lo, hi - 1)
        scan = Scan(
            config,
            store,
            sites=(site,),
            as_of=dt.datetime.fromisoformat(as_of),
            start=JoinQueued(scan_id, id_base=lo),
        )
        state.scans[job_id] = scan
        if state.stopping:
            scan.stop()
        fence = asyncio.create_task(_fence(qdb, scan, scan_id, site_id, attempt, superseded))
        result = await scan.run()
        status, pages, requests = result.status, result.pages, result.requests
    except BaseException as exc:
        final = attempts + 1 >= MAX_ATTEMPTS and not isinstance(exc, asyncio.CancelledError)
        with contextlib.suppress(Exception):
            await qdb.end_site(
                scan_id,
                site_id,
                "failed" if final else "queued",
                error=f"{type(exc).__name__}: {exc}",
                attempt=attempt,
            )
        log.error("queue.site.failed", scan=scan_id, site=site_id, error=str(exc), final=final)
        raise
    finally:
        if fence is not None:
            fence.cancel()
        state.scans.pop(job_id, None)
        if store is not None:
            with contextlib.suppress(Exception):
                await store.close()
    if superseded:  # another worker took the site over (this one looked lost): its result
        log.warning("queue.site.superseded", scan=scan_id, site=site_id, attempt=attempt)
        return
    if status != "complete":  # the worker is stopping: back to the queue, from the start
        await qdb.end_site(scan_id, site_id, "queued", error="worker stopped", attempt=attempt)
        raise SiteInterrupted(f"scan {scan_id} site {site_id}: worker stopped")
    await qdb.keep_docs(scan_id, site_id, scan.checks)
    ended = await qdb.end_site(scan_id, site_id, "done", pages, requests, attempt=attempt)
    state.done += 1
    log.info("queue.site.done", scan=scan_id, site=site_id, pages=pages, scan_done=ended)


async def _fence(
    qdb: QueueDB, scan: Scan, scan_id: int, site: str, attempt: int, superseded: list[bool]
) -> None:
    """Stop a site scan whose site was taken over by a newer attempt (this worker was thought
    lost: a heartbeat starved on an overloaded machine), so that it stops writing."""
    while True:
        await asyncio.sleep(FENCE_EVERY)
        with contextlib.suppress(Exception):
            if await qdb.current_attempt(scan_id, site) != attempt:
                superseded.append(True)
                scan.stop()
                return


async def _recover(
    app: procrastinate.App, state: WorkerState, stalled_after: float, every: float
) -> None:
    """Put back in the queue the jobs of workers whose heartbeat stopped."""
    while True:
        try:
            for job in await app.job_manager.get_stalled_jobs(
                task_name=TASK, seconds_since_heartbeat=stalled_after
            ):
                log.warning("queue.recover", job=job.id, args=job.task_kwargs, worker=state.name)
                await app.job_manager.retry_job(job)  # its next attempt marks the site
        except Exception as exc:  # the next round tries again
            log.warning("queue.recover.failed", error=str(exc))
        await asyncio.sleep(every)


async def _until_idle(state: WorkerState, every: float, stop: Callable[[], None]) -> None:
    """Stop the worker when no site of any scan is left to do (``worker --until-idle``)."""
    assert state.qdb is not None
    while True:
        await asyncio.sleep(every)
        with contextlib.suppress(Exception):
            if await state.qdb.unfinished() == 0:
                stop()
                return


async def run_worker(
    db: str,
    *,
    jobs: int = 1,
    heartbeat: float = 10.0,
    stalled_after: float = 30.0,
    recover_every: float = 10.0,
    until_idle: bool = False,
    name: str | None = None,
    on_ready: Callable[[], Awaitable[None] | None] | None = None,
    connections: int | None = None,
) -> int:
    """Run site jobs until SIGTERM/SIGINT (or, with ``until_idle``, until nothing is left).

    A stop lets every running site scan finish its requests in flight, then puts its site back
    in the queue (it is scanned again from the start by whichever worker takes it). Returns
    how many sites this worker finished.

    The worker's site jobs, its queue tables and procrastinate share one pool of at most
    ``connections`` (default :func:`pool_size` of ``jobs``: ``jobs`` + 2, at most
    :data:`POOL_MAX`) connections to PostgreSQL, plus procrastinate's LISTEN connection.
    """
    require_postgres(db, "worker")
    state = WorkerState(db, name=name or worker_name())
    app = make_app()
    _register(app, state)
    state.pool = await shared_pool(db, connections or pool_size(jobs))
    try:
        await _work(app, state, jobs, heartbeat, stalled_after, recover_every, until_idle, on_ready)
    finally:
        await state.pool.close()
    log.info("queue.worker.stopped", worker=state.name, sites_done=state.done)
    return state.done


async def _work(
    app: procrastinate.App,
    state: WorkerState,
    jobs: int,
    heartbeat: float,
    stalled_after: float,
    recover_every: float,
    until_idle: bool,
    on_ready: Callable[[], Awaitable[None] | None] | None,
) -> None:
    assert state.pool is not None
    async with QueueDB(state.db, state.pool) as qdb:
        state.qdb = qdb
        async with app.open_async(state.pool):
            worker = asyncio.create_task(
                app.run_worker_async(
                    queues=[QUEUE],
                    concurrency=jobs,
                    name=state.name,
                    wait=True,
                    install_signal_handlers=False,
                    update_heartbeat_interval=heartbeat,
                    stalled_worker_timeout=stalled_after,
                    fetch_job_polling_interval=min(5.0, recover_every),
                ),
                name="procrastinate-worker",
            )

            def stop() -> None:
                if state.stopping:
                    return
                state.stopping = True
                log.warning("queue.worker.stopping", worker=state.name, running=len(state.scans))
                for scan in list(state.scans.values()):
                    scan.stop()
                worker.cancel()

            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(signum, stop)
            helpers = [asyncio.create_task(_recover(app, state, stalled_after, recover_every))]
            if until_idle:
                helpers.append(asyncio.create_task(_until_idle(state, recover_every / 2, stop)))
            log.info("queue.worker.start", worker=state.name, jobs=jobs, db=qdb.display)
            if on_ready is not None:
                maybe = on_ready()
                if maybe is not None:
                    await maybe
            try:
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            finally:
                for task in helpers:
                    task.cancel()
                await asyncio.gather(*helpers, return_exceptions=True)
                for signum in (signal.SIGTERM, signal.SIGINT):
                    with contextlib.suppress(NotImplementedError, RuntimeError):
                        loop.remove_signal_handler(signum)
