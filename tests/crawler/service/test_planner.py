"""The planner: sampling times, the scan plan and its too-short warning, and ``[schedule]``."""

from __future__ import annotations

import datetime as dt
import itertools
import tomllib
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.config import ConfigError, Rules, parse_config
from crawler.service.planner import (
    Schedule,
    SiteSize,
    daily_intervals,
    parse_schedule,
    plan_scans,
    sample_times,
    site_sizes,
)

SH = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2020, 6, 16)
MIN10 = dt.timedelta(minutes=10)


def at(day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(2020, 6, day, hour, minute, tzinfo=SH)


# ---------------------------------------------------------------------------------------------
# sampling times


def test_24_times_spread_over_the_day_one_per_slot() -> None:
    times = sample_times(DAY, 24, tz=SH, seed=1)
    assert len(times) == 24
    assert times == sorted(times)
    assert all(t.tzinfo is not None and t.utcoffset() == dt.timedelta(hours=8) for t in times)
    assert all(t.date() == DAY for t in times)
    for i, t in enumerate(times):
        assert t.hour == i  # one per hour-long slot
    assert min(b - a for a, b in itertools.pairwise(times)) >= MIN10
    assert all(t.microsecond == 0 for t in times)


def test_the_jitter_moves_times_off_the_slot_centres_within_bounds() -> None:
    centres = sample_times(DAY, 24, tz=SH, jitter=0)
    assert [t.strftime("%H:%M:%S") for t in centres[:2]] == ["00:30:00", "01:30:00"]
    jittered = sample_times(DAY, 24, tz=SH, jitter=0.5, seed=1)
    offsets = [(j - c).total_seconds() for j, c in zip(jittered, centres, strict=True)]
    assert all(abs(o) <= 15 * 60 for o in offsets)  # half of 0.5 of an hour either way
    assert len({round(o) for o in offsets}) > 12  # really random, not one fixed shift
    assert any(o < 0 for o in offsets)
    assert any(o > 0 for o in offsets)


def test_a_seed_makes_the_times_reproducible_per_day() -> None:
    assert sample_times(DAY, 24, tz=SH, seed=5) == sample_times(DAY, 24, tz=SH, seed=5)
    assert sample_times(DAY, 24, tz=SH, seed=5) != sample_times(DAY, 24, tz=SH, seed=6)
    next_day = sample_times(DAY + dt.timedelta(days=1), 24, tz=SH, seed=5)
    same_clock = [t - dt.timedelta(days=1) for t in next_day]
    assert same_clock != sample_times(DAY, 24, tz=SH, seed=5)  # every day differs


def test_without_a_seed_the_times_are_unpredictable() -> None:
    runs = {tuple(sample_times(DAY, 24, tz=SH)) for _ in range(3)}
    assert len(runs) > 1


def test_too_much_jitter_for_the_spacing_is_refused() -> None:
    with pytest.raises(ValueError, match="minimum spacing"):
        sample_times(DAY, 144, tz=SH, jitter=0.5)  # 10-minute slots cannot keep 10 minutes
    assert len(sample_times(DAY, 144, tz=SH, jitter=0)) == 144


def test_a_day_with_a_clock_change_is_covered_whole() -> None:
    ny = ZoneInfo("America/New_York")
    spring = dt.date(2020, 3, 8)  # 23 hours long
    times = sample_times(spring, 24, tz=ny, seed=2)
    assert len(times) == 24
    assert all(t.date() == spring for t in times)
    real = [t.astimezone(dt.UTC) for t in times]
    assert min(b - a for a, b in itertools.pairwise(real)) >= MIN10


@given(
    per_day=st.integers(min_value=20, max_value=48),
    jitter=st.floats(min_value=0.0, max_value=0.6),
    seed=st.integers(min_value=0, max_value=2**32),
    offset=st.integers(min_value=0, max_value=3650),
)
def test_sampling_times_always_keep_the_rules(
    per_day: int, jitter: float, seed: int, offset: int
) -> None:
    day = dt.date(2019, 1, 1) + dt.timedelta(days=offset)
    times = sample_times(day, per_day, tz=SH, jitter=jitter, seed=seed)
    assert len(times) == per_day >= 20
    assert all(t.date() == day for t in times)
    assert min(b - a for a, b in itertools.pairwise(times)) >= MIN10


# ---------------------------------------------------------------------------------------------
# the scan plan


def test_the_window_too_short_is_said_in_plain_words() -> None:
    # 295 200 requests at 2 requests/s: 41 h; the window: 36 h
    plan = plan_scans(
        [SiteSize("fgj", "http://www.example.gov.cn", 295_200)],
        start=at(16),
        end=at(17, 12),
        rate=2.0,
        margin=0,
    )
    assert not plan.fits
    assert plan.problems == (
        "站点 fgj needs about 41 h at 2 requests/s but the window has 36 h: raise [crawl] rate"
        " to 2.3 or widen the window",
    )
    assert plan.available == dt.timedelta(hours=36)


def test_the_margin_kept_for_retries_is_part_of_the_advice() -> None:
    plan = plan_scans(
        [SiteSize("fgj", "http://h", 295_200)], start=at(16), end=at(17, 12), margin=0.1
    )
    assert not plan.fits
    (message,) = plan.problems
    assert "(32 h once 10% is kept for retries)" in message
    assert "raise [crawl] rate to 2.6 " in message  # 295 200 / (0.9 * 36 h) = 2.53


def test_a_window_that_fits_only_without_the_margin_is_a_tight_fit() -> None:
    plan = plan_scans([SiteSize("fgj", "http://h", 60_000)], start=at(16), end=at(16, 9))
    assert plan.fits  # 8.3 h of 9 h
    (message,) = plan.problems
    assert "only by using the time kept for retries" in message


def test_sites_sharing_a_host_are_named_together() -> None:
    sizes = [
        SiteSize(s, "http://www.example.gov.cn", 100_000) for s in ("fgj", "jyj", "sfj", "wjj")
    ]
    plan = plan_scans(sizes, start=at(16), end=at(17), margin=0)
    (message,) = plan.problems  # 400 000 requests at 2/s: 56 h in a 24 h window
    assert message.startswith("host http://www.example.gov.cn (4 sites: fgj, jyj, sfj and 1 more)")
    assert "needs about 56 h" in message
    assert "raise [crawl] rate to 4.7" in message


def test_when_the_connections_are_the_bound_more_concurrency_is_asked_for() -> None:
    # rate 0 (unlimited) and 1 connection at 0.5 s a response: 2 requests/s at most
    plan = plan_scans(
        [SiteSize("fgj", "http://h", 100_000)],
        start=at(16),
        end=at(16, 10),
        rate=0,
        concurrency=1,
        margin=0,
    )
    (message,) = plan.problems
    assert "at an unlimited rate" in message
    assert "raise [crawl] concurrency to 2" in message  # 100 000 / 36 000 s = 2.8/s
    assert "rate to" not in message


def test_a_plan_that_fits_spreads_each_hosts_scans_over_the_window() -> None:
    sizes = [
        SiteSize("fgj", "http://www.example.gov.cn", 7200),  # 1 h at 2/s
        SiteSize("jyj", "http://www.example.gov.cn", 3600),  # 0.5 h
        SiteSize("town", "http://town.example.gov.cn", None),  # never scanned
    ]
    start, end = at(16), at(21)  # 16-20 June, whole days
    plan = plan_scans(sizes, start=start, end=end, rate=2.0, default_requests=5000)
    assert plan.fits
    assert plan.problems == ()
    assert all(start <= s.start < s.finish <= end for s in plan.scans)
    fgj, jyj, town = plan.scan("fgj"), plan.scan("jyj"), plan.scan("town")
    assert fgj.duration == dt.timedelta(hours=1)
    assert jyj.duration == dt.timedelta(minutes=30)
    assert (town.requests, town.estimated, town.duration) == (
        5000,
        True,
        dt.timedelta(seconds=2500),
    )
    assert not fgj.estimated
    # one host: one after the other, never overlapping, spread (not back to back)
    assert fgj.finish < jyj.start
    assert jyj.start - fgj.finish > dt.timedelta(days=1)
    # the usable window (90 %) ends before the window: the last scan leaves room for retries
    usable_end = start + plan.usable
    assert max(s.finish for s in plan.scans) <= usable_end
    assert plan.usable == dt.timedelta(days=4.5)
    assert any("town" in n and "5000" in n for n in plan.notes)


def test_aligned_at_the_start_scans_run_back_to_back() -> None:
    sizes = [SiteSize("a", "http://h", 7200), SiteSize("b", "http://h", 3600)]
    plan = plan_scans(sizes, start=at(16), end=at(21), align="start")
    a, b = plan.scan("a"), plan.scan("b")
    assert a.start == at(16)  # the largest first
    assert b.start == a.finish == at(16, 1)
    assert b.finish == at(16, 1, 30)


def test_a_daily_window_pauses_the_scan_overnight() -> None:
    # 144 000 requests at 2/s: 20 h, inside 09:00-18:00 (9 h a day)
    plan = plan_scans(
        [SiteSize("fgj", "http://h", 144_000)],
        start=at(16),
        end=at(21),
        daily=(dt.time(9), dt.time(18)),
        align="start",
    )
    assert plan.available == dt.timedelta(hours=45)
    scan = plan.scan("fgj")
    assert scan.start == at(16, 9)
    assert scan.finish == at(18, 11)  # 9 h + 9 h + 2 h
    assert scan.duration == dt.timedelta(hours=20)
    assert plan.fits


def test_a_start_at_the_end_of_a_daily_window_moves_to_the_next_one() -> None:
    sizes = [SiteSize("a", "http://h", 64_800), SiteSize("b", "http://h", 7200)]  # 9 h, 1 h
    plan = plan_scans(
        sizes, start=at(16), end=at(18), daily=(dt.time(9), dt.time(18)), align="start"
    )
    assert plan.scan("a").finish == at(16, 18)
    assert plan.scan("b").start == at(17, 9)


def test_daily_windows_may_cross_midnight() -> None:
    spans = daily_intervals(at(16, 12), at(18, 12), (dt.time(22), dt.time(6)))
    assert spans == [(at(16, 22), at(17, 6)), (at(17, 22), at(18, 6))]
    assert daily_intervals(at(16, 3), at(16, 5), (dt.time(22), dt.time(6))) == [
        (at(16, 3), at(16, 5))
    ]


def test_sizes_come_from_the_config_and_earlier_scans() -> None:
    config = parse_config(
        {
            "site": [
                {"id": "fgj", "url": "http://www.example.gov.cn/fgj/"},
                {"id": "jyj", "url": "http://www.example.gov.cn/jyj/index.html"},
                {"id": "town", "url": "https://town.example.gov.cn:8443/"},
            ]
        }
    )
    sizes = site_sizes(config.sites, {"fgj": 1200, "town": 300})
    assert sizes == [
        SiteSize("fgj", "http://www.example.gov.cn", 1200),
        SiteSize("jyj", "http://www.example.gov.cn", None),  # never scanned
        SiteSize("town", "https://town.example.gov.cn:8443", 300),
    ]


def test_bad_plans_are_refused() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        plan_scans([], start=at(17), end=at(16))
    with pytest.raises(ValueError, match="no time inside the daily window"):
        plan_scans([], start=at(16, 19), end=at(16, 20), daily=(dt.time(9), dt.time(18)))


# ---------------------------------------------------------------------------------------------
# [schedule]

FULL = """
window_start = 2020-06-16
window_end = 2020-06-20
daily = "09:00-18:00"
samples_per_day = 24
sample_jitter = 0.4
seed = 42
scan_margin = 0.2
default_site_requests = 3000
webhook = "http://127.0.0.1:9000/hook"
webhook_timeout = 5
webhook_retries = 3
warn_failure_rate = 0.03
warn_homepage_days = 10
warn_blank_margin = 1
warn_stale_margin = 2
warn_guides_margin = 1
warn_unanswered_days = 80
metrics_listen = "127.0.0.1:9200"
"""


def test_a_full_schedule_parses() -> None:
    schedule = parse_schedule(tomllib.loads(FULL), "govmon.toml", rules=Rules())
    assert schedule == Schedule(
        window_start=dt.date(2020, 6, 16),
        window_end=dt.date(2020, 6, 20),
        daily=(dt.time(9), dt.time(18)),
        samples_per_day=24,
        sample_jitter=0.4,
        seed=42,
        scan_margin=0.2,
        default_site_requests=3000,
        webhook="http://127.0.0.1:9000/hook",
        webhook_timeout=5.0,
        webhook_retries=3,
        warn_failure_rate=0.03,
        warn_homepage_days=10,
        warn_blank_margin=1,
        warn_stale_margin=2,
        warn_guides_margin=1,
        warn_unanswered_days=80,
        metrics_listen="127.0.0.1:9200",
    )
    # the end date is inclusive: the window runs to the end of 20 June
    assert schedule.window(SH) == (at(16), at(21))
    assert schedule.listen == ("127.0.0.1", 9200)


def test_an_empty_schedule_is_the_defaults() -> None:
    schedule = parse_schedule({}, "govmon.toml")
    assert schedule == Schedule()
    assert schedule.samples_per_day >= 20
    assert schedule.window(SH) is None
    assert schedule.listen == ("127.0.0.1", 9108)


def test_windows_take_date_times_and_strings() -> None:
    schedule = parse_schedule(
        tomllib.loads(
            'window_start = 2020-06-16T08:00:00+08:00\nwindow_end = "2020-06-16T20:00:00+08:00"'
        ),
        "g.toml",
    )
    assert schedule.window(SH) == (at(16, 8), at(16, 20))


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ("bogus = 1", "schedule.bogus", "unknown key"),
        ("window_start = 2020-06-16", "schedule.window_end", "is required"),
        ("window_end = 2020-06-16", "schedule.window_start", "is required"),
        (
            "window_start = 2020-06-20\nwindow_end = 2020-06-16",
            "schedule.window_end",
            "before window_start",
        ),
        ('window_start = "June"\nwindow_end = 2020-06-16', "schedule.window_start", "date"),
        ('daily = "9-18"', "schedule.daily", "HH:MM-HH:MM"),
        ('daily = "09:00-25:00"', "schedule.daily", "not a time of day"),
        ('daily = "09:00-09:00"', "schedule.daily", "empty"),
        ("samples_per_day = 19", "schedule.samples_per_day", "between 20 and 144"),
        ('samples_per_day = "24"', "schedule.samples_per_day", "must be an integer"),
        ("samples_per_day = true", "schedule.samples_per_day", "must be an integer"),
        ("samples_per_day = 144\nsample_jitter = 0.5", "schedule.sample_jitter", "spacing"),
        ("sample_jitter = 1.5", "schedule.sample_jitter", "must be in [0, 1]"),
        ("seed = -1", "schedule.seed", ">= 0"),
        ('webhook = "ftp://x/"', "schedule.webhook", "http(s) URL"),
        ("webhook = 5", "schedule.webhook", "http(s) URL"),
        ("webhook_timeout = 0", "schedule.webhook_timeout", "must be in"),
        ("webhook_retries = 50", "schedule.webhook_retries", "between 0 and 20"),
        ("warn_failure_rate = 0.05", "schedule.warn_failure_rate", "must be in [0, 0.05)"),
        ("warn_failure_rate = 0", "schedule.warn_failure_rate", "must be > 0"),
        ("warn_blank_margin = 5", "schedule.warn_blank_margin", "between 0 and 4"),
        ("scan_margin = 0.95", "schedule.scan_margin", "must be in [0, 0.9]"),
        ('metrics_listen = "localhost"', "schedule.metrics_listen", "HOST:PORT"),
        ('metrics_listen = "127.0.0.1:70000"', "schedule.metrics_listen", "HOST:PORT"),
    ],
)
def test_bad_schedules_name_the_key_and_the_problem(text: str, key: str, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_schedule(tomllib.loads(text), "govmon.toml")
    assert info.value.path == "govmon.toml"
    assert info.value.key == key
    assert reason in info.value.reason
    assert str(info.value).startswith(f"govmon.toml: {key}: ")


def test_warnings_must_come_before_the_vetoes_of_the_rules() -> None:
    with pytest.raises(ConfigError) as info:
        parse_schedule({"warn_homepage_days": 14}, "g.toml", rules=Rules())
    assert info.value.key == "schedule.warn_homepage_days"
    assert "news_max_age_days (14)" in info.value.reason
    with pytest.raises(ConfigError) as info:
        parse_schedule({"warn_unanswered_days": 91}, "g.toml", rules=Rules())
    assert info.value.key == "schedule.warn_unanswered_days"
    # without the rules the same values pass (the lead may validate later)
    assert parse_schedule({"warn_homepage_days": 14}, "g.toml").warn_homepage_days == 14


def test_the_scan_window_seen_from_now() -> None:
    fixed = Schedule(window_start=dt.date(2020, 6, 16), window_end=dt.date(2020, 6, 20))
    assert fixed.scan_window(at(10), SH) == (at(16), at(21))  # ahead
    assert fixed.scan_window(at(18, 7), SH) == (at(18, 7), at(21))  # under way: from now
    assert fixed.scan_window(at(21), SH) is None  # over
    daily = Schedule(daily=(dt.time(9), dt.time(18)))
    assert daily.scan_window(at(16, 20), SH) == (at(17, 9), at(17, 18))
    assert daily.scan_window(at(16, 10), SH) == (at(16, 10), at(16, 18))
    assert Schedule().scan_window(at(16), SH) is None
