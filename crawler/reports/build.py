"""The report of one scan, built from the store.

The report is one dict (the public JSON form of INTERFACE.md, extended; its shape is
:mod:`crawler.reports.model`): the scan, every site's verdict, the per-unit attachment
(存在突出问题的栏目及责任单位名单), the findings with their evidence, the ignored findings, and,
with ``compare``, what is new, persisting and resolved since an earlier scan. The renderers
(:mod:`crawler.reports.formats`) turn it into JSON, CSV, Markdown, HTML and XLSX.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from checks.availability import UNREACHABLE, Period, judge_period, scan_period, to_finding
from checks.catalogue import declare_checks
from checks.scoring import ScoringTable
from checks.scoring import site_verdict as judge
from crawler.core.coverage import public as public_coverage
from crawler.core.coverage import unchecked_reason
from crawler.reports.ignores import Ignores, basis
from crawler.reports.model import (
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
from crawler.reports.words import describe, zone_named
from storage.base import ScanInfo, Store


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
    ignores = Ignores(
        cast(dict[str, IgnoreNote], await store.ignores()),
        cast(list[IgnoreNote], await store.ignore_rules()),
    )
    report = await _scan_report(store, info, ignores, now)
    if compare is not None:
        old = await _earlier(store, info, compare)
        before = await _scan_report(store, old, ignores, now)
        report["comparison"] = comparison(report, before)
    return report


async def _scan_report(
    store: Store, info: ScanInfo, ignores: Ignores, now: dt.datetime | None
) -> Report:
    # the store's rows, as the report model declares them (crawler/reports/model.py)
    findings = await store.findings(info.id)
    coverage = await store.coverage(info.id)
    avail = await availability(store, info, findings, now=now)
    columns = await store.columns(info.id)
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
    of the scan's own sampling period (:func:`checks.availability.scan_period`); samples
    outside it never change the report. A site the scan itself found unreachable keeps that
    finding (its attempts are the evidence)."""
    settings = info.settings or {}
    tz = zone_named(settings.get("timezone"))
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
    ignores: Ignores | Mapping[str, IgnoreNote] | None = None,
    columns: list[ColumnEntry] | None = None,
    *,
    coverage: Mapping[str, CoverageEntry] | None = None,
    availability: Availability | None = None,
) -> Report:
    """The report (:class:`crawler.reports.model.Report`) from what the store holds of one scan.

    A site is judged from its findings unless the scan could not cover it (``unchecked``, with
    the reason: :mod:`crawler.core.coverage`); a site whose home page never answered during the scan
    is ``unqualified`` by ``site.unreachable`` and nothing else is claimed about it (its other
    findings are withheld, and counted in ``withheld``). A finding an ignore sets aside
    (``ignores``: the store's, or single ignores by identity) is listed apart, with the ignore.
    """
    if not isinstance(ignores, Ignores):
        ignores = Ignores(ignores or {})
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
    kept: list[FindingEntry] = []
    ignored: list[IgnoredEntry] = []
    for f in shown:
        note = ignores.note_for(f)
        if note is None:
            kept.append(f)
        else:
            ignored.append(_ignored(f, note))
    table = _table(info)
    by_site: dict[str, list[FindingEntry]] = defaultdict(list)
    for f in kept:
        by_site[f["site"]].append(f)
    tz = zone_named((info.settings or {}).get("timezone"))
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
        "timezone": str(tz),  # the config's: the Chinese views show every time in it
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
        "detail": f["detail"], "observed_at": f["observed_at"],
        "ignored": {**note, "basis": basis(note)},
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
