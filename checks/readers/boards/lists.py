"""A message board's list page, read by its table header or row by row."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from checks.readers.boards.fields import (
    LINK_WORDS,
    LIST_LABELS,
    UNKNOWN,
    Message,
    dates_in,
    first_value,
    in_chrome,
    node_text,
    normalize_status,
    read_date,
    select_text,
)
from checks.readers.dates import parse_date
from checks.readers.text import (
    page_lines,
    scan_labels,
)
from crawler.net.urls import canonicalize


def _header_map(row: LexborNode) -> dict[int, str] | None:
    cells = [c for c in row.iter() if c.tag in ("td", "th")]
    if len(cells) < 2:
        return None
    mapping: dict[int, str] = {}
    for i, cell in enumerate(cells):
        text = re.sub(r"[^\w]", "", node_text(cell))  # sort arrows, colons, spaces
        if not text:
            continue
        found = LIST_LABELS.at_start(text)
        if found is None or found[2]:
            if len(text) > 8:
                return None  # a data row, not a header
            continue
        if found[0] and found[0] not in mapping.values():
            mapping[i] = found[0]
    keys = set(mapping.values())
    if len(keys) >= 2 and keys & {"title", "asked"}:
        return mapping
    return None


def _link_name(a: LexborNode) -> str:
    """A link's text without the date and status it may wrap (a whole row as one link)."""
    pieces = [node_text(child) for child in a.iter(include_text=True)]
    pieces = [p for p in pieces if p]
    if len(pieces) <= 1:
        return node_text(a)
    kept = [
        p
        for p in pieces
        if not (len(p) <= 25 and parse_date(p) is not None)
        and not (len(p) <= 6 and normalize_status(p) != UNKNOWN)
    ]
    return max(kept, key=len) if kept else node_text(a)


def _row_link(row: LexborNode, page_url: str) -> tuple[str | None, str]:
    """The message link in ``row`` and its title (the longest titled link wins)."""
    best: tuple[str | None, str] = (None, "")
    candidates = row.css("a[href]")
    if row.tag == "a" and row.attributes.get("href"):
        candidates = [row, *candidates]
    for a in candidates:
        url = canonicalize(a.attributes.get("href") or "", page_url)
        if url is None:
            continue
        text = _link_name(a)
        title = (a.attributes.get("title") or "").strip()
        name = title if len(title) > len(text.rstrip(".…")) else text
        if name in LINK_WORDS:
            name = ""
        if best[0] is None or len(name) > len(best[1]):
            best = (url, name)
    return best


def _own_rows(table: LexborNode) -> list[LexborNode]:
    """The rows of ``table`` itself, not those of the tables nested in it."""
    rows = []
    for tr in table.css("tr"):
        parent = tr.parent
        while parent is not None and parent.tag != "table":
            parent = parent.parent
        if parent is not None and parent.mem_id == table.mem_id:
            rows.append(tr)
    return rows


def _row_from_cells(
    row: LexborNode, mapping: Mapping[int, str], page_url: str, as_of: dt.date | None
) -> Message | None:
    cells = [c for c in row.iter() if c.tag in ("td", "th")]
    if not cells:
        return None
    url, title = _row_link(row, page_url)
    if url is None:
        return None
    values: dict[str, str] = {}
    for i, key in mapping.items():
        if i < len(cells):
            values[key] = node_text(cells[i])
    if not title:
        title = values.get("title", "")
    status_text = values.get("status", "")
    if not status_text:
        status_text = _status_words(row)
    asked = read_date(values.get("asked"), as_of)
    status = normalize_status(status_text)
    if asked is None and status == UNKNOWN:
        return None  # a row of links under the table's header, not a message
    return Message(
        url=url,
        title=title,
        asked=asked,
        status=status,
        replied=read_date(values.get("replied"), as_of),
        unit=values.get("unit", ""),
        status_text=status_text,
    )


def _status_words(node: LexborNode) -> str:
    """Status words in a row's text, or in its images' alt and title texts."""
    text = node_text(node)
    if normalize_status(text) != UNKNOWN:
        return text
    for img in node.css("img, [title]"):
        for attr in ("alt", "title"):
            value = img.attributes.get(attr) or ""
            if normalize_status(value) != UNKNOWN:
                return value
    return ""


class _RowFinder:
    """Finds the row of each message link on a list page; caches what it reads per element."""

    def __init__(self, page_url: str, as_of: dt.date | None) -> None:
        self.page_url = page_url
        self.as_of = as_of
        self._dates: dict[int, bool] = {}
        self._links: dict[int, frozenset[str]] = {}

    def has_date(self, node: LexborNode) -> bool:
        key = node.mem_id
        if key not in self._dates:
            self._dates[key] = any(
                read_date(line, self.as_of) is not None
                for line in page_lines(node, skip_chrome=False)
            )
        return self._dates[key]

    def links(self, node: LexborNode) -> frozenset[str]:
        key = node.mem_id
        if key not in self._links:
            urls = {
                canonicalize(a.attributes.get("href") or "", self.page_url)
                for a in node.css("a[href]")
            }
            if node.tag == "a" and node.attributes.get("href"):
                urls.add(canonicalize(node.attributes.get("href") or "", self.page_url))
            self._links[key] = frozenset(u for u in urls if u is not None)
        return self._links[key]

    def repeated(self, node: LexborNode) -> bool:
        """Whether ``node`` is one of several like siblings, each with a date and a link."""
        parent = node.parent
        if parent is None:
            return False
        urls: set[str] = set()
        rows = 0
        for sibling in parent.iter():
            if sibling.tag != node.tag:
                continue
            links = self.links(sibling)
            if links and self.has_date(sibling):
                rows += 1
                urls.update(links)
        return rows >= 2 and len(urls) >= 2

    def row_of(self, link: LexborNode, own: str) -> LexborNode | None:
        """The row around a message link: the nearest ancestor that is one of several like
        siblings (each with a link and a date), if it has a date; without such an ancestor
        (a list of one), the smallest ancestor with a date and no other link."""
        node: LexborNode | None = link.parent
        for _ in range(8):
            if node is None or node.tag in ("body", "html"):
                break
            if self.repeated(node):
                return node if self.has_date(node) else None
            node = node.parent
        node = link
        for _ in range(7):
            if node is None or node.tag in ("body", "html"):
                return None
            others = self.links(node) - {own}
            if self.has_date(node) and not others:
                return node
            if others and node is not link:
                return None
            node = node.parent
        return None


def _row_from_lines(row: LexborNode, url: str, title: str, as_of: dt.date | None) -> Message:
    lines = page_lines(row, skip_chrome=False)
    found = [(f.key, f.first) for f in scan_labels(lines, LIST_LABELS)]
    asked = read_date(first_value(found, "asked"), as_of)
    replied = read_date(first_value(found, "replied"), as_of)
    if asked is None:
        labelled = {value for _, value in found}
        dates = [
            d
            for line in lines
            if line not in labelled and LIST_LABELS.at_start(line) is None
            for d in dates_in(line, as_of)
        ]
        if dates:
            asked = dates[0]
            if replied is None and len(dates) == 2 and dates[1] >= dates[0]:
                replied = dates[1]
    status_text = first_value(found, "status") or _status_words(row)
    if not title:
        title = first_value(found, "title") or ""
    return Message(
        url=url,
        title=title,
        asked=asked,
        status=normalize_status(status_text),
        replied=replied,
        unit=first_value(found, "unit") or "",
        status_text=status_text,
    )


def _row_with_selectors(
    row: LexborNode,
    selectors: Mapping[str, str],
    page_url: str,
    as_of: dt.date | None,
) -> Message | None:
    link_node = row.css_first(selectors["item_link"]) if "item_link" in selectors else None
    if link_node is not None and link_node.tag != "a":
        link_node = link_node.css_first("a[href]") or link_node
    if link_node is not None:
        url = canonicalize(link_node.attributes.get("href") or "", page_url)
        title = node_text(link_node)
    else:
        url, title = _row_link(row, page_url)
    if url is None:
        return None
    base = _row_from_lines(row, url, title, as_of)
    over: dict[str, Any] = {}
    if (text := select_text(row, selectors.get("item_title"))) is not None:
        over["title"] = text
    if (text := select_text(row, selectors.get("item_asked"))) is not None:
        over["asked"] = read_date(text, as_of)
    if (text := select_text(row, selectors.get("item_replied"))) is not None:
        over["replied"] = read_date(text, as_of)
    if (text := select_text(row, selectors.get("item_unit"))) is not None:
        over["unit"] = text
    if (text := select_text(row, selectors.get("item_status"))) is not None:
        over["status"] = normalize_status(text)
        over["status_text"] = text
    return replace(base, **over)


def read_message_list(
    tree: LexborHTMLParser | LexborNode,
    page_url: str,
    *,
    selectors: Mapping[str, str] | None = None,
    as_of: dt.date | None = None,
) -> list[Message]:
    """The messages listed on a board's list page, in page order, one per detail URL.

    ``as_of`` gives yearless dates (``06-11``) their year. ``selectors`` (see
    :data:`SELECTOR_KEYS`) override the heuristics for boards they miss.
    """
    selectors = selectors or {}
    out: list[Message] = []
    seen: set[str] = set()

    def add(message: Message | None) -> None:
        if message is not None and message.url not in seen:
            seen.add(message.url)
            out.append(message)

    if "item" in selectors:
        for row in tree.css(selectors["item"]):
            add(_row_with_selectors(row, selectors, page_url, as_of))
        return out

    # 1. tables with a header row naming their columns (their own rows: layout tables nest)
    for table in tree.css("table"):
        rows = _own_rows(table)
        for i, row in enumerate(rows):
            mapping = _header_map(row)
            if mapping is None:
                continue
            for data in rows[i + 1 :]:
                if _header_map(data) is not None:
                    break
                add(_row_from_cells(data, mapping, page_url, as_of))
            break
    if out:
        return out

    # 2. any row: a link to a message and, around it, its date
    finder = _RowFinder(page_url, as_of)
    done: set[int] = set()
    for link in tree.css("a[href]"):
        url = canonicalize(link.attributes.get("href") or "", page_url)
        if url is None or url in seen or url == canonicalize(page_url):
            continue
        if in_chrome(link):
            continue
        found_row = finder.row_of(link, url)
        if found_row is None or found_row.mem_id in done:
            continue
        done.add(found_row.mem_id)
        # one message a row, under the row's main link (its longest title: not a category
        # tag, a download icon or a "查看" button)
        best, title = _row_link(found_row, page_url)
        add(_row_from_lines(found_row, best or url, title, as_of))
    return out


# --------------------------------------------------------------------------------------------
# Detail pages
# --------------------------------------------------------------------------------------------
