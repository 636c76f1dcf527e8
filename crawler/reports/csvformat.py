"""The CSV report: one row per finding, Chinese and English headers, never a formula.

A scan that did not complete, or sites left unchecked, are said first, in rows above the table.
"""

from __future__ import annotations

import csv
import io
import json

from crawler.reports.model import Report
from crawler.reports.words import banner, describe

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


def render_csv(report: Report) -> str:
    out = io.StringIO()
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
    w.writerow(_CSV_HEADER)
    for f in report["findings"]:
        d = f.get("detail") or {}
        w.writerow(
            [
                cell(f["id"]), cell(f["check"]), cell(f["severity"]), cell(f["site"]),
                cell(f["unit"]), cell(f["column"]), cell(describe(f)), cell(f["url"]),
                cell(f["page"]), cell(d.get("kind")), cell(d.get("reason")),
                cell(d.get("on_homepage")), cell(len(d.get("pages") or [])),
                cell(json.dumps(d, ensure_ascii=False, sort_keys=True)),
            ]
        )  # fmt: skip
    return out.getvalue()


# site text in a Markdown table cell: shown as text, never as a link, image, code or HTML (a
# backslash is escaped too, so that one in the text cannot undo an escape)
