"""The Markdown report: the status, the sites' verdicts, the attachment per responsible unit,
the comparison and every finding, with site content escaped (never live Markdown or HTML)."""

from __future__ import annotations

from crawler.reports.model import Comparison, Report
from crawler.reports.words import banner, coverage_text, describe, verdict_text

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


def render_markdown(report: Report) -> str:
    scan = report["scan"]
    lines = [f"# govmon 检查报告 report — scan {scan['id']}", ""]
    for line in banner(report):
        lines += [f"> **{_md(line)}**", ""]
    lines += [
        f"- 监测时间点 as of: {scan['as_of']}",
        f"- 状态 status: {scan['status']} (started {scan['started_at']},"
        f" finished {scan['finished_at'] or '—'})",
        f"- 页面 pages: {scan['pages']}, 请求 requests: {scan['requests']}",
    ]
    avail = scan.get("availability")
    if avail:
        lines.append(
            f"- 可用性监测期 availability period: {avail['since']} — {avail['until']}"
            f"（{'检查时间窗口' if avail['basis'] == 'window' else '检查当日及之前'}，"
            f"至少 {avail['min_samples']} 个样本才判定"
            f"{'；监测期未结束，可用性结论暂定' if avail['provisional'] else ''}）"
        )
    lines += [
        "",
        "## 网站 sites",
        "",
        "| 网站 site | 名称 name | 责任单位 unit | 结论 verdict | 得分 score | 否决项 vetoes"
        " | 问题 findings | 检查覆盖 coverage |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in report["sites"]:
        counts = ", ".join(f"{k} {v}" for k, v in s["counts"].items()) or "—"
        score = "—" if s["score"] is None else s["score"]
        lines.append(
            f"| {_md(s['id'])} | {_md(s['name'])} | {_md(s['unit'])} | {_md(verdict_text(s))} |"
            f" {score} | {_md(', '.join(s['vetoes']) or '—')} | {_md(counts)} |"
            f" {_md(coverage_text(s.get('coverage')))} |"
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
        lines += [
            "| 编号 id | 检查项 check | 对象 url | 理由 reason | 依据 set aside by | 操作人 by |"
        ]
        lines += ["| --- | --- | --- | --- | --- | --- |"]
        for f in report["ignored"]:
            note = f["ignored"]
            lines.append(
                f"| {f['id']} | {_md(f['check'])} | {_md(f['url'])} | {_md(note['reason'])} |"
                f" {_md(note.get('basis') or note['id'])} | {_md(note.get('by') or '')} |"
            )
    return "\n".join(lines) + "\n"


def _md_comparison(comp: Comparison) -> list[str]:
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
