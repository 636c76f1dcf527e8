"""Message boards (互动交流, 领导信箱, 咨询投诉): reading them, and judging their replies. Pure.

Reading. Boards come in every layout, so fields are found by their *labels*, not by position:

* a list page (:func:`read_message_list`) is read from a table whose header row names the
  columns (标题 / 留言时间 / 状态 / 答复时间 / 答复单位 ...), or else row by row: every link to a
  message whose enclosing row (``<tr>``, ``<li>``, ``<div>`` ...) carries a date; in such a row
  ``留言时间：…`` / ``状态：…`` labels are read when present, else the first date is the date asked
  and a status word (已回复 / 未回复 / 办理中 / 已办结 ...) anywhere in the row is its status;
* a detail page (:func:`read_message_detail`) is read by labels in tables (``<td>答复时间</td>
  <td>…</td>``, or a row of labels over a row of values), definition lists, label-value spans
  (``<span>答复时间：</span>2020-05-07``), headings over paragraphs, and ``label：value`` lines.
  A reply signed at its end (``白沙镇人民政府`` / ``2020年6月12日`` as its last lines) gives its
  unit and date when the page has no label for them.

Boards the heuristics miss take CSS selectors (:data:`SELECTOR_KEYS`): ``item`` picks the rows
of a list page and ``item_title``, ``item_link``, ``item_asked``, ``item_status``,
``item_replied``, ``item_unit`` the fields inside a row; ``title``, ``asked``, ``question``,
``status``, ``replied``, ``unit`` and ``reply`` pick the fields of a detail page. A selector
that is given wins over the heuristics for its field; the other fields are still found by
label.

Judging (:func:`judge_message`), relative to the monitoring day ``as_of``, for the messages
asked in the year before it:

* ``message.late_reply``: answered after more than ``reply_working_days`` working days
  (``simple_reply_working_days`` for a simple question: its column is marked simple, or it
  closely matches an entry of the site's FAQ base, :func:`faq_match`);
* ``message.unanswered``: unanswered (no reply, or 未回复 / 办理中) for more than
  ``unanswered_max_days`` calendar days: the veto case;
* ``message.overdue``: unanswered after the working-day limit, not yet the veto case;
* ``message.incomplete``: a published reply (read on the detail page) missing its reply time,
  replying unit or reply content.

Working days come from :mod:`checks.workdays`; when the holiday calendar does not cover the span,
the judgement is :data:`CALENDAR_GAP` (a warning saying so), never a guessed count. A reply dated
after ``as_of`` had not come at ``as_of``: the message is judged as unanswered then.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, NamedTuple

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from checks.lexicon import (
    LabelTable,
    is_chrome_element,
    page_lines,
    scan_labels,
    table_header_pairs,
)
from checks.readers.dates import parse_date
from checks.workdays import CalendarGap, CountFrom, working_days_between
from crawler.net.urls import canonicalize

LATE_REPLY: Final = "message.late_reply"
OVERDUE: Final = "message.overdue"
UNANSWERED: Final = "message.unanswered"
INCOMPLETE: Final = "message.incomplete"
# not an INTERFACE code yet: a warning that working days could not be counted
CALENDAR_GAP: Final = "message.calendar_gap"

REPLIED: Final = "replied"
UNREPLIED: Final = "unreplied"
PROCESSING: Final = "processing"
UNKNOWN: Final = "unknown"

# the reply parts the notice asks for, in its words
PART_TIME: Final = "答复时间"
PART_UNIT: Final = "答复单位"
PART_CONTENT: Final = "答复内容"

# --------------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------------

_TITLE_WORDS = (
    "留言标题", "信件标题", "来信标题", "咨询标题", "问题标题", "诉求标题", "投诉标题",
    "留言主题", "信件主题", "来信主题", "咨询主题", "标题", "主题",
)  # fmt: skip
_ASKED_WORDS = (
    "留言时间", "提问时间", "来信时间", "咨询时间", "提交时间", "写信时间", "发信时间",
    "投诉时间", "诉求时间", "留言日期", "来信日期", "提问日期", "咨询日期", "提交日期",
)  # fmt: skip
_QUESTION_WORDS = (
    "留言内容", "来信内容", "咨询内容", "问题内容", "信件内容", "提问内容", "诉求内容",
    "投诉内容", "问题描述", "咨询问题",
)  # fmt: skip
_STATUS_WORDS = (
    "办理状态", "处理状态", "回复状态", "答复状态", "信件状态", "留言状态", "是否回复",
    "是否答复", "状态",
)  # fmt: skip
# replying units, best first: 受理单位 (the unit that took the message in) only as a fallback
_UNIT_WORDS = (
    "答复单位", "回复单位", "办理单位", "答复部门", "回复部门", "办理部门", "答复机构",
    "回复机构", "处理单位", "处理部门", "承办单位", "承办部门", "受理单位", "受理部门",
)  # fmt: skip
_REPLIED_WORDS = (
    "答复时间", "回复时间", "答复日期", "回复日期", "办结时间", "办结日期", "反馈时间",
    "处理时间",
)  # fmt: skip
_REPLY_WORDS = (
    "答复内容", "回复内容", "办理结果", "处理结果", "答复意见", "回复意见", "办理情况",
    "处理情况", "办理回复", "答复", "回复",
)  # fmt: skip
# labels that are not read but end the value before them
_OTHER_WORDS = (
    "留言人", "来信人", "提问人", "咨询人", "投诉人", "姓名", "联系方式", "联系电话",
    "留言编号", "信件编号", "受理编号", "编号", "查询码", "留言类型", "信件类型", "来信类型",
    "类型", "满意度", "回复满意度", "评价", "点击数", "浏览次数", "浏览量", "是否公开",
    "所属区域", "信件来源", "发布时间", "序号",
)  # fmt: skip


def _table(groups: Mapping[str, Iterable[str]]) -> LabelTable:
    labels: dict[str, str] = {}
    for key, words in groups.items():
        for word in words:
            labels.setdefault(word, key)
    return LabelTable(labels)


DETAIL_LABELS: Final = _table(
    {
        "title": _TITLE_WORDS,
        "asked": _ASKED_WORDS,
        "question": _QUESTION_WORDS,
        "status": _STATUS_WORDS,
        "unit": _UNIT_WORDS,
        "replied": _REPLIED_WORDS,
        "reply": _REPLY_WORDS,
        "": _OTHER_WORDS,
    }
)
_LIST_LABELS: Final = _table(
    {
        "title": (*_TITLE_WORDS, "咨询问题", "问题", "事项", "留言内容", "信件内容"),
        "asked": (*_ASKED_WORDS, "日期", "时间"),
        "status": _STATUS_WORDS,
        "unit": _UNIT_WORDS,
        "replied": _REPLIED_WORDS,
        "": (*(w for w in _OTHER_WORDS if w != "发布时间"), "操作", "详情"),
    }
)

_STATUS_TABLE: Final = (
    (
        UNREPLIED,
        (
            "暂未回复", "尚未回复", "暂未答复", "尚未答复", "未回复", "未答复", "待回复",
            "待答复", "未办结", "未处理", "待处理", "未受理", "待受理", "未反馈", "未回",
        ),
    ),
    (
        PROCESSING,
        (
            "正在办理", "正在处理", "办理中", "处理中", "转办中", "交办中", "受理中", "审核中",
            "已受理", "已转办", "已交办", "待审核",
        ),
    ),
    (
        REPLIED,
        (
            "已回复", "已答复", "已办结", "已处理", "已反馈", "已完成", "已解决", "办结",
            "已回", "回复完毕", "答复完毕",
        ),
    ),
)  # fmt: skip
# ``*+`` (possessive): a run of fillers is never given back, so a long one that is not a
# placeholder fails in one pass (backtracking made 40,000 dashes and an x cost seconds)
_PLACEHOLDER = re.compile(
    r"^[\s:：\-—/、。.…（）()]*+(?:无|暂无|空|待定|暂无回复|暂无答复|未回复|未答复|待回复|待答复|"
    r"正在办理|办理中|正在处理|处理中|尚未回复|暂未回复|null|none|n/?a)?[\s\-—/、。.…（）()]*+$",
    re.IGNORECASE,
)
_UNIT_END = re.compile(
    r"(?:人民政府|政府|委员会|管委会|办公室|街道办事处|街道|办事处|中心|局|委|办|院|所|厅|队|站"
    r"|镇|乡|公司|分局|支队|大队)$"
)
_SENTENCE_MARKS = re.compile(r"[，,。；;！!？?：:]")
_LINK_WORDS = frozenset(
    {"查看", "详情", "查看详情", "详细", "[详细]", "【详细】", "more", "更多", "阅读全文"}
)


def normalize_status(text: str) -> str:
    """``replied``, ``unreplied``, ``processing`` or ``unknown`` for a status as written."""
    for status, words in _STATUS_TABLE:
        if any(w in text for w in words):
            return status
    return UNKNOWN


def _is_placeholder(text: str) -> bool:
    return _PLACEHOLDER.match(text) is not None


# --------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Message:
    """A message as read from its list row and, when read, its detail page."""

    url: str
    title: str = ""
    asked: dt.date | None = None
    status: str = UNKNOWN  # replied | unreplied | processing | unknown
    replied: dt.date | None = None
    unit: str = ""
    has_reply_text: bool = False
    question: str = ""
    status_text: str = ""  # the status as written
    from_detail: bool = False  # the detail page was read: completeness can be judged

    @property
    def reply_published(self) -> bool:
        """Whether the page shows a reply (a replied status, a reply date, unit or text)."""
        return (
            self.status == REPLIED
            or self.replied is not None
            or self.has_reply_text
            or (bool(self.unit) and self.status not in (UNREPLIED, PROCESSING))
        )

    @property
    def missing_reply_parts(self) -> list[str]:
        """Which of 答复时间 / 答复单位 / 答复内容 a published reply lacks."""
        missing = []
        if self.replied is None:
            missing.append(PART_TIME)
        if not self.unit:
            missing.append(PART_UNIT)
        if not self.has_reply_text:
            missing.append(PART_CONTENT)
        return missing

    @property
    def reply_complete(self) -> bool:
        return self.reply_published and not self.missing_reply_parts


SELECTOR_KEYS: Final = frozenset(
    {
        "item", "item_title", "item_link", "item_asked", "item_status", "item_replied",
        "item_unit", "title", "asked", "question", "status", "replied", "unit", "reply",
    }
)  # fmt: skip


def check_selectors(selectors: Mapping[str, str]) -> list[str]:
    """Problems with a selector override table (unknown keys, CSS that does not parse)."""
    problems = []
    probe = LexborHTMLParser("<p></p>")
    for key, selector in selectors.items():
        if key not in SELECTOR_KEYS:
            known = ", ".join(sorted(SELECTOR_KEYS))
            problems.append(f"unknown selector key {key!r} (known: {known})")
            continue
        if not isinstance(selector, str) or not selector.strip():
            problems.append(f"selector {key!r} must be a non-empty string")
            continue
        try:
            probe.css(selector)
        except SelectolaxError:
            problems.append(f"selector {key!r}: cannot parse CSS {selector!r}")
    return problems


def _text(node: LexborNode) -> str:
    return " ".join(node.text(separator=" ").split())


def _select_text(root: LexborHTMLParser | LexborNode, selector: str | None) -> str | None:
    if not selector:
        return None
    node = root.css_first(selector)
    return None if node is None else _text(node)


def _date(text: str | None, as_of: dt.date | None) -> dt.date | None:
    if not text:
        return None
    return parse_date(text, as_of=as_of)


def _dates_in(line: str, as_of: dt.date | None) -> list[dt.date]:
    """The dates in a line, one per space-separated token (a whole-line date as a fallback)."""
    found = [d for token in line.split() if (d := _date(token, as_of)) is not None]
    if not found and (d := _date(line, as_of)) is not None:
        found.append(d)
    return found


def _first(found: Sequence[tuple[str, str]], key: str) -> str | None:
    for k, value in found:
        if k == key:
            return value
    return None


# --------------------------------------------------------------------------------------------
# List pages
# --------------------------------------------------------------------------------------------


def _header_map(row: LexborNode) -> dict[int, str] | None:
    cells = [c for c in row.iter() if c.tag in ("td", "th")]
    if len(cells) < 2:
        return None
    mapping: dict[int, str] = {}
    for i, cell in enumerate(cells):
        text = re.sub(r"[^\w]", "", _text(cell))  # sort arrows, colons, spaces
        if not text:
            continue
        found = _LIST_LABELS.at_start(text)
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
    pieces = [_text(child) for child in a.iter(include_text=True)]
    pieces = [p for p in pieces if p]
    if len(pieces) <= 1:
        return _text(a)
    kept = [
        p
        for p in pieces
        if not (len(p) <= 25 and parse_date(p) is not None)
        and not (len(p) <= 6 and normalize_status(p) != UNKNOWN)
    ]
    return max(kept, key=len) if kept else _text(a)


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
        if name in _LINK_WORDS:
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
            values[key] = _text(cells[i])
    if not title:
        title = values.get("title", "")
    status_text = values.get("status", "")
    if not status_text:
        status_text = _status_words(row)
    asked = _date(values.get("asked"), as_of)
    status = normalize_status(status_text)
    if asked is None and status == UNKNOWN:
        return None  # a row of links under the table's header, not a message
    return Message(
        url=url,
        title=title,
        asked=asked,
        status=status,
        replied=_date(values.get("replied"), as_of),
        unit=values.get("unit", ""),
        status_text=status_text,
    )


def _status_words(node: LexborNode) -> str:
    """Status words in a row's text, or in its images' alt and title texts."""
    text = _text(node)
    if normalize_status(text) != UNKNOWN:
        return text
    for img in node.css("img, [title]"):
        for attr in ("alt", "title"):
            value = img.attributes.get(attr) or ""
            if normalize_status(value) != UNKNOWN:
                return value
    return ""


def _in_chrome(node: LexborNode) -> bool:
    parent = node.parent
    while parent is not None and parent.tag not in ("body", "html"):
        if is_chrome_element(parent):
            return True
        parent = parent.parent
    return False


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
                _date(line, self.as_of) is not None for line in page_lines(node, skip_chrome=False)
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
    found = [(f.key, f.first) for f in scan_labels(lines, _LIST_LABELS)]
    asked = _date(_first(found, "asked"), as_of)
    replied = _date(_first(found, "replied"), as_of)
    if asked is None:
        labelled = {value for _, value in found}
        dates = [
            d
            for line in lines
            if line not in labelled and _LIST_LABELS.at_start(line) is None
            for d in _dates_in(line, as_of)
        ]
        if dates:
            asked = dates[0]
            if replied is None and len(dates) == 2 and dates[1] >= dates[0]:
                replied = dates[1]
    status_text = _first(found, "status") or _status_words(row)
    if not title:
        title = _first(found, "title") or ""
    return Message(
        url=url,
        title=title,
        asked=asked,
        status=normalize_status(status_text),
        replied=replied,
        unit=_first(found, "unit") or "",
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
        title = _text(link_node)
    else:
        url, title = _row_link(row, page_url)
    if url is None:
        return None
    base = _row_from_lines(row, url, title, as_of)
    over: dict[str, Any] = {}
    if (text := _select_text(row, selectors.get("item_title"))) is not None:
        over["title"] = text
    if (text := _select_text(row, selectors.get("item_asked"))) is not None:
        over["asked"] = _date(text, as_of)
    if (text := _select_text(row, selectors.get("item_replied"))) is not None:
        over["replied"] = _date(text, as_of)
    if (text := _select_text(row, selectors.get("item_unit"))) is not None:
        over["unit"] = text
    if (text := _select_text(row, selectors.get("item_status"))) is not None:
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
        if _in_chrome(link):
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


def _page_title(tree: LexborHTMLParser | LexborNode) -> str:
    meta = tree.css_first('meta[name="ArticleTitle"]')
    if meta is not None and (meta.attributes.get("content") or "").strip():
        return (meta.attributes.get("content") or "").strip()
    for selector in ("h1", "h2"):
        for heading in tree.css(selector):
            if _text(heading) and not _in_chrome(heading):
                return _text(heading)
    title = tree.css_first("title")
    if title is not None:
        return re.split(r"[_|\-—]", _text(title))[0].strip()
    return ""


_DATE_CHARS = re.compile(r"[\d\s年月日时分秒:：/\-.]+")


def _signed_date(line: str, as_of: dt.date | None) -> tuple[dt.date, str] | None:
    """``(date, unit)`` when ``line`` is a signature's date line (``2020年6月12日``, or
    ``区城管局 2020-06-12``): a date and nothing else but a unit's name."""
    if len(line) > 40:
        return None
    day = _date(line, as_of)
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
        and _UNIT_END.search(line) is not None
        and _SENTENCE_MARKS.search(line) is None
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
    unit_rank = len(_UNIT_WORDS)
    for item in labelled:
        if item.key == "unit":
            rank = _UNIT_WORDS.index(item.label) if item.label in _UNIT_WORDS else unit_rank
            value = item.first
            if value and not _is_placeholder(value) and rank < unit_rank:
                values["unit"] = value
                unit_rank = rank
            continue
        if item.key == "reply" and not reply_lines:
            reply_lines = item.lines
        if item.key not in values and item.lines:
            values[item.key] = item.text if item.key in ("question", "reply") else item.first
    for key in ("title", "asked", "question", "status", "replied", "unit", "reply"):
        text = _select_text(tree, selectors.get(key))
        if text is not None:
            values[key] = text
            if key == "reply":
                reply_lines = (text,)

    reply = values.get("reply", "")
    replied = _date(values.get("replied"), as_of)
    unit = values.get("unit", "")
    if unit and _is_placeholder(unit):
        unit = ""
    if reply_lines and (replied is None or not unit):
        signed_date, signed_unit = _signature(reply_lines, as_of)
        replied = replied or signed_date
        unit = unit or signed_unit
    has_reply_text = bool(reply) and not _is_placeholder(reply)
    if has_reply_text:
        # a reply that is only its signature has no content
        body = [ln for ln in reply_lines if ln != unit and _signed_date(ln, as_of) is None]
        has_reply_text = bool(body) and not all(_is_placeholder(ln) for ln in body)
    status_text = values.get("status", "")
    status = normalize_status(status_text)
    if status == UNKNOWN and (has_reply_text or replied is not None):
        status = REPLIED
    return Message(
        url=url,
        title=values.get("title") or _page_title(tree),
        asked=_date(values.get("asked"), as_of),
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
# coefficient of their character bigrams, after the words of asking are removed
FAQ_THRESHOLD: Final = 0.6
FAQ_MIN_BIGRAMS: Final = 3
_ASKING = re.compile(
    r"请问一下|请问|您好|你好|咨询一下|咨询|想问一下|想问|想了解|了解一下|关于|问题|求助|反映|"
    r"如何|怎样|怎么样|怎么|什么|哪些|哪里|多久|是否|能否|可否|可以|能不能|需要|需|要|吗|呢|吧|"
    r"啊|的|了|一下"
)
_NOT_WORD = re.compile(r"[^\w]|_", re.UNICODE)


def _bigrams(text: str) -> frozenset[str]:
    core = _NOT_WORD.sub("", _ASKING.sub(" ", text.lower()).replace(" ", ""))
    return frozenset(core[i : i + 2] for i in range(len(core) - 1))


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


class FaqIndex:
    """The FAQ base's questions, compiled once for many :meth:`match` calls.

    Two questions are the same when the Dice coefficient of their character bigrams is at least
    :data:`FAQ_THRESHOLD` (0.6), computed after the words of asking (请问、如何、怎么、吗 ...) and
    punctuation are removed, and each has at least :data:`FAQ_MIN_BIGRAMS` bigrams. Sharing a
    subject is not enough: 如何办理居住证 and 如何注销居住证 share 居住证 and score 0.5.
    """

    def __init__(self, titles: Iterable[str], threshold: float = FAQ_THRESHOLD) -> None:
        self.threshold = threshold
        self._entries = [(t, _bigrams(t)) for t in titles]
        self._entries = [(t, b) for t, b in self._entries if len(b) >= FAQ_MIN_BIGRAMS]
        self._by_bigram: dict[str, list[int]] = {}
        for i, (_, grams) in enumerate(self._entries):
            for g in grams:
                self._by_bigram.setdefault(g, []).append(i)

    def score(self, question: str) -> tuple[str | None, float]:
        """The closest entry and its score (``None, 0.0`` when nothing shares a bigram)."""
        grams = _bigrams(question)
        if len(grams) < FAQ_MIN_BIGRAMS:
            return None, 0.0
        candidates: set[int] = set()
        for g in grams:
            candidates.update(self._by_bigram.get(g, ()))
        best: tuple[str | None, float] = (None, 0.0)
        for i in sorted(candidates):
            title, entry = self._entries[i]
            s = _dice(grams, entry)
            if s > best[1]:
                best = (title, s)
        return best

    def match(self, question: str) -> str | None:
        title, s = self.score(question)
        return title if title is not None and s >= self.threshold else None


def faq_match(question: str, faq_titles: Sequence[str]) -> str | None:
    """The FAQ entry that asks the same as ``question``, or ``None`` (see :class:`FaqIndex`)."""
    return FaqIndex(faq_titles).match(question)


# --------------------------------------------------------------------------------------------
# Judgement
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReplyRules:
    """The ``[rules]`` keys behind the reply checks, with the national defaults."""

    reply_working_days: int = 5
    simple_reply_working_days: int = 0  # 0: no separate rule for simple questions
    unanswered_max_days: int = 90
    count_from: CountFrom = "next_day"
    lookback_days: int = 0  # 0: the calendar year before as_of (as_of minus one year)

    @classmethod
    def from_mapping(cls, rules: Mapping[str, Any]) -> ReplyRules:
        """From a config's ``[rules]`` table (other keys are ignored)."""
        keys = {f for f in cls.__dataclass_fields__ if f in rules}
        return cls(**{k: rules[k] for k in keys})


class Judgement(NamedTuple):
    code: str
    detail: dict[str, Any]


def _year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def in_lookback(asked: dt.date, as_of: dt.date, rules: ReplyRules = ReplyRules()) -> bool:
    """Whether a message of ``asked`` lies in the year (or ``lookback_days``) before ``as_of``."""
    if rules.lookback_days > 0:
        start = as_of - dt.timedelta(days=rules.lookback_days)
    else:
        start = _year_before(as_of)
    return start <= asked <= as_of


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def judge_message(
    msg: Message,
    as_of: dt.date,
    rules: ReplyRules = ReplyRules(),
    *,
    simple: bool = False,
    faq: FaqIndex | Sequence[str] | None = None,
) -> list[Judgement]:
    """What is wrong with one message at ``as_of``: a list of ``(code, detail)``.

    ``simple`` marks the message's column as one of simple questions; ``faq`` (the site's FAQ
    titles, or a :class:`FaqIndex` of them) makes a message simple when it asks what an entry
    answers. The shorter limit applies only when ``simple_reply_working_days`` is set (> 0).
    ``detail`` always has ``asked``, ``answered`` (or ``None``), ``working_days`` and ``limit``.
    """
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    if msg.asked is None or not in_lookback(msg.asked, as_of, rules):
        return []
    asked = msg.asked
    matched: str | None = None
    if rules.simple_reply_working_days > 0 and not simple and faq:
        index = faq if isinstance(faq, FaqIndex) else FaqIndex(faq)
        question = msg.title or msg.question
        matched = index.match(question)
        if matched is None and msg.question and msg.title:
            matched = index.match(msg.question)
    is_simple = rules.simple_reply_working_days > 0 and (simple or matched is not None)
    limit = rules.simple_reply_working_days if is_simple else rules.reply_working_days
    base: dict[str, Any] = {
        "title": msg.title,
        "asked": asked.isoformat(),
        "answered": None,
        "working_days": None,
        "limit": limit,
        "simple": is_simple,
    }
    if matched is not None:
        base["faq"] = matched
    out: list[Judgement] = []

    answered = msg.replied if msg.replied is not None and msg.replied <= as_of else None
    published = msg.reply_published and (msg.replied is None or msg.replied <= as_of)

    if msg.from_detail and published and msg.missing_reply_parts:
        detail = dict(base, answered=_iso(answered), missing=msg.missing_reply_parts)
        out.append(Judgement(INCOMPLETE, detail))

    if answered is not None:
        try:
            days = working_days_between(asked, answered, count_from=rules.count_from)
        except CalendarGap as gap:
            out.append(_gap(base, answered, gap))
            return out
        if days > limit:
            detail = dict(base, answered=_iso(answered), working_days=days)
            out.append(Judgement(LATE_REPLY, detail))
        return out

    if published and msg.replied is None:
        # a reply is shown without its date: when it came cannot be told (incomplete above)
        return out
    if not published and msg.status == UNKNOWN and not msg.from_detail:
        # a list row that says nothing about a reply: wait for its detail page
        return out

    calendar_days = (as_of - asked).days
    days_now: int | None = None
    gap_judgement: Judgement | None = None
    try:
        days_now = working_days_between(asked, as_of, count_from=rules.count_from)
    except CalendarGap as gap:
        gap_judgement = _gap(base, None, gap)
    if calendar_days > rules.unanswered_max_days:
        detail = dict(base, working_days=days_now, days=calendar_days)
        detail["max_days"] = rules.unanswered_max_days
        out.append(Judgement(UNANSWERED, detail))
    elif days_now is None and gap_judgement is not None:
        out.append(gap_judgement)
    elif days_now is not None and days_now > limit:
        out.append(Judgement(OVERDUE, dict(base, working_days=days_now, days=calendar_days)))
    return out


def _gap(base: Mapping[str, Any], answered: dt.date | None, gap: CalendarGap) -> Judgement:
    detail = dict(base, answered=_iso(answered), year=gap.year, reason=str(gap))
    return Judgement(CALENDAR_GAP, detail)
