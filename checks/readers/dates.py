"""Reading dates on Chinese government pages: in list rows and running text. Pure.

Forms read (after folding full-width digits and punctuation, and Chinese brackets, to ASCII):

* ``2020-06-15``, ``2020/6/15``, ``2020.06.15``, ``2020年6月15日`` (``日`` optional), with or
  without a time (``2020-06-15 10:20:33``, ``2020-06-15T10:20``);
* ``二〇二〇年六月十五日`` (the form of the date under an official document);
* ``6/15/2020`` (ASP.NET's US form; read day-first only when the first number exceeds 12);
* ``20200615`` only when it is the whole text (``parse_date``), never inside running text;
* yearless ``06-15``, ``[06-15]``, ``6/15``, ``6月15日``: the year comes from ``context_year``,
  else from ``as_of`` (the latest such date not after ``as_of`` + 1 day), else there is no date.

Years outside 1990..2100 and impossible days (2020-02-30) are not dates. Nothing here raises.
A page's own publication date is read in :mod:`checks.readers.published`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from selectolax.lexbor import LexborNode

MIN_YEAR = 1990
MAX_YEAR = 2100
SHANGHAI = dt.timezone(dt.timedelta(hours=8))

# one character for one character, so that spans in the folded text are spans in the original
_FOLD_MAP = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}  # full-width ASCII
_FOLD_MAP.update(
    {
        0x3000: 0x20,  # ideographic space
        0xA0: 0x20,  # no-break space
        0x2002: 0x20,
        0x2003: 0x20,
        0x2009: 0x20,
        0x3010: 0x5B,  # 【
        0x3011: 0x5D,  # 】
        0x3014: 0x5B,  # 〔
        0x3015: 0x5D,  # 〕
        0x3016: 0x5B,  # 〖
        0x3017: 0x5D,  # 〗
        0x2010: 0x2D,  # hyphens and dashes
        0x2011: 0x2D,
        0x2012: 0x2D,
        0x2013: 0x2D,
        0x2014: 0x2D,
        0x2212: 0x2D,
    }
)
_FOLD = str.maketrans(_FOLD_MAP)

_CN_DIGITS = {
    "〇": 0, "○": 0, "零": 0, "О": 0, "O": 0,
    "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip

# Every alternative is a fixed sequence of bounded runs: no nested quantifiers, linear time.
_DATE = re.compile(
    r"""
    (?<![0-9])
    (?:
        (?P<y>(?:19|20|21)[0-9]{2})[ ]{0,2}
        (?:
            (?P<s>[-/.])[ ]{0,2}(?P<m>[0-9]{1,2})[ ]{0,2}(?P=s)[ ]{0,2}(?P<d>[0-9]{1,2})(?![0-9])
          | 年[ ]{0,2}(?P<m2>[0-9]{1,2})[ ]{0,2}月[ ]{0,2}(?P<d2>[0-9]{1,2})(?![0-9])
        )
      | (?P<um>[0-9]{1,2})/(?P<ud>[0-9]{1,2})/(?P<uy>(?:19|20|21)[0-9]{2})(?![0-9])
      | (?P<zy>[〇○零一二三四五六七八九OО]{4})[ ]{0,2}年[ ]{0,2}
        (?P<zm>[一二三四五六七八九十]{1,2})[ ]{0,2}月[ ]{0,2}
        (?P<zd>[一二三四五六七八九十]{1,3})[ ]{0,2}[日号]
      | (?<![0-9][-/.])(?<!年)
        (?:
            (?P<nm>[0-9]{1,2})[ ]?(?P<ns>[-/])[ ]?(?P<nd>[0-9]{1,2})(?![0-9])(?![-/.][0-9])
          | (?P<cm>[0-9]{1,2})[ ]{0,2}月[ ]{0,2}(?P<cd>[0-9]{1,2})[ ]{0,2}[日号]
        )
    )
    """,
    re.VERBOSE,
)
_COMPACT = re.compile(
    r"[\[(]?[ ]*((?:19|20|21)[0-9]{2})([01][0-9])([0-3][0-9])(?:[0-9]{4}(?:[0-9]{2})?)?[ ]*[\])]?"
)
_ISO_OFFSET = re.compile(
    r"[ ]*((?:19|20|21)[0-9]{2}-[0-9]{2}-[0-9]{2})"
    r"[T ]([0-9]{2}:[0-9]{2}(?::[0-9]{2})?(?:\.[0-9]{1,6})?)"
    r"[ ]?(Z|[+-][0-9]{2}:?[0-9]{2})[ ]*"
)

PARSE_LIMIT = 4096  # characters of one string that ``parse_date`` reads
SCAN_LIMIT = 200_000  # characters of a page that ``find_dates`` reads
# elements whose text is not the page's text
SKIP_TAGS = frozenset(
    {"script", "style", "noscript", "template", "head", "select", "option", "textarea", "svg"}
)


class RawDate(NamedTuple):
    """A date as written: ``year`` is ``None`` for a yearless ``06-15``."""

    year: int | None
    month: int
    day: int
    start: int
    end: int


def next_day(day: dt.date) -> dt.date:
    """The day after ``day`` (``date.max`` stays itself: no overflow on hostile input)."""
    return day if day >= dt.date.max else day + dt.timedelta(days=1)


def fold(text: str) -> str:
    """Full-width digits and punctuation, Chinese brackets and odd spaces as ASCII; same length."""
    return text.translate(_FOLD)


def _cn_number(text: str) -> int:
    """一 .. 三十一 (a month or day written in Chinese numerals); 0 if not one."""
    if "十" not in text:
        return _CN_DIGITS.get(text, 0) if len(text) == 1 else 0
    tens, _, units = text.partition("十")
    if "十" in units or len(tens) > 1 or len(units) > 1:
        return 0
    high = _CN_DIGITS.get(tens, 0) if tens else 1
    low = _CN_DIGITS.get(units, 0) if units else 0
    return high * 10 + low if high else 0


def _valid(year: int, month: int, day: int) -> dt.date | None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _valid_month_day(month: int, day: int) -> bool:
    return _valid(2000, month, day) is not None  # 2000 is a leap year: 02-29 allowed


def _raw(match: re.Match[str]) -> RawDate | None:
    g = match.group
    start, end = match.span()
    if g("y") is not None:
        year = int(g("y"))
        if g("m") is not None:
            month, day = int(g("m")), int(g("d"))
        else:
            month, day = int(g("m2")), int(g("d2"))
        return RawDate(year, month, day, start, end) if _valid(year, month, day) else None
    if g("uy") is not None:
        year, first, second = int(g("uy")), int(g("um")), int(g("ud"))
        month, day = (second, first) if first > 12 else (first, second)
        return RawDate(year, month, day, start, end) if _valid(year, month, day) else None
    if g("zy") is not None:
        year = 0
        for ch in g("zy"):
            year = year * 10 + _CN_DIGITS[ch]
        month, day = _cn_number(g("zm")), _cn_number(g("zd"))
        return RawDate(year, month, day, start, end) if _valid(year, month, day) else None
    if g("nm") is not None:
        month, day = int(g("nm")), int(g("nd"))
    else:
        month, day = int(g("cm")), int(g("cd"))
    return RawDate(None, month, day, start, end) if _valid_month_day(month, day) else None


def scan(text: str, *, yearless: bool = True, limit: int = SCAN_LIMIT) -> list[RawDate]:
    """Every date written in the first ``limit`` characters of ``text``, as written, in order."""
    folded = fold(text[:limit])
    out: list[RawDate] = []
    for match in _DATE.finditer(folded):
        raw = _raw(match)
        if raw is not None and (yearless or raw.year is not None):
            out.append(raw)
    return out


def resolve_year(
    month: int, day: int, *, context_year: int | None = None, as_of: dt.date | None = None
) -> dt.date | None:
    """The date of a yearless ``month-day``: in ``context_year``, else the latest one not after
    ``as_of`` + 1 day, else ``None``."""
    if context_year is not None:
        return _valid(context_year, month, day)
    if as_of is None:
        return None
    return latest_on_or_before(month, day, next_day(as_of))


def latest_on_or_before(month: int, day: int, limit: dt.date) -> dt.date | None:
    """The latest date with this month and day that is not after ``limit`` (02-29: up to 8 years
    back)."""
    for year in range(limit.year, limit.year - 9, -1):
        found = _valid(year, month, day)
        if found is not None and found <= limit:
            return found
    return None


def _resolve(raw: RawDate, context_year: int | None, as_of: dt.date | None) -> dt.date | None:
    if raw.year is not None:
        return dt.date(raw.year, raw.month, raw.day)
    return resolve_year(raw.month, raw.day, context_year=context_year, as_of=as_of)


def find_dates(
    text: str,
    *,
    yearless: bool = False,
    context_year: int | None = None,
    as_of: dt.date | None = None,
    limit: int = SCAN_LIMIT,
) -> list[tuple[dt.date, tuple[int, int]]]:
    """All dates in ``text`` with their spans; yearless ones only when ``yearless`` is set and a
    year can be found for them (``context_year`` or ``as_of``)."""
    out: list[tuple[dt.date, tuple[int, int]]] = []
    for raw in scan(text, yearless=yearless, limit=limit):
        found = _resolve(raw, context_year, as_of)
        if found is not None:
            out.append((found, (raw.start, raw.end)))
    return out


def parse_date(
    text: str, *, context_year: int | None = None, as_of: dt.date | None = None
) -> dt.date | None:
    """The first date in ``text`` (a short string: a list cell, a meta content, a label's value).

    A compact ``20200615`` (or ``20200615102033``) is read only when it is the whole text.
    ``None`` when there is none; never raises.
    """
    if not isinstance(text, str):
        return None
    head = fold(text[:PARSE_LIMIT])
    stripped = head.strip()
    compact = _COMPACT.fullmatch(stripped)
    if compact is not None:
        return _valid(int(compact.group(1)), int(compact.group(2)), int(compact.group(3)))
    for raw in scan(head, yearless=True, limit=PARSE_LIMIT):
        found = _resolve(raw, context_year, as_of)
        if found is not None:
            return found
    return None


def resolve_sequence(
    raws: Sequence[RawDate | None],
    *,
    as_of: dt.date | None,
    context_years: Sequence[int | None] | None = None,
) -> list[dt.date | None]:
    """Dates for the rows of one list, in order, giving yearless rows their year.

    A row under a year heading takes that year. Otherwise each yearless row takes the latest
    date not after ``as_of`` + 1 day, which is right for any row of the last twelve months,
    crossing New Year included. A list that spans more than a year shows, read that way, a jump
    forward of more than half a year after a run of at least three rows in order: from there each
    yearless row takes the latest date not after the row before it (the direction of the list,
    newest or oldest first, is the majority of its steps). A pinned old row at the top (置顶)
    does not shift the list.
    """
    years = list(context_years) if context_years is not None else [None] * len(raws)
    out: list[dt.date | None] = []
    yearless: list[int] = []
    for index, raw in enumerate(raws):
        if raw is None:
            out.append(None)
        elif raw.year is not None:
            out.append(dt.date(raw.year, raw.month, raw.day))
        elif years[index] is not None:
            out.append(_valid(years[index] or 0, raw.month, raw.day))
        else:
            out.append(resolve_year(raw.month, raw.day, as_of=as_of))
            yearless.append(index)
    if len(yearless) < 4:
        return out
    dated = [i for i in range(len(out)) if out[i] is not None]
    down = sum(1 for a, b in itertools.pairwise(dated) if _le(out[b], out[a]))
    up = sum(1 for a, b in itertools.pairwise(dated) if _le(out[a], out[b]))
    order = dated if down >= up else dated[::-1]
    yearless_set = set(yearless)
    run = 0  # rows in order since the last step the wrong way
    shifted = False
    previous: dt.date | None = None
    for index in order:
        current = out[index]
        raw = raws[index]
        if current is None or raw is None:
            continue
        if previous is not None and current > previous:
            earlier = (
                latest_on_or_before(raw.month, raw.day, previous)
                if index in yearless_set
                and (current - previous).days > 183
                and (run >= 3 or shifted)
                else None
            )
            if earlier is not None:
                current = earlier
                out[index] = current
                shifted = True
                run += 1
            else:
                run = 0
        else:
            run += 1
        previous = current
    return out


def _le(a: dt.date | None, b: dt.date | None) -> bool:
    return a is not None and b is not None and a <= b


def iter_text_nodes(root: LexborNode) -> Iterator[tuple[str, bool]]:
    """The text nodes under ``root`` in order, with whether each lies inside an ``<a>``."""
    stack: list[tuple[LexborNode, bool]] = [(root, False)]
    while stack:
        node, in_link = stack.pop()
        tag = node.tag or ""
        if tag == "-text":
            text = node.text_content or ""
            if text.strip():
                yield text, in_link
            continue
        if tag.startswith("-") or tag in SKIP_TAGS:
            continue
        in_link = in_link or tag == "a"
        children: list[LexborNode] = []
        child = node.child
        while child is not None:
            children.append(child)
            child = child.next
        for kid in reversed(children):
            stack.append((kid, in_link))


def iso_local_day(text: str) -> dt.date | None:
    """``2022-02-06T20:48:06+00:00`` as the day in China (2022-02-07); None if not that form."""
    match = _ISO_OFFSET.fullmatch(fold(text[:80]))
    if match is None:
        return None
    stamp = f"{match.group(1)}T{match.group(2)}{match.group(3)}"
    try:
        moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    day = moment.astimezone(SHANGHAI).date()
    return day if MIN_YEAR <= day.year <= MAX_YEAR else None
