"""Reports of one scan, read from the store.

The report is one dict (the public JSON form of INTERFACE.md, extended): the scan, every site's
verdict, the per-unit attachment (存在突出问题的栏目及责任单位名单), the findings with their
evidence, the ignored findings, and, with ``compare``, what is new, persisting and resolved since
an earlier scan. The renderers turn it into JSON, CSV, Markdown (here), HTML and XLSX
(:mod:`crawler.htmlreport`, :mod:`crawler.xlsxreport`).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from typing import Any

from checks.scoring import ScoringTable, judge
from storage.base import ScanInfo, Store

FORMATS = ("json", "csv", "md", "html", "xlsx")

CHECK_NAMES = {
    "site.unreachable": "站点无法访问",
    "site.availability": "站点访问失败",
    "link.broken": "错链断链",
    "link.blocked": "链接拒绝访问（待人工确认）",
    "homepage.stale": "首页不更新",
    "column.stale": "栏目不更新",
    "column.blank": "空白栏目",
    "column.irregular": "栏目更新不规律",
    "column.undated": "信息无发布日期",
    "column.unreadable": "栏目内容由脚本生成，无法读取",
    "message.unanswered": "留言超期未回复",
    "message.late_reply": "留言回复超时",
    "message.overdue": "留言逾期未回复",
    "message.incomplete": "答复信息不全",
    "policy.no_interpretation": "政策文件无解读",
    "service.guide_incomplete": "办事指南要素缺失",
    "content.typo": "错别字",
    "content.sensitive": "敏感词",
    "newmedia.stale": "政务新媒体不更新",
    "content.pii": "泄露个人信息",
    "content.hidden_link": "暗链",
    "content.backdated": "疑似伪造发布日期",
    "link.hijacked": "外链被劫持",
    "site.no_search": "无站内搜索",
    "site.search_broken": "站内搜索不可用",
    "site.no_ipv6": "不支持IPv6",
    "site.no_zhaocuo": "无“我为政府网站找错”入口",
    "column.too_few": "栏目活动不足",
    "message.no_statistics": "未公开留言统计",
    "check.error": "检查出错",
    "message.calendar_gap": "节假日日历缺少该年份",
}
_KINDS = {"page": "页面", "image": "图片", "attachment": "附件", "external": "外部链接",
          "other": "其他资源"}  # fmt: skip


def describe(finding: dict[str, Any]) -> str:
    """One line in Chinese that says what is wrong, for the attachment and the tables."""
    check = str(finding["check"])
    d = finding.get("detail") or {}
    name = CHECK_NAMES.get(check, check)
    if check in ("link.broken", "link.blocked"):
        kind = _KINDS.get(str(d.get("kind")), str(d.get("kind") or ""))
        where = "，首页" if d.get("on_homepage") else ""
        pages = len(d.get("pages") or [])
        return f"{name}：{kind}（{d.get('reason')}）{where}，{pages} 个页面引用"
    if check in ("column.stale", "homepage.stale", "newmedia.stale"):
        if d.get("newest"):
            return (
                f"{name}：最新信息 {d.get('newest')}，{d.get('days_since')} 天未更新"
                f"（要求 {d.get('max_age_days')} 天内）"
            )
        return f"{name}：无可识别发布日期的信息"
    if check == "column.irregular":
        return (
            f"{name}：{d.get('from')} 至 {d.get('to')} 间隔 {d.get('largest_gap_days')} 天"
            f"（要求不超过 {d.get('max_gap_days')} 天）"
        )
    if check == "column.undated":
        return f"{name}：{d.get('undated')} 条信息无发布日期"
    if check.startswith("message.") and "working_days" in d:
        answered = d.get("answered") or "未答复"
        return f"{name}：{d.get('asked')} 留言，{answered}，{d.get('working_days')} 个工作日"
    if check == "service.guide_incomplete":
        return f"{name}：缺少 {'、'.join(d.get('missing') or [])}"
    if check in ("content.typo", "content.sensitive"):
        text = f"{name}：“{d.get('text')}”"
        return text + (f"，应为“{d['suggestion']}”" if d.get("suggestion") else "")
    return name


async def build_report(
    store: Store, scan_ref: str | int = "latest", compare: str | int | None = None
) -> dict[str, Any]:
    info = await store.scan_info(scan_ref)
    findings = await store.findings(info.id)
    findings += await availability_findings(store, info)
    ignores = await store.ignores()
    columns = await store.columns(info.id)
    report = assemble(info, findings, ignores, columns)
    if compare is not None:
        old = await store.scan_info(compare)
        old_findings = await store.findings(old.id)
        report["comparison"] = comparison(info, report["findings"], old, old_findings, ignores)
    return report


async def availability_findings(store: Store, info: ScanInfo) -> list[dict[str, Any]]:
    """``site.unreachable`` / ``site.availability`` of the scan's sites, judged from the samples
    in the store over the 7 days up to the newest one (INTERFACE.md: `report` judges them)."""
    from crawler.availability import judge, to_finding

    samples = await store.samples()
    if not samples:
        return []
    units = {s["id"]: s["unit"] for s in info.sites}
    tz = (info.settings or {}).get("timezone") or "Asia/Shanghai"
    out = []
    for j in judge(samples, tz=tz):
        if j.site not in units:
            continue
        f = to_finding(j, units[j.site])
        out.append(
            {
                "id": f.identity, "check": f.check, "severity": f.severity, "site": f.site,
                "unit": f.unit, "column": None, "url": f.url, "page": f.page,
                "detail": dict(f.detail), "observed_at": j.detail.get("newest_sample"),
            }
        )  # fmt: skip
    return out


def _table(info: ScanInfo) -> ScoringTable:
    overrides = (info.settings or {}).get("scoring") or {}
    return ScoringTable().with_overrides(overrides)


def assemble(
    info: ScanInfo,
    findings: list[dict[str, Any]],
    ignores: dict[str, dict[str, Any]] | None = None,
    columns: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    ignores = ignores or {}
    kept = [f for f in findings if f["id"] not in ignores]
    ignored = [{**f, "ignored": ignores[f["id"]]} for f in findings if f["id"] in ignores]
    table = _table(info)
    by_site: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in kept:
        by_site[f["site"]].append(f)
    sites = []
    for s in info.sites:
        mine = by_site.get(s["id"], [])
        verdict = judge(mine, table)
        sites.append(
            {
                "id": s["id"],
                "name": s["name"],
                "unit": s["unit"],
                "kind": s.get("kind"),
                "url": s.get("url"),
                "verdict": verdict.verdict,
                "vetoes": verdict.vetoes,
                "score": verdict.score,
                "deductions": {table.indicators[k].name: v for k, v in verdict.deductions.items()},
                "counts": dict(sorted(Counter(f["check"] for f in mine).items())),
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
        "units": units(info, kept),
        "columns": columns or [],
        "findings": kept,
        "ignored": ignored,
    }


def units(info: ScanInfo, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The attachment: per responsible unit, its sites' problem columns and problems."""
    names = {s["id"]: s["name"] for s in info.sites}
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        if f["severity"] in ("veto", "deduction"):
            grouped[f["unit"]].append(f)
    out = []
    for unit in sorted(grouped):
        rows = sorted(grouped[unit], key=lambda f: (f["site"], f["column"] or "", f["check"]))
        problem_columns = sorted({(f["site"], f["column"]) for f in rows if f["column"]})
        out.append(
            {
                "unit": unit,
                "sites": sorted({names.get(f["site"], f["site"]) for f in rows}),
                "problem_columns": len(problem_columns),
                "problems": [
                    {
                        "id": f["id"],
                        "site": f["site"],
                        "site_name": names.get(f["site"], f["site"]),
                        "column": f["column"],
                        "check": f["check"],
                        "severity": f["severity"],
                        "problem": describe(f),
                        "url": f["url"],
                    }
                    for f in rows
                ],
            }
        )
    return out


def comparison(
    info: ScanInfo,
    current: list[dict[str, Any]],
    old: ScanInfo,
    old_findings: list[dict[str, Any]],
    ignores: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """New, persisting and resolved findings since ``old``, over the sites both scans cover."""
    shared = {s["id"] for s in info.sites} & {s["id"] for s in old.sites}
    now = {f["id"]: f for f in current if f["site"] in shared}
    before = {f["id"]: f for f in old_findings if f["site"] in shared and f["id"] not in ignores}
    new = [f for i, f in now.items() if i not in before]
    persisting = [f for i, f in now.items() if i in before]
    resolved = [f for i, f in before.items() if i not in now]
    per_unit: dict[str, dict[str, int]] = defaultdict(
        lambda: {"new": 0, "persisting": 0, "resolved": 0, "columns_now": 0, "columns_before": 0}
    )
    for label, group in (("new", new), ("persisting", persisting), ("resolved", resolved)):
        for f in group:
            per_unit[f["unit"]][label] += 1
    for label, scan in (("columns_now", now), ("columns_before", before)):
        seen: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for f in scan.values():
            if f["column"] and f["severity"] in ("veto", "deduction"):
                seen[f["unit"]].add((f["site"], f["column"]))
        for unit, cols in seen.items():
            per_unit[unit][label] = len(cols)
    return {
        "against": {"id": old.id, "as_of": old.as_of, "status": old.status},
        "new": [f["id"] for f in new],
        "persisting": [f["id"] for f in persisting],
        "resolved": resolved,
        "per_unit": dict(sorted(per_unit.items())),
    }


def render(report: dict[str, Any], fmt: str) -> str | bytes:
    if fmt == "json":
        return json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return _csv(report)
    if fmt == "md":
        return _markdown(report)
    if fmt == "html":
        from crawler.htmlreport import render_html

        return render_html(report)
    if fmt == "xlsx":
        from crawler.xlsxreport import render_xlsx

        return render_xlsx(report)
    raise ValueError(f"unknown format {fmt!r}")


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


def _csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    w = csv.writer(out)
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


def _md(value: object) -> str:
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
        "| 网站 site | 名称 name | 责任单位 unit | 结论 verdict | 得分 score | 否决项 vetoes"
        " | 问题 findings |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in report["sites"]:
        counts = ", ".join(f"{k} {v}" for k, v in s["counts"].items()) or "—"
        verdict = "合格 qualified" if s["verdict"] == "qualified" else "不合格 unqualified"
        lines.append(
            f"| {_md(s['id'])} | {_md(s['name'])} | {_md(s['unit'])} | {verdict} | {s['score']} |"
            f" {_md(', '.join(s['vetoes']) or '—')} | {_md(counts)} |"
        )
    lines += ["", "## 存在突出问题的栏目及责任单位名单 problems by responsible unit", ""]
    if not report["units"]:
        lines.append("无 none.")
    for u in report["units"]:
        lines += [
            f"### {_md(u['unit'])}（{u['problem_columns']} 个问题栏目 problem columns）",
            "",
            "| 网站 site | 栏目 column | 问题 problem | 地址 url |",
            "| --- | --- | --- | --- |",
        ]
        for p in u["problems"]:
            lines.append(
                f"| {_md(p['site_name'])} | {_md(p['column'] or '—')} | {_md(p['problem'])} |"
                f" {_md(p['url'])} |"
            )
        lines.append("")
    comp = report.get("comparison")
    if comp:
        lines += _md_comparison(comp)
    lines += ["", "## 问题明细 findings", ""]
    if not report["findings"]:
        lines.append("No findings.")
    current = None
    for f in report["findings"]:
        if f["site"] != current:
            current = f["site"]
            lines += [
                "",
                f"### {_md(current)}",
                "",
                "| 编号 id | 检查项 check | 栏目 column | 对象 url | 问题 problem |",
                "| --- | --- | --- | --- | --- |",
            ]
        lines.append(
            f"| {f['id']} | {_md(f['check'])} | {_md(f['column'] or '')} | {_md(f['url'])} |"
            f" {_md(describe(f))} |"
        )
    if report["ignored"]:
        lines += ["", "## 已忽略 ignored", ""]
        lines += ["| 编号 id | 检查项 check | 对象 url | 理由 reason |"]
        lines += ["| --- | --- | --- | --- |"]
        for f in report["ignored"]:
            lines.append(
                f"| {f['id']} | {_md(f['check'])} | {_md(f['url'])} |"
                f" {_md(f['ignored']['reason'])} |"
            )
    return "\n".join(lines) + "\n"


def _md_comparison(comp: dict[str, Any]) -> list[str]:
    against = comp["against"]
    lines = [
        f"## 与上次检查比较 compared with scan {against['id']} (as of {against['as_of']})",
        "",
        f"新增 new {len(comp['new'])}, 仍存在 persisting {len(comp['persisting'])},"
        f" 已整改 resolved {len(comp['resolved'])}.",
        "",
        "| 责任单位 unit | 新增 new | 仍存在 persisting | 已整改 resolved | 问题栏目 now"
        " | 上次 before |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for unit, c in comp["per_unit"].items():
        lines.append(
            f"| {_md(unit)} | {c['new']} | {c['persisting']} | {c['resolved']} |"
            f" {c['columns_now']} | {c['columns_before']} |"
        )
    return [*lines, ""]
