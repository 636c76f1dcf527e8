"""Reading a column's list page: its dated rows and its other pages. Pure.

A list page is a group of sibling rows (``li``, ``tr``, ``div``, ``dd``, even bare ``a``), each
holding one link and (usually) a date, whatever the CMS. Every link's ancestors (up to a few
levels) are candidate rows; candidates that are siblings of one tag form a group; groups of the
same shape in one block (a list cut into several ``<ul>`` of five) are merged. The dominant group
is the one with the most (dated, long-titled) rows; groups of dated rows beat undated ones, and
rows in navigation bars, footers and "相关链接 / 友情链接" boxes count for little.
The parts of a row are read in :mod:`checks.readers.listrows`, the other pages in
:mod:`checks.readers.pagination`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode

from checks.readers.dates import RawDate, fold, resolve_sequence
from checks.readers.listrows import (
    BLOCKS,
    MAX_ANCHORS,
    MAX_ROW_ANCHORS,
    MAX_ROW_LINKS,
    MAX_ROW_TEXT,
    MAX_UP,
    PLACEHOLDERS,
    PROSE_ARTICLE,
    PROSE_BLOCK,
    PROSE_PER_ROW,
    SIDE_TITLES,
    STOP_LABELS,
    YEAR_HEADING,
    box_title,
    collapse,
    describe,
    elements,
    in_nav_block,
    is_up,
    label,
    node_id,
    page_base,
    region,
    row_date,
    same_page_key,
    shape,
    sibling_date,
    site_key,
)
from checks.readers.pagination import pagination
from crawler.net.urls import canonicalize

__all__ = ["Item", "ListReading", "extract_items", "pagination"]


@dataclass(frozen=True, slots=True)
class Item:
    title: str
    url: str
    date: dt.date | None


@dataclass(slots=True)
class ListReading:
    """What a page says as a list. ``items`` are the rows of the dominant group (in page order,
    one per URL); ``extra`` the dated rows of other dated groups (a home page has several boxes).
    ``is_list`` says whether the page is a list page (an article's "related" box is not);
    ``why`` explains both in words."""

    items: list[Item]
    is_list: bool
    why: str
    extra: list[Item] = field(default_factory=list)


@dataclass(slots=True)
class _Anchor:
    node: LexborNode
    url: str
    label: str  # the title the row shows (title attribute when the text is cut)
    up: bool = False  # to the page itself or up to a folder above it: 首页, a logo, a breadcrumb


@dataclass(slots=True)
class _Row:
    node: LexborNode
    anchor: _Anchor
    raw: RawDate | None
    simple: bool  # one or two links and little text: a list row rather than a page block
    context_year: int | None = None


@dataclass(slots=True)
class _Group:
    parent: LexborNode
    tag: str
    rows: list[LexborNode]
    level: int  # how far above its first link the group's rows lie


@dataclass(slots=True)
class _Reading:
    rows: list[_Row]
    describe: str
    score: float
    dated: int
    side: bool  # in a nav bar, footer or side box
    same_site: float
    mean_title: float
    simple: float  # the share of simple rows
    parents: list[LexborNode] = field(default_factory=list)
    level: int = 0
    sections: bool = False  # some rows were the page's top bar, header, breadcrumb or footer

    @property
    def dated_share(self) -> float:
        return self.dated / len(self.rows) if self.rows else 0.0


def _collect_anchors(
    body: LexborNode, base: str, encoding: str, page: str
) -> tuple[dict[tuple[int, str], _Group], dict[int, list[_Anchor]], dict[int, int]]:
    """The candidate row groups, the links of each candidate row (within ``MAX_UP`` levels) and
    the number of links under every element (at any depth)."""
    groups: dict[tuple[int, str], _Group] = {}
    row_anchors: dict[int, list[_Anchor]] = {}
    counts: dict[int, int] = {}
    page_head = same_page_key(page).partition("?")[0]
    for count, node in enumerate(body.css("a[href]")):
        if count >= MAX_ANCHORS:
            break
        url = canonicalize(node.attributes.get("href") or "", base, encoding)
        if url is None:
            continue
        anchor = _Anchor(node, url, label(node), is_up(url, page_head))
        above = node.parent
        for _ in range(3 * MAX_UP):  # rows lie within MAX_UP levels; count links well below them
            if above is None:
                break
            key_id = node_id(above)
            counts[key_id] = counts.get(key_id, 0) + 1
            above = above.parent
        row: LexborNode | None = node
        for level in range(MAX_UP):
            if row is None:
                break
            parent = row.parent
            if parent is None or row.tag in ("body", "html"):
                break
            row_anchors.setdefault(node_id(row), []).append(anchor)
            key = (node_id(parent), str(row.tag))
            group = groups.get(key)
            if group is None:
                group = groups[key] = _Group(parent, str(row.tag), [], level)
            # the links of one row are consecutive in document order
            if not group.rows or node_id(group.rows[-1]) != node_id(row):
                group.rows.append(row)
            row = parent
    return groups, row_anchors, counts


def _main_anchor(anchors: list[_Anchor]) -> _Anchor | None:
    distinct: dict[str, _Anchor] = {}
    for anchor in anchors:
        if anchor.label and anchor.url not in distinct:
            distinct[anchor.url] = anchor
    if len(distinct) > MAX_ROW_LINKS:
        return None
    best: _Anchor | None = None
    for anchor in distinct.values():
        label = anchor.label
        if anchor.up or label.lower() in STOP_LABELS or label.isdigit() or len(label) < 2:
            continue
        if best is None or len(label) > len(best.label):
            best = anchor
    return best


def _read_group(
    group: _Group,
    row_anchors: dict[int, list[_Anchor]],
    counts: dict[int, int],
    base: str,
    navs: dict[int, bool],
) -> _Reading:
    rows: list[_Row] = []
    sections = False
    for node in group.rows:
        if counts.get(node_id(node), 0) > MAX_ROW_ANCHORS:
            continue  # a container of rows, not a row
        if len(node.text(deep=True, separator="", strip=False)) > MAX_ROW_TEXT * 4:
            continue
        size = len(collapse(node.text(deep=True, separator=" ", strip=False)))
        if size > MAX_ROW_TEXT:
            continue
        anchors = row_anchors.get(node_id(node), [])
        anchor = _main_anchor(anchors)
        if anchor is None:
            continue
        if in_nav_block(anchor.node, node, navs):
            sections = True  # never a row; its siblings are parts of the page, not a list
            continue
        links = len({a.url for a in anchors if a.label})
        small = links <= 2 and size <= 2 * len(anchor.label) + 40
        rows.append(_Row(node, anchor, row_date(node), small))
    if rows and sum(1 for r in rows if r.raw is not None) * 2 < len(rows):
        # <a>title</a><span>date</span><a>…, <dt><a>…</a></dt><dd>date</dd>: the date beside
        ids = {node_id(r.node) for r in rows}
        for forward in (True, False):
            found = [
                sibling_date(r.node, ids, forward) if r.raw is None and r.simple else r.raw
                for r in rows
            ]
            if sum(1 for f in found if f is not None) * 2 >= len(rows):
                for row, raw in zip(rows, found, strict=True):
                    row.raw = raw
                break
    site = site_key(base)
    dated = sum(1 for r in rows if r.raw is not None)
    same = sum(1 for r in rows if site_key(r.anchor.url) == site)
    simple = sum(1 for r in rows if r.simple)
    titles = [min(len(r.anchor.label), 40) for r in rows]
    score = sum(
        (3.0 if r.raw is not None else 0.0) + t / 10 for r, t in zip(rows, titles, strict=True)
    )
    return _Reading(
        rows=rows,
        describe=f"{group.tag} under {describe(group.parent)}",
        score=score,
        dated=dated,
        side=False,
        same_site=same / len(rows) if rows else 0.0,
        mean_title=sum(titles) / len(titles) if titles else 0.0,
        simple=simple / len(rows) if rows else 0.0,
        parents=[group.parent],
        level=group.level,
        sections=sections,
    )


def _signature(group: _Group, dated: bool) -> tuple[str, str, str, int, bool]:
    parent = group.parent
    grand = parent.parent
    great = grand.parent if grand is not None else None
    anchor = great if great is not None else grand if grand is not None else parent
    return (group.tag, shape(parent), shape(grand), node_id(anchor), dated)


def _merge(readings: list[tuple[_Group, _Reading]]) -> list[_Reading]:
    buckets: dict[tuple[str, str, str, int, bool], list[_Reading]] = {}
    for group, reading in readings:
        dated = reading.dated >= 1 and reading.dated_share >= 0.5
        buckets.setdefault(_signature(group, dated), []).append(reading)
    out: list[_Reading] = []
    for parts in buckets.values():
        if len(parts) == 1:
            out.append(parts[0])
            continue
        rows = [row for part in parts for row in part.rows]
        titles = [min(len(r.anchor.label), 40) for r in rows]
        same = sum(p.same_site * len(p.rows) for p in parts)
        simple = sum(p.simple * len(p.rows) for p in parts)
        out.append(
            _Reading(
                rows=rows,
                describe=f"{parts[0].describe} ({len(parts)} blocks)",
                score=sum(p.score for p in parts),
                dated=sum(p.dated for p in parts),
                side=False,
                same_site=same / len(rows) if rows else 0.0,
                mean_title=sum(titles) / len(titles) if titles else 0.0,
                simple=simple / len(rows) if rows else 0.0,
                parents=[parent for p in parts for parent in p.parents],
                level=parts[0].level,
                sections=any(p.sections for p in parts),
            )
        )
    return out


def _place(reading: _Reading, regions: dict[int, tuple[bool, str]]) -> None:
    """Mark a group lying in a nav bar, footer or side box, or one whose rows are the page's
    sections (a top bar, a header, a breadcrumb among them); its rows count for less."""
    first = reading.rows[0].node if reading.rows else None
    title = box_title(first) if first is not None else None
    reading.side = (
        reading.sections
        or all(region(p, regions)[0] for p in reading.parents)
        or (title is not None and any(word in title for word in SIDE_TITLES))
    )
    if reading.side:
        reading.score *= 0.3


def _is_dated(reading: _Reading) -> bool:
    return reading.dated >= 1 and reading.dated_share >= 0.5


def _qualifies(reading: _Reading) -> bool:
    if not reading.rows:
        return False
    if _is_dated(reading):
        return True
    return (
        len(reading.rows) >= 3
        and not reading.side
        and reading.mean_title >= 8
        and reading.same_site >= 0.5
        and reading.simple >= 0.6
    )


def _standalone_year(node: LexborNode) -> int | None:
    text = fold(node.text(deep=True, separator="", strip=True))
    if not 4 <= len(text) <= 8:
        return None
    match = YEAR_HEADING.fullmatch(text)
    return int(match.group(1)) if match else None


def _heading_years(reading: _Reading) -> None:
    """Give rows that follow a year heading (``<h3>2019年</h3>``) that year."""
    row_ids = {node_id(r.node): r for r in reading.rows}
    for parent in reading.parents:
        year: int | None = None
        # a heading just before the block
        probe: LexborNode | None = parent
        for _ in range(3):
            if probe is None:
                break
            sibling = probe.prev
            while sibling is not None and not sibling.is_element_node:
                sibling = sibling.prev
            if sibling is not None:
                year = _standalone_year(sibling)
                if year is not None:
                    break
            probe = probe.parent
        for child in elements(parent):
            row = row_ids.get(node_id(child))
            if row is not None:
                row.context_year = year
            else:
                found = _standalone_year(child)
                if found is not None:
                    year = found


def _items(reading: _Reading, as_of: dt.date) -> list[Item]:
    _heading_years(reading)
    dates = resolve_sequence(
        [r.raw for r in reading.rows],
        as_of=as_of,
        context_years=[r.context_year for r in reading.rows],
    )
    out: list[Item] = []
    seen: set[str] = set()
    for row, day in zip(reading.rows, dates, strict=True):
        if row.anchor.url in seen:
            continue
        seen.add(row.anchor.url)
        out.append(Item(row.anchor.label, row.anchor.url, day))
    return out


def _page_text(body: LexborNode, skip: set[int]) -> tuple[int, str | None]:
    """Prose outside links and outside the rows in ``skip`` (the text of blocks holding at least
    ``PROSE_BLOCK`` characters), and a placeholder phrase (暂无信息) if the page shows one."""
    blocks: dict[int, int] = {}
    placeholder: str | None = None
    stack: list[tuple[LexborNode, bool, int]] = [(body, False, 0)]
    while stack:
        node, in_link, block = stack.pop()
        tag = node.tag or ""
        if tag == "-text":
            text = (node.text_content or "").strip()
            if not text:
                continue
            if not in_link:
                blocks[block] = blocks.get(block, 0) + len(text)
            if placeholder is None and len(text) <= 60:
                placeholder = next((p for p in PLACEHOLDERS if p in text), None)
            continue
        if tag.startswith("-") or tag in ("script", "style", "noscript", "template", "select"):
            continue
        if node_id(node) in skip:
            continue
        if tag in BLOCKS:
            block = node_id(node)
        in_link = in_link or tag == "a"
        child = node.last_child
        while child is not None:
            stack.append((child, in_link, block))
            child = child.prev
    prose = sum(size for size in blocks.values() if size >= PROSE_BLOCK)
    return prose, placeholder


def extract_items(
    tree: LexborHTMLParser,
    base_url: str,
    encoding: str = "utf-8",
    *,
    as_of: dt.date | None = None,
) -> ListReading:
    """The list rows of a page (title, absolute canonical URL, date) and whether it is a list.

    Yearless dates (``[06-15]``) take the year of a year heading above them, else the latest
    such date not after ``as_of`` + 1 day, with a list spanning more than a year read back in
    order (see ``checks.readers.dates.resolve_sequence``); ``as_of`` defaults to today.
    A page with no list but a placeholder such as 暂无信息 is an empty list (``is_list`` true,
    no items). Never raises.
    """
    try:
        return _extract(tree, base_url, encoding, as_of or dt.date.today())
    except Exception as exc:  # a pure reader on every page: odd markup is no list, not a crash
        return ListReading([], False, f"could not read the page as a list ({type(exc).__name__})")


def _extract(tree: LexborHTMLParser, base_url: str, encoding: str, as_of: dt.date) -> ListReading:
    body = tree.body
    if body is None:
        return ListReading([], False, "no body")
    base = page_base(tree, base_url, encoding)
    page = canonicalize(base_url) or base_url
    groups, row_anchors, counts = _collect_anchors(body, base, encoding, page)
    navs: dict[int, bool] = {}
    readings = [
        (g, _read_group(g, row_anchors, counts, base, navs))
        for g in groups.values()
        # a link alone in its parent: the parent, one level up, is the same row with more context
        if g.level > 0 or len(g.rows) > 1
    ]
    merged = [r for r in _merge(readings) if r.rows]
    regions: dict[int, tuple[bool, str]] = {}
    for reading in merged:
        if _is_dated(reading) or len(reading.rows) >= 3:
            _place(reading, regions)
    candidates = [r for r in merged if _qualifies(r)]
    dated = [r for r in candidates if _is_dated(r)]
    pool = dated or candidates
    # on a tie (the same rows seen as <a> or as their <li>), the outer rows describe the list
    chosen = max(pool, key=lambda r: (round(r.score, 6), r.level)) if pool else None
    skip = {node_id(r.node) for r in chosen.rows} if chosen is not None else set()
    prose, placeholder = _page_text(body, skip)
    if placeholder is not None and (chosen is None or chosen.side):
        return ListReading([], True, f"an empty list: placeholder text '{placeholder}'")
    if chosen is None:
        if merged:
            best = max(merged, key=lambda r: r.score)
            return ListReading(
                [],
                False,
                f"no list: the largest group, {len(best.rows)} rows of {best.describe}, "
                f"is undated and looks like navigation",
            )
        return ListReading([], False, "no repeated rows with links")
    items = _items(chosen, as_of)
    extra: list[Item] = []
    seen = {item.url for item in items}
    taken = {id(anchor) for row in chosen.rows for anchor in row_anchors.get(node_id(row.node), [])}
    for other in dated:
        if other is chosen or other.side:
            continue
        if any(id(a) in taken for r in other.rows for a in row_anchors.get(node_id(r.node), [])):
            continue  # the same rows seen at another level
        for item in _items(other, as_of):
            if item.date is not None and item.url not in seen:
                seen.add(item.url)
                extra.append(item)
    with_dates = sum(1 for item in items if item.date is not None)
    what = f"{len(items)} rows of {chosen.describe}"
    what += f", {with_dates} with dates" if with_dates else ", undated"
    if chosen.side:
        return ListReading(
            items, False, f"no list: only {what}, in a navigation bar, footer or side box", extra
        )
    if prose >= max(PROSE_ARTICLE, PROSE_PER_ROW * len(items)):
        return ListReading(
            items, False, f"an article: {prose} characters of prose outweigh {what}", extra
        )
    if len(items) < 2 and with_dates == 0:
        return ListReading(items, False, f"no list: only {what}", extra)
    return ListReading(items, True, what, extra)
