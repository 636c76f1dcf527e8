"""Availability judged from the home-page samples, pure (站点无法访问, the 15 s rule).

The national rule: each site's home page is requested 20+ times a day at intervals for a week; a
request not answered within 15 s (or failing) is a failure; failures reaching 5 % of all the
requests is the veto ``site.unreachable``. Some failures below that are the deduction
``site.availability`` (the scoring table deducts 5 points per 1 %: ``detail.failure_rate`` is
the fraction).

The judgement looks at the trailing ``days`` (7) up to ``as_of``, which defaults to the newest
sample of all sites: the window is ``(as_of - 7 days, as_of]``. Rates are compared exactly
(``7 / 140`` is 5 %, a veto; ``6 / 140`` is not), never through float rounding.

Each judgement's detail carries the counts (samples, failures, rate), the samples and failures
per calendar day (in the config's time zone), the whole days inside the window that had fewer
than the official 20 samples (said in plain words in ``notes``), how many days the samples
actually cover, and the failures by phase (dns, connect, tls, first byte, body, status).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from checks.base import Finding
from storage.base import SampleRow

UNREACHABLE = "site.unreachable"
AVAILABILITY = "site.availability"
#: The official rule's minimum of requests a day.
MIN_PER_DAY = 20
#: Statuses that mean "the server answered but refused a robot" (anti-bot front ends): the
#: probe counts them as successes; the summary says how many there were.
REFUSED_STATUSES = frozenset({403, 412, 429})


class AvailabilityJudgement(NamedTuple):
    site: str
    code: str  # site.unreachable | site.availability
    detail: dict[str, Any]


@dataclass(slots=True)
class SiteAvailability:
    """The samples of one site in the window, counted."""

    site: str
    url: str
    since: dt.datetime  # the window's start (exclusive)
    until: dt.datetime  # its end (inclusive): as_of
    samples: int = 0
    failures: int = 0
    refused: int = 0  # successes answered 403/412/429 (an anti-bot front end: the site is up)
    per_day: dict[str, list[int]] = field(default_factory=dict)  # YYYY-MM-DD -> [n, failed]
    by_phase: Counter[str] = field(default_factory=Counter)
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    worst_ms: int | None = None

    @property
    def rate(self) -> Fraction:
        return Fraction(self.failures, self.samples) if self.samples else Fraction(0)

    @property
    def failure_rate(self) -> float:
        return float(self.rate)

    def thin_days(self, tz: dt.tzinfo, minimum: int = MIN_PER_DAY) -> dict[str, int]:
        """Whole calendar days inside the window with fewer than ``minimum`` samples."""
        out: dict[str, int] = {}
        day = self.since.astimezone(tz).date()
        last = self.until.astimezone(tz).date()
        while day <= last:
            start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
            end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
            if start >= self.since and end <= self.until:
                n = self.per_day.get(day.isoformat(), [0, 0])[0]
                if n < minimum:
                    out[day.isoformat()] = n
            day += dt.timedelta(days=1)
        return out

    def covered_days(self) -> float:
        """How many days lie between the window's first sample and its end (at most ``days``)."""
        if self.first is None:
            return 0.0
        return round((self.until - self.first).total_seconds() / 86400, 2)


def parse_at(text: str) -> dt.datetime:
    """A sample's ``at`` (ISO 8601 with an offset) as an aware time; naive means UTC."""
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def summarize(
    samples: Iterable[SampleRow],
    *,
    as_of: dt.datetime | None = None,
    days: int = 7,
    tz: dt.tzinfo | str = "Asia/Shanghai",
    since: dt.datetime | None = None,
) -> dict[str, SiteAvailability]:
    """Every site's samples in ``(as_of - days, as_of]`` (or ``(since, as_of]``), counted (sites
    in first-seen order).

    ``as_of`` defaults to the newest sample of all; samples after ``as_of`` are left out.
    """
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    rows = [(parse_at(s.at), s) for s in samples]
    if not rows:
        return {}
    until = as_of if as_of is not None else max(at for at, _ in rows)
    if until.tzinfo is None:
        raise ValueError("as_of must be an aware datetime")
    if since is None:
        since = until - dt.timedelta(days=days)
    out: dict[str, SiteAvailability] = {}
    for at, s in rows:
        if not since < at <= until:
            continue
        st = out.get(s.site)
        if st is None:
            st = out[s.site] = SiteAvailability(s.site, s.url, since, until)
        st.samples += 1
        day = at.astimezone(zone).date().isoformat()
        counts = st.per_day.setdefault(day, [0, 0])
        counts[0] += 1
        if not s.ok:
            st.failures += 1
            counts[1] += 1
            st.by_phase[s.failed_at or "unknown"] += 1
        elif s.status in REFUSED_STATUSES:
            st.refused += 1
        if st.first is None or at < st.first:
            st.first = at
        if st.last is None or at >= st.last:
            st.last = at
            st.url = s.url
        if s.total_ms is not None and (st.worst_ms is None or s.total_ms > st.worst_ms):
            st.worst_ms = s.total_ms
    for st in out.values():
        st.per_day = dict(sorted(st.per_day.items()))
    return out


def judge_availability(
    samples: Iterable[SampleRow],
    *,
    as_of: dt.datetime | None = None,
    days: int = 7,
    veto_rate: float = 0.05,
    warn_rate: float = 0.03,
    min_per_day: int = MIN_PER_DAY,
    tz: dt.tzinfo | str = "Asia/Shanghai",
) -> list[AvailabilityJudgement]:
    """``site.unreachable`` (failures ≥ ``veto_rate`` of the samples) or ``site.availability``
    (some failures, below it) for every site with failed samples in the window.

    ``veto_rate`` and ``warn_rate`` are compared as the decimals they are written as
    (``0.05`` is exactly 1/20). ``detail.early_warning`` marks a deduction at or above
    ``warn_rate`` (the vendors' early warning before the veto).
    """
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    veto, warn = exact_rate(veto_rate), exact_rate(warn_rate)
    out: list[AvailabilityJudgement] = []
    for st in summarize(samples, as_of=as_of, days=days, tz=zone).values():
        if st.failures == 0:
            continue
        code = UNREACHABLE if st.rate >= veto else AVAILABILITY
        detail = describe(st, zone, days=days, veto_rate=veto_rate, min_per_day=min_per_day)
        if code == AVAILABILITY:
            detail["early_warning"] = st.rate >= warn
        out.append(AvailabilityJudgement(st.site, code, detail))
    return out


def describe(
    st: SiteAvailability,
    tz: dt.tzinfo,
    *,
    days: int = 7,
    veto_rate: float = 0.05,
    min_per_day: int = MIN_PER_DAY,
) -> dict[str, Any]:
    """The JSON detail of one site's availability (also useful when nothing failed)."""
    thin = st.thin_days(tz, min_per_day)
    covered = st.covered_days()
    notes: list[str] = []
    if thin:
        listed = ", ".join(f"{day} ({n})" for day, n in thin.items())
        notes.append(
            f"{len(thin)} day(s) had fewer than {min_per_day} samples (the official rule asks"
            f" for {min_per_day}+ requests a day): {listed}"
        )
    if covered < days - 0.25:
        notes.append(f"the samples cover {covered:g} of the {days} days the official rule monitors")
    if st.refused:
        notes.append(
            f"{st.refused} sample(s) were answered 403/412/429 (an anti-bot front end): the site"
            " answered, so they count as successes"
        )
    return {
        "url": st.url,
        "samples": st.samples,
        "failures": st.failures,
        "failure_rate": round(st.failure_rate, 6),
        "percent": round(st.failure_rate * 100, 2),
        "veto_rate": veto_rate,
        "since": st.since.astimezone(tz).isoformat(),
        "until": st.until.astimezone(tz).isoformat(),
        "days": days,
        "covered_days": covered,
        "per_day": {day: {"samples": n, "failures": f} for day, (n, f) in st.per_day.items()},
        "thin_days": thin,
        "min_per_day": min_per_day,
        "by_phase": dict(sorted(st.by_phase.items())),
        "refused": st.refused,
        "worst_ms": st.worst_ms,
        "notes": notes,
    }


def to_finding(judgement: AvailabilityJudgement, unit: str) -> Finding:
    """The store's :class:`Finding` for a judgement (subject: the home page)."""
    return Finding(
        check=judgement.code,
        site=judgement.site,
        unit=unit,
        url=str(judgement.detail["url"]),
        page=str(judgement.detail["url"]),
        detail=judgement.detail,
    )


def exact_rate(rate: float) -> Fraction:
    """The decimal a rate was written as: ``0.05`` -> 1/20 (not the float's binary value)."""
    return Fraction(repr(float(rate)))


def rates(summary: Mapping[str, SiteAvailability]) -> dict[str, float]:
    """Site -> failure rate (a fraction), for gauges and warnings."""
    return {site: st.failure_rate for site, st in summary.items()}


# -- a scan's sampling period --------------------------------------------------------------------

#: A sample that could not be judged for want of samples (info, never a veto).
INSUFFICIENT = "site.samples_insufficient"


@dataclass(frozen=True, slots=True)
class Period:
    """The sampling period whose samples judge a scan's availability: fixed for the scan, so its
    report reads the same once the period is over."""

    since: dt.datetime  # its start (inclusive)
    until: dt.datetime  # its end (exclusive)
    basis: str  # "window": the [schedule] window; "scan": the days up to the scan's own day
    min_samples: int

    def provisional(self, now: dt.datetime) -> bool:
        """Whether samples may still arrive (the period is not over at ``now``)."""
        return now < self.until

    def describe(self, tz: dt.tzinfo) -> dict[str, Any]:
        days = (self.until - self.since).total_seconds() / 86400
        return {
            "since": self.since.astimezone(tz).isoformat(),
            "until": self.until.astimezone(tz).isoformat(),
            "basis": self.basis,
            "days": round(days, 2),
            "min_samples": self.min_samples,
            "official_samples": MIN_PER_DAY * 7,
        }


def scan_period(
    started_at: str, settings: Mapping[str, Any], tz: dt.tzinfo, *, days: int = 7
) -> Period:
    """The sampling period of a scan that started at ``started_at`` (ISO 8601).

    With a ``[schedule]`` window (kept in the scan's ``settings``), the window. Without one,
    the ``days`` calendar days (``[rules] availability_period_days``, 7) ending with the day the
    scan started, in the config's time zone: probes taken that day, before or after the scan,
    count for it; later ones never change its report. The minimum of samples for a verdict is
    ``[rules] availability_min_samples`` (20).
    """
    avail = settings.get("availability") or {}
    minimum = int(avail.get("min_samples", MIN_PER_DAY))
    window = avail.get("window")
    if window:
        return Period(parse_at(window[0]), parse_at(window[1]), "window", minimum)
    length = max(1, int(avail.get("days", days)))
    day = parse_at(started_at).astimezone(tz).date()
    start = dt.datetime.combine(day - dt.timedelta(days=length - 1), dt.time(), tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return Period(start, end, "scan", minimum)


def judge_period(
    samples: Iterable[SampleRow],
    period: Period,
    *,
    veto_rate: float = 0.05,
    warn_rate: float = 0.03,
    tz: dt.tzinfo | str = "Asia/Shanghai",
) -> tuple[dict[str, SiteAvailability], list[AvailabilityJudgement]]:
    """Every site's samples in ``period``, and the judgements they allow: with fewer than
    ``period.min_samples`` samples, failures are :data:`INSUFFICIENT` (info), never a veto."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    veto, warn = exact_rate(veto_rate), exact_rate(warn_rate)
    days = max(1, round((period.until - period.since).total_seconds() / 86400))
    tick = dt.timedelta(microseconds=1)  # summarize counts (since, until]; a period is [start, end)
    summary = summarize(samples, as_of=period.until - tick, since=period.since - tick, tz=zone)
    out: list[AvailabilityJudgement] = []
    for st in summary.values():
        st.since, st.until = period.since, period.until
        if st.failures == 0:
            continue
        detail = describe(st, zone, days=days, veto_rate=veto_rate)
        detail["period"] = period.basis
        if st.samples < period.min_samples:
            detail["min_samples"] = period.min_samples
            detail["notes"] = [
                f"only {st.samples} sample(s) in the period, fewer than the {period.min_samples}"
                " a verdict needs: not judged",
                *detail["notes"],
            ]
            out.append(AvailabilityJudgement(st.site, INSUFFICIENT, detail))
            continue
        code = UNREACHABLE if st.rate >= veto else AVAILABILITY
        if code == AVAILABILITY:
            detail["early_warning"] = st.rate >= warn
        out.append(AvailabilityJudgement(st.site, code, detail))
    return summary, out
