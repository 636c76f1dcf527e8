"""Survey and interview activity (``column.too_few``). Pure.

The 2019 indicators ask a site to run surveys and calls for comments (调查征集) regularly: at
least :attr:`ActivityRules.survey_min_portal` (6) a year on a portal (``kind = "portal"``),
:attr:`ActivityRules.survey_min_other` (3) on other sites; online interviews (在线访谈) have no
national minimum, so theirs is a local rule, :attr:`ActivityRules.interview_min` (0 = off).

An activity is an item of the column dated in the year before ``as_of`` (from the same day a year
earlier to ``as_of``, both included). Counted once:

* an activity and its follow-up: 征集结果反馈, 意见采纳情况, 调查结果公布 ... (and an interview's
  预告) are not new activities;
* the same title twice (a list that shows an item in two places, two columns of one category);
* undated items are not counted (the detail says how many there were).

When a site has several columns of one category (意见征集 and 网上调查), their activities are
counted together and the finding is about the column with the most; the detail lists them all.
A column the crawl never read is not judged, and one that is blank with a 暂无信息 placeholder is
``column.blank`` (the columns check) rather than also too few.

Proposed ``[rules]`` keys: ``survey_min_portal = 6``, ``survey_min_other = 3``,
``interview_min = 0``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from checks.catalogue import Judgement
from checks.columns import ColumnState
from checks.readers.listing import Item
from checks.readers.text import comparable

TOO_FEW: Final = "column.too_few"
SURVEY: Final = "survey"
INTERVIEW: Final = "interview"

_SURVEY_FOLLOW_UP = re.compile(
    r"采纳情况|反馈情况|情况反馈|结果反馈|结果公布|结果公示|结果通报|意见采纳|征集结果|调查结果"
    r"|情况说明|意见反馈|收集情况|汇总情况|办理情况|意见的反馈|采纳与否"
)
_INTERVIEW_FOLLOW_UP = re.compile(r"^[【\[〔(（]?\s*预告|访谈预告|直播预告|预告[】\]〕)）]")


@dataclass(frozen=True, slots=True)
class ActivityRules:
    """The ``[rules]`` keys of the activity check, with their defaults."""

    survey_min_portal: int = 6
    survey_min_other: int = 3
    interview_min: int = 0  # 0: no rule

    @classmethod
    def from_mapping(cls, rules: Mapping[str, Any]) -> ActivityRules:
        """From a config's ``[rules]`` table (other keys are ignored)."""
        keys = [f for f in cls.__dataclass_fields__ if f in rules]
        return cls(**{k: int(rules[k]) for k in keys})


def minimum(category: str, site_kind: str, rules: ActivityRules = ActivityRules()) -> int:
    """How many activities a year a column of ``category`` needs on a site of ``site_kind``."""
    if category == SURVEY:
        return rules.survey_min_portal if site_kind == "portal" else rules.survey_min_other
    if category == INTERVIEW:
        return rules.interview_min
    return 0


def year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def is_follow_up(title: str, category: str) -> bool:
    """Whether an item reports on an earlier activity rather than being one."""
    text = "".join(title.split())
    if category == SURVEY:
        return _SURVEY_FOLLOW_UP.search(text) is not None
    if category == INTERVIEW:
        return _INTERVIEW_FOLLOW_UP.search(text) is not None
    return False


@dataclass(slots=True)
class ActivityCount:
    since: dt.date
    counted: list[Item] = field(default_factory=list)
    follow_ups: int = 0
    duplicates: int = 0
    undated: int = 0
    outside: int = 0  # dated items outside the year

    @property
    def count(self) -> int:
        return len(self.counted)


def count_activities(
    items: Iterable[Item], as_of: dt.date, category: str, *, seen: set[str] | None = None
) -> ActivityCount:
    """The activities among ``items`` in the year before ``as_of`` (see the module's rules).

    ``seen`` (comparable titles already counted) lets several columns be counted together.
    """
    since = year_before(as_of)
    out = ActivityCount(since=since)
    titles = seen if seen is not None else set()
    for item in items:
        if item.date is None:
            out.undated += 1
            continue
        if not since <= item.date <= as_of:
            out.outside += 1
            continue
        if is_follow_up(item.title, category):
            out.follow_ups += 1
            continue
        key = comparable(item.title) or item.url
        if key in titles:
            out.duplicates += 1
            continue
        titles.add(key)
        out.counted.append(item)
    return out


def judge_activity(
    columns: Iterable[ColumnState],
    site_kind: str,
    as_of: dt.date,
    rules: ActivityRules = ActivityRules(),
) -> list[tuple[ColumnState, Judgement]]:
    """``column.too_few`` for a site's survey and interview columns, at most one per category."""
    by_category: dict[str, list[ColumnState]] = {}
    for column in columns:
        if column.category in (SURVEY, INTERVIEW) and column.read:
            by_category.setdefault(column.category, []).append(column)
    out: list[tuple[ColumnState, Judgement]] = []
    for category in (SURVEY, INTERVIEW):
        group = by_category.get(category, [])
        need = minimum(category, site_kind, rules)
        if not group or need <= 0:
            continue
        seen: set[str] = set()
        counts = [
            (c, count_activities(c.items.values(), as_of, category, seen=seen)) for c in group
        ]
        total = sum(n.count for _, n in counts)
        if total >= need:
            continue
        if total == 0 and all(c.placeholder and not c.items for c in group):
            continue  # blank with a placeholder: column.blank says so
        subject = max(counts, key=lambda cn: cn[1].count)[0]
        counted = sorted(
            (i for _, n in counts for i in n.counted),
            key=lambda i: i.date or dt.date.min,
            reverse=True,
        )
        detail: dict[str, Any] = {
            "category": category,
            "name": subject.name,
            "count": total,
            "minimum": need,
            "site_kind": site_kind,
            "since": year_before(as_of).isoformat(),
            "as_of": as_of.isoformat(),
            "activities": [
                {"title": i.title, "date": i.date.isoformat() if i.date else None, "url": i.url}
                for i in counted[:20]
            ],
            "follow_ups": sum(n.follow_ups for _, n in counts),
            "duplicates": sum(n.duplicates for _, n in counts),
            "undated": sum(n.undated for _, n in counts),
            "columns": [{"name": c.name, "url": c.url, "count": n.count} for c, n in counts],
        }
        out.append((subject, Judgement(TOO_FEW, detail)))
    return out


def rule_keys() -> Sequence[tuple[str, int]]:
    """The proposed ``[rules]`` keys and their defaults."""
    defaults = ActivityRules()
    return tuple((name, getattr(defaults, name)) for name in ActivityRules.__dataclass_fields__)
