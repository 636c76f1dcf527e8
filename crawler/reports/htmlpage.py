"""The HTML report: one self-contained, printable page (inline CSS, no scripts, no fetches).

:func:`render_html` turns the report of :func:`crawler.reports.build_report` into the page:
the summary (sites, verdicts, scores, counts per check), the attachment 存在突出问题的栏目及责任单位
名单 (序号, 责任单位, 网站, 栏目, 问题, 地址), the comparison when there is one, every finding with
its evidence, the ignored findings and the columns read.

Everything a crawled site said (titles, URLs, column names, lexicon matches) reaches the page only
through Jinja2 with autoescaping on, and a URL becomes a link only when it is plain http(s). The
web view (:mod:`crawler.service.web`) renders its pages with the same environment and macros.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from checks import catalogue
from crawler import __version__
from crawler.reports.model import FindingEntry, Report
from crawler.reports.words import CHECK_NAMES, banner, describe

__all__ = [
    "CATEGORY_NAMES",
    "SEVERITY_NAMES",
    "SITE_KIND_NAMES",
    "STATUS_NAMES",
    "VERDICT_NAMES",
    "check_totals",
    "comparison_view",
    "environment",
    "evidence",
    "findings_by_site",
    "is_http_url",
    "render_html",
]

TEMPLATES = Path(__file__).resolve().parent / "templates"  # shared with the web view

SEVERITY_NAMES = {"veto": "单项否决", "deduction": "扣分", "warning": "提醒", "info": "提示"}
VERDICT_NAMES = {"qualified": "合格", "unqualified": "不合格", "unchecked": "未完成检查"}
STATUS_NAMES = {
    "complete": "已完成",
    "incomplete": "未完成",
    "running": "进行中",
    "interrupted": "已中断",
}
_KIND_NAMES = {"page": "页面", "image": "图片", "attachment": "附件", "external": "外部链接",
               "other": "其他资源"}  # fmt: skip
SITE_KIND_NAMES = {
    "department": "部门",
    "institution": "直属机构",
    "town": "镇街",
    "portal": "门户网站",
}
CATEGORY_NAMES = {
    "news": "动态要闻", "notice": "通知公告", "policy": "政策文件", "interpretation": "政策解读",
    "personnel": "人事", "planning": "规划计划", "faq": "答问知识库", "consultation": "政务咨询",
    "survey": "调查征集", "interview": "在线访谈", "service": "办事指南", "stats": "办事统计",
    "other": "其他",
}  # fmt: skip
_SEVERITY_ORDER = {"veto": 0, "deduction": 1, "warning": 2, "info": 3}

# detail keys shown as evidence, in this order; other keys follow, sorted. A key's label is the
# check's own (its catalogue entry's ``evidence``), else one of the labels common to many checks
_EVIDENCE_ORDER = (
    "status", "reason", "error", "kind", "on_homepage", "newest", "days_since", "max_age_days",
    "from", "to", "largest_gap_days", "max_gap_days", "asked", "answered", "replied",
    "working_days", "limit", "simple", "title", "text", "suggestion", "context", "missing",
    "items", "dated_items", "undated", "category", "top_level", "list_pages", "placeholder",
    "why", "name", "key_column", "as_of", "pages", "redirects",
)  # fmt: skip
_COMMON_LABELS = {
    "status": "HTTP 状态码",
    "reason": "原因",
    "error": "错误",
    "title": "标题",
    "items": "信息条数",
    "dated_items": "有日期条数",
    "placeholder": "占位提示",
    "why": "判断依据",
    "name": "名称",
    "as_of": "监测时间点",
}
_LIST_CAP = 50  # list values (the pages linking a target) shown at most this long
_HTTP_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f]+\Z", re.IGNORECASE)
_CN_NUMERALS = "一二三四五六七八九十"


def is_http_url(value: object) -> bool:
    """Whether ``value`` may become a link: a plain http(s) URL without spaces or controls."""
    return isinstance(value, str) and _HTTP_URL.match(value) is not None


def _plain(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def evidence(finding: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    """A finding's ``detail`` as labelled evidence: ``(label, values)`` pairs, lists capped.

    The values are plain text (escaped by the templates); a value that is an http(s) URL is
    linked by the template, anything else is shown as text.
    """
    detail = finding.get("detail") or {}
    if not isinstance(detail, Mapping):
        return [("详情", [_plain(detail)])]
    entry = catalogue.spec(str(finding.get("check")))
    labels = {**_COMMON_LABELS, **(entry.evidence if entry is not None else {})}
    keys = [k for k in _EVIDENCE_ORDER if k in detail]
    keys += sorted(k for k in detail if k not in _EVIDENCE_ORDER)
    out: list[tuple[str, list[str]]] = []
    for key in keys:
        value = detail[key]
        label = labels.get(key, str(key))
        if key == "kind":
            value = _KIND_NAMES.get(str(value), value)
        elif key == "category":
            value = CATEGORY_NAMES.get(str(value), value)
        if isinstance(value, (list, tuple)):
            if not value:
                continue
            shown = [_plain(v) for v in value[:_LIST_CAP]]
            if len(value) > _LIST_CAP:
                shown.append(f"……共 {len(value)} 个")
            out.append((f"{label}（{len(value)}）" if key == "pages" else label, shown))
        else:
            out.append((label, [_plain(value)]))
    return out


def check_name(code: object) -> str:
    return CHECK_NAMES.get(str(code), str(code))


def check_totals(findings: Sequence[FindingEntry]) -> list[dict[str, Any]]:
    """Counts per check over ``findings``: code, Chinese name, severity, count; worst first."""
    counts = Counter(str(f["check"]) for f in findings)
    severity = {str(f["check"]): str(f["severity"]) for f in findings}
    rows: list[dict[str, Any]] = [
        {"check": code, "name": check_name(code), "severity": severity[code], "count": n}
        for code, n in counts.items()
    ]
    rows.sort(key=lambda r: (_SEVERITY_ORDER.get(str(r["severity"]), 9), str(r["check"])))
    return rows


def findings_by_site(report: Report) -> list[tuple[Mapping[str, Any], list[FindingEntry]]]:
    """``(site, its findings)`` in the report's site order; findings of unknown sites last."""
    groups: dict[str, list[Any]] = {}
    for f in report["findings"]:
        groups.setdefault(str(f["site"]), []).append(f)
    out: list[tuple[Mapping[str, Any], list[FindingEntry]]] = []
    for s in report["sites"]:
        if s["id"] in groups:
            out.append((s, groups.pop(s["id"])))
    for site_id, items in groups.items():
        out.append(({"id": site_id, "name": site_id, "unit": items[0]["unit"]}, items))
    return out


def comparison_view(report: Report) -> dict[str, Any] | None:
    """The comparison with its finding ids resolved to findings, ready for the templates."""
    comp = report.get("comparison")
    if not comp:
        return None
    current = {f["id"]: f for f in report["findings"]}

    def resolve(ids: list[str]) -> list[FindingEntry]:
        # a finding id not among the report's findings (cannot happen today) is kept, bare
        return [
            current.get(i) or {"id": i, "check": "", "severity": "", "site": "", "unit": "",
                               "column": None, "url": "", "page": None, "detail": {},
                               "observed_at": None}
            for i in ids
        ]  # fmt: skip

    groups = [
        ("new", "新增问题", resolve(list(comp["new"]))),
        ("persisting", "仍存在的问题", resolve(list(comp["persisting"]))),
        ("resolved", "已整改的问题", list(comp["resolved"])),
    ]
    per_unit = [{"unit": unit, **counts} for unit, counts in comp["per_unit"].items()]
    totals = {
        key: sum(int(counts[key]) for counts in comp["per_unit"].values())
        for key in ("new", "persisting", "resolved", "columns_now", "columns_before")
    }
    return {
        "against": comp["against"],
        "counts": {"new": len(comp["new"]), "persisting": len(comp["persisting"]),
                   "resolved": len(comp["resolved"])},
        "per_unit": per_unit,
        "totals": totals,
        "groups": groups,
    }  # fmt: skip


def _numeral(n: int) -> str:
    return _CN_NUMERALS[n - 1] if 1 <= n <= len(_CN_NUMERALS) else str(n)


@functools.cache
def environment() -> jinja2.Environment:
    """The Jinja2 environment of the report and the web view: autoescaping always on."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["describe"] = describe
    env.filters["check_name"] = check_name
    env.filters["severity_name"] = lambda s: SEVERITY_NAMES.get(str(s), str(s))
    env.filters["verdict_name"] = lambda s: VERDICT_NAMES.get(str(s), str(s))
    env.filters["status_name"] = lambda s: STATUS_NAMES.get(str(s), str(s))
    env.filters["numeral"] = _numeral
    env.filters["kind_name"] = lambda k: SITE_KIND_NAMES.get(str(k), "—" if k is None else str(k))
    env.filters["category_name"] = lambda c: CATEGORY_NAMES.get(str(c), str(c))
    env.tests["http_url"] = is_http_url
    env.globals["evidence"] = evidence
    env.globals["status_banner"] = banner
    env.globals["version"] = __version__
    return env


def report_context(report: Report) -> dict[str, Any]:
    """What the report's templates need besides the report itself."""
    return {
        "report": report,
        "scan": report["scan"],
        "totals": check_totals(list(report["findings"])),
        "by_site": findings_by_site(report),
        "comparison": comparison_view(report),
        "site_names": {s["id"]: s["name"] for s in report["sites"]},
    }


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page, readable on screen and when printed."""
    return environment().get_template("report.html").render(**report_context(report))
