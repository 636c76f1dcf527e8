"""Reading a column's list page: its dated rows and its other pages. Pure.

A list page is a group of sibling rows (``li``, ``tr``, ``div``, ``dd``, even bare ``a``), each
holding one link and (usually) a date, whatever the CMS. Every link's ancestors (up to a few
levels) are candidate rows; candidates that are siblings of one tag form a group; groups of the
same shape in one block (a list cut into several ``<ul>`` of five) are merged. The dominant group
is the one with the most (dated, long-titled) rows; groups of dated rows beat undated ones, and
rows in navigation bars, footers and "相关链接 / 友情链接" boxes count for little.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from checks.readers.dates import RawDate, fold, iter_text_nodes, resolve_sequence, scan
from crawler.net.urls import canonicalize, hostname

MAX_UP = 6  # how far above a link a row may lie
MAX_ROW_LINKS = 5  # a "row" with more distinct links is a container of rows
MAX_ROW_ANCHORS = 8  # ... or with more links at all (at any depth)
MAX_ROW_TEXT = 400  # a "row" with more text is an article or a block, not a list row
MAX_ANCHORS = 5000  # links read on one page
MAX_PAGES = 2000  # list pages generated from a createPageHTML call

_STOP_LABELS = frozenset(
    {
        "更多", "更多>>", "more", "more>>", "详细", "详情", "查看", "查看详情", "阅读全文", "下载",
        "点击下载", "附件", "首页", "上一页", "下一页", "尾页", "末页", ">>", "<<", "»", "«",
    }
)  # fmt: skip
_BULLETS = "·•●■□◆◇▪▶►>»-* \u3000\xa0"
_ELLIPSES = ("...", "…", "。。。", "．．．", "..")
_LABEL_WORDS = re.compile(r"发布时间|发布日期|更新时间|更新日期|时间|日期|发布|发表|更新")
_TIME = re.compile(r"[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?(?:[ ]?[AaPp][Mm])?")
_RESIDUE_STRIP = " \t\r\n[](){}<>:|,;-/.·•'\"、，：；"
_YEAR_HEADING = re.compile(r"((?:19|20|21)[0-9]{2})[ ]{0,2}年?(?:度)?")
_NAV_MARKS = ("nav", "menu", "daohang", "header", "breadcrumb", "crumb", "weizhi", "location")
_FOOTER_MARKS = ("foot", "copyright", "yqlj", "friend", "banquan")
# class or id words (whole) of the page's top bar, logo and "当前位置" breadcrumb
_TOP_WORDS = frozenset(
    {
        "topbar", "top-bar", "top_bar", "toolbar", "tool-bar", "logo", "site-logo", "sitelogo",
        "position", "dqwz", "curpos", "cur-pos", "current-position", "currentposition",
    }
)  # fmt: skip
# class or id words of side boxes: related articles and links, hot and ranking lists
_SIDE_MARKS = (
    "related", "relate", "xglj", "xgwz", "xgxw", "xgyd", "xgxx", "tjyd", "hot", "rank",
    "paihang", "tuijian", "recommend",
)  # fmt: skip
_SIDE_TITLES = (
    "相关链接", "友情链接", "相关文章", "相关阅读", "相关新闻", "相关信息", "推荐阅读", "热点",
    "热门", "排行", "网站导航", "快速导航", "专题专栏", "政府网站", "部门网站",
)  # fmt: skip
_PLACEHOLDERS = (
    "暂无信息", "暂无数据", "暂无内容", "暂无记录", "暂无相关", "暂无文章", "暂无公开",
    "没有记录", "没有信息", "没有数据", "没有相关", "无相关信息", "无记录", "栏目正在建设",
    "正在建设中", "信息正在更新", "内容正在更新", "内容更新中", "没有找到相关",
)  # fmt: skip
_PROSE_BLOCK = 40  # a block (p, div, td …) with this much text outside links is prose
_PROSE_ARTICLE = 250  # this much prose (and 20 characters a row) makes a page an article
_PROSE_PER_ROW = 20
_BLOCKS = frozenset(
    {
        "p", "div", "td", "th", "li", "article", "section", "blockquote", "pre", "dd", "dt",
        "body", "table", "tr", "ul", "ol", "form", "center", "main", "header", "footer", "nav",
        "aside", "tbody", "dl", "h1", "h2", "h3", "h4", "h5", "h6",
    }
)  # fmt: skip


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


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _label(node: LexborNode) -> str:
    text = _collapse(node.text(deep=True, separator=" ", strip=False))
    title = _collapse(node.attributes.get("title") or "")
    if not text:
        if title:
            return title
        img = node.css_first("img")
        return _collapse(img.attributes.get("alt") or "") if img is not None else ""
    if title and len(title) > len(text):
        cut = text.rstrip(".…。．").rstrip()
        if text.endswith(_ELLIPSES) or title.startswith(cut[: max(1, len(cut) - 3)]):
            return title
    return text.strip(_BULLETS) or text


def _node_id(node: LexborNode) -> int:
    return int(node.mem_id)


def _marker(node: LexborNode) -> str:
    attrs = node.attributes
    return ((attrs.get("id") or "") + " " + (attrs.get("class") or "")).lower()


def _shape(node: LexborNode | None) -> str:
    if node is None:
        return ""
    cls = " ".join(sorted((node.attributes.get("class") or "").split()))
    return f"{node.tag}.{cls}" if cls else str(node.tag)


def _describe(node: LexborNode) -> str:
    attrs = node.attributes
    if attrs.get("id"):
        return f"{node.tag}#{attrs.get('id')}"
    cls = (attrs.get("class") or "").split()
    return f"{node.tag}.{cls[0]}" if cls else str(node.tag)


def _elements(node: LexborNode) -> list[LexborNode]:
    out = []
    child = node.child
    while child is not None:
        if child.is_element_node:
            out.append(child)
        child = child.next
    return out


def _residue(text: str, raw: RawDate) -> str:
    rest = fold(text[: raw.start] + " " + text[raw.end :])
    rest = _TIME.sub("", rest)
    rest = _LABEL_WORDS.sub("", rest)
    return "".join(ch for ch in rest if ch not in _RESIDUE_STRIP)


def _cell_date(text: str, in_link: bool) -> RawDate | None:
    """The date of a text node that is (nearly) only a date: ``[06-15]``, ``时间：2020-6-15``."""
    stripped = text.strip()
    if not stripped or len(stripped) > 40:
        return None
    for raw in scan(stripped, yearless=True, limit=64):
        rest = _residue(stripped, raw)
        if len(rest) <= (0 if in_link else 6):
            return raw
        return None
    return None


def _row_date(node: LexborNode) -> RawDate | None:
    texts = list(iter_text_nodes(node))
    for text, in_link in texts:
        raw = _cell_date(text, in_link)
        if raw is not None:
            return raw
    for text, in_link in texts:
        if not in_link:
            for raw in scan(text, yearless=False, limit=400):
                return raw
    for text, in_link in texts:
        if in_link:
            stripped = text.strip()
            raws = scan(stripped, yearless=False, limit=400)
            if raws and raws[-1].start > 0:
                tail = _TIME.sub("", fold(stripped[raws[-1].end :]))
                if not tail.strip(_RESIDUE_STRIP):
                    return raws[-1]
    return None


def _sibling_date(node: LexborNode, rows: set[int], forward: bool) -> RawDate | None:
    sibling = node.next if forward else node.prev
    seen = 0
    while sibling is not None and seen < 3:
        if sibling.is_element_node:
            if _node_id(sibling) in rows:
                return None
            seen += 1
            text = sibling.text(deep=True, separator=" ", strip=True)
            raw = _cell_date(text, False)
            if raw is not None:
                return raw
        elif sibling.is_text_node:
            raw = _cell_date(sibling.text_content or "", False)
            if raw is not None:
                return raw
        sibling = sibling.next if forward else sibling.prev
    return None


def _region(parent: LexborNode, cache: dict[int, tuple[bool, str]]) -> tuple[bool, str]:
    """Whether ``parent`` lies in a nav bar, header, footer or side box, and which."""
    key = _node_id(parent)
    known = cache.get(key)
    if known is None:
        known = cache[key] = _find_region(parent)
    return known


def _find_region(parent: LexborNode) -> tuple[bool, str]:
    node: LexborNode | None = parent
    depth = 0
    while node is not None and node.tag not in ("body", "html") and depth < 12:
        tag = node.tag or ""
        if tag in ("nav", "header", "footer"):
            return True, tag
        marker = _marker(node)
        if marker.strip():
            for token in marker.replace("-", " ").replace("_", " ").split():
                if any(mark in token for mark in _NAV_MARKS):
                    return True, "navigation"
                if any(mark in token for mark in _FOOTER_MARKS) or token.startswith("bottom"):
                    return True, "footer"
                if token.startswith(_SIDE_MARKS):
                    return True, "side box"
        title = _box_title(node) if depth < 3 else None
        if title is not None and any(word in title for word in _SIDE_TITLES):
            return True, f"'{title}' box"
        node = node.parent
        depth += 1
    return False, ""


def _is_nav_block(node: LexborNode) -> bool:
    """Whether ``node`` itself is a nav bar, header, footer, top bar, logo or breadcrumb."""
    tag = node.tag or ""
    if tag in ("nav", "header", "footer"):
        return True
    marker = _marker(node)
    if not marker.strip():
        return False
    if any(word in _TOP_WORDS for word in marker.split()):
        return True
    for token in marker.replace("-", " ").replace("_", " ").split():
        if any(mark in token for mark in _NAV_MARKS):
            return True
        if any(mark in token for mark in _FOOTER_MARKS) or token.startswith("bottom"):
            return True
    return False


def _in_nav_block(anchor: LexborNode, row: LexborNode, known: dict[int, bool]) -> bool:
    """Whether the link ``anchor`` lies in a navigation block at or below its ``row``.
    ``known`` caches :func:`_is_nav_block` by node."""
    stop = _node_id(row)
    node: LexborNode | None = row if stop == _node_id(anchor) else anchor.parent
    for _ in range(MAX_UP + 1):
        if node is None:
            return False
        key = _node_id(node)
        found = known.get(key)
        if found is None:
            found = known[key] = _is_nav_block(node)
        if found or key == stop:
            return found
        node = node.parent
    return False


def _box_title(node: LexborNode) -> str | None:
    """The short heading just before ``node`` (its previous element sibling), if any."""
    sibling = node.prev
    while sibling is not None and not sibling.is_element_node:
        sibling = sibling.prev
    if sibling is None or len(_elements(sibling)) > 6:
        return None
    text = _collapse(sibling.text(deep=True, separator=" ", strip=True))
    return text if 0 < len(text) <= 20 else None


def _site_key(url: str) -> str:
    parts = hostname(url).split(".")
    keep = 3 if len(parts) >= 3 and parts[-2] in ("gov", "com", "edu", "org", "net") else 2
    return ".".join(parts[-keep:])


def _is_up(url: str, page_head: str) -> bool:
    """Whether ``url`` is the page itself (or its first page) or a folder above it on the same
    host: the site's home, the column, a breadcrumb step. Never a row of the list. ``page_head``
    is the page's :func:`_same_page_key` without its query."""
    path = url.partition("?")[0]
    if not page_head.startswith(path[: path.rfind("/") + 1]):
        return False  # (the usual case) its folder is not above the page
    head, _, query = _same_page_key(url).partition("?")
    if head == page_head:
        return True
    if query or not head.endswith("/") or head.count("/") < 3:
        return False
    return page_head.startswith(head)


def _collect_anchors(
    body: LexborNode, base: str, encoding: str, page: str
) -> tuple[dict[tuple[int, str], _Group], dict[int, list[_Anchor]], dict[int, int]]:
    """The candidate row groups, the links of each candidate row (within ``MAX_UP`` levels) and
    the number of links under every element (at any depth)."""
    groups: dict[tuple[int, str], _Group] = {}
    row_anchors: dict[int, list[_Anchor]] = {}
    counts: dict[int, int] = {}
    page_head = _same_page_key(page).partition("?")[0]
    for count, node in enumerate(body.css("a[href]")):
        if count >= MAX_ANCHORS:
            break
        url = canonicalize(node.attributes.get("href") or "", base, encoding)
        if url is None:
            continue
        anchor = _Anchor(node, url, _label(node), _is_up(url, page_head))
        above = node.parent
        for _ in range(3 * MAX_UP):  # rows lie within MAX_UP levels; count links well below them
            if above is None:
                break
            key_id = _node_id(above)
            counts[key_id] = counts.get(key_id, 0) + 1
            above = above.parent
        row: LexborNode | None = node
        for level in range(MAX_UP):
            if row is None:
                break
            parent = row.parent
            if parent is None or row.tag in ("body", "html"):
                break
            row_anchors.setdefault(_node_id(row), []).append(anchor)
            key = (_node_id(parent), str(row.tag))
            group = groups.get(key)
            if group is None:
                group = groups[key] = _Group(parent, str(row.tag), [], level)
            # the links of one row are consecutive in document order
            if not group.rows or _node_id(group.rows[-1]) != _node_id(row):
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
        if anchor.up or label.lower() in _STOP_LABELS or label.isdigit() or len(label) < 2:
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
        if counts.get(_node_id(node), 0) > MAX_ROW_ANCHORS:
            continue  # a container of rows, not a row
        if len(node.text(deep=True, separator="", strip=False)) > MAX_ROW_TEXT * 4:
            continue
        size = len(_collapse(node.text(deep=True, separator=" ", strip=False)))
        if size > MAX_ROW_TEXT:
            continue
        anchors = row_anchors.get(_node_id(node), [])
        anchor = _main_anchor(anchors)
        if anchor is None:
            continue
        if _in_nav_block(anchor.node, node, navs):
            sections = True  # never a row; its siblings are parts of the page, not a list
            continue
        links = len({a.url for a in anchors if a.label})
        small = links <= 2 and size <= 2 * len(anchor.label) + 40
        rows.append(_Row(node, anchor, _row_date(node), small))
    if rows and sum(1 for r in rows if r.raw is not None) * 2 < len(rows):
        # <a>title</a><span>date</span><a>…, <dt><a>…</a></dt><dd>date</dd>: the date beside
        ids = {_node_id(r.node) for r in rows}
        for forward in (True, False):
            found = [
                _sibling_date(r.node, ids, forward) if r.raw is None and r.simple else r.raw
                for r in rows
            ]
            if sum(1 for f in found if f is not None) * 2 >= len(rows):
                for row, raw in zip(rows, found, strict=True):
                    row.raw = raw
                break
    site = _site_key(base)
    dated = sum(1 for r in rows if r.raw is not None)
    same = sum(1 for r in rows if _site_key(r.anchor.url) == site)
    simple = sum(1 for r in rows if r.simple)
    titles = [min(len(r.anchor.label), 40) for r in rows]
    score = sum(
        (3.0 if r.raw is not None else 0.0) + t / 10 for r, t in zip(rows, titles, strict=True)
    )
    return _Reading(
        rows=rows,
        describe=f"{group.tag} under {_describe(group.parent)}",
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
    return (group.tag, _shape(parent), _shape(grand), _node_id(anchor), dated)


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
    title = _box_title(first) if first is not None else None
    reading.side = (
        reading.sections
        or all(_region(p, regions)[0] for p in reading.parents)
        or (title is not None and any(word in title for word in _SIDE_TITLES))
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
    match = _YEAR_HEADING.fullmatch(text)
    return int(match.group(1)) if match else None


def _heading_years(reading: _Reading) -> None:
    """Give rows that follow a year heading (``<h3>2019年</h3>``) that year."""
    row_ids = {_node_id(r.node): r for r in reading.rows}
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
        for child in _elements(parent):
            row = row_ids.get(_node_id(child))
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
    ``_PROSE_BLOCK`` characters), and a placeholder phrase (暂无信息) if the page shows one."""
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
                placeholder = next((p for p in _PLACEHOLDERS if p in text), None)
            continue
        if tag.startswith("-") or tag in ("script", "style", "noscript", "template", "select"):
            continue
        if _node_id(node) in skip:
            continue
        if tag in _BLOCKS:
            block = _node_id(node)
        in_link = in_link or tag == "a"
        child = node.last_child
        while child is not None:
            stack.append((child, in_link, block))
            child = child.prev
    prose = sum(size for size in blocks.values() if size >= _PROSE_BLOCK)
    return prose, placeholder


def _base(tree: LexborHTMLParser, base_url: str, encoding: str) -> str:
    node = tree.css_first("base[href]")
    if node is not None:
        resolved = canonicalize(node.attributes.get("href") or "", base_url, encoding)
        if resolved is not None:
            return resolved
    return canonicalize(base_url) or base_url


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
    base = _base(tree, base_url, encoding)
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
    skip = {_node_id(r.node) for r in chosen.rows} if chosen is not None else set()
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
    taken = {
        id(anchor) for row in chosen.rows for anchor in row_anchors.get(_node_id(row.node), [])
    }
    for other in dated:
        if other is chosen or other.side:
            continue
        if any(id(a) in taken for r in other.rows for a in row_anchors.get(_node_id(r.node), [])):
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
    if prose >= max(_PROSE_ARTICLE, _PROSE_PER_ROW * len(items)):
        return ListReading(
            items, False, f"an article: {prose} characters of prose outweigh {what}", extra
        )
    if len(items) < 2 and with_dates == 0:
        return ListReading(items, False, f"no list: only {what}", extra)
    return ListReading(items, True, what, extra)


# --- pagination -----------------------------------------------------------------------------

# words that mark a pager (and the links beside them are its pages)
_PAGER_MARKS = (
    "下一页", "下页", "尾页", "末页", "最后一页", "后页", "上一页", "上页", "前页",
    "next", "last", "prev", "previous", ">", ">>", "»", "<", "<<", "«",
)  # fmt: skip
# words for pager links that are not enough to mark one (a site's 首页 is its home page)
_PAGER_OTHER = ("首页", "第一页", "first")
_PAGE_PARAM = re.compile(
    r"(?:^|[?&;])(?:pageno|page|pageindex|pagenum|pagenumber|curpage|currentpage|cur_page|"
    r"page_no|pn|pagecurrent|pageid|p_no)=[0-9]{1,6}(?:[&;#]|$)",
    re.IGNORECASE,
)
_CALL = re.compile(r"createPage(?:HTML|Html|html)?\s*\(", re.IGNORECASE)
_ARG = re.compile(
    r"""\s*(?:"([^"\n]{0,80})"|'([^'\n]{0,80})'|([-+]?[0-9]{1,7})|([A-Za-z_$][\w$.]{0,60}))\s*"""
)
_EXTENSIONS = frozenset({"html", "htm", "shtml", "jhtml", "xhtml", "jsp", "php", "asp", "aspx"})
_INDEX_NAMES = re.compile(r"/(?:index|default)\.(?:s?html?|jsp|php|aspx?)$", re.IGNORECASE)
_SCRIPT_WINDOW = 400  # characters after "createPageHTML(" read for its arguments
_VAR_WINDOW = 200_000  # characters of the page searched for a variable's value


def _same_page_key(url: str) -> str:
    head, _, query = url.partition("?")
    head = _INDEX_NAMES.sub("/", head)
    return head + ("?" + query if query else "")


# ``name = 12`` / ``name: "12"``: a numeric variable a createPageHTML call may pass
_ASSIGNMENT = re.compile(
    r"(?<![\w$.])([A-Za-z_$][\w$.]{0,60})\s*[:=]\s*['\"]?([0-9]{1,7})(?![0-9.])"
)


def _variables(html_text: str) -> dict[str, int]:
    """Every numeric variable assigned in the first ``_VAR_WINDOW`` characters, by name (the
    first assignment wins): one pass over the page, however many calls ask for one."""
    found: dict[str, int] = {}
    for match in _ASSIGNMENT.finditer(html_text, 0, _VAR_WINDOW):
        found.setdefault(match.group(1), int(match.group(2)))
    return found


def _script_pages(html_text: str, base: str) -> list[str]:
    """``createPageHTML(total, current, "index", "html")`` and its variants → the other pages."""
    variables: dict[str, int] | None = None  # read once, when a call first names one
    for call in _CALL.finditer(html_text, 0, _VAR_WINDOW):
        head = html_text[call.start() - 9 : call.start()] if call.start() >= 9 else ""
        if "function" in head:
            continue  # the definition, not a call
        args = _arguments(html_text[call.end() : call.end() + _SCRIPT_WINDOW])
        numbers: list[int] = []
        strings: list[str] = []
        unresolved = False
        for kind, value in args:
            if kind == "number":
                numbers.append(int(value))
            elif kind == "string":
                strings.append(value)
            else:
                if variables is None:
                    variables = _variables(html_text)
                resolved = variables.get(value)
                if resolved is None:
                    unresolved = True
                    break
                numbers.append(resolved)
        if unresolved or not numbers:
            continue
        ext_at = next(
            (i for i, s in enumerate(strings) if s.lower().lstrip(".") in _EXTENSIONS), None
        )
        if ext_at is None:
            prefix, ext = "index", "html"
        else:
            ext = strings[ext_at].lstrip(".")
            prefix = strings[ext_at - 1] if ext_at >= 1 else "index"
        # the first number is the page count. The page itself is left out by the caller, by URL
        # (variants count the current page from 0 or from 1): a column's folder is its page 0.
        total = numbers[0]
        out: list[str] = []
        for index in range(1 if base.endswith("/") else 0, min(total, MAX_PAGES)):
            name = f"{prefix}.{ext}" if index == 0 else f"{prefix}_{index}.{ext}"
            url = canonicalize(name, base)
            if url is not None:
                out.append(url)
        return out
    return []


def _arguments(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text) and len(out) < 10:
        match = _ARG.match(text, pos)
        if match is None:
            return out
        double, single, number, name = match.groups()
        if double is not None or single is not None:
            out.append(("string", double if double is not None else single or ""))
        elif number is not None:
            out.append(("number", number))
        elif name is not None:
            out.append(("name", name))
        pos = match.end()
        if pos >= len(text) or text[pos] != ",":
            return out
        pos += 1
    return out


def _pager_word(text: str, words: tuple[str, ...] = _PAGER_MARKS) -> bool:
    lowered = text.strip().lower()
    return bool(lowered) and any(
        lowered == w or (len(w) > 1 and lowered.startswith(w) and len(lowered) <= len(w) + 5)
        for w in words
    )


def _directory(url: str) -> str:
    head = url.partition("?")[0]
    return head[: head.rfind("/") + 1]


def pagination(tree: LexborHTMLParser, base_url: str, html_text: str) -> list[str]:
    """The other pages of the list at ``base_url``, absolute and canonical, in page order.

    Read from a TRS ``createPageHTML(...)`` call (``index_1.html`` … ``index_{n-1}.html``, and
    variants such as ``createPageHTML('page_div', 5, 1, 'index', 'htm', 20)`` or variables as
    arguments), then from the links of the page: 下一页 / 上一页 / 尾页 / page numbers (and any
    link beside them), and links to the same path with a ``pageNo=`` / ``page=`` /
    ``pageIndex=`` query. Links to other hosts and to this page itself are left out. Never
    raises.
    """
    try:
        return _pagination(tree, base_url, html_text)
    except Exception:  # a pure reader on every page: odd markup gives no pages, not a crash
        return []


def _pagination(tree: LexborHTMLParser, base_url: str, html_text: str) -> list[str]:
    base = _base(tree, base_url, "utf-8")
    here = _same_page_key(canonicalize(base_url) or base_url)
    host = urlsplit(base).hostname or ""
    base_path = base.partition("?")[0]
    found: list[str] = []
    seen: set[str] = {here}

    def add(url: str) -> None:
        key = _same_page_key(url)
        if key not in seen and (urlsplit(url).hostname or "") == host:
            seen.add(key)
            found.append(url)

    for page in _script_pages(html_text, base):
        add(page)
    body = tree.body
    if body is None:
        return found
    anchors: list[tuple[LexborNode, str, str]] = []
    pager_parents: set[int] = set()
    for count, node in enumerate(body.css("a")):
        if count >= MAX_ANCHORS:
            break
        text = _collapse(node.text(deep=True, separator="", strip=True))
        title = node.attributes.get("title") or ""
        href = node.attributes.get("href") or ""
        target = canonicalize(href, base) if href else None
        if _pager_word(text) or _pager_word(title):
            parent = node.parent
            if parent is not None:
                pager_parents.add(_node_id(parent))
                if parent.parent is not None and len(_elements(parent)) <= 2:
                    pager_parents.add(_node_id(parent.parent))
        if target is not None:
            anchors.append((node, target, text))
    for node, url, text in anchors:
        parent = node.parent
        in_pager = parent is not None and (
            _node_id(parent) in pager_parents
            or (parent.parent is not None and _node_id(parent.parent) in pager_parents)
        )
        number = text.strip("[]() ")
        numeric = number.isdigit() and len(number) <= 5
        title = node.attributes.get("title") or ""
        words = (*_PAGER_MARKS, *_PAGER_OTHER)
        query = url.partition("?")[2]
        pager_link = in_pager and (numeric or _pager_word(text, words) or _pager_word(title, words))
        page_query = bool(query and _PAGE_PARAM.search("?" + query)) and (
            url.partition("?")[0] == base_path or _directory(url) == _directory(base)
        )
        if pager_link or page_query or (numeric and _directory(url) == _directory(base)):
            add(url)
    return found
