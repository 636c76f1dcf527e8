"""Reports of one scan, read from the store.

The report is one dict (the public JSON form of INTERFACE.md, extended): the scan, every site's
verdict, the per-unit attachment (存在突出问题的栏目及责任单位名单), the findings with their
evidence, the ignored findings, and, with ``compare``, what is new, persisting and resolved since
an earlier scan. The renderers turn it into JSON, CSV, Markdown (here), HTML and XLSX
(:mod:`crawler.htmlreport`, :mod:`crawler.xlsxreport`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast
from zoneinfo import ZoneInfo

from checks import catalogue
from checks.registry import declare_checks
from checks.scoring import ScoringTable, judge
from crawler.availability import UNREACHABLE, Period, judge_period, scan_period, to_finding
from crawler.coverage import public as public_coverage
from crawler.coverage import unchecked_reason
from crawler.reportmodel import (
    AvailabilityPeriod,
    ColumnEntry,
    Comparison,
    CoverageEntry,
    FindingEntry,
    IgnoredEntry,
    IgnoreNote,
    Report,
    ScanEntry,
    SiteEntry,
    UnitChanges,
    UnitEntry,
)
from storage.base import ScanInfo, Store

FORMATS = ("json", "csv", "md", "html", "xlsx")

# code -> Chinese name, from the catalogue (checks/catalogue.py), plug-ins' codes included
CHECK_NAMES: Mapping[str, str] = catalogue.NAMES


def describe(finding: Mapping[str, Any]) -> str:
    """One line in Chinese that says what is wrong, for the attachment and the tables."""
    return catalogue.describe(str(finding["check"]), finding.get("detail") or {})


class ReportError(ValueError):
    """A report that cannot be made as asked (a comparison with a later scan ...): bad usage."""


async def build_report(
    store: Store,
    scan_ref: str | int = "latest",
    compare: str | int | None = None,
    *,
    now: dt.datetime | None = None,
) -> Report:
    """The report of one scan; with ``compare``, what changed since an earlier scan (an id, or
    ``previous``: the newest earlier complete scan of the same sites)."""
    info = await store.scan_info(scan_ref)
    ignores = cast(dict[str, IgnoreNote], await store.ignores())
    report = await _scan_report(store, info, ignores, now)
    if compare is not None:
        old = await _earlier(store, info, compare)
        before = await _scan_report(store, old, ignores, now)
        report["comparison"] = comparison(report, before)
    return report


async def _scan_report(
    store: Store, info: ScanInfo, ignores: Mapping[str, IgnoreNote], now: dt.datetime | None
) -> Report:
    # the store's rows, as the report model declares them (crawler/reportmodel.py)
    findings = cast(list[FindingEntry], await store.findings(info.id))
    coverage = await store.coverage(info.id)
    avail = await availability(store, info, findings, now=now)
    columns = cast(list[ColumnEntry], await store.columns(info.id))
    return assemble(
        info, findings + avail.findings, ignores, columns, coverage=coverage, availability=avail
    )


async def _earlier(store: Store, info: ScanInfo, ref: str | int) -> ScanInfo:
    """The scan ``ref`` names for a comparison with ``info``: never a later one."""
    if ref == "previous":
        sites = {s["id"] for s in info.sites}
        for other in await store.scans():
            same = {s["id"] for s in other.sites} == sites
            if other.id < info.id and other.status == "complete" and same:
                return other
        raise ReportError(
            f"no complete scan of the same sites before scan {info.id} to compare with"
        )
    old = await store.scan_info(ref)
    if old.id > info.id:
        raise ReportError(
            f"scan {old.id} was made after scan {info.id}: compare a scan with an earlier one"
            f" (govmon report --scan {old.id} --compare {info.id})"
        )
    return old


@dataclass(slots=True)
class Availability:
    """A scan's availability judgement: its fixed sampling period, the samples per site in it,
    and the findings they allow."""

    period: Period
    provisional: bool
    samples: dict[str, tuple[int, int]]  # site -> (samples, failures)
    findings: list[FindingEntry]

    def describe(self, tz: dt.tzinfo) -> AvailabilityPeriod:
        d = self.period.describe(tz)
        return {
            "since": d["since"], "until": d["until"], "basis": d["basis"], "days": d["days"],
            "min_samples": d["min_samples"], "official_samples": d["official_samples"],
            "provisional": self.provisional,
        }  # fmt: skip


async def availability(
    store: Store,
    info: ScanInfo,
    findings: list[FindingEntry] | None = None,
    *,
    now: dt.datetime | None = None,
) -> Availability:
    """``site.unreachable`` / ``site.availability`` of the scan's sites, judged from the samples
    of the scan's own sampling period (:func:`crawler.availability.scan_period`); samples
    outside it never change the report. A site the scan itself found unreachable keeps that
    finding (its attempts are the evidence)."""
    settings = info.settings or {}
    tz = ZoneInfo(settings.get("timezone") or "Asia/Shanghai")
    period = scan_period(info.started_at, settings, tz)
    moment = now or dt.datetime.now(dt.UTC)
    # the store compares ISO texts, whose offsets may differ: ask a day wider, judge exactly
    margin = dt.timedelta(days=1)
    samples = await store.samples(
        since=(period.since - margin).isoformat(), until=(period.until + margin).isoformat()
    )
    units = {s["id"]: s["unit"] for s in info.sites}
    scanned_down = {
        f["site"] for f in findings or () if f["check"] == UNREACHABLE and _from_scan(f)
    }
    summary, judged = judge_period(samples, period, tz=tz)
    out: list[FindingEntry] = []
    for j in judged:
        if j.site not in units or j.site in scanned_down:
            continue
        f = to_finding(j, units[j.site])
        out.append(
            {
                "id": f.identity, "check": f.check, "severity": f.severity, "site": f.site,
                "unit": f.unit, "column": None, "url": f.url, "page": f.page,
                "detail": dict(f.detail), "observed_at": j.detail.get("until"),
            }
        )  # fmt: skip
    counts = {site: (st.samples, st.failures) for site, st in summary.items() if site in units}
    return Availability(period, period.provisional(moment), counts, out)


def _from_scan(finding: FindingEntry) -> bool:
    return (finding.get("detail") or {}).get("source") == "scan"


def _table(info: ScanInfo) -> ScoringTable:
    overrides = (info.settings or {}).get("scoring") or {}
    if overrides:
        declare_checks()  # a plug-in's scored codes
    # a code no longer known (its plug-in was removed since the scan) scores nothing
    return ScoringTable().with_overrides(overrides, strict=False)


def assemble(
    info: ScanInfo,
    findings: list[FindingEntry],
    ignores: Mapping[str, IgnoreNote] | None = None,
    columns: list[ColumnEntry] | None = None,
    *,
    coverage: dict[str, dict[str, Any]] | None = None,
    availability: Availability | None = None,
) -> Report:
    """The report (:class:`crawler.reportmodel.Report`) from what the store holds of one scan.

    A site is judged from its findings unless the scan could not cover it (``unchecked``, with
    the reason: :mod:`crawler.coverage`); a site whose home page never answered during the scan
    is ``unqualified`` by ``site.unreachable`` and nothing else is claimed about it (its other
    findings are withheld, and counted in ``withheld``).
    """
    ignores = ignores or {}
    coverage = coverage or {}
    legacy = not coverage  # a scan made before coverage rows: judged as it was
    down = {f["site"] for f in findings if f["check"] == UNREACHABLE and _from_scan(f)}
    withheld: Counter[str] = Counter()
    shown: list[FindingEntry] = []
    for f in findings:
        if f["site"] in down and f["check"] != UNREACHABLE:
            withheld[f["site"]] += 1
        else:
            shown.append(f)
    kept = [f for f in shown if f["id"] not in ignores]
    ignored = [_ignored(f, ignores[f["id"]]) for f in shown if f["id"] in ignores]
    table = _table(info)
    by_site: dict[str, list[FindingEntry]] = defaultdict(list)
    for f in kept:
        by_site[f["site"]].append(f)
    tz = ZoneInfo((info.settings or {}).get("timezone") or "Asia/Shanghai")
    sites: list[SiteEntry] = []
    for s in info.sites:
        mine = by_site.get(s["id"], [])
        cov = coverage.get(s["id"])
        why = None if s["id"] in down else unchecked_reason(cov, info.status, legacy=legacy)
        verdict = judge(mine, table)
        entry: SiteEntry = {
            "id": s["id"],
            "name": s["name"],
            "unit": s["unit"],
            "kind": s.get("kind"),
            "url": s.get("url"),
            "verdict": verdict.verdict if why is None else "unchecked",
            "vetoes": verdict.vetoes if why is None else [],
            # no score where the scan could not look: unchecked, or a home page that never
            # answered (a 100 beside a veto would claim the rest was checked and clean)
            "score": verdict.score if why is None and s["id"] not in down else None,
            "deductions": (
                {table.indicators[k].name: v for k, v in verdict.deductions.items()}
                if why is None
                else {}
            ),
            "counts": dict(sorted(Counter(f["check"] for f in mine).items())),
            "coverage": public_coverage(cov),
        }
        if why is not None:
            entry["unchecked"] = {"reason": why.reason, "text": why.text}
        if s["id"] in down:
            entry["withheld"] = withheld[s["id"]]  # findings not shown: nothing else is claimed
        if availability is not None:
            n, failed = availability.samples.get(s["id"], (0, 0))
            entry["availability"] = {
                "samples": n,
                "failures": failed,
                "judged": n >= availability.period.min_samples,
            }
        sites.append(entry)
    scan: ScanEntry = {
        "id": info.id,
        "as_of": info.as_of,
        "started_at": info.started_at,
        "finished_at": info.finished_at,
        "status": info.status,
        "pages": info.pages,
        "requests": info.requests,
    }
    if availability is not None:
        scan["availability"] = availability.describe(tz)
    return {
        "scan": scan,
        "sites": sites,
        "units": units(info, kept),
        "columns": columns or [],
        "findings": kept,
        "ignored": ignored,
    }


def _ignored(f: FindingEntry, note: IgnoreNote) -> IgnoredEntry:
    return {
        "id": f["id"], "check": f["check"], "severity": f["severity"], "site": f["site"],
        "unit": f["unit"], "column": f["column"], "url": f["url"], "page": f["page"],
        "detail": f["detail"], "observed_at": f["observed_at"], "ignored": note,
    }  # fmt: skip


def units(info: ScanInfo, findings: list[FindingEntry]) -> list[UnitEntry]:
    """The attachment: per responsible unit, its sites' problem columns and problems."""
    names = {s["id"]: s["name"] for s in info.sites}
    grouped: dict[str, list[FindingEntry]] = defaultdict(list)
    out: list[UnitEntry] = []
    for f in findings:
        if f["severity"] in ("veto", "deduction"):
            grouped[f["unit"]].append(f)
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


def comparison(report: Report, before: Report) -> Comparison:
    """New, persisting and resolved findings since the scan of ``before``, over the sites both
    reports cover. A finding counts as resolved only on a site judged in both scans: a site the
    later scan could not check (unchecked, or unreachable) resolved nothing."""
    judged = {s["id"] for s in report["sites"] if _judged(s)}
    judged &= {s["id"] for s in before["sites"] if _judged(s)}
    shared = {s["id"] for s in report["sites"]} & {s["id"] for s in before["sites"]}
    now = {f["id"]: f for f in report["findings"] if f["site"] in shared}
    earlier = {f["id"]: f for f in before["findings"] if f["site"] in shared}
    new = [f for i, f in now.items() if i not in earlier]
    persisting = [f for i, f in now.items() if i in earlier]
    resolved = [f for i, f in earlier.items() if i not in now and f["site"] in judged]
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for label, group in (("new", new), ("persisting", persisting), ("resolved", resolved)):
        for f in group:
            counts[f["unit"]][label] += 1
    for label, scan in (("columns_now", now), ("columns_before", earlier)):
        seen: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for f in scan.values():
            if f["column"] and f["severity"] in ("veto", "deduction"):
                seen[f["unit"]].add((f["site"], f["column"]))
        for unit, cols in seen.items():
            counts[unit][label] = len(cols)
    per_unit: dict[str, UnitChanges] = {
        unit: {
            "new": c["new"], "persisting": c["persisting"], "resolved": c["resolved"],
            "columns_now": c["columns_now"], "columns_before": c["columns_before"],
        }
        for unit, c in sorted(counts.items())
    }  # fmt: skip
    against = before["scan"]
    return {
        "against": {"id": against["id"], "as_of": against["as_of"], "status": against["status"]},
        "new": [f["id"] for f in new],
        "persisting": [f["id"] for f in persisting],
        "resolved": resolved,
        "not_compared": sorted(shared - judged),
        "per_unit": per_unit,
    }


def _judged(site: SiteEntry) -> bool:
    return site["verdict"] != "unchecked" and "withheld" not in site


def render(report: Report, fmt: str) -> str | bytes:
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


def _csv(report: Report) -> str:
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


def _md(value: object) -> str:
    return ("" if value is None else str(value)).translate(_MD_ESCAPES)


VERDICTS = {"qualified": "合格 qualified", "unqualified": "不合格 unqualified",
            "unchecked": "未完成检查 unchecked"}  # fmt: skip
STATUSES = {"complete": "已完成", "interrupted": "已中断", "running": "进行中",
            "incomplete": "未完成"}  # fmt: skip


def banner(report: Report) -> list[str]:
    """What a reader must know before any verdict, in Chinese (empty when all is normal): the
    scan did not complete, or sites were left unchecked."""
    scan = report["scan"]
    out: list[str] = []
    status = str(scan.get("status"))
    if status != "complete":
        out.append(
            f"检查未完成（{STATUSES.get(status, status)}）：本报告只含已检查的内容，未检查完的网站"
            "结论为“未完成检查”，不得作为合格依据。"
        )
    unchecked = [s for s in report["sites"] if s.get("verdict") == "unchecked"]
    if unchecked and status == "complete":
        out.append(f"{len(unchecked)} 个网站未能完成检查（原因见各网站结论），不给出合格结论。")
    return out


def coverage_text(c: CoverageEntry | None) -> str:
    """A site's coverage in a few Chinese words (pages and columns read of those found)."""
    if not c:
        return "—"
    pages = f"页面 {c['pages_read']}/{c['pages_found']}"
    text = f"{pages}，栏目 {c['columns_read']}/{c['columns_found']}"
    if c.get("columns_unreadable"):
        text += f"（{c['columns_unreadable']} 个由脚本生成未能读取）"
    return text + ("" if c.get("done") else "，未检查完")


def verdict_text(site: SiteEntry) -> str:
    text = VERDICTS.get(str(site["verdict"]), str(site["verdict"]))
    if site.get("unchecked"):
        text += f"：{site['unchecked']['text']}"
    if site.get("withheld") is not None:
        text += "（首页始终无法访问，未检查其他内容"
        text += f"，已发现的 {site['withheld']} 个其他问题不予认定）" if site["withheld"] else "）"
    return text


def _markdown(report: Report) -> str:
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
        lines += ["| 编号 id | 检查项 check | 对象 url | 理由 reason |"]
        lines += ["| --- | --- | --- | --- |"]
        for f in report["ignored"]:
            lines.append(
                f"| {f['id']} | {_md(f['check'])} | {_md(f['url'])} |"
                f" {_md(f['ignored']['reason'])} |"
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
