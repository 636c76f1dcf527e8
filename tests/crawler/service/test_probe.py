"""Availability probes against real local servers: outcomes, phases, rounds, the sampling loops.

Every request goes to 127.0.0.1 (names through ``[crawl] resolve``); time between rounds passes
on a fake clock; the only real waiting is a server's pause of tens of milliseconds or a probe's
sub-second timeout.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import socket
import ssl
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import trustme
from aiohttp import web

from checks.availability import summarize
from crawler.config import Config, CrawlSettings, parse_config
from crawler.service.planner import Schedule, sample_times
from crawler.service.probe import (
    SystemClock,
    open_session,
    probe_round,
    run_rounds,
    run_sampling,
    sample,
)
from storage.sqlite import SQLiteStore
from tests.support.localserver import serve

pytestmark = pytest.mark.timeout(60)

TZ = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2020, 6, 16, 0, 0, tzinfo=TZ)


class FakeClock:
    """Wall and monotonic time that only move when someone waits."""

    def __init__(self, start: dt.datetime = START) -> None:
        self.start = start
        self.t = 0.0
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def now(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.t)

    async def wait(self, event: asyncio.Event, delay: float | None) -> None:
        if event.is_set():
            return
        if delay is None:
            await event.wait()
            return
        self.waits.append(round(delay, 6))
        self.t += delay
        await asyncio.sleep(0)


class Server:
    """One aiohttp app with every way a home page can go wrong."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._release: asyncio.Event | None = None

    async def _stall(self) -> None:
        """Wait until :meth:`release` (the server's loop runs in another thread)."""
        if self._release is None:
            self._loop, self._release = asyncio.get_running_loop(), asyncio.Event()
        await self._release.wait()

    def release(self) -> None:
        if self._loop is not None and self._release is not None:
            self._loop.call_soon_threadsafe(self._release.set)

    def app(self) -> web.Application:
        async def track(request: web.Request, handler: Any) -> web.StreamResponse:
            self.hits[request.path] += 1
            response: web.StreamResponse = await handler(request)
            return response

        async def page(request: web.Request) -> web.Response:
            return web.Response(text="<html><title>首页</title></html>", content_type="text/html")

        async def slow_page(request: web.Request) -> web.Response:
            with self.lock:  # requests in flight, counted here only (stalled ones stay out)
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                await asyncio.sleep(0.03)
            finally:
                with self.lock:
                    self.in_flight -= 1
            return web.Response(text="<html>ok</html>", content_type="text/html")

        async def status(request: web.Request) -> web.Response:
            code = int(request.match_info["code"])
            body = "<script>challenge()</script>" if code in (403, 412) else "error"
            return web.Response(status=code, text=body, content_type="text/html")

        async def moved(request: web.Request) -> web.Response:
            raise web.HTTPFound("/index.html")

        async def loop(request: web.Request) -> web.Response:
            raise web.HTTPFound("/loop")

        async def late_headers(request: web.Request) -> web.Response:
            await asyncio.sleep(0.06)
            return web.Response(text="late", content_type="text/html")

        async def late_body(request: web.Request) -> web.StreamResponse:
            resp = web.StreamResponse(headers={"Content-Type": "text/html"})
            await resp.prepare(request)
            await resp.write(b"<html>")
            await asyncio.sleep(0.06)
            await resp.write(b"</html>")
            await resp.write_eof()
            return resp

        async def no_headers(request: web.Request) -> web.Response:
            await self._stall()
            return web.Response(text="too late")

        async def no_body(request: web.Request) -> web.StreamResponse:
            resp = web.StreamResponse(
                headers={"Content-Type": "text/html", "Content-Length": "100"}
            )
            await resp.prepare(request)
            await resp.write(b"<html>")
            await self._stall()
            return resp

        async def big(request: web.Request) -> web.Response:
            return web.Response(body=b"x" * 300_000, content_type="text/html")

        app = web.Application(middlewares=[web.middleware(track)])
        app.router.add_get("/", moved)
        app.router.add_get("/index.html", page)
        app.router.add_get("/slow.html", slow_page)
        app.router.add_get("/status/{code}", status)
        app.router.add_get("/loop", loop)
        app.router.add_get("/late-headers", late_headers)
        app.router.add_get("/late-body", late_body)
        app.router.add_get("/no-headers", no_headers)
        app.router.add_get("/no-body", no_body)
        app.router.add_get("/big", big)
        return app


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Server, int]]:
    srv = Server()
    with serve(srv.app()) as port:
        try:
            yield srv, port
        finally:
            srv.release()  # stalled handlers return, so the server stops at once


def crawl_for(port: int, **extra: Any) -> CrawlSettings:
    hosts = {
        "www.a.test": ("127.0.0.1", port),
        "www.b.test": ("127.0.0.1", port),
        "www.tls.test": ("127.0.0.1", port),
    }
    # the test sites live on loopback: allowed here as a configured site's host would be
    extra.setdefault("allow_private", True)
    return CrawlSettings(resolve=hosts, resolve_only=True, **extra)


@pytest.fixture
async def session(server: tuple[Server, int]) -> AsyncIterator[aiohttp.ClientSession]:
    http = open_session(crawl_for(server[1]))
    try:
        yield http
    finally:
        await http.close()


def free_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    sock.close()
    return port


# ---------------------------------------------------------------------------------------------
# one sample


async def test_a_loaded_page_is_a_success_with_its_phases_timed(
    session: aiohttp.ClientSession,
) -> None:
    clock = FakeClock(dt.datetime(2020, 6, 16, 9, 30, 5, tzinfo=dt.UTC))
    row = await sample(session, "a", "http://www.a.test/index.html", clock=clock)
    assert row.ok
    assert (row.site, row.url, row.status) == ("a", "http://www.a.test/index.html", 200)
    assert row.at == "2020-06-16T17:30:05+08:00"  # the clock's time, in the config's zone
    assert row.failed_at is None
    assert row.error is None
    # the name went through the resolver (an override), a connection was made, headers came
    assert row.dns_ms is not None
    assert row.connect_ms is not None
    assert row.first_byte_ms is not None
    assert row.total_ms is not None
    assert row.total_ms >= row.first_byte_ms
    assert row.tls_ms is None  # plain http


async def test_first_byte_and_body_time_are_told_apart(session: aiohttp.ClientSession) -> None:
    late_headers = await sample(session, "a", "http://www.a.test/late-headers")
    late_body = await sample(session, "a", "http://www.a.test/late-body")
    assert late_headers.ok
    assert late_body.ok
    assert late_headers.first_byte_ms is not None
    assert late_body.first_byte_ms is not None
    assert late_body.total_ms is not None
    # the server waited 60 ms before its headers in one case, inside the body in the other
    # (lower bounds only: a slow machine cannot make this fail)
    assert late_headers.first_byte_ms >= 55
    assert late_body.total_ms - late_body.first_byte_ms >= 55


async def test_redirects_are_followed_and_their_waits_summed(
    session: aiohttp.ClientSession, server: tuple[Server, int]
) -> None:
    srv, _ = server
    before = srv.hits["/index.html"]
    row = await sample(session, "a", "http://www.a.test/")
    assert row.ok
    assert row.status == 200  # the final answer, after the 302
    assert srv.hits["/index.html"] == before + 1


async def test_a_redirect_loop_fails_at_the_status(session: aiohttp.ClientSession) -> None:
    row = await sample(session, "a", "http://www.a.test/loop", max_redirects=3)
    assert not row.ok
    assert row.failed_at == "status"
    assert row.error is not None
    assert "too many redirects" in row.error


@pytest.mark.parametrize("code", [404, 500, 502, 503])
async def test_error_statuses_fail(session: aiohttp.ClientSession, code: int) -> None:
    row = await sample(session, "a", f"http://www.a.test/status/{code}")
    assert not row.ok
    assert row.status == code
    assert row.failed_at == "status"
    assert row.error == f"http {code}"


@pytest.mark.parametrize("code", [403, 412, 429])
async def test_anti_bot_answers_show_the_site_is_up(
    session: aiohttp.ClientSession, code: int
) -> None:
    row = await sample(session, "a", f"http://www.a.test/status/{code}")
    assert row.ok
    assert row.status == code  # kept, so the summary can count them
    assert row.failed_at is None


async def test_the_set_of_up_statuses_is_a_parameter(session: aiohttp.ClientSession) -> None:
    row = await sample(session, "a", "http://www.a.test/status/412", up_statuses=frozenset())
    assert not row.ok
    assert row.failed_at == "status"


async def test_a_page_without_headers_in_time_fails_at_the_first_byte(
    session: aiohttp.ClientSession,
) -> None:
    row = await sample(session, "a", "http://www.a.test/no-headers", timeout=0.2)
    assert not row.ok
    assert row.failed_at == "first byte"
    assert row.error is not None
    assert row.error.startswith("timeout")
    assert "0.2 s" in row.error
    assert row.status is None
    assert row.total_ms is not None
    assert 190 <= row.total_ms < 2000
    assert row.first_byte_ms is not None
    assert row.first_byte_ms >= 150  # the time spent waiting for it


async def test_a_page_not_fully_loaded_in_time_fails_in_the_body(
    session: aiohttp.ClientSession,
) -> None:
    row = await sample(session, "a", "http://www.a.test/no-body", timeout=0.2)
    assert not row.ok
    assert row.failed_at == "body"
    assert row.status == 200  # the headers came: the page still did not load
    assert row.error is not None
    assert "timeout" in row.error


async def test_a_large_page_counts_as_loaded_at_the_body_cap(
    session: aiohttp.ClientSession,
) -> None:
    row = await sample(session, "a", "http://www.a.test/big", max_body=65536)
    assert row.ok


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://www.nowhere.test/", "resolve_only"),  # not in [crawl] resolve
        ("http://www.example.invalid/", ".invalid"),  # RFC 6761: never resolves
    ],
)
async def test_names_that_do_not_resolve_fail_at_dns(
    session: aiohttp.ClientSession, url: str, reason: str
) -> None:
    row = await sample(session, "x", url)
    assert not row.ok
    assert row.failed_at == "dns"
    assert row.error is not None
    assert row.error.startswith("dns")
    assert reason in row.error
    assert row.connect_ms is None  # no connection was attempted


async def test_a_refused_connection_fails_at_connect(session: aiohttp.ClientSession) -> None:
    row = await sample(session, "x", f"http://127.0.0.1:{free_port()}/")
    assert not row.ok
    assert row.failed_at == "connect"
    assert row.dns_ms is None  # an IP address: nothing to resolve
    assert row.first_byte_ms is None


async def test_http_spoken_to_an_https_url_fails_at_tls(session: aiohttp.ClientSession) -> None:
    row = await sample(session, "x", "https://www.tls.test/index.html")
    assert not row.ok
    assert row.failed_at == "tls"
    assert row.error is not None
    assert row.error.startswith("tls")


@pytest.fixture
async def https_server() -> AsyncIterator[tuple[trustme.CA, int]]:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("www.tls.test").configure_cert(server_ctx)

    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html>secure</html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ctx)
    await site.start()
    try:
        yield ca, runner.addresses[0][1]
    finally:
        await runner.cleanup()


async def test_https_with_a_trusted_certificate_loads(
    https_server: tuple[trustme.CA, int],
) -> None:
    ca, port = https_server
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    http = open_session(crawl_for(port), ssl_context=client_ctx)
    try:
        row = await sample(http, "s", "https://www.tls.test/")
    finally:
        await http.close()
    assert row.ok
    assert row.status == 200
    assert row.connect_ms is not None  # TCP and the TLS handshake


async def test_an_untrusted_certificate_fails_at_tls(https_server: tuple[trustme.CA, int]) -> None:
    _, port = https_server
    http = open_session(crawl_for(port))  # the system's trust store knows nothing of this CA
    try:
        row = await sample(http, "s", "https://www.tls.test/")
    finally:
        await http.close()
    assert not row.ok
    assert row.failed_at == "tls"
    assert row.error is not None
    assert "Certificate" in row.error


async def test_the_user_agent_of_the_config_is_sent(server: tuple[Server, int]) -> None:
    seen: list[str] = []

    async def page(request: web.Request) -> web.Response:
        seen.append(request.headers.get("User-Agent", ""))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", page)
    with serve(app) as port:
        http = open_session(crawl_for(port, user_agent="probe-test/1.0"))
        try:
            row = await sample(http, "a", "http://www.a.test/")
        finally:
            await http.close()
    assert row.ok
    assert seen == ["probe-test/1.0"]


# ---------------------------------------------------------------------------------------------
# rounds


async def test_a_round_samples_every_site_once_in_order(
    session: aiohttp.ClientSession, server: tuple[Server, int]
) -> None:
    srv, _ = server
    before = Counter(srv.hits)
    sites = [
        ("ok", "http://www.a.test/index.html"),
        ("broken", "http://www.a.test/status/500"),
        ("gone", "http://www.gone.invalid/"),
        ("slow", "http://www.b.test/slow.html"),
    ]
    rows = await probe_round(sites, session, clock=FakeClock())
    assert [r.site for r in rows] == ["ok", "broken", "gone", "slow"]
    assert [r.ok for r in rows] == [True, False, False, True]
    assert [r.failed_at for r in rows] == [None, "status", "dns", None]
    hits = Counter(srv.hits)
    hits.subtract(before)
    assert +hits == Counter({"/index.html": 1, "/status/500": 1, "/slow.html": 1})


async def test_a_round_shares_a_host_politely_and_hosts_run_side_by_side(
    session: aiohttp.ClientSession, server: tuple[Server, int]
) -> None:
    srv, _ = server
    same_host = [(f"s{i}", f"http://www.a.test/slow.html?i={i}") for i in range(4)]
    srv.max_in_flight = 0
    rows = await probe_round(same_host, session, per_host=1)
    assert all(r.ok for r in rows)
    assert srv.max_in_flight == 1  # one request at a time to the shared host
    two_hosts = [
        ("a", "http://www.a.test/slow.html?h=a"),
        ("b", "http://www.b.test/slow.html?h=b"),
    ]
    srv.max_in_flight = 0
    rows = await probe_round(two_hosts, session, per_host=1)
    assert all(r.ok for r in rows)
    assert srv.max_in_flight == 2  # different hosts are not serialised


async def test_a_round_spaces_starts_on_a_host_by_its_rate(
    session: aiohttp.ClientSession,
) -> None:
    clock = FakeClock()
    sites = [(f"s{i}", f"http://www.a.test/index.html?i={i}") for i in range(3)]
    sites.append(("other", "http://www.b.test/index.html"))
    rows = await probe_round(sites, session, clock=clock, per_host=1, rate=2.0)
    assert all(r.ok for r in rows)
    assert clock.waits == [0.5, 0.5]  # 2 requests/s on www.a.test; www.b.test not delayed


# ---------------------------------------------------------------------------------------------
# the loops, with a real store and a fake clock


def config_for(port: int, **crawl: Any) -> Config:
    data = {
        "timezone": "Asia/Shanghai",
        "crawl": {
            "resolve": {"www.a.test": f"127.0.0.1:{port}", "www.b.test": f"127.0.0.1:{port}"},
            "resolve_only": True,
            "rate": 0,
            **crawl,
        },
        "site": [
            {"id": "a", "url": "http://www.a.test/index.html"},
            {"id": "b", "url": "http://www.b.test/status/503"},
        ],
    }
    return parse_config(data, "probe.toml")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    db = await SQLiteStore.open(tmp_path / "govmon.db")
    try:
        yield db
    finally:
        await db.close()


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


async def test_run_rounds_stores_each_round_interval_apart(
    server: tuple[Server, int], store: SQLiteStore
) -> None:
    clock = FakeClock()
    rounds = await run_rounds(config_for(server[1]), store, 3, 60.0, clock)
    assert len(rounds) == 3
    assert clock.waits == [60.0, 60.0]
    stored = await store.samples()
    assert len(stored) == 6
    assert [s.ok for s in stored if s.site == "a"] == [True, True, True]
    assert [s.failed_at for s in stored if s.site == "b"] == ["status"] * 3
    times = sorted({_at(s.at) for s in stored})
    assert [(t - START).total_seconds() for t in times] == [0, 60, 120]
    assert all(s.at.endswith("+08:00") for s in stored)  # the config's time zone


async def test_run_rounds_stops_between_rounds_keeping_what_it_did(
    server: tuple[Server, int], store: SQLiteStore
) -> None:
    stop = asyncio.Event()
    rounds = await run_rounds(
        config_for(server[1]), store, 5, 60.0, FakeClock(), stop=stop, on_round=lambda _: stop.set()
    )
    assert len(rounds) == 1
    assert len(await store.samples()) == 2


async def test_a_long_round_delays_the_next_and_the_rounds_keep_their_times(
    server: tuple[Server, int], store: SQLiteStore
) -> None:
    clock = FakeClock()
    done: list[float] = []

    def first_is_slow(_: object) -> None:
        done.append(clock.t)
        if len(done) == 1:
            clock.t += 90  # the first round took 90 s of a 60 s interval

    rounds = await run_rounds(config_for(server[1]), store, 3, 60.0, clock, on_round=first_is_slow)
    assert len(rounds) == 3
    # round 2 was due at 60 s: it starts at once at 90 s; round 3 keeps its time, 120 s
    assert clock.waits == [30.0]
    assert sorted({(_at(s.at) - START).total_seconds() for s in await store.samples()}) == [
        0,
        90,
        120,
    ]


async def test_run_sampling_takes_at_least_20_samples_a_day_per_site(
    server: tuple[Server, int], store: SQLiteStore
) -> None:
    """The official rule, end to end on a fake clock: a simulated day of the daemon's sampling
    puts 24 jittered, spread samples per site in the store."""
    config = config_for(server[1])
    schedule = Schedule(samples_per_day=24, seed=7)
    clock = FakeClock()
    end = START + dt.timedelta(days=1)
    count = await run_sampling(config, store, schedule, clock, until=end)
    assert count == 24
    stored = await store.samples()
    for site in ("a", "b"):
        times = [_at(s.at) for s in stored if s.site == site]
        assert len(times) == 24
        assert all(START <= t < end for t in times)
        assert min(b - a for a, b in itertools.pairwise(times)) >= dt.timedelta(minutes=10)
    expected = sample_times(START.date(), 24, tz="Asia/Shanghai", seed=7)
    assert sorted({_at(s.at) for s in stored}) == [t.replace(microsecond=0) for t in expected]
    summary = summarize(stored, as_of=end, tz="Asia/Shanghai", days=1)
    assert summary["a"].per_day == {"2020-06-16": [24, 0]}
    assert summary["b"].per_day == {"2020-06-16": [24, 24]}
    assert summary["a"].thin_days(config.tz) == {}


async def test_run_sampling_resumed_mid_day_skips_the_past_but_the_latest(
    server: tuple[Server, int], store: SQLiteStore
) -> None:
    config = config_for(server[1])
    schedule = Schedule(samples_per_day=24, seed=3)
    restart = START + dt.timedelta(hours=12, minutes=10)
    clock = FakeClock(restart)
    end = START + dt.timedelta(days=1)
    count = await run_sampling(config, store, schedule, clock, until=end, sites=config.sites[:1])
    times = sample_times(START.date(), 24, tz="Asia/Shanghai", seed=3)
    ahead = [t for t in times if t > restart]
    assert count == len(ahead) + 1  # the latest past time runs at once, the older are skipped
    stored = [_at(s.at) for s in await store.samples()]
    assert stored[0] == restart.replace(microsecond=0)
    assert stored[1:] == [t.replace(microsecond=0) for t in ahead]


async def test_run_sampling_stops_when_told(server: tuple[Server, int], store: SQLiteStore) -> None:
    stop = asyncio.Event()
    seen: list[int] = []

    def after(rows: object) -> None:
        seen.append(1)
        if len(seen) == 3:
            stop.set()

    count = await run_sampling(
        config_for(server[1]), store, Schedule(seed=1), FakeClock(), stop=stop, on_round=after
    )
    assert count == 3
    assert len(await store.samples()) == 6


def test_the_system_clock_is_aware_and_monotonic() -> None:
    clock = SystemClock()
    now = clock.now()
    assert now.tzinfo is not None
    assert abs((dt.datetime.now(dt.UTC) - now).total_seconds()) < 5
    assert clock.monotonic() <= clock.monotonic()
