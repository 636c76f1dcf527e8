"""Availability probes: one timed request of a site's home page, a round over all sites, and
the loops behind ``govmon probe`` and the daemon's sampling.

A sample fails (the official 15 s rule) when the page is not fully loaded within ``timeout``
seconds, on any network error, or on an HTTP error status (>= 400). **Exception:** 403, 412 and
429 count as successes. Anti-bot front ends (瑞数-style script challenges, WAFs, rate limiters)
answer robots that way while browsers get the page: the answer came, quickly, from the site's
own front end, so the site is up. The status is kept in the sample, and
:mod:`checks.availability` says how many such answers there were.

Where a failure happened comes from aiohttp's ``TraceConfig`` hooks: ``dns`` (name resolution,
including ``.invalid`` names, names missing from ``[crawl] resolve`` with ``resolve_only``, and
names resolving to blocked private addresses), ``connect`` (TCP, and for https the TLS handshake
when it stalls), ``tls`` (a handshake or certificate error), ``first byte`` (the request was
sent, no response headers came), ``body`` (headers came, the page did not finish) and
``status`` (an HTTP error status, or too many redirects).

Timings are durations of each phase, summed over redirect hops, in milliseconds: ``dns_ms``,
``connect_ms`` (TCP connect *plus the TLS handshake* for https: aiohttp's connection hooks span
both, so ``tls_ms`` stays ``None``), ``first_byte_ms`` (from the request headers sent to the
response headers received) and ``total_ms`` (the whole sample, body included). A phase that
was reached has its duration, the failing one included (a first byte that never came within the
limit shows about 15 000 ms); one never reached is ``None``. Every sample
opens a fresh connection and resolves the name again (no keep-alive, no DNS cache), as a first
visit by a citizen would. Redirects are followed (``http://`` -> ``https://``, ``/`` ->
``/index.html``) within the same 15 s.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

import aiohttp
import structlog
import yarl

from checks.availability import REFUSED_STATUSES
from crawler.config import Config, CrawlSettings, Site
from crawler.core.scheduler import RealClock
from crawler.net.fetcher import GovResolver, classify_exception
from crawler.net.urls import hostname, origin
from crawler.service.planner import Schedule, sample_times
from storage.base import SampleRow, Store

log = structlog.get_logger("govmon.probe")
P = TypeVar("P")

DNS, CONNECT, TLS, FIRST_BYTE, BODY, STATUS = (
    "dns",
    "connect",
    "tls",
    "first byte",
    "body",
    "status",
)


class ProbeClock(Protocol):
    """The scheduler's :class:`~crawler.core.scheduler.Clock` plus the wall time."""

    def monotonic(self) -> float: ...

    async def wait(self, event: asyncio.Event, delay: float | None) -> None:
        """Return when ``event`` is set or ``delay`` seconds have passed."""
        ...

    def now(self) -> dt.datetime:
        """The current time, aware."""
        ...


class SystemClock(RealClock):
    """The real clock: ``time.monotonic``, ``asyncio`` waits and ``datetime.now``."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


# ---------------------------------------------------------------------------------------------
# tracing


class _Trace:
    """What the hooks saw during one sample (the ``trace_request_ctx``)."""

    __slots__ = ("_create", "_dns", "_dns_in_create", "_sent", "answered", "connect", "connected",
                 "dns", "resolved", "stage", "timer", "wait")  # fmt: skip

    def __init__(self, timer: Callable[[], float]) -> None:
        self.timer = timer
        self.stage = CONNECT  # the phase in progress
        self.dns = 0.0
        self.connect = 0.0
        self.wait = 0.0
        self._dns: float | None = None
        self._create: float | None = None
        self._dns_in_create = 0.0
        self._sent: float | None = None
        # whether each phase was reached (its duration is then reported, even when it failed)
        self.resolved = False  # a name was looked up (never for an IP address)
        self.connected = False  # a connection was made or attempted
        self.answered = False  # the request was sent (first byte: waited for the response)

    def dns_start(self) -> None:
        self.stage = DNS
        self._dns = self.timer()

    def dns_end(self) -> None:
        if self._dns is not None:
            spent = self.timer() - self._dns
            self.dns += spent
            self._dns_in_create += spent
            self._dns = None
        self.resolved = True
        self.stage = CONNECT

    def create_start(self) -> None:
        self.stage = CONNECT
        self._create = self.timer()
        self._dns_in_create = 0.0

    def create_end(self) -> None:
        if self._create is not None:
            self.connect += max(0.0, self.timer() - self._create - self._dns_in_create)
            self._create = None
        self.connected = True
        self.stage = FIRST_BYTE

    def reused(self) -> None:
        self.connected = True
        self.stage = FIRST_BYTE

    def headers_sent(self) -> None:
        self.stage = FIRST_BYTE
        self._sent = self.timer()

    def close(self) -> None:
        """The sample ended (a failure or a timeout): account the phase in progress."""
        now = self.timer()
        if self._dns is not None:
            self.dns += now - self._dns
            self._dns_in_create += now - self._dns
            self._dns = None
            self.resolved = True
            self._create = None  # failed while resolving: no connection was attempted
        if self._create is not None:
            self.connect += max(0.0, now - self._create - self._dns_in_create)
            self._create = None
            self.connected = True
        if self._sent is not None:
            self.wait += now - self._sent
            self._sent = None
            self.answered = True

    def response(self, *, final: bool) -> None:
        if self._sent is not None:
            self.wait += self.timer() - self._sent
            self._sent = None
        self.answered = final
        self.stage = BODY if final else CONNECT


def _hook(
    method: Callable[[_Trace], None],
) -> Callable[[aiohttp.ClientSession, SimpleNamespace, P], Awaitable[None]]:
    async def hook(session: aiohttp.ClientSession, ctx: SimpleNamespace, params: P) -> None:
        state = getattr(ctx, "trace_request_ctx", None)
        if isinstance(state, _Trace):
            method(state)

    return hook


def trace_config() -> aiohttp.TraceConfig:
    """The hooks that time a sample's phases; a session made for probes carries one."""
    tc = aiohttp.TraceConfig()
    tc.on_dns_resolvehost_start.append(_hook(_Trace.dns_start))
    tc.on_dns_resolvehost_end.append(_hook(_Trace.dns_end))
    tc.on_connection_create_start.append(_hook(_Trace.create_start))
    tc.on_connection_create_end.append(_hook(_Trace.create_end))
    tc.on_connection_reuseconn.append(_hook(_Trace.reused))
    tc.on_request_headers_sent.append(_hook(_Trace.headers_sent))
    tc.on_request_redirect.append(_hook(lambda t: t.response(final=False)))
    tc.on_request_end.append(_hook(lambda t: t.response(final=True)))
    return tc


def open_session(
    crawl: CrawlSettings,
    *,
    trusted_hosts: frozenset[str] = frozenset(),
    ssl_context: ssl.SSLContext | None = None,
    connections: int = 64,
) -> aiohttp.ClientSession:
    """A session for probes (call it inside the running loop; close it when done).

    Names resolve through :class:`GovResolver` with ``[crawl] resolve`` / ``resolve_only`` /
    ``allow_private`` (``trusted_hosts``: the configured sites' hosts, which may be private);
    ``[crawl] user_agent`` is sent; no keep-alive and no DNS cache, so each sample is a first
    visit; the hooks of :func:`trace_config` time the phases.
    """
    resolver = GovResolver(
        crawl.resolve,
        only=crawl.resolve_only,
        allow_private=crawl.allow_private,
        trusted_hosts=trusted_hosts,
    )
    connector = aiohttp.TCPConnector(
        limit=connections,
        limit_per_host=0,
        resolver=resolver,
        use_dns_cache=False,
        force_close=True,
        ssl=ssl_context if ssl_context is not None else True,
    )
    return aiohttp.ClientSession(
        connector=connector,
        headers={
            "User-Agent": crawl.user_agent,
            "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
            "Accept-Language": "zh-CN,zh;q=0.9",
        },
        timeout=aiohttp.ClientTimeout(total=None),
        cookie_jar=aiohttp.DummyCookieJar(),
        trace_configs=[trace_config()],
        requote_redirect_url=False,
    )


# ---------------------------------------------------------------------------------------------
# one sample


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _phase(reason: str, stage: str) -> str:
    if reason in ("dns", "private address"):
        return DNS
    if reason == "tls":
        return TLS
    if reason == "connect" and stage not in (FIRST_BYTE, BODY):
        return CONNECT
    return stage


async def sample(
    session: aiohttp.ClientSession,
    site_id: str,
    url: str,
    *,
    timeout: float = 15.0,  # noqa: ASYNC109 - the 15 s rule: a failed sample, not an error
    clock: ProbeClock | None = None,
    tz: dt.tzinfo | str = "Asia/Shanghai",
    timer: Callable[[], float] = time.perf_counter,
    max_body: int = 5_000_000,
    max_redirects: int = 10,
    up_statuses: frozenset[int] = REFUSED_STATUSES,
) -> SampleRow:
    """One availability sample of ``url`` (never raises for network or HTTP failures).

    ``at`` is ``clock.now()`` (the wall clock by default) in ``tz``, to the second; durations
    come from ``timer``. ``session`` should come from :func:`open_session` (any session works,
    without the phase timings when it lacks :func:`trace_config`). The body is read to its end,
    or to ``max_body`` bytes (the page counts as loaded then).
    """
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    moment = clock.now() if clock is not None else dt.datetime.now(dt.UTC)
    at = moment.astimezone(zone).isoformat(timespec="seconds")
    trace = _Trace(timer)
    status: int | None = None
    failed_at: str | None = None
    error: str | None = None
    started = timer()
    try:
        async with (
            asyncio.timeout(timeout),
            session.get(
                yarl.URL(url, encoded=True),
                allow_redirects=True,
                max_redirects=max_redirects,
                trace_request_ctx=trace,
            ) as resp,
        ):
            status = resp.status
            if status >= 400 and status not in up_statuses:
                failed_at, error = STATUS, f"http {status}"
            else:
                size = 0
                async for chunk in resp.content.iter_chunked(65536):
                    size += len(chunk)
                    if size >= max_body:
                        break
    except aiohttp.TooManyRedirects as exc:
        status = exc.status or status
        failed_at, error = STATUS, f"too many redirects (more than {max_redirects})"
    except Exception as exc:  # every failure of the network is a failed sample
        reason, detail = classify_exception(exc)
        failed_at = _phase(reason, trace.stage)
        if reason == "timeout":
            error = f"timeout: not loaded within {timeout:g} s (waiting for the {failed_at})"
        else:
            error = f"{reason}: {detail}"[:300]
    trace.close()
    total = timer() - started
    ok = failed_at is None
    return SampleRow(
        site=site_id,
        url=url,
        at=at,
        ok=ok,
        status=status,
        total_ms=_ms(total),
        dns_ms=_ms(trace.dns) if trace.resolved else None,
        connect_ms=_ms(trace.connect) if trace.connected else None,
        tls_ms=None,
        first_byte_ms=_ms(trace.wait) if trace.answered else None,
        failed_at=failed_at,
        error=error,
    )


# ---------------------------------------------------------------------------------------------
# a round


SiteRef = Site | tuple[str, str]


def _ref(site: SiteRef) -> tuple[str, str]:
    return (site.id, site.url) if isinstance(site, Site) else site


@dataclass(slots=True)
class _HostGate:
    slots: asyncio.Semaphore
    next_start: float = 0.0


async def probe_round(
    sites: Iterable[SiteRef],
    session: aiohttp.ClientSession,
    *,
    timeout: float = 15.0,  # noqa: ASYNC109 - the 15 s rule: a failed sample, not an error
    clock: ProbeClock | None = None,
    tz: dt.tzinfo | str = "Asia/Shanghai",
    per_host: int = 2,
    rate: float = 0.0,
    timer: Callable[[], float] = time.perf_counter,
) -> list[SampleRow]:
    """Sample every site's home page once, concurrently; the samples in the order of ``sites``.

    Sites on one host (department channels under one portal) share it politely: at most
    ``per_host`` requests in flight to the host and, with ``rate`` > 0, starts at least
    ``1 / rate`` seconds apart (the ``[crawl]`` politeness settings). Each sample is timed from
    its own start, so waiting for the host is not counted against the site.
    """
    refs = [_ref(s) for s in sites]
    clk: ProbeClock = clock if clock is not None else SystemClock()
    gates: dict[str, _HostGate] = {}
    never = asyncio.Event()

    async def one(site_id: str, url: str) -> SampleRow:
        key = origin(url)
        gate = gates.get(key)
        if gate is None:
            gate = gates[key] = _HostGate(asyncio.Semaphore(max(1, per_host)))
        async with gate.slots:
            if rate > 0:
                now = clk.monotonic()
                if gate.next_start > now:
                    await clk.wait(never, gate.next_start - now)
                gate.next_start = max(now, gate.next_start) + 1.0 / rate
            return await sample(
                session, site_id, url, timeout=timeout, clock=clk, tz=tz, timer=timer
            )

    rows = list(await asyncio.gather(*(one(site_id, url) for site_id, url in refs)))
    failed = [r.site for r in rows if not r.ok]
    log.info("probe.round", sites=len(rows), failed=len(failed), failed_sites=failed[:20])
    return rows


# ---------------------------------------------------------------------------------------------
# the loops


def _trusted(sites: Sequence[tuple[str, str]], config: Config) -> frozenset[str]:
    hosts = {hostname(url) for _, url in sites}
    hosts.update(hostname(p) for s in config.sites for p in s.scope)
    return frozenset(hosts)


async def run_rounds(
    config: Config,
    store: Store,
    rounds: int,
    interval: float,
    clock: ProbeClock | None = None,
    *,
    sites: Iterable[SiteRef] | None = None,
    stop: asyncio.Event | None = None,
    session: aiohttp.ClientSession | None = None,
    ssl_context: ssl.SSLContext | None = None,
    on_round: Callable[[list[SampleRow]], None] | None = None,
) -> list[list[SampleRow]]:
    """``govmon probe``: ``rounds`` rounds, round k due ``k * interval`` seconds after the first
    (a round that overruns makes the next start at once; the later ones keep their times), each
    stored with ``store.add_samples`` as soon as it ends. ``stop`` (SIGTERM) ends the waiting
    between rounds: the rounds done so far are stored, the rest are not run.

    The ``[crawl]`` settings apply: ``timeout`` (the 15 s rule), ``user_agent``, ``resolve`` /
    ``resolve_only``, and ``concurrency`` / ``rate`` per host.
    """
    clk: ProbeClock = clock if clock is not None else SystemClock()
    halt = stop if stop is not None else asyncio.Event()
    refs = [_ref(s) for s in (sites if sites is not None else config.sites)]
    own = session is None
    http = session or open_session(
        config.crawl, trusted_hosts=_trusted(refs, config), ssl_context=ssl_context
    )
    done: list[list[SampleRow]] = []
    try:
        first = clk.monotonic()
        for k in range(rounds):
            if k:
                delay = first + k * interval - clk.monotonic()
                if delay > 0:
                    await clk.wait(halt, delay)
            if halt.is_set():
                break
            rows = await _round(config, store, refs, http, clk)
            done.append(rows)
            if on_round is not None:
                on_round(rows)
    finally:
        if own:
            await http.close()
    return done


async def run_sampling(
    config: Config,
    store: Store,
    schedule: Schedule,
    clock: ProbeClock | None = None,
    *,
    stop: asyncio.Event | None = None,
    until: dt.datetime | None = None,
    sites: Iterable[SiteRef] | None = None,
    session: aiohttp.ClientSession | None = None,
    ssl_context: ssl.SSLContext | None = None,
    on_round: Callable[[list[SampleRow]], None] | None = None,
) -> int:
    """The daemon's sampling: rounds at :func:`~crawler.service.planner.sample_times` of every day
    (``schedule.samples_per_day`` spread, jittered times in the config's time zone), until
    ``stop`` is set or the next time is at or after ``until``. Returns the rounds run.

    Started mid-day (a restart), the day's past times are skipped except the latest one, which
    runs at once; a round that overruns the next time delays it, never doubles it.
    """
    clk: ProbeClock = clock if clock is not None else SystemClock()
    halt = stop if stop is not None else asyncio.Event()
    refs = [_ref(s) for s in (sites if sites is not None else config.sites)]
    zone = config.tz
    own = session is None
    http = session or open_session(
        config.crawl, trusted_hosts=_trusted(refs, config), ssl_context=ssl_context
    )
    count = 0
    day = clk.now().astimezone(zone).date()
    try:
        while not halt.is_set():
            times = sample_times(
                day,
                schedule.samples_per_day,
                tz=zone,
                jitter=schedule.sample_jitter,
                seed=schedule.seed,
            )
            for i, when in enumerate(times):
                if until is not None and when >= until:
                    return count
                now = clk.now()
                if when <= now and i + 1 < len(times) and times[i + 1] <= now:
                    continue  # a past time with a later one also past: skip it
                delay = (when - now).total_seconds()
                if delay > 0:
                    await clk.wait(halt, delay)
                if halt.is_set():
                    return count
                rows = await _round(config, store, refs, http, clk)
                count += 1
                if on_round is not None:
                    on_round(rows)
            day += dt.timedelta(days=1)
    finally:
        if own:
            await http.close()
    return count


async def _round(
    config: Config,
    store: Store,
    refs: Sequence[tuple[str, str]],
    session: aiohttp.ClientSession,
    clock: ProbeClock,
) -> list[SampleRow]:
    crawl = config.crawl
    rows = await probe_round(
        refs,
        session,
        timeout=crawl.timeout,
        clock=clock,
        tz=config.tz,
        per_host=crawl.concurrency,
        rate=crawl.rate,
    )
    await store.add_samples(rows)
    return rows
