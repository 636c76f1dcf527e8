"""The CSV report: one row per finding, Chinese and English headers, never a formula.

The file starts with a UTF-8 byte order mark, so that Excel and WPS on Chinese Windows open it as
Chinese text. Every value a reader reads is Chinese (severity, kind, reason, yes/no, the
evidence; times in the config's zone, URLs percent-decoded); codes stay codes (the finding's id,
the check code, the site id). A scan that did not complete, or sites left unchecked, are said
first, in rows above the table. With a comparison, a last column says whether a finding is new
or persisting, and the resolved findings follow as rows marked 已整改.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from checks.wording import KINDS, reason_words
from crawler.reports.evidence import evidence_text
from crawler.reports.model import FindingEntry, Report
from crawler.reports.words import (
    SEVERITY_NAMES,
    banner,
    comparison_groups,
    describe,
    display_url,
    report_zone,
)

__all__ = ["cell", "render_csv"]


_CSV_HEADER = [
    "编号 id", "检查项 check", "严重程度 severity", "网站 site", "责任单位 unit", "栏目 column",
    "问题 problem", "对象 url", "所在页面 page", "类型 kind", "原因 reason", "首页 on_homepage",
    "引用页面数 pages", "详情 detail",
]  # fmt: skip


def cell(value: object) -> str:
    """A spreadsheet cell from site content: never a formula."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


_CHANGE_HEADER = "比较 change"
_WORDS = {"new": "新增", "persisting": "仍存在"}
BOM = "\ufeff"  # Excel and WPS read a CSV file as UTF-8 only when it starts with one


def _yes_no(value: object) -> str:
    return "" if value is None else "是" if value else "否"


def _row(f: FindingEntry, zone: dt.tzinfo) -> list[str]:
    d = f.get("detail") or {}
    kind, reason = d.get("kind"), d.get("reason")
    return [
        cell(f["id"]), cell(f["check"]), cell(SEVERITY_NAMES.get(f["severity"], f["severity"])),
        cell(f["site"]), cell(f["unit"]), cell(f["column"]), cell(describe(f)),
        cell(display_url(f["url"])), cell(display_url(f["page"]) if f["page"] else None),
        cell(KINDS.get(str(kind), kind) if kind else None),
        cell(reason_words(reason) if reason else None), cell(_yes_no(d.get("on_homepage"))),
        cell(len(d.get("pages") or [])), cell(evidence_text(f, zone=zone)),
    ]  # fmt: skip


def render_csv(report: Report) -> str:
    """The report as CSV text, starting with a byte order mark (:data:`BOM`)."""
    out = io.StringIO()
    out.write(BOM)
    w = csv.writer(out)
    # a scan that did not complete, or sites left unchecked: said first, above the table
    notes = banner(report)
    unchecked = [s for s in report["sites"] if s["verdict"] == "unchecked"]
    if notes or unchecked:
        for line in notes:
            w.writerow([cell("状态 status"), cell(line)])
        for s in unchecked:
            w.writerow([cell("未完成检查 unchecked"), cell(s["id"]), cell(s["name"]),
                        cell(s["unchecked"]["text"])])  # fmt: skip
        w.writerow([])
    zone = report_zone(report)
    groups = comparison_groups(report)
    change = {f["id"]: _WORDS[key] for key, _, items in groups if key in _WORDS for f in items}
    w.writerow([*_CSV_HEADER, _CHANGE_HEADER] if groups else _CSV_HEADER)
    for f in report["findings"]:
        row = _row(f, zone)
        w.writerow([*row, change.get(f["id"], "")] if groups else row)
    for key, _, items in groups:
        if key == "resolved":  # no longer among the findings: rows of their own, marked
            w.writerows([*_row(f, zone), "已整改"] for f in items)
    return out.getvalue()


# site text in a Markdown table cell: shown as text, never as a link, image, code or HTML (a
# backslash is escaped too, so that one in the text cannot undo an escape)
