"""Faked publication dates (伪造发稿日期, ``content.backdated``). Pure.

A column that was not updated is sometimes "repaired" by publishing items with old dates, so that
the list looks as if it had been updated all along: a veto case when proven, so the crawler
reports it as a *warning* for a person to confirm, with both scans as evidence.

:func:`find_backdated` compares one column's items now with the same column's items at an earlier
scan (both as ``(url, title, date)``; dates as :class:`datetime.date` or ISO strings). An item
now listed is *suspect* when:

* it was not listed at the earlier scan: neither its URL nor, for a moved item, its title and
  date together (a CMS migration that changes URLs creates no new items);
* its date is more than ``grace_days`` before the day of the earlier scan (in the config's time
  zone). An item dated the day of the earlier scan may have been published after it that day,
  or re-dated legitimately on that day; with the default grace of 1 day, an item dated the day
  before is not evidence either (news of an evening meeting published the next morning);
* its date is after the earlier scan's *horizon*, the oldest date the earlier scan's reading of
  the list reached: an older item may simply have stood on a page the earlier scan did not read
  (page 5 of a list read to page 4). The horizon is the caller's (how far the earlier scan read);
  by default the date of the last dated row of the earlier list, which must then be given in
  list order (newest first: an old pinned row at the top does not stretch the horizon; a list
  read oldest first gives a late horizon, and so fewer suspects, never more). An item dated on
  the horizon day itself is not evidence (the page boundary may cut a day).

An item that *was* listed earlier with a later date and now shows an earlier one is suspect too
(``reason: redated_earlier``). Items without a date, and earlier lists with no dated item, say
nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final
from zoneinfo import ZoneInfo

from checks.catalogue import Judgement
from checks.readers.text import comparable

BACKDATED: Final = "content.backdated"
NOT_LISTED_BEFORE: Final = "not_listed_before"
REDATED_EARLIER: Final = "redated_earlier"
DEFAULT_GRACE_DAYS: Final = 1
SHANGHAI: Final = ZoneInfo("Asia/Shanghai")

Row = tuple[str, str, dt.date | str | None]


@dataclass(frozen=True, slots=True)
class Suspect:
    url: str
    title: str
    date: dt.date
    reason: str  # NOT_LISTED_BEFORE or REDATED_EARLIER
    earlier_date: dt.date | None = None  # for REDATED_EARLIER: the date shown before
    horizon: dt.date | None = None  # how far back the earlier scan's list reached


def _day(value: dt.date | str | None) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def scan_day(when: dt.datetime | dt.date, tz: dt.tzinfo = SHANGHAI) -> dt.date:
    """The day of a scan's time in ``tz`` (a naive time is taken as already in ``tz``)."""
    if isinstance(when, dt.datetime):
        if when.tzinfo is not None:
            return when.astimezone(tz).date()
        return when.date()
    return when


def find_backdated(
    now: Iterable[Row],
    before: Iterable[Row],
    *,
    earlier_at: dt.datetime | dt.date,
    horizon: dt.date | str | None = None,
    grace_days: int = DEFAULT_GRACE_DAYS,
    tz: dt.tzinfo = SHANGHAI,
) -> list[Suspect]:
    """The suspect items of one column (see the module's rules), in the order of ``now``."""
    earlier_rows = [(url, title, _day(date)) for url, title, date in before]
    earlier_dates = [d for _, _, d in earlier_rows if d is not None]
    if not earlier_dates:
        return []  # the earlier scan saw no dated item: it proves nothing
    # by default the last dated row in list order (a list reads newest first: its last row is as
    # far back as the reading went; an old pinned row at the top does not reach further back)
    reach = _day(horizon) if horizon is not None else max(min(earlier_dates), earlier_dates[-1])
    if reach is None:
        return []
    cutoff = scan_day(earlier_at, tz) - dt.timedelta(days=max(0, grace_days))
    by_url = {url: day for url, _, day in earlier_rows}
    by_title_date = {(comparable(title), day) for _, title, day in earlier_rows if day}
    out: list[Suspect] = []
    seen: set[str] = set()
    for url, title, raw in now:
        day = _day(raw)
        if day is None or url in seen:
            continue
        seen.add(url)
        if url in by_url:
            earlier = by_url[url]
            if earlier is not None and day < earlier and day < cutoff and day > reach:
                out.append(Suspect(url, title, day, REDATED_EARLIER, earlier, reach))
            continue
        if (comparable(title), day) in by_title_date:
            continue  # the same item under a new URL
        if day >= cutoff or day <= reach:
            continue
        out.append(Suspect(url, title, day, NOT_LISTED_BEFORE, horizon=reach))
    return out


def judge_backdated(
    suspects: Sequence[Suspect],
    *,
    column_url: str,
    column_name: str,
    earlier_at: dt.datetime | dt.date,
    now_at: dt.datetime | dt.date,
    earlier_scan: int | None = None,
    now_scan: int | None = None,
    earlier_items: int | None = None,
) -> list[tuple[str, Judgement]]:
    """``(item URL, content.backdated)`` for each suspect, with both scans as evidence."""
    out: list[tuple[str, Judgement]] = []
    for suspect in suspects:
        reach = suspect.horizon
        detail: dict[str, Any] = {
            "title": suspect.title,
            "date": suspect.date.isoformat(),
            "reason": suspect.reason,
            "column": column_name,
            "list_page": column_url,
            "earlier_scan": {
                "id": earlier_scan,
                "at": earlier_at.isoformat(),
                "horizon": reach.isoformat() if reach else None,
                "items": earlier_items,
                "listed": suspect.reason == REDATED_EARLIER,
                "date_then": suspect.earlier_date.isoformat() if suspect.earlier_date else None,
            },
            "this_scan": {"id": now_scan, "at": now_at.isoformat()},
            "needs_review": True,
        }
        out.append((suspect.url, Judgement(BACKDATED, detail)))
    return out
