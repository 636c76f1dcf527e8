"""The 站点无法访问 judgement from samples: the 5 % veto at its edges, the window, the notes."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from checks.availability import (
    AVAILABILITY,
    UNREACHABLE,
    describe,
    summarize,
    to_finding,
)
from checks.availability import AvailabilityJudgement as Judgement
from checks.availability import judge_availability as judge
from checks.base import Finding
from checks.scoring import site_verdict as verdict
from storage.base import SampleRow

TZ = dt.timezone(dt.timedelta(hours=8))
DAY1 = dt.datetime(2020, 6, 10, tzinfo=TZ)
URL = "http://www.example.gov.cn/fgj/"


def week(
    failures: int,
    *,
    site: str = "fgj",
    per_day: int = 20,
    days: int = 7,
    phase: str = "first byte",
    start: dt.datetime = DAY1,
) -> list[SampleRow]:
    """``per_day`` samples a day for ``days`` days (at the middle of equal slots), the first
    ``failures`` of them failed at ``phase``."""
    rows: list[SampleRow] = []
    for d in range(days):
        for i in range(per_day):
            at = start + dt.timedelta(days=d, seconds=(i + 0.5) * 86400 / per_day)
            failed = len(rows) < failures
            rows.append(
                SampleRow(
                    site=site,
                    url=URL,
                    at=at.isoformat(),
                    ok=not failed,
                    status=None if failed else 200,
                    total_ms=15000 if failed else 300,
                    failed_at=phase if failed else None,
                    error="timeout" if failed else None,
                )
            )
    return rows


def one(judgements: list[Judgement]) -> Judgement:
    assert len(judgements) == 1, judgements
    return judgements[0]


# ---------------------------------------------------------------------------------------------
# the 5 % edge


def test_7_of_140_is_exactly_5_percent_and_the_veto() -> None:
    site, code, detail = one(judge(week(7)))
    assert (site, code) == ("fgj", UNREACHABLE)
    assert detail["samples"] == 140
    assert detail["failures"] == 7
    assert detail["failure_rate"] == 0.05
    assert detail["percent"] == 5.0


def test_6_of_140_is_below_the_veto_a_deduction() -> None:
    _, code, detail = one(judge(week(6)))
    assert code == AVAILABILITY
    assert detail["failures"] == 6
    assert detail["failure_rate"] == round(6 / 140, 6)
    assert detail["early_warning"] is True  # 4.3 % is over the vendors' 3 %


def test_1_of_20_is_the_veto_and_1_of_21_is_not() -> None:
    assert one(judge(week(1, per_day=20, days=1)))[1] == UNREACHABLE
    assert one(judge(week(1, per_day=21, days=1)))[1] == AVAILABILITY


def test_the_veto_rate_is_a_parameter_and_its_edge_holds_there_too() -> None:
    # 3 of 100 is exactly 3 %: the binary float nearest 0.03 is a little below it, 0.05's a
    # little above 1/20 (so a comparison with the float's exact value would miss 7 of 140)
    assert one(judge(week(3, per_day=20, days=5), veto_rate=0.03))[1] == UNREACHABLE
    assert one(judge(week(2, per_day=20, days=5), veto_rate=0.03))[1] == AVAILABILITY


@given(
    failures=st.integers(min_value=1, max_value=60), samples=st.integers(min_value=1, max_value=400)
)
def test_the_veto_is_exactly_failures_times_20_at_least_samples(
    failures: int, samples: int
) -> None:
    failures = min(failures, samples)
    rows = [
        SampleRow(
            site="s",
            url=URL,
            at=(DAY1 + dt.timedelta(minutes=10 * i)).isoformat(),
            ok=i >= failures,
            failed_at=None if i >= failures else "connect",
        )
        for i in range(samples)
    ]
    _, code, detail = one(judge(rows, days=7))
    assert detail["samples"] == samples  # 400 samples 10 minutes apart: all inside the week
    assert code == (UNREACHABLE if failures * 20 >= samples else AVAILABILITY)
    assert detail["failures"] == failures


def test_no_failures_no_judgement_and_an_empty_store_nothing() -> None:
    assert judge(week(0)) == []
    assert judge([]) == []
    assert summarize([]) == {}


def test_the_early_warning_flag_follows_warn_rate() -> None:
    _, _, detail = one(judge(week(4)))  # 4 / 140 = 2.9 %
    assert detail["early_warning"] is False
    _, _, detail = one(judge(week(4), warn_rate=0.02))
    assert detail["early_warning"] is True


# ---------------------------------------------------------------------------------------------
# the window


def test_only_the_trailing_7_days_up_to_the_newest_sample_count() -> None:
    old = week(20, days=1, start=DAY1 - dt.timedelta(days=3))  # failures long before the week
    rows = old + week(0, days=7)
    summary = summarize(rows)
    assert summary["fgj"].samples == 140
    assert summary["fgj"].failures == 0
    assert judge(rows) == []


def test_as_of_cuts_off_later_samples_and_moves_the_window() -> None:
    rows = week(0, days=7) + week(30, days=1, start=DAY1 + dt.timedelta(days=7))
    assert one(judge(rows))[1] == UNREACHABLE  # the eighth day's failures count by default
    as_of = DAY1 + dt.timedelta(days=7)  # the end of the seventh day: before the failures
    assert judge(rows, as_of=as_of) == []
    assert summarize(rows, as_of=as_of)["fgj"].samples == 140


def test_the_window_is_open_at_its_start_and_closed_at_its_end() -> None:
    as_of = DAY1 + dt.timedelta(days=7)
    edge = [
        SampleRow(site="s", url=URL, at=(as_of - dt.timedelta(days=7)).isoformat(), ok=False),
        SampleRow(site="s", url=URL, at=as_of.isoformat(), ok=False),
    ]
    summary = summarize(edge, as_of=as_of)
    assert summary["s"].samples == 1  # the sample exactly 7 days before as_of is out


def test_the_newest_sample_of_all_sites_ends_everyones_window() -> None:
    stale_site = week(7, site="old", days=7, start=DAY1 - dt.timedelta(days=30))
    rows = stale_site + week(7, site="fgj")
    judged = judge(rows)
    assert [(j.site, j.code) for j in judged] == [("fgj", UNREACHABLE)]  # "old" is out of it


def test_offsets_in_the_samples_are_read_as_times_not_text() -> None:
    # the same moments written in UTC: the window and the per-day counts do not change
    rows = week(7)
    utc = [
        dataclasses.replace(r, at=dt.datetime.fromisoformat(r.at).astimezone(dt.UTC).isoformat())
        for r in rows
    ]
    assert utc[0].at.endswith("+00:00")
    assert judge(utc) == judge(rows)
    assert summarize(utc)["fgj"].per_day == summarize(rows)["fgj"].per_day


# ---------------------------------------------------------------------------------------------
# the detail


def test_the_detail_counts_per_day_and_by_phase() -> None:
    rows = week(3, phase="dns")
    rows[50] = SampleRow(site="fgj", url=URL, at=rows[50].at, ok=False, failed_at="connect")
    _, code, detail = one(judge(rows))
    assert code == AVAILABILITY
    assert detail["by_phase"] == {"connect": 1, "dns": 3}
    per_day = detail["per_day"]
    assert isinstance(per_day, dict)
    assert per_day["2020-06-11"] == {"samples": 20, "failures": 0}
    assert per_day["2020-06-12"] == {"samples": 20, "failures": 1}
    assert detail["url"] == URL


def test_days_with_fewer_than_20_samples_are_named_in_plain_words() -> None:
    rows = week(7, per_day=20)
    # drop 5 samples of 12 June: 15 that day
    thin_day = "2020-06-12"
    dropped = [r for r in rows if r.at.startswith(thin_day)][:5]
    rows = [r for r in rows if r not in dropped]
    _, _, detail = one(judge(rows, as_of=DAY1 + dt.timedelta(days=7)))
    assert detail["thin_days"] == {thin_day: 15}
    notes = detail["notes"]
    assert isinstance(notes, list)
    assert any("fewer than 20 samples" in n and f"{thin_day} (15)" in n for n in notes)
    assert any("20+" in n for n in notes)


def test_days_cut_by_the_window_are_not_called_thin() -> None:
    # the window ends at the newest sample (16 June 20:30) and starts 7 days before it: 9 and
    # 16 June are partly outside it, so their counts say nothing about the 20-a-day rule
    summary = summarize(week(0))["fgj"]
    assert list(summary.per_day) == [f"2020-06-{d}" for d in range(10, 17)]
    assert summary.thin_days(TZ) == {}
    half_day = [r for r in week(0) if r.at < "2020-06-16T12"]  # 16 June: 11 samples by noon
    assert summarize(half_day)["fgj"].thin_days(TZ) == {}


def test_a_short_monitoring_period_is_said() -> None:
    _, _, detail = one(judge(week(7, days=2)))
    assert detail["covered_days"] < 2
    notes = detail["notes"]
    assert isinstance(notes, list)
    assert any("of the 7 days" in n for n in notes)
    _, _, full = one(judge(week(7, days=7)))
    assert not any("of the 7 days" in n for n in full["notes"])


def test_anti_bot_answers_are_counted_as_up_and_said() -> None:
    rows = week(7)
    rows[-1] = SampleRow(site="fgj", url=URL, at=rows[-1].at, ok=True, status=412)
    _, _, detail = one(judge(rows))
    assert detail["refused"] == 1
    assert detail["failures"] == 7
    assert any("403/412/429" in n for n in detail["notes"])


def test_sites_are_judged_separately() -> None:
    rows = week(7, site="a") + week(1, site="b") + week(0, site="c")
    assert {(j.site, j.code) for j in judge(rows)} == {("a", UNREACHABLE), ("b", AVAILABILITY)}


def test_describe_works_for_a_site_without_failures() -> None:
    summary = summarize(week(0))
    detail = describe(summary["fgj"], TZ)
    assert detail["failures"] == 0
    assert detail["failure_rate"] == 0.0
    assert detail["thin_days"] == {}


# ---------------------------------------------------------------------------------------------
# into findings and the verdict


def test_the_judgement_becomes_a_finding_the_scoring_understands() -> None:
    veto = to_finding(one(judge(week(7))), "区发展和改革局")
    assert isinstance(veto, Finding)
    assert (veto.check, veto.severity, veto.url) == (UNREACHABLE, "veto", URL)
    deduction = to_finding(one(judge(week(3))), "区发展和改革局")
    assert deduction.severity == "deduction"
    as_dict = {
        "check": deduction.check,
        "severity": deduction.severity,
        "detail": dict(deduction.detail),
    }
    result = verdict([as_dict])
    # 3 / 140 = 2.14 %: 5 points per 1 %, capped at the indicator's 10 points
    assert result.deductions == {"availability": 10.0}
    small = to_finding(one(judge(week(1, per_day=20, days=7))), "u")
    result = verdict([{"check": small.check, "severity": small.severity, "detail": small.detail}])
    assert result.deductions == {"availability": round(5 * 100 / 140, 2)}
    veto_result = verdict([{"check": veto.check, "severity": veto.severity, "detail": veto.detail}])
    assert veto_result.verdict == "unqualified"
    assert "site.unreachable" in veto_result.vetoes
