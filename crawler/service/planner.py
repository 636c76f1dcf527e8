"""Planning, pure: when to sample availability, when to scan each site, and the ``[schedule]``.

Three parts, none of which does I/O or reads a clock:

* :func:`sample_times`: the availability sampling times of one day (the official rule asks for
  20+ requests a day "at intervals"): the day cut into equal slots, one time per slot, moved by a
  random jitter from a seeded RNG, never two closer than a minimum spacing.
* :func:`plan_scans`: from each site's size in earlier scans (pages + checked links; a default
  estimate when unknown) and its host's ``rate`` / ``concurrency``, when each site's scan starts
  so that every scan ends inside the window (dates such as 16–20 June, optionally only inside a
  daily window such as 09:00–18:00). Sites on one host share its politeness budget, so they are
  planned one after the other; hosts run side by side. When the window is too short for the
  configured rates the plan says so in plain words and names the rate that would fit.
* :func:`parse_schedule`: the ``[schedule]`` section validated into a frozen :class:`Schedule`,
  raising :class:`crawler.config.ConfigError` (file, key, reason) like the rest of the config.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

from crawler.config import ConfigError, Rules, Site, _describe
from crawler.net.urls import origin

#: The official rule: at least this many availability requests a day.
OFFICIAL_SAMPLES_PER_DAY = 20
#: The national veto threshold of 站点无法访问 (failures / requests over the week).
VETO_FAILURE_RATE = 0.05

_DAY = 86400


# ---------------------------------------------------------------------------------------------
# (a) availability sampling times


def sample_times(
    day: dt.date,
    per_day: int = 24,
    *,
    tz: dt.tzinfo | str = "Asia/Shanghai",
    jitter: float = 0.5,
    seed: int | str | None = None,
    min_spacing: dt.timedelta = dt.timedelta(minutes=10),
) -> list[dt.datetime]:
    """``per_day`` sampling times on ``day`` (local to ``tz``), in order, aware.

    The day (86 400 s, or 82 800 / 90 000 on a DST change) is cut into ``per_day`` equal slots;
    each time is its slot's centre moved by a uniform random offset of up to ``jitter`` / 2 of a
    slot either way (``jitter`` 0: exactly the centres; 1: anywhere in the slot). Consecutive
    times are therefore at least about (1 - ``jitter``) slots apart; when that is less than
    ``min_spacing`` a :class:`ValueError` says so (lower ``jitter`` or ``per_day``).

    The RNG is seeded from ``seed`` and the date, so a seeded daemon that restarts mid-day
    finds the same times again, and every day gets different ones. ``seed=None`` draws from
    the OS (times nobody can predict). Whole seconds.
    """
    if per_day < 1:
        raise ValueError(f"per_day must be >= 1, not {per_day}")
    if not 0.0 <= jitter <= 1.0:
        raise ValueError(f"jitter must be between 0 and 1, not {jitter}")
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    start_utc = start.astimezone(dt.UTC)
    length = int((end.astimezone(dt.UTC) - start_utc).total_seconds())
    bounds = [i * length // per_day for i in range(per_day + 1)]
    centres = [(a + b) // 2 for a, b in itertools.pairwise(bounds)]
    halves = [int(jitter * (b - a)) // 2 for a, b in itertools.pairwise(bounds)]
    spacing = int(min_spacing.total_seconds())
    for i in range(per_day - 1):
        worst = centres[i + 1] - centres[i] - halves[i] - halves[i + 1]
        if worst < spacing:
            raise ValueError(
                f"{per_day} samples a day with jitter {jitter:g} can come {worst} s apart,"
                f" closer than the minimum spacing of {spacing} s: lower the jitter or the"
                " number of samples"
            )
    rng = random.Random(f"{seed}/{day.isoformat()}") if seed is not None else random.Random()
    out = []
    for centre, half in zip(centres, halves, strict=True):
        offset = centre + (rng.randint(-half, half) if half else 0)
        out.append((start_utc + dt.timedelta(seconds=offset)).astimezone(zone))
    return out


# ---------------------------------------------------------------------------------------------
# (b) the scan plan


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


def daily_intervals(
    start: dt.datetime, end: dt.datetime, daily: tuple[dt.time, dt.time] | None
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The parts of ``[start, end)`` inside the daily window (all of it without one).

    A daily window whose end is not after its start crosses midnight (``22:00-06:00``). Times
    are taken in ``start``'s time zone.
    """
    if end <= start:
        return []
    if daily is None:
        return [(start, end)]
    tz = start.tzinfo
    begin, finish = daily
    out: list[tuple[dt.datetime, dt.datetime]] = []
    day = start.astimezone(tz).date() - dt.timedelta(days=1)
    last = end.astimezone(tz).date()
    while day <= last:
        a = dt.datetime.combine(day, begin, tzinfo=tz)
        b_day = day if finish > begin else day + dt.timedelta(days=1)
        b = dt.datetime.combine(b_day, finish, tzinfo=tz)
        lo, hi = max(a, start), min(b, end)
        if lo < hi:
            out.append((lo, hi))
        day += dt.timedelta(days=1)
    return out


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


# ---------------------------------------------------------------------------------------------
# [schedule]

_DAILY = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_LISTEN = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:\[\]]+)):(?P<port>\d{1,5})$")


@dataclass(frozen=True, slots=True)
class Schedule:
    """The ``[schedule]`` section of the config: when the daemon samples, scans and warns."""

    window_start: dt.date | dt.datetime | None = None
    window_end: dt.date | dt.datetime | None = None  # a bare date is inclusive (its whole day)
    daily: tuple[dt.time, dt.time] | None = None
    samples_per_day: int = 24
    sample_jitter: float = 0.5
    seed: int | None = None
    scan_margin: float = 0.1
    default_site_requests: int = 5000
    webhook: str | None = None
    webhook_timeout: float = 10.0
    webhook_retries: int = 5
    warn_failure_rate: float = 0.03
    warn_homepage_days: int = 10
    warn_blank_margin: int = 1
    warn_stale_margin: int = 1
    warn_guides_margin: int = 1
    warn_unanswered_days: int = 75
    metrics_listen: str = "127.0.0.1:9108"

    def window(self, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime] | None:
        """The fixed window as aware times (a bare end date runs to the end of that day)."""
        if self.window_start is None or self.window_end is None:
            return None
        return _moment(self.window_start, tz, end=False), _moment(self.window_end, tz, end=True)

    def scan_window(
        self, now: dt.datetime, tz: dt.tzinfo
    ) -> tuple[dt.datetime, dt.datetime] | None:
        """The window the next scans are planned in, seen at ``now``.

        The fixed window while it is current or ahead (``None`` once it has passed); without
        one, the daily window in progress at ``now`` or the next one (its start moved to
        ``now`` when already running); ``None`` without any window (scans on demand).
        """
        fixed = self.window(tz)
        if fixed is not None:
            start, end = fixed
            if now >= end:
                return None
            return max(start, now), end
        if self.daily is None:
            return None
        local = now.astimezone(tz)
        for a, b in daily_intervals(
            local - dt.timedelta(days=1), local + dt.timedelta(days=2), self.daily
        ):
            if b > local:
                return max(a, local), b
        return None  # pragma: no cover - a daily window always recurs within two days

    @property
    def listen(self) -> tuple[str, int]:
        m = _LISTEN.match(self.metrics_listen)
        assert m is not None  # validated by parse_schedule
        return (m.group("v6") or m.group("host")), int(m.group("port"))


def _moment(value: dt.date | dt.datetime, tz: dt.tzinfo, *, end: bool) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    day = value + dt.timedelta(days=1) if end else value
    return dt.datetime.combine(day, dt.time(), tzinfo=tz)


SCHEDULE_KEYS = frozenset(Schedule.__dataclass_fields__)


def parse_schedule(table: Mapping[str, Any], path: str, *, rules: Rules | None = None) -> Schedule:
    """Validate the ``[schedule]`` table of the config file at ``path``.

    Raises :class:`ConfigError` naming ``schedule.KEY`` and what is wrong. With ``rules``, the
    warning thresholds are also checked against the veto rules they precede (a warning at or
    after the veto would never come early).
    """
    if not isinstance(table, Mapping):
        raise ConfigError(path, "schedule", "must be a table ([schedule])")
    d = Schedule()

    def error(key: str, reason: str) -> ConfigError:
        return ConfigError(path, f"schedule.{key}", reason)

    for key in table:
        if key not in SCHEDULE_KEYS:
            raise error(key, f"unknown key (known keys: {', '.join(sorted(SCHEDULE_KEYS))})")

    def integer(key: str, default: int, lo: int, hi: int | None = None) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise error(key, f"must be an integer, not {_describe(value)}")
        if value < lo or (hi is not None and value > hi):
            bound = f"between {lo} and {hi}" if hi is not None else f">= {lo}"
            raise error(key, f"must be {bound}, not {value}")
        return value

    def number(key: str, default: float, lo: float, hi: float, *, hi_open: bool = True) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise error(key, f"must be a number, not {_describe(value)}")
        number_ = float(value)
        if (
            not math.isfinite(number_)
            or number_ < lo
            or number_ > hi
            or (hi_open and number_ == hi)
        ):
            closing = ")" if hi_open else "]"
            raise error(key, f"must be in [{lo:g}, {hi:g}{closing}, not {number_:g}")
        return number_

    start = _when(table, "window_start", error)
    end = _when(table, "window_end", error)
    if (start is None) != (end is None):
        missing = "window_end" if end is None else "window_start"
        raise error(missing, "is required when the other end of the window is given")
    if start is not None and end is not None:
        probe = ZoneInfo("UTC")
        if _moment(end, probe, end=True) <= _moment(start, probe, end=False):
            raise error("window_end", f"must not be before window_start ({start} > {end})")

    daily = None
    if "daily" in table:
        raw = table["daily"]
        m = _DAILY.match(raw) if isinstance(raw, str) else None
        if m is None:
            raise error("daily", f'must be "HH:MM-HH:MM" such as "09:00-18:00", not {raw!r}')
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59 or (h1 == 24 and m1) or (h2 == 24 and m2):
            raise error("daily", f"not a time of day in {raw!r}")
        first = dt.time(h1 % 24, m1)
        second = dt.time(h2 % 24, m2)
        if first == second:
            raise error("daily", f"the daily window is empty: {raw!r}")
        daily = (first, second)

    per_day = integer("samples_per_day", d.samples_per_day, OFFICIAL_SAMPLES_PER_DAY, 144)
    jitter = number("sample_jitter", d.sample_jitter, 0.0, 1.0, hi_open=False)
    try:
        sample_times(dt.date(2020, 1, 1), per_day, tz="UTC", jitter=jitter, seed=0)
    except ValueError as exc:
        raise error("sample_jitter", str(exc)) from None
    seed = None
    if "seed" in table:
        seed = integer("seed", 0, 0)

    webhook = None
    if "webhook" in table:
        raw = table["webhook"]
        if not isinstance(raw, str) or not re.match(r"^https?://[^/\s]+", raw.strip()):
            raise error("webhook", f"must be an http(s) URL, not {_describe(raw)}")
        webhook = raw.strip()

    warn_rate = number("warn_failure_rate", d.warn_failure_rate, 0.0, VETO_FAILURE_RATE)
    if warn_rate == 0:
        raise error("warn_failure_rate", "must be > 0 (a rate at or above 5 % is the veto)")
    homepage_days = integer("warn_homepage_days", d.warn_homepage_days, 0)
    if rules is not None and homepage_days >= rules.news_max_age_days > 0:
        raise error(
            "warn_homepage_days",
            f"must be below [rules] news_max_age_days ({rules.news_max_age_days}), the veto"
            f" (0 turns the warning off), not {homepage_days}",
        )
    unanswered_days = integer("warn_unanswered_days", d.warn_unanswered_days, 0)
    if rules is not None and unanswered_days > rules.unanswered_max_days:
        raise error(
            "warn_unanswered_days",
            f"must not exceed [rules] unanswered_max_days ({rules.unanswered_max_days}),"
            f" not {unanswered_days}",
        )

    listen = table.get("metrics_listen", d.metrics_listen)
    m = _LISTEN.match(listen) if isinstance(listen, str) else None
    if m is None or not 0 <= int(m.group("port")) <= 65535:
        raise error(
            "metrics_listen", f'must be "HOST:PORT" such as "127.0.0.1:9108", not {listen!r}'
        )

    return Schedule(
        window_start=start,
        window_end=end,
        daily=daily,
        samples_per_day=per_day,
        sample_jitter=jitter,
        seed=seed,
        scan_margin=number("scan_margin", d.scan_margin, 0.0, 0.9, hi_open=False),
        default_site_requests=integer("default_site_requests", d.default_site_requests, 1),
        webhook=webhook,
        webhook_timeout=number("webhook_timeout", d.webhook_timeout, 0.001, 600.0, hi_open=False),
        webhook_retries=integer("webhook_retries", d.webhook_retries, 0, 20),
        warn_failure_rate=warn_rate,
        warn_homepage_days=homepage_days,
        warn_blank_margin=integer("warn_blank_margin", d.warn_blank_margin, 0, 4),
        warn_stale_margin=integer("warn_stale_margin", d.warn_stale_margin, 0, 4),
        warn_guides_margin=integer("warn_guides_margin", d.warn_guides_margin, 0, 4),
        warn_unanswered_days=unanswered_days,
        metrics_listen=listen,
    )


def _when(table: Mapping[str, Any], key: str, error: Any) -> dt.date | dt.datetime | None:
    if key not in table:
        return None
    value = table[key]
    if isinstance(value, dt.datetime | dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return (
                dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
            )
        except ValueError:
            pass
    raise error(key, f"must be a date such as 2020-06-16 (or a date-time), not {_describe(value)}")
