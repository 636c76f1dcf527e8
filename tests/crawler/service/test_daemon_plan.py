"""What ``govmon daemon`` says at start, in plain words: when it samples next, the scan window
and when the next scan starts and should end; times in the config's zone, to the minute."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from crawler.config import Config, load_config
from crawler.service.daemon import sampling_plan, scan_plan
from crawler.service.planner import Plan, PlannedScan

TZ = ZoneInfo("Asia/Shanghai")


def _config(tmp_path: Path, samples: int) -> Config:
    path = tmp_path / "govmon.toml"
    path.write_text(
        f"""[schedule]
samples_per_day = {samples}
sample_jitter = 0
[[site]]
id = "a"
name = "测试站"
url = "http://127.0.0.1:9/"
""",
        encoding="utf-8",
    )
    return load_config(str(path))


def test_sampling_before_the_first_time_of_the_day_names_it(tmp_path: Path) -> None:
    config = _config(tmp_path, 24)  # without jitter: at half past every hour
    early = dt.datetime(2020, 6, 16, 0, 10, 59, 999, tzinfo=TZ)
    line = sampling_plan(config, early)
    assert line == (
        "availability: every site's home page 24 times a day, at spread times; the next round"
        " at 2020-06-16 00:30 (Asia/Shanghai)"
    )


def test_sampling_after_a_time_of_the_day_is_now(tmp_path: Path) -> None:
    config = _config(tmp_path, 24)
    # in UTC, as the clock gives it: still said in the config's zone
    late = dt.datetime(2020, 6, 16, 10, 0, tzinfo=dt.UTC)
    assert sampling_plan(config, late).endswith("the next round now")
    # 00:10 in Beijing is still the day before in UTC: the day's times are the config zone's
    past_midnight = dt.datetime(2020, 6, 16, 16, 10, tzinfo=dt.UTC)
    assert sampling_plan(config, past_midnight).endswith("at 2020-06-17 00:30 (Asia/Shanghai)")


def _plan(start: dt.datetime, finish: dt.datetime) -> Plan:
    scan = PlannedScan(site="a", host="h", requests=100, estimated=False, start=start,
                       finish=finish, duration=finish - start, rate=1.0)  # fmt: skip
    return Plan(start=start, end=finish, available=finish - start, usable=finish - start,
                scans=(scan,))  # fmt: skip


def test_a_window_ahead_says_when_the_scan_starts_and_ends() -> None:
    start = dt.datetime(2020, 6, 16, 8, 0, tzinfo=TZ)
    end = dt.datetime(2020, 6, 20, 18, 0, tzinfo=TZ)
    now = dt.datetime(2020, 6, 15, 12, 0, 30, 123456, tzinfo=dt.UTC)
    plan = _plan(start, start + dt.timedelta(hours=3, minutes=30))
    assert scan_plan(plan, (start, end), start, now, TZ) == (
        "scan window 2020-06-16 08:00 to 2020-06-20 18:00 (Asia/Shanghai); the next scan at"
        " 2020-06-16 08:00, 1 site, expected to end by 2020-06-16 11:30"
    )


def test_a_window_in_progress_scans_now() -> None:
    start = dt.datetime(2020, 6, 16, 8, 0, tzinfo=TZ)
    end = dt.datetime(2020, 6, 20, 18, 0, tzinfo=TZ)
    now = dt.datetime(2020, 6, 17, 9, 15, tzinfo=TZ)
    plan = _plan(now, now + dt.timedelta(hours=1))
    line = scan_plan(plan, (start, end), now, now, TZ)
    assert "the next scan now, 1 site, expected to end by 2020-06-17 10:15" in line
