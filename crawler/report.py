"""Reports of one scan, read from the store: JSON (the public form), CSV and Markdown."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from typing import Any

from storage.base import ScanInfo, Store

FORMATS = ("json", "csv", "md")

# column categories whose staleness counts toward the 5-column veto (news / top-level)
_VETO_COUNTS = {"column.blank": 5, "service.guide_incomplete": 5}


def site_verdict(findings: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """``qualified``/``unqualified`` and the vetoes that decided it (INTERFACE.md rules)."""
    vetoes = sorted({f["check"] for f in findings if f["severity"] == "veto"})
    counts = Counter(f["check"] for f in findings)
    stale = [f for f in findings if f["check"] == "column.stale"]
    key_stale = [f for f in stale if (f.get("detail") or {}).get("key_column")]
    reasons = list(vetoes)
    if len(key_stale) >= 5 or len(stale) >= 10:
        reasons.append("column.stale")
    for code, limit in _VETO_COUNTS.items():
        if counts[code] >= limit:
            reasons.append(code)
    return ("unqualified" if reasons else "qualified"), sorted(set(reasons))


async def build_report(store: Store, scan_ref: str | int = "latest") -> dict[str, Any]:
    info = await store.scan_info(scan_ref)
    findings = await store.findings(info.id)
    return assemble(info, findings)


def assemble(info: ScanInfo, findings: list[dict[str, Any]]) -> dict[str, Any]:
    by_site: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        by_site.setdefault(f["site"], []).append(f)
    sites = []
    for s in info.sites:
        verdict, vetoes = site_verdict(by_site.get(s["id"], []))
        sites.append(
            {
                "id": s["id"],
                "name": s["name"],
                "unit": s["unit"],
                "kind": s.get("kind"),
                "url": s.get("url"),
                "verdict": verdict,
                "vetoes": vetoes,
                "score": None,  # the deduction table arrives with the verdicts work (issue 5)
                "counts": dict(Counter(f["check"] for f in by_site.get(s["id"], []))),
            }
        )
    return {
        "scan": {
            "id": info.id,
            "as_of": info.as_of,
            "started_at": info.started_at,
            "finished_at": info.finished_at,
            "status": info.status,
            "pages": info.pages,
            "requests": info.requests,
        },
        "sites": sites,
        "findings": findings,
    }


def render(report: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return _csv(report)
    if fmt == "md":
        return _markdown(report)
    raise ValueError(f"unknown format {fmt!r}")


_CSV_HEADER = [
    "检查项 check",
    "严重程度 severity",
    "网站 site",
    "责任单位 unit",
    "栏目 column",
    "对象 url",
    "所在页面 page",
    "类型 kind",
    "原因 reason",
    "首页 on_homepage",
    "引用页面数 pages",
    "详情 detail",
]


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # a cell from site content must never run as a spreadsheet formula
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(_CSV_HEADER)
    for f in report["findings"]:
        d = f.get("detail") or {}
        w.writerow(
            [
                _cell(f["check"]),
                _cell(f["severity"]),
                _cell(f["site"]),
                _cell(f["unit"]),
                _cell(f["column"]),
                _cell(f["url"]),
                _cell(f["page"]),
                _cell(d.get("kind")),
                _cell(d.get("reason")),
                _cell(d.get("on_homepage")),
                _cell(len(d.get("pages") or [])),
                _cell(json.dumps(d, ensure_ascii=False, sort_keys=True)),
            ]
        )
    return out.getvalue()


def _md_escape(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def _markdown(report: dict[str, Any]) -> str:
    scan = report["scan"]
    lines = [
        f"# govmon 检查报告 report — scan {scan['id']}",
        "",
        f"- 监测时间点 as of: {scan['as_of']}",
        f"- 状态 status: {scan['status']} (started {scan['started_at']},"
        f" finished {scan['finished_at'] or '—'})",
        f"- 页面 pages: {scan['pages']}, 请求 requests: {scan['requests']}",
        "",
        "## 网站 sites",
        "",
        "| 网站 site | 名称 name | 责任单位 unit | 结论 verdict | 否决项 vetoes | 问题 findings |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for s in report["sites"]:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(s["counts"].items())) or "—"
        lines.append(
            f"| {_md_escape(s['id'])} | {_md_escape(s['name'])} | {_md_escape(s['unit'])} | "
            f"{'合格 qualified' if s['verdict'] == 'qualified' else '不合格 unqualified'} | "
            f"{_md_escape(', '.join(s['vetoes']) or '—')} | {_md_escape(counts)} |"
        )
    lines += ["", "## 问题 findings", ""]
    if not report["findings"]:
        lines.append("No findings.")
    current = None
    for f in report["findings"]:
        if f["site"] != current:
            current = f["site"]
            lines += [
                "",
                f"### {_md_escape(current)}",
                "",
                "| 检查项 check | 对象 url | 类型 kind | 原因 reason | 首页 home"
                " | 引用页面 pages |",
                "| --- | --- | --- | --- | --- | --- |",
            ]
        d = f.get("detail") or {}
        pages = d.get("pages") or []
        shown = ", ".join(_md_escape(p) for p in pages[:3])
        if len(pages) > 3:
            shown += f" (+{len(pages) - 3})"
        lines.append(
            f"| {_md_escape(f['check'])} | {_md_escape(f['url'])} | {_md_escape(d.get('kind'))} |"
            f" {_md_escape(d.get('reason'))} | {'是' if d.get('on_homepage') else ''} | {shown} |"
        )
    return "\n".join(lines) + "\n"
