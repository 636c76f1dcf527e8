"""Working days in mainland China, from the ``chinesecalendar`` package. Pure.

No national text defines how the days of a reply are counted; this module follows the common
reading of the 5-working-day rule:

* a working day is a Monday-to-Friday that is not a statutory holiday, or a weekend day that is a
  make-up working day (调休上班); statutory holidays and their days in lieu are not working days;
* by default (``count_from="next_day"``) counting starts on the day *after* the message: a reply on
  the day the message came is 0 working days, one on the next working day is 1. With
  ``count_from="same_day"`` the day of the message counts too, when it is itself a working day;
* the day of the reply counts (a reply on the 5th working day after the message took 5 working
  days: on time under a 5-day limit);
* a message is late when its reply took more than the limit (:func:`is_late`). The deadline
  (:func:`add_working_days`) is the last working day of the limit; a reply on a non-working day
  just after it (the deadline is a Friday, the reply a Saturday) took exactly the limit and is
  not late.

The package carries the State Council's holiday schedule for the years it knows (it is updated
every year once the next year's holidays are published). Outside them there is no right answer:
every function here raises :class:`CalendarGap` rather than guess from weekdays.

Examples (both in the May Day holiday of 2020: 1–5 May off, Sunday 26 April and Saturday 9 May
worked): asked 2020-04-29, answered 2020-05-07 is 3 working days (30 April, 6 and 7 May); asked
2020-05-08, answered 2020-05-15 is 6 (Saturday 9 May, then 11–15 May).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Final, Literal

import chinese_calendar  # type: ignore[import-untyped]

CountFrom = Literal["next_day", "same_day"]
COUNT_CONVENTIONS: Final = ("next_day", "same_day")


class CalendarGap(ValueError):
    """The holiday calendar has no data for ``year``: working days there cannot be counted."""

    def __init__(self, year: int, first: int, last: int) -> None:
        self.year = year
        self.first = first
        self.last = last
        super().__init__(
            f"no Chinese holiday calendar for {year}: the installed chinesecalendar package "
            f"knows {first}-{last}; upgrade it (pip install -U chinesecalendar) once the State "
            f"Council has published that year's holidays"
        )


@lru_cache(maxsize=1)
def calendar_years() -> tuple[int, int]:
    """The first and last year the installed calendar knows."""
    known = chinese_calendar.holidays
    years = {day.year for day in known}
    return min(years), max(years)


def has_calendar(year: int) -> bool:
    first, last = calendar_years()
    return first <= year <= last


def _check_year(year: int) -> None:
    first, last = calendar_years()
    if not first <= year <= last:
        raise CalendarGap(year, first, last)


@lru_cache(maxsize=8192)
def is_working_day(day: dt.date) -> bool:
    """Whether ``day`` is a working day (make-up working days included, holidays excluded).

    Raises :class:`CalendarGap` for a year the calendar does not know.
    """
    if isinstance(day, dt.datetime):
        day = day.date()
    _check_year(day.year)
    return bool(chinese_calendar.is_workday(day))


def _as_date(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _check_convention(count_from: str) -> None:
    if count_from not in COUNT_CONVENTIONS:
        raise ValueError(f"count_from must be one of {COUNT_CONVENTIONS}, not {count_from!r}")


def working_days_between(
    asked: dt.date, answered: dt.date, *, count_from: CountFrom = "next_day"
) -> int:
    """The working days a reply on ``answered`` took for a message of ``asked``.

    ``answered`` counts; ``asked`` counts only with ``count_from="same_day"``. An answer on or
    before the day of the message is 0 working days (and 1 under ``same_day`` when that day is a
    working day and the answer came the same day). Raises :class:`CalendarGap` when a day of the
    span lies in a year the calendar does not know.
    """
    _check_convention(count_from)
    asked, answered = _as_date(asked), _as_date(answered)
    if answered < asked:
        return 0
    _check_year(asked.year)
    _check_year(answered.year)
    day = asked if count_from == "same_day" else asked + dt.timedelta(days=1)
    count = 0
    one = dt.timedelta(days=1)
    while day <= answered:
        if is_working_day(day):
            count += 1
        day += one
    return count


def add_working_days(start: dt.date, n: int, *, count_from: CountFrom = "next_day") -> dt.date:
    """The deadline: the ``n``-th working day counted from ``start`` under ``count_from``.

    ``working_days_between(start, add_working_days(start, n)) == n`` for ``n >= 1``; ``n == 0``
    gives ``start`` itself. Raises :class:`CalendarGap` when the count runs into a year the
    calendar does not know, and ``ValueError`` for a negative ``n``.
    """
    _check_convention(count_from)
    if n < 0:
        raise ValueError("n must not be negative")
    start = _as_date(start)
    if n == 0:
        return start
    day = start if count_from == "same_day" else start + dt.timedelta(days=1)
    one = dt.timedelta(days=1)
    count = 0
    while True:
        if is_working_day(day):
            count += 1
            if count == n:
                return day
        day += one


def is_late(
    asked: dt.date,
    answered: dt.date,
    limit: int,
    *,
    count_from: CountFrom = "next_day",
) -> bool:
    """Whether a reply on ``answered`` took more than ``limit`` working days.

    For a message still unanswered, pass the monitoring day as ``answered``: the result says
    whether it is overdue. Raises :class:`CalendarGap` as :func:`working_days_between` does.
    """
    return working_days_between(asked, answered, count_from=count_from) > limit
