"""The Markdown report: the status, the sites' verdicts, the attachment per responsible unit,
the comparison and every finding, with site content escaped (never live Markdown or HTML)."""

from __future__ import annotations

import datetime as dt

from crawler.reports.evidence import evidence_text
from crawler.reports.model import Comparison, Report
from crawler.reports.words import (
    CHECK_NAMES,
    STATUSES,
    banner,
    changed_findings,
    cn_time,
    coverage_text,
    describe,
    display_url,
    report_zone,
    unit_count,
    verdict_text,
)

__all__ = ["md_text", "render_markdown"]


_MD_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        "|": "\\|",
        "[": "\\[",
        "]": "\\]",
        "(": "\\(",
        ")": "\\)",
        "!": "\\!",
        "`": "\\`",
        "\n": " ",
        "\r": " ",
        "<": "&lt;",
        ">": "&gt;",
    }
)


def md_text(value: object) -> str:
    return ("" if value is None else str(value)).translate(_MD_ESCAPES)


_md = md_text  # short, for the tables below
_MD_CAP = 3  # list values in a table cell (the pages linking a target): the HTML has them all


def _url(value: object) -> str:
    return _md(display_url(value))


def render_markdown(report: Report) -> str:
    scan = report["scan"]
    zone = report_zone(report)
    names = {s["id"]: s["name"] for s in report["sites"]}
    lines = [f"# 政府网站检查报告 · 第 {scan['id']} 次检查", ""]
    for line in banner(report):
        lines += [f"> **{_md(line)}**", ""]
    lines += [
        f"- 监测时间点：{cn_time(scan['as_of'], zone)}",
        f"- 状态：{STATUSES.get(scan['status'], scan['status'])}（开始"
        f" {cn_time(scan['started_at'], zone)}，结束 {cn_time(scan['finished_at'], zone)}）",
        f"- 抓取页面 {scan['pages']} 个，请求 {scan['requests']} 次",
    ]
    avail = scan.get("availability")
    if avail:
        lines.append(
            f"- 可用性监测期：{cn_time(avail['since'], zone)} 至 {cn_time(avail['until'], zone)}"
            f"（{'检查时间窗口' if avail['basis'] == 'window' else '检查当日及之前'}，"
            f"至少 {avail['min_samples']} 个样本才判定"
            f"{'；监测期未结束，可用性结论暂定' if avail['provisional'] else ''}）"
        )
    lines += [
        "",
        "## 网站检查结论",
        "",
        "| 网站 | 名称 | 责任单位 | 结论 | 得分 | 否决项 | 问题 | 检查覆盖 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in report["sites"]:
        counts = "，".join(f"{CHECK_NAMES.get(k, k)} {v}" for k, v in s["counts"].items()) or "无"
        vetoes = "、".join(CHECK_NAMES.get(v, v) for v in s["vetoes"]) or "—"
        score = "—" if s["score"] is None else s["score"]
        lines.append(
            f"| {_md(s['id'])} | {_md(s['name'])} | {_md(s['unit'])} | {_md(verdict_text(s))} |"
            f" {score} | {_md(vetoes)} | {_md(counts)} | {_md(coverage_text(s.get('coverage')))} |"
        )
    lines += ["", "## 存在突出问题的栏目及责任单位名单", ""]
    if not report["units"]:
        lines.append("无。")
    for u in report["units"]:
        lines += [
            f"### {_md(u['unit'])}（{unit_count(u)}）",
            "",
            "| 网站 | 栏目 | 问题 | 地址 |",
            "| --- | --- | --- | --- |",
        ]
        for p in u["problems"]:
            lines.append(
                f"| {_md(p['site_name'])} | {_md(p['column'] or '—')} | {_md(p['problem'])} |"
                f" {_url(p['url'])} |"
            )
        lines.append("")
    comp = report.get("comparison")
    if comp:
        lines += _md_comparison(report, comp, zone)
    lines += ["", "## 问题明细", ""]
    if not report["findings"]:
        lines.append("未发现问题。")
    current = None
    for f in report["findings"]:
        if f["site"] != current:
            current = f["site"]
            lines += [
                "",
                f"### {_md(names.get(current, current))}（{_md(current)}）",
                "",
                "| 编号 | 检查项 | 栏目 | 对象 | 问题 | 证据 |",
                "| --- | --- | --- | --- | --- | --- |",
            ]
        lines.append(
            f"| {f['id']} | {_md(CHECK_NAMES.get(f['check'], f['check']))} |"
            f" {_md(f['column'] or '—')} | {_url(f['url'])} | {_md(describe(f))} |"
            f" {_md(evidence_text(f, _MD_CAP, zone)) or '—'} |"
        )
    if report["ignored"]:
        lines += ["", "## 已忽略的问题", ""]
        lines += ["| 编号 | 检查项 | 对象 | 忽略理由 | 忽略时间 | 忽略依据 | 操作人 |"]
        lines += ["| --- | --- | --- | --- | --- | --- | --- |"]
        for f in report["ignored"]:
            note = f["ignored"]
            lines.append(
                f"| {f['id']} | {_md(CHECK_NAMES.get(f['check'], f['check']))} | {_url(f['url'])} |"
                f" {_md(note['reason'])} | {cn_time(note.get('since'), zone)} |"
                f" {_md(note.get('basis') or note['id'])} | {_md(note.get('by') or '')} |"
            )
    return "\n".join(lines) + "\n"


def _md_comparison(report: Report, comp: Comparison, zone: dt.tzinfo) -> list[str]:
    against = comp["against"]
    lines = [
        f"## 与第 {against['id']} 次检查比较（监测时间点 {cn_time(against['as_of'], zone)}）",
        "",
        f"新增问题 {len(comp['new'])} 个，仍存在 {len(comp['persisting'])} 个，"
        f"已整改 {len(comp['resolved'])} 个。",
        "",
        "| 责任单位 | 新增 | 仍存在 | 已整改 | 本次问题栏目 | 上次问题栏目 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for unit, c in comp["per_unit"].items():
        lines.append(
            f"| {_md(unit)} | {c['new']} | {c['persisting']} | {c['resolved']} |"
            f" {c['columns_now']} | {c['columns_before']} |"
        )
    names = {s["id"]: s["name"] for s in report["sites"]}
    for _key, title, items in changed_findings(report):
        lines += ["", f"### {title}（{len(items)} 个）", ""]
        if not items:
            lines.append("无。")
            continue
        lines += [
            "| 编号 | 网站 | 责任单位 | 栏目 | 问题 | 对象 |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for f in items:
            lines.append(
                f"| {f['id']} | {_md(names.get(f['site'], f['site']))} | {_md(f['unit'])} |"
                f" {_md(f['column'] or '—')} | {_md(describe(f))} | {_url(f['url'])} |"
            )
    return [*lines, ""]
