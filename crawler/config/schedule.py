"""The ``[schedule]`` section: when the daemon samples availability, scans and warns.

:func:`parse_schedule` validates the table into a frozen :class:`~crawler.config.model.Schedule`,
raising :class:`~crawler.config.errors.ConfigError` (file, key, reason) like the rest of the
config. :func:`sample_times` is what ``samples_per_day`` and ``sample_jitter`` mean: the
availability sampling times of one day (the official rule asks for 20+ requests a day "at
intervals"): the day cut into equal slots, one time per slot, moved by a random jitter from a
seeded RNG, never two closer than a minimum spacing. Neither does I/O or reads a clock.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from crawler.config.errors import ConfigError, describe
from crawler.config.model import LISTEN_ADDRESS, Rules, Schedule, window_moment

__all__ = [
    "OFFICIAL_SAMPLES_PER_DAY",
    "SCHEDULE_KEYS",
    "VETO_FAILURE_RATE",
    "parse_schedule",
    "sample_times",
]

#: The official rule: at least this many availability requests a day.
OFFICIAL_SAMPLES_PER_DAY = 20
#: The national veto threshold of 站点无法访问 (failures / requests over the week).
VETO_FAILURE_RATE = 0.05


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


_DAILY = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

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
            raise error(key, f"must be an integer, not {describe(value)}")
        if value < lo or (hi is not None and value > hi):
            bound = f"between {lo} and {hi}" if hi is not None else f">= {lo}"
            raise error(key, f"must be {bound}, not {value}")
        return value

    def number(key: str, default: float, lo: float, hi: float, *, hi_open: bool = True) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise error(key, f"must be a number, not {describe(value)}")
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
        if window_moment(end, probe, end=True) <= window_moment(start, probe, end=False):
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
            raise error("webhook", f"must be an http(s) URL, not {describe(raw)}")
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
    m = LISTEN_ADDRESS.match(listen) if isinstance(listen, str) else None
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
    raise error(key, f"must be a date such as 2020-06-16 (or a date-time), not {describe(value)}")
