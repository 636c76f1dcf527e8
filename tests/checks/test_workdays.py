"""Working days: statutory holidays, make-up working days (调休), the counting convention, and
a clear refusal where the holiday calendar has no data."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.workdays import (
    CalendarGap,
    add_working_days,
    calendar_years,
    has_calendar,
    is_late,
    is_working_day,
    working_days_between,
)

D = dt.date


def test_the_issue_examples() -> None:
    # May Day 2020: 1-5 May off; asked Wednesday 29 April, answered Thursday 7 May:
    # 30 April, 6 May and 7 May
    assert working_days_between(D(2020, 4, 29), D(2020, 5, 7)) == 3
    # asked Friday 8 May, answered Friday 15 May: Saturday 9 May was a make-up working day
    assert working_days_between(D(2020, 5, 8), D(2020, 5, 15)) == 6


def test_make_up_days_and_holidays_are_read_from_the_calendar() -> None:
    assert is_working_day(D(2020, 4, 26))  # Sunday, worked for May Day
    assert is_working_day(D(2020, 5, 9))  # Saturday, worked
    assert not is_working_day(D(2020, 5, 4))  # Monday, holiday
    assert not is_working_day(D(2020, 5, 10))  # an ordinary Sunday
    assert is_working_day(D(2020, 10, 10))  # Saturday after National Day
    assert not is_working_day(D(2020, 10, 8))  # Thursday in the National Day week


def test_counting_starts_the_day_after_by_default() -> None:
    assert working_days_between(D(2020, 6, 11), D(2020, 6, 11)) == 0
    assert working_days_between(D(2020, 6, 11), D(2020, 6, 12)) == 1
    # a Friday message answered on Monday: the weekend does not count
    assert working_days_between(D(2020, 6, 12), D(2020, 6, 15)) == 1
    # a message on a holiday counts from the first working day after it
    assert working_days_between(D(2020, 10, 3), D(2020, 10, 9)) == 1


def test_same_day_convention_counts_the_day_of_the_message() -> None:
    assert working_days_between(D(2020, 5, 8), D(2020, 5, 15), count_from="same_day") == 7
    assert working_days_between(D(2020, 6, 11), D(2020, 6, 11), count_from="same_day") == 1
    # a message on a Sunday: the Sunday does not count either way
    assert working_days_between(D(2020, 6, 14), D(2020, 6, 15), count_from="same_day") == 1


def test_an_answer_dated_before_the_question_is_zero_days() -> None:
    assert working_days_between(D(2020, 6, 11), D(2020, 6, 1)) == 0


def test_unknown_convention_is_refused() -> None:
    with pytest.raises(ValueError, match="count_from"):
        working_days_between(D(2020, 6, 1), D(2020, 6, 2), count_from="weekdays")  # type: ignore[arg-type]


def test_deadline_across_may_day() -> None:
    # 5 working days after 29 April 2020: 30 April, 6, 7, 8 May and Saturday 9 May
    assert add_working_days(D(2020, 4, 29), 5) == D(2020, 5, 9)
    assert add_working_days(D(2020, 4, 29), 1) == D(2020, 4, 30)
    assert add_working_days(D(2020, 4, 29), 0) == D(2020, 4, 29)
    assert add_working_days(D(2020, 5, 8), 1, count_from="same_day") == D(2020, 5, 8)
    with pytest.raises(ValueError, match="negative"):
        add_working_days(D(2020, 4, 29), -1)


def test_late_is_more_than_the_limit() -> None:
    asked = D(2020, 4, 29)
    assert not is_late(asked, D(2020, 5, 9), 5)  # on the deadline, a make-up Saturday
    assert not is_late(asked, D(2020, 5, 10), 5)  # the Sunday after: still 5 working days
    assert is_late(asked, D(2020, 5, 11), 5)  # Monday: the 6th working day
    # across National Day 2020 (1-8 October off, Sunday 27 September and Saturday 10 October
    # worked): asked Wednesday 30 September, answered Monday 12 October is 3 working days
    assert working_days_between(D(2020, 9, 30), D(2020, 10, 12)) == 3
    assert not is_late(D(2020, 9, 30), D(2020, 10, 12), 5)
    # the same 12 calendar days without holidays would be late
    assert is_late(D(2020, 6, 3), D(2020, 6, 15), 5)


def test_simple_question_limit_of_one_day() -> None:
    assert not is_late(D(2020, 6, 11), D(2020, 6, 12), 1)
    assert is_late(D(2020, 6, 11), D(2020, 6, 15), 1)
    # a Friday message answered on Monday is within one working day
    assert not is_late(D(2020, 6, 12), D(2020, 6, 15), 1)


def test_datetimes_are_read_as_their_day() -> None:
    asked = dt.datetime(2020, 4, 29, 23, 59)
    answered = dt.datetime(2020, 5, 7, 0, 1)
    assert working_days_between(asked, answered) == 3


def test_years_without_calendar_data_raise_a_clear_gap() -> None:
    first, last = calendar_years()
    assert first <= 2020 <= last
    assert has_calendar(2020)
    assert not has_calendar(last + 1)
    with pytest.raises(CalendarGap) as info:
        working_days_between(D(last, 12, 20), D(last + 1, 1, 10))
    assert info.value.year == last + 1
    assert str(last + 1) in str(info.value)
    assert "chinesecalendar" in str(info.value)
    with pytest.raises(CalendarGap):
        is_working_day(D(first - 1, 6, 1))
    with pytest.raises(CalendarGap):
        add_working_days(D(last, 12, 30), 30)
    # a gap is a ValueError: callers that only know ValueError still stop
    assert issubclass(CalendarGap, ValueError)


_DAYS = st.dates(min_value=D(2005, 1, 1), max_value=D(2025, 10, 31))


@settings(max_examples=150, deadline=None)
@given(_DAYS, st.integers(0, 60), st.integers(0, 60))
def test_working_days_are_monotonic(asked: dt.date, a: int, b: int) -> None:
    first = asked + dt.timedelta(days=min(a, b))
    second = asked + dt.timedelta(days=max(a, b))
    assert working_days_between(asked, first) <= working_days_between(asked, second)
    assert working_days_between(asked, second) <= (second - asked).days


@settings(max_examples=150, deadline=None)
@given(_DAYS, st.integers(1, 25), st.sampled_from(["next_day", "same_day"]))
def test_deadline_round_trip(start: dt.date, n: int, convention: str) -> None:
    deadline = add_working_days(start, n, count_from=convention)  # type: ignore[arg-type]
    assert is_working_day(deadline)
    assert working_days_between(start, deadline, count_from=convention) == n  # type: ignore[arg-type]
    before = deadline - dt.timedelta(days=1)
    if before >= start:
        assert working_days_between(start, before, count_from=convention) == n - 1  # type: ignore[arg-type]
