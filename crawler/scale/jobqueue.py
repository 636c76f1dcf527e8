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

A site job writes into the shared scan (``Scan(join=...)``) with URL ids of its own range
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
import json
import os
import signal
import socket
import tomllib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import procrastinate
import structlog

from crawler.config import Config, ConfigError, Site, load_config, parse_config
from crawler.core.engine import Scan, config_digest, scan_settings
from storage.postgres import PostgresStore, parse_url
from storage.queue_sql import QueueSQL

log = structlog.get_logger("govmon.queue")

QUEUE = "govmon-sites"
TASK = "govmon.scan_site"
MAX_ATTEMPTS = 5
ID_SHIFT = 32  # site k of a scan numbers its URLs from (k + 1) << 32
FENCE_EVERY = 3.0  # seconds between a site job's checks that the site is still its own


class QueueError(Exception):
    """The queue cannot do what was asked (no such scan, not a PostgreSQL store, ...)."""


def require_postgres(db: str, command: str) -> None:
    if not db.startswith(("postgresql://", "postgres://")):
        raise QueueError(
            f"{command}: --db must be a postgresql:// URL (the queue lives in PostgreSQL), "
            f"not {db!r}"
        )


def site_host(site: Site) -> str:
    """The politeness key a site's job locks: its home page's host and port."""
    parts = urlsplit(site.url)
    return f"{parts.hostname or ''}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# -- the database side ----------------------------------------------------------------------


class QueueDB(QueueSQL):
    """The queue's tables (:class:`storage.queue_sql.QueueSQL`) as submit and site jobs use
    them: a scan's config, its sites' policy documents matched across the whole scan."""

    def __init__(self, db: str) -> None:
        require_postgres(db, "queue")
        super().__init__(db)

    async def add_scan(
        self, scan_id: int, config: Config, text: str, window_end: dt.datetime | None
    ) -> None:
        sites = [(s.id, site_host(s)) for s in config.sites]
        await self.add_scan_rows(scan_id, config.path, text, window_end, sites)

    async def scan_config(self, scan_id: int) -> tuple[Config, str]:
        row = await self.config_text(scan_id)
        if row is None:
            raise QueueError(f"{self.display}: scan {scan_id} was not submitted to the queue")
        path, text, as_of = row
        try:
            config = parse_config(tomllib.loads(text), path)
        except (tomllib.TOMLDecodeError, ConfigError) as exc:
            raise QueueError(f"scan {scan_id}: its config no longer loads here: {exc}") from None
        return config, as_of

    async def keep_docs(self, scan_id: int, site: str, scan: Scan) -> None:
        """Keep a finished site job's policy documents and interpretations for
        :meth:`reconcile`."""
        from checks.page_checks import doc_to_json, policy_documents

        policies, interpretations = policy_documents(scan.checks)
        if not policies and not interpretations:
            return
        kinds = [("policy", d) for d in policies.get(site, [])]
        kinds += [("interpretation", d) for d in interpretations]
        await self.replace_docs(
            scan_id, site, [(kind, json.dumps(doc_to_json(d))) for kind, d in kinds]
        )

    async def reconcile(self, scan_id: int) -> int:
        """Withdraw the ``policy.no_interpretation`` findings that an interpretation read by
        another site's job explains; how many went. Idempotent."""
        from checks.page_checks import doc_from_json, reconcile_interpretations
        from crawler.core.reconcile import withdraw_explained

        rows = await self.docs(scan_id)
        if not rows:
            return 0
        policies: dict[str, list[Any]] = {}
        interpretations = []
        for r in rows:
            doc = doc_from_json(json.loads(r["doc"]))
            if r["kind"] == "policy":
                policies.setdefault(r["site"], []).append(doc)
            else:
                interpretations.append(doc)
        as_of = dt.datetime.fromisoformat(rows[0]["as_of"]).date()
        explained = reconcile_interpretations(policies, interpretations, as_of)
        if not explained:
            return 0
        store = await PostgresStore.open(self.db, create=False, pool_size=2)
        try:
            gone = await withdraw_explained(store, scan_id, explained)
        finally:
            await store.close()
        log.info("queue.reconciled", scan=scan_id, withdrawn=gone)
        return gone


# -- procrastinate ----------------------------------------------------------------------------


def make_app(db: str) -> procrastinate.App:
    """A procrastinate app on the store's database and schema."""
    dsn, schema, _ = parse_url(db)
    connector = procrastinate.PsycopgConnector(
        conninfo=dsn,
        kwargs={"options": f"-c search_path={schema}", "application_name": "govmon-queue"},
        min_size=1,
        max_size=4,
    )
    return procrastinate.App(connector=connector)


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
    async with QueueDB(db) as qdb:
        store = await PostgresStore.open(db, create=True, pool_size=2)
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
    app = make_app(db)
    task = _register(app, WorkerState(db))
    async with app.open_async():
        for site in config.sites:
            await task.configure(
                lock=f"host:{site_host(site)}",
                queueing_lock=f"scan:{scan_id}:site:{site.id}",
            ).defer_async(scan_id=scan_id, site=site.id)
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
        store = await PostgresStore.open(state.db, create=False)
        await qdb.drop_site(scan_id, site_id, lo, hi - 1)
        scan = Scan(
            config,
            store,
            sites=(site,),
            as_of=dt.datetime.fromisoformat(as_of),
            join=scan_id,
            id_base=lo,
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
    await qdb.keep_docs(scan_id, site_id, scan)
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
) -> int:
    """Run site jobs until SIGTERM/SIGINT (or, with ``until_idle``, until nothing is left).

    A stop lets every running site scan finish its requests in flight, then puts its site back
    in the queue (it is scanned again from the start by whichever worker takes it). Returns
    how many sites this worker finished.
    """
    require_postgres(db, "worker")
    state = WorkerState(db, name=name or worker_name())
    app = make_app(db)
    _register(app, state)
    async with QueueDB(db) as qdb:
        state.qdb = qdb
        async with app.open_async():
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
    log.info("queue.worker.stopped", worker=state.name, sites_done=state.done)
    return state.done


# -- status -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanStatus:
    scan_id: int
    config_path: str
    status: str
    submitted_at: dt.datetime
    window_end: dt.datetime | None
    counts: dict[str, int]  # queued | running | done | failed -> sites
    pages: int
    requests: int
    workers: dict[str, dict[str, int]]  # worker -> {"running": n, "done": n, "pages": n}
    eta: dt.datetime | None
    finished_at: str | None

    @property
    def sites(self) -> int:
        return sum(self.counts.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "scan": self.scan_id,
            "config": self.config_path,
            "status": self.status,
            "submitted_at": self.submitted_at.isoformat(timespec="seconds"),
            "window_end": self.window_end.isoformat(timespec="seconds")
            if self.window_end
            else None,
            "sites": self.sites,
            **self.counts,
            "pages": self.pages,
            "requests": self.requests,
            "workers": self.workers,
            "eta": self.eta.isoformat(timespec="seconds") if self.eta else None,
            "on_time": None
            if self.eta is None or self.window_end is None
            else self.eta <= self.window_end,
            "finished_at": self.finished_at,
        }


def estimate_finish(
    now: dt.datetime, started: dt.datetime | None, done: int, remaining: int
) -> dt.datetime | None:
    """When the remaining sites should be done at the pace the done ones took."""
    if remaining == 0:
        return now
    if started is None or done == 0:
        return None
    elapsed = (now - started).total_seconds()
    return now + dt.timedelta(seconds=elapsed / done * remaining)


async def status(db: str, scan: int | None = None, limit: int = 10) -> list[ScanStatus]:
    require_postgres(db, "status")
    async with QueueDB(db) as qdb:
        scans = await qdb.queued_scans(scan, limit)
        if scan is not None and not scans:
            raise QueueError(f"{qdb.display}: scan {scan} was not submitted to the queue")
        now = dt.datetime.now(dt.UTC)
        out = []
        for row in scans:
            sites = await qdb.sites(row["scan_id"])
            counts = {"queued": 0, "running": 0, "done": 0, "failed": 0}
            workers: dict[str, dict[str, int]] = {}
            for s in sites:
                counts[s["status"]] = counts.get(s["status"], 0) + 1
                if s["worker"] and s["status"] in ("running", "done"):
                    w = workers.setdefault(s["worker"], {"running": 0, "done": 0, "pages": 0})
                    w[s["status"]] += 1
                    w["pages"] += int(s["pages"])
            starts = [s["started_at"] for s in sites if s["started_at"] is not None]
            remaining = counts["queued"] + counts["running"]
            out.append(
                ScanStatus(
                    scan_id=row["scan_id"],
                    config_path=row["config_path"],
                    status=row["status"],
                    submitted_at=row["submitted_at"],
                    window_end=row["window_end"],
                    counts=counts,
                    pages=sum(int(s["pages"]) for s in sites),
                    requests=sum(int(s["requests"]) for s in sites),
                    workers=workers,
                    eta=estimate_finish(now, min(starts, default=None), counts["done"], remaining)
                    if row["status"] == "running"
                    else None,
                    finished_at=row["finished_at"],
                )
            )
        return out


def format_status(rows: list[ScanStatus], now: dt.datetime | None = None) -> str:
    """The text ``govmon status`` prints."""
    now = now or dt.datetime.now(dt.UTC)
    if not rows:
        return "no scan in the queue"
    lines = []
    for r in rows:
        lines.append(
            f"scan {r.scan_id}  {r.status}  {r.config_path}  submitted "
            f"{r.submitted_at.astimezone().isoformat(timespec='minutes')}"
        )
        lines.append(
            f"  sites {r.sites}: {r.counts['queued']} queued, {r.counts['running']} running, "
            f"{r.counts['done']} done, {r.counts['failed']} failed; "
            f"{r.pages} pages, {r.requests} requests"
        )
        for name, w in sorted(r.workers.items()):
            lines.append(
                f"  worker {name}: {w['running']} running, {w['done']} done, {w['pages']} pages"
            )
        if r.status == "running":
            window = (
                f"window ends {r.window_end.astimezone().isoformat(timespec='minutes')}"
                if r.window_end
                else "no window given"
            )
            if r.eta is None:
                lines.append(f"  estimated finish: unknown until a site is done; {window}")
            else:
                verdict = ""
                if r.window_end is not None:
                    late = (r.eta - r.window_end).total_seconds()
                    verdict = "  (on time)" if late <= 0 else f"  (LATE by {_duration(late)})"
                lines.append(
                    f"  estimated finish {r.eta.astimezone().isoformat(timespec='minutes')} "
                    f"(in {_duration((r.eta - now).total_seconds())}); {window}{verdict}"
                )
        elif r.finished_at:
            lines.append(f"  finished {r.finished_at}")
    return "\n".join(lines)


_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> dt.timedelta:
    """``5d``, ``36h``, ``90m``, ``1w``, or a sum such as ``1d12h``."""
    import re

    parts = re.findall(r"(\d+(?:\.\d+)?)\s*(min|[smhdw])", text.strip().lower())
    joined = "".join(f"{n}{u}" for n, u in parts)
    if not parts or joined != re.sub(r"\s+", "", text.strip().lower()):
        raise ValueError(f"{text!r}: expected a duration such as 5d, 36h or 90m")
    return dt.timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in parts))


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else f"{seconds} s"


# -- one planner among many daemons -----------------------------------------------------------


class Leadership:
    """One ``govmon daemon`` per config plans and samples; the others stand by.

    Every daemon of a config asks for a PostgreSQL advisory lock keyed by the config's digest on
    a connection of its own; the one that holds it leads (submits the scans, takes the
    availability samples). The server releases the lock when that connection ends, so when the
    leader dies a standby takes over within ``every`` seconds.
    """

    def __init__(self, db: str, digest: str) -> None:
        require_postgres(db, "daemon")
        self.dsn, self.schema, self.display = parse_url(db)
        self.key = int(digest[:8], 16) - (1 << 31)  # a signed 32-bit key from the digest
        self._conn: Any = None

    async def acquire(self, stop: asyncio.Event, every: float = 5.0) -> bool:
        """Wait until this daemon leads (True) or ``stop`` is set (False)."""
        import asyncpg  # type: ignore[import-untyped]

        announced = False
        while not stop.is_set():
            try:
                if self._conn is None or self._conn.is_closed():
                    self._conn = await asyncpg.connect(
                        self.dsn, timeout=10, server_settings={"application_name": "govmon-lead"}
                    )
                if await self._conn.fetchval(
                    "SELECT pg_try_advisory_lock($1, hashtext($2))", self.key, self.schema
                ):
                    log.info("daemon.leader", db=self.display)
                    return True
                if not announced:
                    log.info("daemon.standby", db=self.display, note="another daemon leads")
                    announced = True
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("daemon.leader_check_failed", error=str(exc))
                await self.release()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
        return False

    async def held(self) -> bool:
        """Whether the lock is still ours (its connection alive)."""
        if self._conn is None or self._conn.is_closed():
            return False
        try:
            await self._conn.fetchval("SELECT 1")
        except Exception:
            return False
        return True

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()  # the server drops the session's advisory lock


async def wait_for_scan(db: str, scan_id: int, stop: asyncio.Event, every: float = 5.0) -> str:
    """Wait until a queued scan is no longer running; its final status (or ``running`` when
    ``stop`` came first)."""
    async with QueueDB(db) as qdb:
        while True:
            state = await qdb.scan_status(scan_id)
            if state != "running" or stop.is_set():
                return state
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)


async def queued_scan(
    db: str, digest: str, since: dt.datetime | None = None
) -> tuple[int, str] | None:
    """The newest queued scan of a config, with its status: one still running (a daemon
    restarted, or another took over, while the workers went on), or one begun since ``since``
    (the current window's scan, already done)."""
    async with QueueDB(db) as qdb:
        return await qdb.newest_scan(digest, since)
