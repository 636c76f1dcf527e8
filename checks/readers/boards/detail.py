"""A message's detail page, read by its labels or its signature."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence

from selectolax.lexbor import LexborHTMLParser, LexborNode

from checks.readers.boards.fields import (
    DETAIL_LABELS,
    REPLIED,
    SENTENCE_MARKS,
    UNIT_END,
    UNIT_WORDS,
    UNKNOWN,
    Message,
    in_chrome,
    is_placeholder,
    node_text,
    normalize_status,
    read_date,
    select_text,
)
from checks.readers.text import (
    page_lines,
    scan_labels,
    table_header_pairs,
)


def _page_title(tree: LexborHTMLParser | LexborNode) -> str:
    meta = tree.css_first('meta[name="ArticleTitle"]')
    if meta is not None and (meta.attributes.get("content") or "").strip():
        return (meta.attributes.get("content") or "").strip()
    for selector in ("h1", "h2"):
        for heading in tree.css(selector):
            if node_text(heading) and not in_chrome(heading):
                return node_text(heading)
    title = tree.css_first("title")
    if title is not None:
        return re.split(r"[_|\-—]", node_text(title))[0].strip()
    return ""


_DATE_CHARS = re.compile(r"[\d\s年月日时分秒:：/\-.]+")


def _signed_date(line: str, as_of: dt.date | None) -> tuple[dt.date, str] | None:
    """``(date, unit)`` when ``line`` is a signature's date line (``2020年6月12日``, or
    ``区城管局 2020-06-12``): a date and nothing else but a unit's name."""
    if len(line) > 40:
        return None
    day = read_date(line, as_of)
    if day is None:
        return None
    rest = _DATE_CHARS.sub("", line).strip()
    if not rest:
        return day, ""
    if _is_unit_line(rest):
        return day, rest
    return None


def _is_unit_line(line: str) -> bool:
    return (
        2 <= len(line) <= 30
        and UNIT_END.search(line) is not None
        and SENTENCE_MARKS.search(line) is None
    )


def _signature(lines: Sequence[str], as_of: dt.date | None) -> tuple[dt.date | None, str]:
    """The date and unit a reply is signed with on its last lines, if it is."""
    date: dt.date | None = None
    unit = ""
    for line in reversed(lines[-3:]):
        signed = _signed_date(line, as_of) if date is None else None
        if signed is not None:
            date, unit = signed[0], unit or signed[1]
            continue
        if not unit and _is_unit_line(line):
            unit = line
    return date, unit


def read_message_detail(
    tree: LexborHTMLParser | LexborNode,
    url: str,
    *,
    selectors: Mapping[str, str] | None = None,
    as_of: dt.date | None = None,
) -> Message:
    """The message on a detail page, its fields found by label (or by ``selectors``)."""
    selectors = selectors or {}
    lines = page_lines(tree)
    labelled = table_header_pairs(tree, DETAIL_LABELS) + scan_labels(lines, DETAIL_LABELS)
    values: dict[str, str] = {}
    reply_lines: tuple[str, ...] = ()
    unit_rank = len(UNIT_WORDS)
    for item in labelled:
        if item.key == "unit":
            rank = UNIT_WORDS.index(item.label) if item.label in UNIT_WORDS else unit_rank
            value = item.first
            if value and not is_placeholder(value) and rank < unit_rank:
                values["unit"] = value
                unit_rank = rank
            continue
        if item.key == "reply" and not reply_lines:
            reply_lines = item.lines
        if item.key not in values and item.lines:
            values[item.key] = item.text if item.key in ("question", "reply") else item.first
    for key in ("title", "asked", "question", "status", "replied", "unit", "reply"):
        text = select_text(tree, selectors.get(key))
        if text is not None:
            values[key] = text
            if key == "reply":
                reply_lines = (text,)

    reply = values.get("reply", "")
    replied = read_date(values.get("replied"), as_of)
    unit = values.get("unit", "")
    if unit and is_placeholder(unit):
        unit = ""
    if reply_lines and (replied is None or not unit):
        signed_date, signed_unit = _signature(reply_lines, as_of)
        replied = replied or signed_date
        unit = unit or signed_unit
    has_reply_text = bool(reply) and not is_placeholder(reply)
    if has_reply_text:
        # a reply that is only its signature has no content
        body = [ln for ln in reply_lines if ln != unit and _signed_date(ln, as_of) is None]
        has_reply_text = bool(body) and not all(is_placeholder(ln) for ln in body)
    status_text = values.get("status", "")
    status = normalize_status(status_text)
    if status == UNKNOWN and (has_reply_text or replied is not None):
        status = REPLIED
    return Message(
        url=url,
        title=values.get("title") or _page_title(tree),
        asked=read_date(values.get("asked"), as_of),
        status=status,
        replied=replied,
        unit=unit,
        has_reply_text=has_reply_text,
        question=values.get("question", ""),
        status_text=status_text,
        from_detail=True,
    )


def merge_message(listed: Message, detail: Message) -> Message:
    """One message from its list row and its detail page: the detail page wins where it says,
    except for a title the list gives whole (a detail page without a title label has only its
    headings to offer)."""
    truncated = listed.title.endswith(("...", "…", "。。。"))
    return Message(
        url=listed.url,
        title=listed.title if listed.title and not truncated else detail.title or listed.title,
        asked=detail.asked or listed.asked,
        status=detail.status if detail.status != UNKNOWN else listed.status,
        replied=detail.replied or listed.replied,
        unit=detail.unit or listed.unit,
        has_reply_text=detail.has_reply_text,
        question=detail.question or listed.question,
        status_text=detail.status_text or listed.status_text,
        from_detail=True,
    )


# --------------------------------------------------------------------------------------------
# FAQ matching
# --------------------------------------------------------------------------------------------

# how close a question must be to an FAQ entry to count as the same question: the Dice
