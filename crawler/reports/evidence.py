"""A finding's evidence as a clerk reads it: labelled Chinese lines, for every Chinese view.

:func:`evidence` turns a finding's ``detail`` (the machine form the JSON report keeps) into
``(label, values)`` pairs: the keys its catalogue entry (``CheckSpec.evidence``) or the common
table below labels, in a fixed order, with reasons in Chinese (:mod:`checks.wording`), dates and
times as a notice writes them, yes/no as 是/否, nested records as short phrases (never JSON) and
URLs shown percent-decoded. A key without a Chinese label is machine detail: the JSON report has
it, the Chinese views do not show it. :func:`evidence_text` is the same on one line (CSV, XLSX).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from checks import catalogue
from checks.categories import CATEGORY_NAMES as _CATEGORY_NAMES
from checks.wording import KINDS, cn_date, reason_words
from crawler.reports.words import DEFAULT_ZONE, cn_time, display_url

__all__ = ["evidence", "evidence_text"]

# detail keys shown as evidence, in this order; other labelled keys follow, sorted
_ORDER = (
    "status", "reason", "error", "kind", "on_homepage", "newest", "days_since", "max_age_days",
    "from", "to", "largest_gap_days", "max_gap_days", "asked", "answered", "replied",
    "working_days", "limit", "simple", "title", "date", "text", "suggestion", "context",
    "missing", "items", "dated_items", "undated", "category", "top_level", "list_pages",
    "placeholder", "why", "name", "key_column", "as_of", "pages", "redirects",
)  # fmt: skip
# labels common to many checks; a check's own (its catalogue entry's ``evidence``) win
_COMMON_LABELS = {
    "status": "HTTP 状态码", "reason": "原因", "error": "错误", "title": "标题",
    "items": "信息条数", "dated_items": "有日期条数", "placeholder": "占位提示",
    "why": "判断依据", "name": "名称", "as_of": "监测时间点", "samples": "监测次数",
    "failures": "失败次数", "percent": "失败比例（%）", "since": "监测起始", "until": "监测截止",
    "requests": "请求次数", "attempts": "各次请求", "count": "数量", "minimum": "要求数量",
    "link": "链接", "final_url": "最终地址", "words": "命中词语", "snippets": "片段",
    "links": "链接", "url": "地址", "received": "收到留言", "rate": "办结率",
    "statistics": "留言统计", "columns": "栏目", "worst_ms": "最慢响应（毫秒）",
}  # fmt: skip
# the keys of nested records (content.backdated's scans, a hidden link, an attempt ...)
_INNER_LABELS = {
    "id": "第 {} 次检查", "at": "时间", "horizon": "列表覆盖到", "items": "条信息",
    "listed": "已列出", "date_then": "当时日期", "url": "地址", "text": "文字",
    "reason": "原因", "status": "状态码", "error": "错误", "title": "标题",
    "final_host": "最终域名", "received": "收到", "answered": "答复", "date": "日期",
}  # fmt: skip
# keys whose values are reasons (machine words), dates, or times
_REASON_KEYS = frozenset({"reason", "error", "why", "problems", "reasons"})
_LIST_CAP = 50  # list values (the pages linking a target) shown at most this long
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _scalar(key: str, value: object, zone: dt.tzinfo) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if key in _REASON_KEYS:
        return reason_words(text)
    if key == "kind":
        return KINDS.get(text, text)
    if key == "category":
        return _CATEGORY_NAMES.get(text, text)
    if _ISO_TIME.match(text):
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            return text
        return cn_time(moment, zone)
    return cn_date(text)


def _record(record: Mapping[str, Any], zone: dt.tzinfo) -> str:
    """A nested record as one phrase: ``第 3 次检查，时间 2020年6月1日 08:00，12 条信息``."""
    parts: list[str] = []
    for key, value in record.items():
        if value is None or key not in _INNER_LABELS:
            continue
        label = _INNER_LABELS[key]
        if isinstance(value, Mapping):
            shown_value = _record(value, zone)
        else:
            shown_value = _scalar(key, value, zone)
        if "{}" in label:
            parts.append(label.format(shown_value))
        elif key == "items":
            parts.append(f"{shown_value} {label}")
        else:
            parts.append(f"{label} {shown_value}")
    return "，".join(parts) or "—"


def _value(key: str, value: object, zone: dt.tzinfo) -> str:
    if isinstance(value, Mapping):
        return _record(value, zone)
    if isinstance(value, (list, tuple)):
        return "、".join(_value(key, v, zone) for v in value)
    return _scalar(key, value, zone)


def evidence(
    finding: Mapping[str, Any], cap: int = _LIST_CAP, zone: dt.tzinfo | None = None
) -> list[tuple[str, list[str]]]:
    """A finding's ``detail`` as labelled evidence: ``(label, values)`` pairs, lists cut after
    ``cap`` values, times in ``zone`` (the report's: :func:`crawler.reports.words.report_zone`;
    北京时间 when none is given).

    The values are plain text (escaped by the templates); a URL is as the site wrote it, for the
    template to link, and shown percent-decoded (:func:`crawler.reports.words.display_url`).
    """
    detail = finding.get("detail") or {}
    if not isinstance(detail, Mapping):
        return []
    zone = zone or ZoneInfo(DEFAULT_ZONE)
    entry = catalogue.spec(str(finding.get("check")))
    labels = {**_COMMON_LABELS, **(entry.evidence if entry is not None else {})}
    keys = [k for k in _ORDER if k in detail and k in labels]
    keys += sorted(k for k in detail if k not in _ORDER and k in labels)
    out: list[tuple[str, list[str]]] = []
    for key in keys:
        value, label = detail[key], labels[key]
        if value is None:
            continue  # nothing known: nothing to show
        if key == "status" and str(detail.get("reason")) == f"http {value}":
            continue  # the reason says it (HTTP 404 找不到页面)
        if isinstance(value, (list, tuple)):
            if not value:
                continue
            values = [_value(key, v, zone) for v in value[:cap]]
            if len(value) > cap:
                values.append(f"……共 {len(value)} 个")
            out.append((f"{label}（{len(value)}）" if key == "pages" else label, values))
        else:
            out.append((label, [_value(key, value, zone)]))
    return out


def evidence_text(
    finding: Mapping[str, Any], cap: int = _LIST_CAP, zone: dt.tzinfo | None = None
) -> str:
    """The evidence on one line, for a spreadsheet cell: ``原因：HTTP 404 找不到页面；……``."""
    return display_url(
        "；".join(f"{label}：{'、'.join(values)}" for label, values in evidence(finding, cap, zone))
    )
