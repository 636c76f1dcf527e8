"""The parts of a list page's rows: a row's date, its title's label, whether it lies in a
navigation bar, a footer or a side box. Used by :mod:`checks.readers.listing`. Pure.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from checks.readers.dates import RawDate, fold, iter_text_nodes, scan
from crawler.net.urls import canonicalize, hostname

MAX_UP = 6  # how far above a link a row may lie
MAX_ROW_LINKS = 5  # a "row" with more distinct links is a container of rows
MAX_ROW_ANCHORS = 8  # ... or with more links at all (at any depth)
MAX_ROW_TEXT = 400  # a "row" with more text is an article or a block, not a list row
MAX_ANCHORS = 5000  # links read on one page
MAX_PAGES = 2000  # list pages generated from a createPageHTML call

STOP_LABELS = frozenset(
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
YEAR_HEADING = re.compile(r"((?:19|20|21)[0-9]{2})[ ]{0,2}年?(?:度)?")
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
SIDE_TITLES = (
    "相关链接", "友情链接", "相关文章", "相关阅读", "相关新闻", "相关信息", "推荐阅读", "热点",
    "热门", "排行", "网站导航", "快速导航", "专题专栏", "政府网站", "部门网站",
)  # fmt: skip
PLACEHOLDERS = (
    "暂无信息", "暂无数据", "暂无内容", "暂无记录", "暂无相关", "暂无文章", "暂无公开",
    "没有记录", "没有信息", "没有数据", "没有相关", "无相关信息", "无记录", "栏目正在建设",
    "正在建设中", "信息正在更新", "内容正在更新", "内容更新中", "没有找到相关",
)  # fmt: skip
PROSE_BLOCK = 40  # a block (p, div, td …) with this much text outside links is prose
PROSE_ARTICLE = 250  # this much prose (and 20 characters a row) makes a page an article
PROSE_PER_ROW = 20
BLOCKS = frozenset(
    {
        "p", "div", "td", "th", "li", "article", "section", "blockquote", "pre", "dd", "dt",
        "body", "table", "tr", "ul", "ol", "form", "center", "main", "header", "footer", "nav",
        "aside", "tbody", "dl", "h1", "h2", "h3", "h4", "h5", "h6",
    }
)  # fmt: skip


def collapse(text: str) -> str:
    return " ".join(text.split())


def label(node: LexborNode) -> str:
    text = collapse(node.text(deep=True, separator=" ", strip=False))
    title = collapse(node.attributes.get("title") or "")
    if not text:
        if title:
            return title
        img = node.css_first("img")
        return collapse(img.attributes.get("alt") or "") if img is not None else ""
    if title and len(title) > len(text):
        cut = text.rstrip(".…。．").rstrip()
        if text.endswith(_ELLIPSES) or title.startswith(cut[: max(1, len(cut) - 3)]):
            return title
    return text.strip(_BULLETS) or text


def node_id(node: LexborNode) -> int:
    return int(node.mem_id)


def _marker(node: LexborNode) -> str:
    attrs = node.attributes
    return ((attrs.get("id") or "") + " " + (attrs.get("class") or "")).lower()


def shape(node: LexborNode | None) -> str:
    if node is None:
        return ""
    cls = " ".join(sorted((node.attributes.get("class") or "").split()))
    return f"{node.tag}.{cls}" if cls else str(node.tag)


def describe(node: LexborNode) -> str:
    attrs = node.attributes
    if attrs.get("id"):
        return f"{node.tag}#{attrs.get('id')}"
    cls = (attrs.get("class") or "").split()
    return f"{node.tag}.{cls[0]}" if cls else str(node.tag)


def elements(node: LexborNode) -> list[LexborNode]:
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


def row_date(node: LexborNode) -> RawDate | None:
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


def sibling_date(node: LexborNode, rows: set[int], forward: bool) -> RawDate | None:
    sibling = node.next if forward else node.prev
    seen = 0
    while sibling is not None and seen < 3:
        if sibling.is_element_node:
            if node_id(sibling) in rows:
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


def region(parent: LexborNode, cache: dict[int, tuple[bool, str]]) -> tuple[bool, str]:
    """Whether ``parent`` lies in a nav bar, header, footer or side box, and which."""
    key = node_id(parent)
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
        title = box_title(node) if depth < 3 else None
        if title is not None and any(word in title for word in SIDE_TITLES):
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


def in_nav_block(anchor: LexborNode, row: LexborNode, known: dict[int, bool]) -> bool:
    """Whether the link ``anchor`` lies in a navigation block at or below its ``row``.
    ``known`` caches :func:`_is_nav_block` by node."""
    stop = node_id(row)
    node: LexborNode | None = row if stop == node_id(anchor) else anchor.parent
    for _ in range(MAX_UP + 1):
        if node is None:
            return False
        key = node_id(node)
        found = known.get(key)
        if found is None:
            found = known[key] = _is_nav_block(node)
        if found or key == stop:
            return found
        node = node.parent
    return False


def box_title(node: LexborNode) -> str | None:
    """The short heading just before ``node`` (its previous element sibling), if any."""
    sibling = node.prev
    while sibling is not None and not sibling.is_element_node:
        sibling = sibling.prev
    if sibling is None or len(elements(sibling)) > 6:
        return None
    text = collapse(sibling.text(deep=True, separator=" ", strip=True))
    return text if 0 < len(text) <= 20 else None


def site_key(url: str) -> str:
    parts = hostname(url).split(".")
    keep = 3 if len(parts) >= 3 and parts[-2] in ("gov", "com", "edu", "org", "net") else 2
    return ".".join(parts[-keep:])


def is_up(url: str, page_head: str) -> bool:
    """Whether ``url`` is the page itself (or its first page) or a folder above it on the same
    host: the site's home, the column, a breadcrumb step. Never a row of the list. ``page_head``
    is the page's :func:`same_page_key` without its query."""
    path = url.partition("?")[0]
    if not page_head.startswith(path[: path.rfind("/") + 1]):
        return False  # (the usual case) its folder is not above the page
    head, _, query = same_page_key(url).partition("?")
    if head == page_head:
        return True
    if query or not head.endswith("/") or head.count("/") < 3:
        return False
    return page_head.startswith(head)


INDEX_NAMES = re.compile(r"/(?:index|default)\.(?:s?html?|jsp|php|aspx?)$", re.IGNORECASE)


def same_page_key(url: str) -> str:
    """``url`` with ``index.html`` / ``default.aspx`` ... cut: one key for a page, any name."""
    head, _, query = url.partition("?")
    head = INDEX_NAMES.sub("/", head)
    return head + ("?" + query if query else "")


def page_base(tree: LexborHTMLParser, base_url: str, encoding: str) -> str:
    """The page's base URL: its ``<base href>``, else its own URL (canonical)."""
    node = tree.css_first("base[href]")
    if node is not None:
        resolved = canonicalize(node.attributes.get("href") or "", base_url, encoding)
        if resolved is not None:
            return resolved
    return canonicalize(base_url) or base_url
