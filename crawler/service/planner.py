"""Planning, pure: when to scan each site so that every scan ends inside the window.

:func:`plan_scans`: from each site's size in earlier scans (pages + checked links; a default
estimate when unknown) and its host's ``rate`` / ``concurrency``, when each site's scan starts
so that every scan ends inside the window (dates such as 16–20 June, optionally only inside a
daily window such as 09:00–18:00). Sites on one host share its politeness budget, so they are
planned one after the other; hosts run side by side. When the window is too short for the
configured rates the plan says so in plain words and names the rate that would fit. No I/O, no
clock.

The ``[schedule]`` section and the availability sampling times it asks for
(:func:`sample_times`) live in :mod:`crawler.config.schedule`, beside the config they are part
of; they are named here too for the daemon and the probe.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from crawler.config.model import Schedule, Site, daily_intervals
from crawler.config.schedule import (
    OFFICIAL_SAMPLES_PER_DAY,
    VETO_FAILURE_RATE,
    parse_schedule,
    sample_times,
)
from crawler.net.urls import origin

__all__ = [
    "OFFICIAL_SAMPLES_PER_DAY",
    "VETO_FAILURE_RATE",
    "Plan",
    "PlannedScan",
    "Schedule",
    "SiteSize",
    "daily_intervals",
    "parse_schedule",
    "plan_scans",
    "sample_times",
    "site_sizes",
]

# ---------------------------------------------------------------------------------------------
# the scan plan


@dataclass(frozen=True, slots=True)
class SiteSize:
    """What is known of one site before planning its scan.

    ``host`` is the politeness key (``scheme://host[:port]``, :func:`crawler.net.urls.origin` of the
    site's URL): sites on one host share its rate. ``requests`` is pages + checked links of the
    site's last complete scan, ``None`` when it has never been scanned. ``rate`` /
    ``concurrency`` override the plan's defaults for this site's host.
    """

    site: str
    host: str
    requests: int | None = None
    rate: float | None = None
    concurrency: int | None = None


def site_sizes(sites: Iterable[Site], requests: Mapping[str, int]) -> list[SiteSize]:
    """The planner's input for configured ``sites``: ``requests`` maps site ids to pages +
    checked links of their last complete scan (absent: never scanned, the default applies)."""
    return [SiteSize(s.id, origin(s.url), requests.get(s.id)) for s in sites]


@dataclass(frozen=True, slots=True)
class PlannedScan:
    site: str
    host: str
    requests: int
    estimated: bool  # True: no earlier scan, ``requests`` is the default estimate
    start: dt.datetime
    finish: dt.datetime  # expected, pauses outside the daily window included
    duration: dt.timedelta  # expected scanning time (pauses excluded)
    rate: float  # requests/s the duration assumes (after the concurrency bound)


@dataclass(frozen=True, slots=True)
class Plan:
    start: dt.datetime
    end: dt.datetime
    available: dt.timedelta  # scanning time the window offers (daily hours only)
    usable: dt.timedelta  # ``available`` less the margin kept for retries and re-checks
    scans: tuple[PlannedScan, ...]
    fits: bool = True  # every scan is expected to end inside the window
    problems: tuple[str, ...] = ()  # the window is too short (or too tight): plain words
    notes: tuple[str, ...] = ()  # assumptions worth saying (estimated sizes ...)
    intervals: tuple[tuple[dt.datetime, dt.datetime], ...] = ()

    def scan(self, site: str) -> PlannedScan:
        for s in self.scans:
            if s.site == site:
                return s
        raise KeyError(site)

    def messages(self) -> list[str]:
        """What to say at start-up: problems first, then notes."""
        return [*self.problems, *self.notes]


class _Axis:
    """Scanning time (seconds inside the intervals) <-> wall time."""

    def __init__(self, intervals: Sequence[tuple[dt.datetime, dt.datetime]]) -> None:
        self.intervals = list(intervals)
        self.total = sum((b - a).total_seconds() for a, b in self.intervals)

    def wall(self, offset: float, *, starting: bool) -> dt.datetime:
        """The wall time ``offset`` seconds of scanning time into the window. A start that falls
        on an interval's end moves to the next interval's start; a finish stays put. Beyond the
        window, time runs on from its end (what an overrun would take)."""
        remaining = offset
        for i, (a, b) in enumerate(self.intervals):
            span = (b - a).total_seconds()
            if remaining < span or (remaining == span and not starting):
                return a + dt.timedelta(seconds=remaining)
            if remaining == span and i == len(self.intervals) - 1:
                return b
            remaining -= span
        last = self.intervals[-1][1]
        return last + dt.timedelta(seconds=remaining)


def _hours(seconds: float) -> str:
    hours = seconds / 3600
    if hours >= 10:
        return f"{round(hours)} h"
    if hours >= 1:
        return f"{hours:.1f} h"
    return f"{max(1, round(seconds / 60))} min"


def _ceil1(x: float) -> float:
    """Round up to one decimal, ignoring float dust (2.2799999 -> 2.3, 2.3000001 -> 2.3)."""
    return math.ceil(round(x * 10, 6)) / 10


def _rate_words(rate: float) -> str:
    return f"{rate:g} request/s" if rate == 1 else f"{rate:g} requests/s"


@dataclass(slots=True)
class _Lane:
    host: str
    rate: float
    concurrency: int
    sites: list[tuple[SiteSize, int, bool, float]] = field(default_factory=list)

    @property
    def work(self) -> float:
        return sum(d for *_, d in self.sites)

    @property
    def requests(self) -> int:
        return sum(n for _, n, _, _ in self.sites)


def plan_scans(
    sizes: Iterable[SiteSize],
    *,
    start: dt.datetime,
    end: dt.datetime,
    rate: float = 2.0,
    concurrency: int = 2,
    daily: tuple[dt.time, dt.time] | None = None,
    latency: float = 0.5,
    default_requests: int = 5000,
    margin: float = 0.1,
    align: Literal["spread", "start"] = "spread",
) -> Plan:
    """Plan each site's scan inside ``[start, end)`` (and the daily window, if any).

    A site's expected scanning time is ``requests / effective rate``, the effective rate being
    the host's ``rate`` (0: unlimited) bounded by ``concurrency / latency`` (requests in flight
    over a typical response time). Sites on one host are planned one after another, largest
    first; hosts side by side. ``margin`` (a fraction) of the window is kept free for retries,
    re-checks and a resumed scan. With ``align="spread"`` the scans of a host are spread evenly
    over the usable window (a shared host sees a steady, light load); with ``"start"`` they run
    back to back from the window's start (the rest of the window is slack).

    When a host's scans need more time than the window offers, :attr:`Plan.problems` says so
    in plain words with the rate that would fit (the scans are then planned back to back from
    the start and run past the end).
    """
    if end <= start:
        raise ValueError(f"the window ends ({end.isoformat()}) before it starts")
    if not 0.0 <= margin < 1.0:
        raise ValueError(f"margin must be in [0, 1), not {margin}")
    if latency <= 0:
        raise ValueError(f"latency must be > 0, not {latency}")
    intervals = daily_intervals(start, end, daily)
    if not intervals:
        raise ValueError("the window holds no time inside the daily window")
    axis = _Axis(intervals)
    available = axis.total
    usable = available * (1.0 - margin)

    lanes: dict[str, _Lane] = {}
    estimated: list[str] = []
    for size in sizes:
        lane_rate = size.rate if size.rate is not None else rate
        lane_conc = size.concurrency if size.concurrency is not None else concurrency
        lane = lanes.setdefault(size.host, _Lane(size.host, lane_rate, lane_conc))
        known = size.requests is not None
        n = size.requests if size.requests is not None else default_requests
        if not known:
            estimated.append(size.site)
        effective = _effective(lane.rate, lane.concurrency, latency)
        lane.sites.append((size, n, not known, n / effective if n else 0.0))

    problems: list[str] = []
    fits = True
    scans: list[PlannedScan] = []
    for lane in sorted(lanes.values(), key=lambda ln: (-ln.work, ln.host)):
        work = lane.work
        effective = _effective(lane.rate, lane.concurrency, latency)
        if work > available:
            fits = False
        if work > usable:
            problems.append(
                _too_short(lane, work, available, usable, margin, latency, fits=work <= available)
            )
        order = sorted(lane.sites, key=lambda s: (-s[3], s[0].site))
        if align == "spread" and work <= usable and order:
            gap = (usable - work) / len(order)
            cursor = gap / 2
        else:
            gap, cursor = 0.0, 0.0
        for size, n, guessed, duration in order:
            first = axis.wall(cursor, starting=True)
            last = axis.wall(cursor + duration, starting=False)
            scans.append(
                PlannedScan(
                    site=size.site,
                    host=lane.host,
                    requests=n,
                    estimated=guessed,
                    start=first,
                    finish=last,
                    duration=dt.timedelta(seconds=duration),
                    rate=effective,
                )
            )
            cursor += duration + gap
    scans.sort(key=lambda s: (s.start, s.site))
    notes: list[str] = []
    if estimated:
        names = ", ".join(sorted(estimated))
        notes.append(
            f"no earlier scan of {names}: assumed {default_requests} requests each"
            " (pages + checked links); the next plan uses the real size"
        )
    return Plan(
        start=start,
        end=end,
        available=dt.timedelta(seconds=available),
        usable=dt.timedelta(seconds=usable),
        scans=tuple(scans),
        fits=fits,
        problems=tuple(problems),
        notes=tuple(notes),
        intervals=tuple(intervals),
    )


def _effective(rate: float, concurrency: int, latency: float) -> float:
    bound = concurrency / latency
    return min(rate, bound) if rate > 0 else bound


def _too_short(
    lane: _Lane,
    work: float,
    available: float,
    usable: float,
    margin: float,
    latency: float,
    *,
    fits: bool,
) -> str:
    names = [s.site for s, *_ in lane.sites]
    if len(names) == 1:
        who = f"站点 {names[0]}"
    else:
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        who = f"host {lane.host} ({len(names)} sites: {shown})"
    at = _rate_words(lane.rate) if lane.rate > 0 else "an unlimited rate"
    window = f"the window has {_hours(available)}"
    if margin > 0:
        window += f" ({_hours(usable)} once {margin:.0%} is kept for retries)"
    needed_rate = lane.requests / usable
    fixes: list[str] = []
    if lane.rate > 0:
        fixes.append(f"raise [crawl] rate to {_ceil1(needed_rate):g}")
    if lane.concurrency / latency < needed_rate:
        conc = math.ceil(round(needed_rate * latency, 6))
        fixes.append(f"concurrency to {conc}" if fixes else f"raise [crawl] concurrency to {conc}")
    fix = " and ".join(fixes) + " or widen the window"
    if fits:
        return (
            f"{who} needs about {_hours(work)} at {at}: it fits the window"
            f" ({_hours(available)}) only by using the time kept for retries; {fix}"
        )
    return f"{who} needs about {_hours(work)} at {at} but {window}: {fix}"
