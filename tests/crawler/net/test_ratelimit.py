"""Per-host politeness and the scheduler, on a fake clock: no test sleeps to prove timing."""

from __future__ import annotations

import asyncio
import math

from hypothesis import given
from hypothesis import strategies as st

from crawler.core.frontier import Frontier, Kind, Request
from crawler.core.scheduler import Scheduler
from crawler.net.ratelimit import HostPolicy, parse_retry_after


class FakeClock:
    """Time moves only when every task is waiting: then it jumps to the earliest deadline."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def wait(self, event: asyncio.Event, delay: float | None) -> None:
        if delay is None:
            await event.wait()
            return
        self.waits.append(delay)
        await asyncio.sleep(0)  # let others run first
        if not event.is_set():
            self.now += delay


def test_rate_spaces_request_starts() -> None:
    p = HostPolicy(rate=2.0, concurrency=8)
    starts = []
    now = 0.0
    for _ in range(5):
        now = max(now, p.ready_at())
        p.acquire(now)
        starts.append(now)
    assert starts == [0.0, 0.5, 1.0, 1.5, 2.0]


def test_concurrency_caps_in_flight() -> None:
    p = HostPolicy(rate=0, concurrency=2)
    p.acquire(0)
    p.acquire(0)
    assert p.ready_at() == math.inf
    p.release(0.1, 200)
    assert p.ready_at() <= 0.1


def test_429_backs_off_and_honours_retry_after() -> None:
    p = HostPolicy(rate=1.0, concurrency=1)
    p.acquire(10.0)
    p.release(10.2, 429, retry_after=30.0)
    assert p.ready_at() == 40.2
    assert p.interval == 2.0  # slowed down
    p.acquire(40.2)
    p.release(40.3, 503, retry_after=None)
    assert p.interval == 4.0
    assert p.ready_at() >= 40.3 + 4.0
    # ten good answers speed it up again
    now = p.ready_at()
    for _ in range(10):
        p.acquire(now)
        p.release(now, 200)
        now = p.ready_at()
    assert p.interval == 2.0


@given(
    rate=st.floats(min_value=0.1, max_value=50),
    statuses=st.lists(st.sampled_from([200, 404, 429, 503, None]), max_size=40),
)
def test_starts_never_closer_than_the_interval(rate: float, statuses: list[int | None]) -> None:
    p = HostPolicy(rate=rate, concurrency=1)
    now, last = 0.0, None
    for status in statuses:
        now = max(now, p.ready_at())
        interval = p.interval
        p.acquire(now)
        if last is not None:
            assert now - last >= min(interval, 1 / rate) - 1e-9
        last = now
        now += 0.01
        p.release(now, status)


def test_retry_after_forms() -> None:
    assert parse_retry_after("120", 0) == 120
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470.0) == 10.0
    assert parse_retry_after("soon", 0) is None
    assert parse_retry_after(None, 0) is None
    assert parse_retry_after("99999", 0) == 300  # capped


def _req(url: str, host: str, i: int) -> Request:
    return Request(url=url, id=i, kind=Kind.PAGE, site=0, depth=0, origin=host)


async def test_scheduler_rate_on_fake_clock() -> None:
    clock = FakeClock()
    sched = Scheduler(Frontier(), lambda o: HostPolicy(rate=4.0, concurrency=8), clock)
    for i in range(6):
        sched.submit(_req(f"http://a/{i}", "http://a", i))
    starts = []
    while (req := await sched.get()) is not None:
        starts.append(clock.now)
        sched.release(req, 200, None)
    assert [round(s - starts[0], 6) for s in starts] == [0, 0.25, 0.5, 0.75, 1.0, 1.25]


async def test_scheduler_interleaves_hosts_and_defers_retries() -> None:
    clock = FakeClock()
    sched = Scheduler(Frontier(), lambda o: HostPolicy(rate=1.0, concurrency=1), clock)
    for i in range(2):
        sched.submit(_req(f"http://a/{i}", "http://a", i))
        sched.submit(_req(f"http://b/{i}", "http://b", 10 + i))
    order = []
    retried = False
    while (req := await sched.get()) is not None:
        order.append((round(clock.now - 1000.0, 6), req.url))
        sched.release(req, 200, None)
        if req.url == "http://a/0" and not retried:
            retried = True
            sched.defer(req, 5.0)  # a retry waits in the frontier, not in a worker
    assert order[:2] == [(0, "http://a/0"), (0, "http://b/0")]  # the other host is not held up
    assert (1.0, "http://a/1") in order
    assert (1.0, "http://b/1") in order
    assert order[-1] == (5.0, "http://a/0")


async def test_get_returns_none_for_every_worker_when_done() -> None:
    clock = FakeClock()
    sched = Scheduler(Frontier(), lambda o: HostPolicy(rate=0, concurrency=1), clock)
    sched.submit(_req("http://a/0", "http://a", 0))

    async def worker() -> int:
        n = 0
        while (req := await sched.get()) is not None:
            n += 1
            await asyncio.sleep(0)
            sched.release(req, 200, None)
        return n

    counts = await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(4))), 5)
    assert sorted(counts) == [0, 0, 0, 1]
