"""The scheduler: the only code that waits for politeness.

Workers ask :meth:`Scheduler.get` for the next request. It hands out a request only when its
host's policy allows one to start (rate, concurrency, back-off), taking the host's slot for the
worker; :meth:`Scheduler.release` gives it back. Retries and re-checks wait in the frontier with
a not-before time, so no worker ever sleeps while holding a host's slot. When nothing is queued,
delayed or in flight, every waiting worker gets ``None``: the scan is finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import math
import time
from collections.abc import Callable
from typing import Protocol

from crawler.core.frontier import Frontier, Request
from crawler.net.ratelimit import HostPolicy


class Clock(Protocol):
    def monotonic(self) -> float: ...

    async def wait(self, event: asyncio.Event, delay: float | None) -> None:
        """Return when ``event`` is set or ``delay`` seconds have passed."""
        ...


class RealClock:
    def monotonic(self) -> float:
        return time.monotonic()

    async def wait(self, event: asyncio.Event, delay: float | None) -> None:
        if delay is None:
            await event.wait()
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await event.wait()


class Scheduler:
    def __init__(
        self,
        frontier: Frontier,
        policy_for: Callable[[str], HostPolicy],
        clock: Clock | None = None,
    ) -> None:
        self.frontier = frontier
        self.clock: Clock = clock or RealClock()
        self._policy_for = policy_for
        self._policies: dict[str, HostPolicy] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._pushed: dict[str, float] = {}
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._closed = False

    def policy(self, origin: str) -> HostPolicy:
        policy = self._policies.get(origin)
        if policy is None:
            policy = self._policies[origin] = self._policy_for(origin)
        return policy

    @property
    def hosts(self) -> int:
        return len(self._policies)

    def _schedule(self, origin: str) -> None:
        if not self.frontier.has_work(origin):
            return
        ready = self.policy(origin).ready_at()
        if ready == math.inf or self._pushed.get(origin) == ready:
            return
        self._pushed[origin] = ready
        heapq.heappush(self._heap, (ready, next(self._seq), origin))

    def submit(self, request: Request) -> None:
        """Queue a new request for its host."""
        self.frontier.push(request)
        self._schedule(request.origin)
        self._wake.set()

    def defer(self, request: Request, delay: float) -> None:
        """Queue ``request`` again after ``delay`` seconds (a retry or a re-check)."""
        self.frontier.defer(request, self.clock.monotonic() + max(0.0, delay))
        self._wake.set()

    def release(self, request: Request, status: int | None, retry_after: float | None) -> None:
        """The worker is done with ``request``'s host slot."""
        self._free(request.origin, status, retry_after)

    def release_origin(self, origin: str, status: int | None) -> None:
        """The slot taken by :meth:`acquire` is free again."""
        self._free(origin, status, None)

    def _free(self, origin: str, status: int | None, retry_after: float | None) -> None:
        self.policy(origin).release(self.clock.monotonic(), status, retry_after)
        self.frontier.in_flight -= 1
        self._schedule(origin)
        self._wake.set()

    async def acquire(self, origin: str) -> None:
        """Take a slot of ``origin`` for a request made outside the queue (a soft-404 probe)."""
        policy = self.policy(origin)
        while True:
            now = self.clock.monotonic()
            ready = policy.ready_at()
            if ready <= now:
                policy.acquire(now)
                self.frontier.in_flight += 1
                return
            self._wake.clear()
            await self.clock.wait(self._wake, None if ready == math.inf else ready - now)

    def close(self) -> None:
        """Stop handing out work; waiting workers get ``None``."""
        self._closed = True
        self._wake.set()

    async def get(self) -> Request | None:
        """The next request whose host may be asked now, or ``None`` when the scan is done."""
        frontier = self.frontier
        while True:
            if self._closed:
                return None
            now = self.clock.monotonic()
            for due in frontier.release_due(now):
                self._schedule(due.origin)
            heap = self._heap
            while heap and heap[0][0] <= now:
                ready, _, origin = heapq.heappop(heap)
                if self._pushed.get(origin) != ready:
                    continue  # superseded entry
                del self._pushed[origin]
                if not frontier.has_work(origin):
                    continue
                policy = self.policy(origin)
                actual = policy.ready_at()
                if actual > now:
                    self._schedule(origin)
                    continue
                request = frontier.pop(origin)
                policy.acquire(now)
                frontier.in_flight += 1
                self._schedule(origin)
                return request
            if frontier.outstanding == 0:
                self._wake.set()  # let every other waiting worker see the end
                return None
            wake_at = heap[0][0] if heap else math.inf
            delayed = frontier.next_delayed_at()
            if delayed is not None:
                wake_at = min(wake_at, delayed)
            self._wake.clear()
            await self.clock.wait(self._wake, None if wake_at == math.inf else wake_at - now)
