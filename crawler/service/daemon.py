"""``govmon daemon``: months unattended on a small server.

Three things run side by side until SIGTERM/SIGINT:

* availability sampling: every site's home page at ``[schedule] samples_per_day`` spread,
  jittered times a day (the official rule wants 20+), stored as samples;
* scans inside the sampling window: at start-up the planner spreads the sites over the window
  from their sizes in earlier scans and their per-host rates, and says in plain words when the
  window is too short; an interrupted scan of the same config is resumed first. Without a
  window, the sites are scanned once a day;
* after each scan, early warnings and new veto-level findings go to every alert channel (the
  webhook's JSON POST, 钉钉 and 企业微信 robots, e-mail: :mod:`crawler.service.alerts`, each
  retried, each event sent once to each channel), and ``/healthz`` and Prometheus ``/metrics``
  answer on a loopback port throughout.

On SIGTERM the scan in progress stops cleanly (its frontier stays in the store for the next
start), sampling stops, the writer is flushed, and the process exits 0.

On PostgreSQL (``--db postgresql://…``) any number of daemons may run the same config on
several machines: one leads (a PostgreSQL advisory lock,
:class:`crawler.scale.Leadership`) and
samples and scans, the others stand by and take over when it dies. With ``--queue`` the leader
does not crawl itself: it submits each planned scan to the queue, one job per site, for
``govmon worker`` processes, waits for it to complete, then warns as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
import sys
from typing import Any

import aiohttp
import structlog

from checks.availability import summarize
from crawler import scale
from crawler.config import Config
from crawler.core import Resume, Scan, config_digest
from crawler.reports import Report, build_report
from crawler.scale.partition import previous_sizes
from crawler.service.alerts import AlertError, Event, resolve_channels, veto_events, warnings
from crawler.service.metrics import Metrics, MetricsServer
from crawler.service.planner import Plan, daily_intervals, plan_scans, sample_times, site_sizes
from crawler.service.probe import SystemClock, run_sampling
from storage.base import Store
from storage.dburl import shown
from storage.open import is_server_url, open_store

log = structlog.get_logger("govmon.daemon")
DAY = dt.timedelta(days=1)


class Daemon:
    def __init__(
        self,
        config: Config,
        db: str,
        *,
        clock: SystemClock | None = None,
        queue: bool = False,
        listen: tuple[str, int] | None = None,
    ) -> None:
        self.listen = listen or config.schedule.listen
        self.config = config
        self.db = db
        self.queue = queue
        self.role = "leader"  # or "standby" while another daemon of this config leads
        self.clock = clock or SystemClock()
        self.stop_event = asyncio.Event()
        self.metrics = Metrics()
        self.scan: Scan | None = None
        # the alert channels, their secrets read now: a missing one is a config error at start
        self.channels = resolve_channels(config)
        # the event ids each channel (by its place in the file) has had
        self.sent: dict[str, set[str]] = {c.settings.key: set() for c in self.channels}
        self.last_scan: int | None = None
        self.lost = False  # the leadership was lost: exit 1 for the service manager

    def say(self, line: str) -> None:
        """Tell the person who started the daemon (stderr, at every log level) what it will do,
        in plain words; logged at info too."""
        print(f"govmon daemon: {line}", file=sys.stderr, flush=True)
        log.info("daemon.plan", note=line)

    def stop(self) -> None:
        if not self.stop_event.is_set():
            log.warning("daemon.stopping")
        self.stop_event.set()
        if self.scan is not None:
            self.scan.stop()

    def health(self) -> dict[str, Any]:
        return {
            "ok": True,
            "scan_running": self.scan is not None,
            "role": self.role,
            "last_scan": self.last_scan,
            "stopping": self.stop_event.is_set(),
        }

    async def run(self) -> int:
        schedule = self.config.schedule
        host, port = self.listen
        store = await open_store(self.db)
        leadership = None
        try:
            async with MetricsServer(self.metrics, self.health, host=host, port=port):
                log.info("daemon.start", metrics=f"http://{host}:{port}/metrics", db=shown(self.db))
                self.say(
                    f"started: {_sites(len(self.config.sites))}, store {shown(self.db)},"
                    f" /healthz and /metrics at http://{host}:{port}"
                )
                if is_server_url(self.db):
                    leadership = scale.Leadership(self.db, config_digest(self.config))
                    self.role = "standby"
                    if not await leadership.acquire(self.stop_event):
                        return 0
                    self.role = "leader"
                    watch = asyncio.create_task(self._watch(leadership), name="leadership")
                self.say(sampling_plan(self.config, self.clock.now()))
                sampling = asyncio.create_task(
                    run_sampling(
                        self.config,
                        store,
                        schedule,
                        self.clock,
                        stop=self.stop_event,
                        on_round=self.metrics.record_samples,
                    ),
                    name="sampling",
                )
                try:
                    await self._scan_loop(store)
                finally:
                    self.stop_event.set()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await asyncio.wait_for(sampling, 30)
                    if leadership is not None:
                        watch.cancel()
        finally:
            if leadership is not None:
                await leadership.release()
            await store.close()
        log.info("daemon.stopped")
        return 0

    async def _watch(self, leadership: Any, every: float = 10.0) -> None:
        """Stop when the leadership's connection is lost: another daemon may lead by now (a
        service manager restarts this one, which then stands by)."""
        while not self.stop_event.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), every)
            if not self.stop_event.is_set() and not await leadership.held():
                log.error("daemon.leadership_lost", note="stopping; another daemon may lead")
                self.lost = True
                self.stop()

    async def _sleep_until(self, when: dt.datetime) -> None:
        delay = (when - self.clock.now()).total_seconds()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), delay)

    async def _scan_loop(self, store: Store) -> None:
        tz = self.config.tz
        while not self.stop_event.is_set():
            now = self.clock.now()
            window = self.config.schedule.scan_window(now, tz)
            if window is None and self.config.schedule.window_end is not None:
                log.info("daemon.window_passed", note="the scan window is over; sampling goes on")
                self.say("the scan window is over: no more scans; sampling goes on")
                await self.stop_event.wait()
                return
            if window is not None:
                plan = await self.plan(store, window)
                first = min((s.start for s in plan.scans), default=window[0])
                shown_window = self.config.schedule.window(tz) or window
                self.say(scan_plan(plan, shown_window, first, now, tz))
                await self._sleep_until(first)
                if self.stop_event.is_set():
                    return
            else:
                self.say(
                    "no scan window in [schedule] (window_start and window_end, or daily):"
                    " scanning now, then once a day"
                )
            await self._one_scan(store)
            if window is not None:
                await self._sleep_until(window[1])
            else:
                await self._sleep_until(self.clock.now() + DAY)

    async def plan(self, store: Store, window: tuple[dt.datetime, dt.datetime]) -> Plan:
        """The plan of the next scans, logged; a window too short is said in plain words."""
        sizes = await previous_sizes(store)
        schedule = self.config.schedule
        crawl = self.config.crawl
        plan = plan_scans(
            site_sizes(self.config.sites, sizes),
            start=window[0],
            end=window[1],
            rate=crawl.rate if crawl.rate > 0 else 1000.0,
            concurrency=crawl.concurrency,
            daily=schedule.daily,
            default_requests=schedule.default_site_requests,
            margin=schedule.scan_margin,
            align="start",  # as early as the window allows: the slack is kept for the end
        )
        for problem in plan.problems:
            log.warning("daemon.window_too_short", problem=problem)
            print(f"govmon daemon: {problem}", file=sys.stderr)
        for note in plan.notes:
            log.info("daemon.plan_note", note=note)
        return plan

    async def _one_scan(self, store: Store) -> None:
        if self.queue:
            await self._queued_scan(store)
            return
        resume = await store.resumable(config_digest(self.config))
        self.metrics.scan_running.set(1)
        start = Resume(resume) if resume is not None else None
        scan = Scan(self.config, store, progress=self._progress, start=start)
        self.scan = scan
        try:
            result = await scan.run()
        finally:
            self.scan = None
            self.metrics.scan_running.set(0)
        if result.status != "complete":
            return
        self.last_scan = result.scan_id
        try:
            await self._notify(store, result.scan_id)
        except Exception:  # a warning that cannot be sent must not stop the monitoring
            log.exception("daemon.notify_failed", scan=result.scan_id)

    def _window_start(self, now: dt.datetime) -> dt.datetime:
        """Where the current scan window began (without a window: a day ago, as scans run
        daily), so a daemon taking over does not scan again what the last leader scanned."""
        schedule, tz = self.config.schedule, self.config.tz
        fixed = schedule.window(tz)
        if fixed is not None:
            return fixed[0]
        if schedule.daily is not None:
            local = now.astimezone(tz)
            for a, b in daily_intervals(local - DAY, local + DAY, schedule.daily):
                if a <= local < b:
                    return a
        return now - DAY

    async def _queued_scan(self, store: Store) -> None:
        """Submit the scan to the workers (or find the one a previous leader submitted), wait
        for it, then warn."""
        digest = config_digest(self.config)
        now = self.clock.now()
        window = self.config.schedule.scan_window(now, self.config.tz)
        found = await scale.queued_scan(self.db, digest, since=self._window_start(now))
        if found is None:
            left = None if window is None else max(window[1] - self.clock.now(), DAY / 24)
            scan_id, sites = await scale.submit(self.config.path, self.db, window=left)
            log.info("daemon.submitted", scan=scan_id, sites=sites)
        elif found[1] != "running":
            log.info("daemon.scanned", scan=found[0], note="this window's scan is done already")
            self.last_scan = found[0]
            return
        else:
            scan_id = found[0]
            log.info("daemon.waiting", scan=scan_id, note="submitted before; workers go on")
        self.metrics.scan_running.set(1)
        try:
            state = await scale.wait_for_scan(self.db, scan_id, self.stop_event)
        finally:
            self.metrics.scan_running.set(0)
        if state != "complete":
            return
        self.last_scan = scan_id
        try:
            await self._notify(store, scan_id)
        except Exception:
            log.exception("daemon.notify_failed", scan=scan_id)

    def _progress(self, scan: Scan) -> None:
        self.metrics.queue_depth.set(scan.frontier.queued + scan.frontier.delayed)

    async def _notify(self, store: Store, scan_id: int) -> None:
        report = await build_report(store, scan_id)
        self.metrics.record_findings(report["findings"])
        if not self.channels:
            return
        samples = await store.samples()
        availability = summarize(samples, tz=self.config.tz) if samples else {}
        urls = {s.id: s.url for s in self.config.sites}
        as_of = dt.datetime.fromisoformat(report["scan"]["as_of"])
        homepages: dict[str, dt.date | None] = {}
        for site in self.config.sites:
            days = [
                dt.date.fromisoformat(i.date)
                for i in await store.items(scan_id, site.id)
                if i.column_url == site.url and i.date
            ]
            homepages[site.id] = max(days) if days else None
        events = warnings(
            report["findings"],
            availability,
            self.config.schedule,
            as_of,
            homepages=homepages,
            urls=urls,
            news_max_age_days=self.config.rules.news_max_age_days,
            unanswered_max_days=self.config.rules.unanswered_max_days,
        )
        events += veto_events(report["findings"], urls=urls)
        await self.alert(report, events)

    async def alert(self, report: Report, events: list[Event]) -> None:
        """Send every channel the ``events`` of the scan ``report`` describes that it has not
        had yet; a channel that fails gets them again with the next round."""
        async with aiohttp.ClientSession() as session:
            outcomes = await asyncio.gather(
                *(self._alert(i, report, events, session) for i in range(len(self.channels))),
                return_exceptions=True,  # one channel's crash stops none of the others
            )
        for channel, outcome in zip(self.channels, outcomes, strict=True):
            if isinstance(outcome, Exception):
                log.error("daemon.alert_crashed", channel=channel.name, exc_info=outcome)

    async def _alert(
        self, index: int, report: Report, events: list[Event], session: aiohttp.ClientSession
    ) -> None:
        """Send one channel the events it has not had yet (a failed round is sent again)."""
        channel = self.channels[index]
        sent = self.sent[channel.settings.key]
        fresh = [e for e in events if e["id"] not in sent]
        if not fresh:
            return
        try:
            await channel.send(
                report, fresh, tz=self.config.tz, config_path=self.config.path, session=session
            )
        except AlertError as exc:
            log.error(
                f"daemon.{channel.kind}_failed",
                channel=channel.name,
                url=channel.shown,
                error=str(exc),
            )
            return
        sent.update(str(e["id"]) for e in fresh)
        log.info(f"daemon.{channel.kind}_sent", channel=channel.name, events=len(fresh))


def _sites(n: int) -> str:
    return f"{n} site" if n == 1 else f"{n} sites"


def _at(when: dt.datetime, tz: dt.tzinfo) -> str:
    """A time in the config's time zone, to the minute: ``2020-06-16 08:00``."""
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def sampling_plan(config: Config, now: dt.datetime) -> str:
    """The sampling at start-up, in plain words: how often, and when the first round is (at
    once when one of today's sample times has passed: :func:`run_sampling` runs the latest)."""
    schedule, tz = config.schedule, config.tz
    times = sample_times(now.astimezone(tz).date(), schedule.samples_per_day, tz=tz,
                         jitter=schedule.sample_jitter, seed=schedule.seed)  # fmt: skip
    first = "now" if not times or times[0] <= now else f"at {_at(times[0], tz)} ({tz})"
    return (
        f"availability: every site's home page {schedule.samples_per_day} times a day, at"
        f" spread times; the next round {first}"
    )


def scan_plan(
    plan: Plan,
    window: tuple[dt.datetime, dt.datetime],
    first: dt.datetime,
    now: dt.datetime,
    tz: dt.tzinfo,
) -> str:
    """The next scan, in plain words: the window, when it starts, how long it should take."""
    line = f"scan window {_at(window[0], tz)} to {_at(window[1], tz)} ({tz}); the next scan"
    line += f" at {_at(first, tz)}" if first > now else " now"
    if plan.scans:
        end = max(s.finish for s in plan.scans)
        line += f", {_sites(len(plan.scans))}, expected to end by {_at(end, tz)}"
    return line


async def run_daemon(
    config: Config, db: str, *, queue: bool = False, listen: tuple[str, int] | None = None
) -> int:
    daemon = Daemon(config, db, queue=queue, listen=listen)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, daemon.stop)
    try:
        code = await daemon.run()
        return 1 if daemon.lost else code
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
