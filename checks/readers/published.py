"""A page's own publication date, read from its metadata, its labels and its title's
surroundings (not the dates of other items a page lists). Pure; nothing here raises.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from dataclasses import dataclass
from typing import NamedTuple

from selectolax.lexbor import LexborHTMLParser, LexborNode

from checks.readers.dates import (
    SCAN_LIMIT,
    SKIP_TAGS,
    RawDate,
    fold,
    iso_local_day,
    next_day,
    parse_date,
    scan,
)

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
        if tag.startswith("-") or tag in SKIP_TAGS:
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
            found = iso_local_day(content) or parse_date(content)
            if found is None:
                continue
            if best is None or rank < best[0]:
                best = (rank, found)
            break
    return best[1] if best is not None else None


def _plausible(day: dt.date, as_of: dt.date | None) -> bool:
    return as_of is None or day <= next_day(as_of)


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
