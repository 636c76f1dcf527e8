"""Reading dates on Chinese government pages: list-row dates and a page's publication date. Pure.

Forms read (after folding full-width digits and punctuation, and Chinese brackets, to ASCII):

* ``2020-06-15``, ``2020/6/15``, ``2020.06.15``, ``2020年6月15日`` (``日`` optional), with or
  without a time (``2020-06-15 10:20:33``, ``2020-06-15T10:20``);
* ``二〇二〇年六月十五日`` (the form of the date under an official document);
* ``6/15/2020`` (ASP.NET's US form; read day-first only when the first number exceeds 12);
* ``20200615`` only when it is the whole text (``parse_date``), never inside running text;
* yearless ``06-15``, ``[06-15]``, ``6/15``, ``6月15日``: the year comes from ``context_year``,
  else from ``as_of`` (the latest such date not after ``as_of`` + 1 day), else there is no date.

Years outside 1990..2100 and impossible days (2020-02-30) are not dates. Nothing here raises.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from selectolax.lexbor import LexborHTMLParser, LexborNode

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


class RawDate(NamedTuple):
    """A date as written: ``year`` is ``None`` for a yearless ``06-15``."""

    year: int | None
    month: int
    day: int
    start: int
    end: int


def _next_day(day: dt.date) -> dt.date:
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
    return latest_on_or_before(month, day, _next_day(as_of))


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


def _iso_local_day(text: str) -> dt.date | None:
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


# --- a page's own publication date ---------------------------------------------------------

# <meta> names (name, property, itemprop or http-equiv, lower-cased), best first
_META_NAMES: dict[str, int] = {
    name: rank
    for rank, names in enumerate(
        (
            ("pubdate", "publishdate", "publish_date", "pub_date", "publishtime", "publish-date"),
            ("firstpublishedtime", "article:published_time", "articletime", "datepublished"),
            ("og:release_date", "og:published_time", "og:article:published_time"),
            ("dc.date.issued", "dcterms.issued", "weibo:article:create_at", "releasedate"),
            ("dc.date", "dcterms.date", "date", "dc.date.created", "dcterms.created"),
        )
    )
    for name in names
}

# labels that say "this is the publication date", by strength; longest first inside a rank
_STRONG_LABELS = (
    "发布时间", "发布日期", "发表时间", "发表日期", "发文日期", "发文时间", "公开日期", "公开时间",
    "公布日期", "公布时间", "发稿时间", "发稿日期", "刊发时间", "刊发日期", "上传时间", "上传日期",
    "录入时间", "录入日期", "添加时间", "添加日期", "信息时间", "信息日期", "出版日期",
    "发布于", "发表于", "发布:", "发表:",
)  # fmt: skip
_MEDIUM_LABELS = (
    "成文日期",
    "成文时间",
    "印发日期",
    "生成日期",
    "签发日期",
    "更新时间",
    "更新日期",
)
_WEAK_LABELS = ("日期", "时间", "日 期", "时 间")
_LABEL_RE = re.compile(
    "|".join(re.escape(label) for label in (*_STRONG_LABELS, *_MEDIUM_LABELS, *_WEAK_LABELS))
)
_LABEL_RANK = {
    **dict.fromkeys(_STRONG_LABELS, 0),
    **dict.fromkeys(_MEDIUM_LABELS, 1),
    **dict.fromkeys(_WEAK_LABELS, 2),
}
_SOURCE_RE = re.compile("来源|來源|稿源|出处|作者")
_LABEL_GAP = 24  # characters allowed between a label and its date
_SOURCE_AFTER = 40  # "来源：新华网 2020-06-15"
_SOURCE_BEFORE = 40  # "2020-06-15 10:20 来源：新华网"
_NEAR_BEFORE = 2500  # a label this far before the title is still the page's (a metadata table)
_NEAR_AFTER = 1500  # ... or this far after it
_JUST_AFTER = 300  # an unlabelled date this close after the title is the page's
_TITLE_WINDOW = 1500  # characters after the title in which the page's date is looked for
_SKIP_TAGS = frozenset(
    {"script", "style", "noscript", "template", "head", "select", "option", "textarea", "svg"}
)
_FOOTER_MARKS = ("foot", "copyright", "banquan", "beian", "bottom")
_FOOTER_TEXT = ("版权所有", "copyright", "©", "icp", "备案", "公网安备", "主办单位", "承办单位")
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3}
_RANGE_MARKS = ("-", "~", "至", "到", "—")


@dataclass(slots=True)
class _Segment:
    text: str
    start: int  # offset in the joined text
    footer: bool  # inside the page's footer (an element whose id or class starts "foot" …)
    link: bool  # inside an <a>
    heading: int  # 1..3 inside h1..h3, else 0
    element: int  # the id of the element holding the text


def _is_footer_element(node: LexborNode) -> bool:
    if node.tag == "footer":
        return True
    attrs = node.attributes
    marker = ((attrs.get("id") or "") + " " + (attrs.get("class") or "")).lower()
    if not marker.strip():
        return False
    tokens = marker.replace("-", " ").replace("_", " ").split()
    # "footer", "foot", "copyright"; not "postFoot" (a post's own footer, with its date)
    return any(token.startswith(_FOOTER_MARKS) for token in tokens)


def _segments(root: LexborNode, max_chars: int = SCAN_LIMIT) -> list[_Segment]:
    """The visible text of ``root`` in document order, one segment a text node, with flags."""
    out: list[_Segment] = []
    total = 0
    # (node, footer, link, heading, element): an explicit stack, no recursion limit on deep pages
    stack: list[tuple[LexborNode, bool, bool, int, int]] = [(root, False, False, 0, 0)]
    while stack and total < max_chars:
        node, footer, link, heading, element = stack.pop()
        tag = node.tag or ""
        if tag == "-text":
            text = node.text_content or ""
            if text.strip():
                out.append(_Segment(text, total, footer, link, heading, element))
                total += len(text) + 1
            continue
        if tag.startswith("-") or tag in _SKIP_TAGS:
            continue
        if not footer and tag not in ("html", "body") and _is_footer_element(node):
            footer = True
        link = link or tag == "a"
        level = _HEADINGS.get(tag, 0)
        if level and not heading:
            heading, element = level, int(node.mem_id)
        elif not heading:
            element = int(node.mem_id)
        child = node.last_child
        while child is not None:
            stack.append((child, footer, link, heading, element))
            child = child.prev
    return out


def _looks_like_footer_text(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in _FOOTER_TEXT)


class _PageText:
    """The joined visible text of a page with, for any offset, the segment it lies in."""

    def __init__(self, segments: list[_Segment]) -> None:
        self.segments = segments
        self.text = " ".join(s.text for s in segments)
        self.folded = fold(self.text)
        self.starts = [s.start for s in segments]

    def segment_at(self, offset: int) -> _Segment | None:
        if not self.segments:
            return None
        index = bisect.bisect_right(self.starts, offset) - 1
        return self.segments[max(index, 0)]

    def boilerplate(self, offset: int) -> bool:
        seg = self.segment_at(offset)
        return seg is not None and (seg.footer or _looks_like_footer_text(seg.text))

    def in_link(self, offset: int) -> bool:
        seg = self.segment_at(offset)
        return seg is not None and seg.link


def _meta_date(tree: LexborHTMLParser) -> dt.date | None:
    best: tuple[int, dt.date] | None = None
    for node in tree.css("meta"):
        attrs = node.attributes
        content = attrs.get("content")
        if not content:
            continue
        for key in ("name", "property", "itemprop", "http-equiv"):
            name = (attrs.get(key) or "").strip().lower()
            rank = _META_NAMES.get(name)
            if rank is None:
                continue
            found = _iso_local_day(content) or parse_date(content)
            if found is None:
                continue
            if best is None or rank < best[0]:
                best = (rank, found)
            break
    return best[1] if best is not None else None


def _plausible(day: dt.date, as_of: dt.date | None) -> bool:
    return as_of is None or day <= _next_day(as_of)


class _Found(NamedTuple):
    rank: int  # 0 strong label, 1 medium, 2 weak
    at: int  # offset of the label
    day: dt.date


def _labelled(page: _PageText, as_of: dt.date | None) -> list[_Found]:
    """Every date right after a label (``发布时间：2020-06-15``), outside the footer."""
    folded = page.folded
    out: list[_Found] = []
    for match in _LABEL_RE.finditer(folded):
        end = match.end()
        window = folded[end : end + _LABEL_GAP + 20]
        for raw in scan(window, yearless=False, limit=len(window)):
            if raw.year is None:
                continue
            between = window[: raw.start]
            if len(between.strip(" :：[]()\t\r\n")) > 6:
                break
            day = dt.date(raw.year, raw.month, raw.day)
            if _plausible(day, as_of) and not page.boilerplate(match.start()):
                out.append(_Found(_LABEL_RANK[match.group(0)], match.start(), day))
            break
        if len(out) >= 200:
            break
    return out


def _best_label(found: list[_Found], title_at: int | None) -> dt.date | None:
    if not found:
        return None
    rank = min(f.rank for f in found)
    best = [f for f in found if f.rank == rank]
    if title_at is None:
        return best[0].day
    return min(best, key=lambda f: abs(f.at - title_at)).day


def _source_date(page: _PageText, as_of: dt.date | None) -> dt.date | None:
    """A date beside 来源 / 作者: ``2020-06-15 来源：新华网`` or ``来源：新华网 2020-06-15``."""
    folded = page.folded
    for match in _SOURCE_RE.finditer(folded):
        if page.boilerplate(match.start()):
            continue
        start = max(0, match.start() - _SOURCE_BEFORE)
        before = scan(folded[start : match.start()], yearless=False, limit=_SOURCE_BEFORE)
        if before and before[-1].year is not None:
            last = before[-1]
            day = dt.date(last.year or 0, last.month, last.day)
            if _plausible(day, as_of) and len(folded[start + last.end : match.start()]) <= 24:
                return day
        window = folded[match.end() : match.end() + _SOURCE_AFTER]
        after = scan(window, yearless=False, limit=_SOURCE_AFTER)
        if after and after[0].year is not None:
            first = after[0]
            day = dt.date(first.year or 0, first.month, first.day)
            if _plausible(day, as_of) and len(window[: first.start].strip()) <= 24:
                return day
    return None


def _title_parts(title: str) -> list[str]:
    parts = re.split(r"[_|｜]| - | — |－|-{2,}|»|›", title)
    return [p.strip() for p in parts if len(p.strip()) >= 4]


def _overlaps(text: str, parts: list[str]) -> bool:
    text = " ".join(text.split())
    if len(text) < 4:
        return False
    for raw_part in parts:
        part = " ".join(raw_part.split())
        if text in part or part in text or text[:8] == part[:8]:
            return True
    return False


def _title_offset(page: _PageText, title: str) -> int | None:
    """Where the page's title ends in its text: a heading that matches the ``<title>``, else the
    text that does, else the first ``<h1>``."""
    parts = _title_parts(title)
    segments = page.segments
    first_h1: int | None = None
    for level in (1, 2, 3):
        for index, seg in enumerate(segments):
            if seg.heading != level or seg.footer:
                continue
            # the heading element's whole text (it may hold several text nodes)
            last = index
            while last + 1 < len(segments) and segments[last + 1].element == seg.element:
                last += 1
            if index > 0 and segments[index - 1].element == seg.element:
                continue  # not the heading's first text node
            whole = " ".join(s.text for s in segments[index : last + 1])
            end = segments[last].start + len(segments[last].text)
            if level == 1 and first_h1 is None:
                first_h1 = end
            if parts and _overlaps(whole, parts):
                return end
    if parts:
        for seg in segments:
            text = seg.text.strip()
            if not seg.link and not seg.footer and 4 <= len(text) <= 120 and _overlaps(text, parts):
                return seg.start + len(seg.text)
    return first_h1


def _in_range(folded: str, raw: RawDate, offset: int) -> bool:
    """Whether the date is one end of a range (``12/01/2004 - 01/01/2005``)."""
    start, end = offset + raw.start, offset + raw.end
    after = folded[end : end + 4].lstrip()
    if after.startswith(_RANGE_MARKS) and scan(folded[end : end + 16], yearless=False, limit=16):
        return True
    before = folded[max(0, start - 4) : start].rstrip()
    return before.endswith(_RANGE_MARKS) and bool(
        scan(folded[max(0, start - 16) : start], yearless=False, limit=16)
    )


def _first_date(
    page: _PageText, start: int, end: int, as_of: dt.date | None, *, links: bool
) -> dt.date | None:
    folded = page.folded
    for raw in scan(folded[start:end], yearless=False, limit=end - start):
        if raw.year is None:
            continue
        day = dt.date(raw.year, raw.month, raw.day)
        at = start + raw.start
        if page.boilerplate(at) or not _plausible(day, as_of):
            continue
        if (not links and page.in_link(at)) or _in_range(folded, raw, start):
            continue
        return day
    return None


def published_date(
    tree: LexborHTMLParser, text: str | None = None, *, as_of: dt.date | None = None
) -> dt.date | None:
    """The page's own publication date, or ``None``.

    In order:

    1. a ``<meta>``: ``PubDate``, ``publishdate``, ``firstpublishedtime``,
       ``article:published_time``, ``ArticleTime``, ``datePublished`` … (an ISO time with an
       offset is read as the day in China);
    2. with the title found (the heading that matches ``<title>``, else the text that does,
       else the first ``<h1>``): a ``发布时间：`` / ``发布日期：`` in a metadata table above it;
       the first date in the line under it (``<h1>标题</h1><span>2020-06-15</span>``); a
       labelled date below it (``发布日期`` before ``成文日期`` before ``时间：`` / ``日期：``);
    3. a labelled date anywhere; a date beside ``来源：``;
    4. the first date after the title, else the first in the page (dates in links and date
       ranges, as in archive boxes, last).

    Dates in footers (copyright, ICP lines) and, when ``as_of`` is given, dates after it are
    skipped. ``text``, when given, is the page's visible text, used instead of walking the tree
    (footers are then known by their wording only).
    """
    try:
        return _published(tree, text, as_of)
    except Exception:  # a pure reader on every page: a surprise in the markup is no date
        return None


def _published(tree: LexborHTMLParser, text: str | None, as_of: dt.date | None) -> dt.date | None:
    found = _meta_date(tree)
    if found is not None:
        return found
    if text is not None:
        segments = [_Segment(text[:SCAN_LIMIT], 0, False, False, 0, 0)]
    else:
        root = tree.body or tree.root
        if root is None:
            return None
        segments = _segments(root)
    page = _PageText(segments)
    title_node = tree.css_first("title")
    title = title_node.text(strip=True) if title_node is not None else ""
    title_at = _title_offset(page, title) if text is None else None
    labelled = _labelled(page, as_of)
    if title_at is not None:
        # a metadata table above the title (信息公开: 发布日期 …)
        above = [f for f in labelled if f.rank == 0 and -_NEAR_BEFORE <= f.at - title_at < 0]
        found = _best_label(above, title_at)
        if found is not None:
            return found
        # the line under the title, labelled or not
        found = _first_date(page, title_at, title_at + _JUST_AFTER, as_of, links=False)
        if found is not None:
            return found
        below = [f for f in labelled if 0 <= f.at - title_at <= _NEAR_AFTER]
        found = _best_label(below, title_at)
        if found is not None:
            return found
    found = _best_label(labelled, title_at) or _source_date(page, as_of)
    if found is not None:
        return found
    end = len(page.folded)
    for links in (False, True):
        if title_at is not None:
            found = _first_date(page, title_at, title_at + _TITLE_WINDOW, as_of, links=links)
            if found is not None:
                return found
        found = _first_date(page, 0, end, as_of, links=links)
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
        if tag.startswith("-") or tag in _SKIP_TAGS:
            continue
        in_link = in_link or tag == "a"
        children: list[LexborNode] = []
        child = node.child
        while child is not None:
            children.append(child)
            child = child.next
        for kid in reversed(children):
            stack.append((kid, in_link))
