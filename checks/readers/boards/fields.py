"""The fields of a message board: status words, the labels of its fields, what a message
is (:class:`Message`) and the CSS selector overrides a config may give (:func:`check_selectors`)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from checks.readers.dates import parse_date
from checks.readers.text import (
    LabelTable,
    is_chrome_element,
)

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
UNIT_WORDS = (
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
        "unit": UNIT_WORDS,
        "replied": _REPLIED_WORDS,
        "reply": _REPLY_WORDS,
        "": _OTHER_WORDS,
    }
)
LIST_LABELS: Final = _table(
    {
        "title": (*_TITLE_WORDS, "咨询问题", "问题", "事项", "留言内容", "信件内容"),
        "asked": (*_ASKED_WORDS, "日期", "时间"),
        "status": _STATUS_WORDS,
        "unit": UNIT_WORDS,
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
UNIT_END = re.compile(
    r"(?:人民政府|政府|委员会|管委会|办公室|街道办事处|街道|办事处|中心|局|委|办|院|所|厅|队|站"
    r"|镇|乡|公司|分局|支队|大队)$"
)
SENTENCE_MARKS = re.compile(r"[，,。；;！!？?：:]")
LINK_WORDS = frozenset(
    {"查看", "详情", "查看详情", "详细", "[详细]", "【详细】", "more", "更多", "阅读全文"}
)


def normalize_status(text: str) -> str:
    """``replied``, ``unreplied``, ``processing`` or ``unknown`` for a status as written."""
    for status, words in _STATUS_TABLE:
        if any(w in text for w in words):
            return status
    return UNKNOWN


def is_placeholder(text: str) -> bool:
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


def node_text(node: LexborNode) -> str:
    return " ".join(node.text(separator=" ").split())


def select_text(root: LexborHTMLParser | LexborNode, selector: str | None) -> str | None:
    if not selector:
        return None
    node = root.css_first(selector)
    return None if node is None else node_text(node)


def read_date(text: str | None, as_of: dt.date | None) -> dt.date | None:
    if not text:
        return None
    return parse_date(text, as_of=as_of)


def dates_in(line: str, as_of: dt.date | None) -> list[dt.date]:
    """The dates in a line, one per space-separated token (a whole-line date as a fallback)."""
    found = [d for token in line.split() if (d := read_date(token, as_of)) is not None]
    if not found and (d := read_date(line, as_of)) is not None:
        found.append(d)
    return found


def first_value(found: Sequence[tuple[str, str]], key: str) -> str | None:
    for k, value in found:
        if k == key:
            return value
    return None


def in_chrome(node: LexborNode) -> bool:
    """Whether ``node`` lies inside the page's chrome (navigation, header, footer)."""
    parent = node.parent
    while parent is not None and parent.tag not in ("body", "html"):
        if is_chrome_element(parent):
            return True
        parent = parent.parent
    return False
