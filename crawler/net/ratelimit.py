"""Per-host politeness as pure logic over an injected time.

A :class:`HostPolicy` knows a host's request rate, how many requests may be in flight, and the
adaptive back-off after ``429``/``503``. It never waits: it says *when* the next request may
start, and the scheduler (the only code that waits) acts on that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

MAX_SLOWDOWN = 16.0
DEFAULT_BACKOFF = 1.0  # seconds, when a 429/503 comes without Retry-After and rate is unlimited
MAX_RETRY_AFTER = 300.0


@dataclass(slots=True)
class HostPolicy:
    """Rate, concurrency and back-off of one host (``scheme://host:port``)."""

    rate: float
    concurrency: int
    in_flight: int = 0
    next_start: float = 0.0
    backoff_until: float = 0.0
    slowdown: float = 1.0
    successes: int = 0

    @property
    def interval(self) -> float:
        """Seconds between request starts at the current (possibly slowed) rate."""
        return self.slowdown / self.rate if self.rate > 0 else 0.0

    def ready_at(self) -> float:
        """The earliest time a new request may start, ``inf`` while every slot is taken."""
        if self.in_flight >= self.concurrency:
            return math.inf
        return max(self.next_start, self.backoff_until)

    def acquire(self, now: float) -> None:
        """A request starts now (the caller checked :meth:`ready_at`)."""
        self.in_flight += 1
        self.next_start = max(now, self.next_start) + self.interval

    def release(self, now: float, status: int | None, retry_after: float | None = None) -> None:
        """A request ended with HTTP ``status`` (``None`` for a network failure)."""
        self.in_flight = max(0, self.in_flight - 1)
        if status in (429, 503):
            self.successes = 0
            self.slowdown = min(self.slowdown * 2, MAX_SLOWDOWN)
            pause = (
                retry_after
                if retry_after is not None
                else max(self.interval, DEFAULT_BACKOFF * self.slowdown / 2)
            )
            pause = min(max(pause, 0.0), MAX_RETRY_AFTER)
            self.backoff_until = max(self.backoff_until, now + pause)
            self.next_start = max(self.next_start, self.backoff_until)
        elif status is not None and status < 500:
            self.successes += 1
            if self.slowdown > 1.0 and self.successes >= 10:
                self.slowdown = max(1.0, self.slowdown / 2)
                self.successes = 0


def parse_retry_after(value: str | None, now_epoch: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER)

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return min(max(0.0, when.timestamp() - now_epoch), MAX_RETRY_AFTER)
