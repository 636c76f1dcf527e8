"""The pages of the web view (GET): the dashboard, the scan list, a scan, a site, a comparison,
the report files and ``/healthz``. Long lists are paged (:data:`PER_PAGE` rows) and filtered by
unit (责任单位), verdict (结论) and check (检查项), so that a province's scan stays small."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from crawler.reports import FindingEntry, ReportError, build_report, render, report_context
from crawler.reports.words import CHANGES
from crawler.service.web import charts
from crawler.service.web.common import (
    CLOCK_KEY,
    NotFound,
    Unavailable,
    cn_time,
    href_for,
    open_read_store,
    scan_or_404,
    scan_zone,
    site_path,
)
from crawler.service.web.common import render as render_page
from crawler.service.web.summary import (
    Summaries,
    history,
    quarters,
    scan_label,
    scan_state,
    uptime_days,
)
from storage.base import StoreError

__all__ = ["PER_PAGE", "SUMMARIES_KEY", "add_pages"]

PER_PAGE = 50  # sites in a table page
FINDINGS_PER_PAGE = 100  # findings on a site's page
SMALL_SCAN = 50  # a scan of at most this many sites shows its whole attachment
SUMMARIES_KEY = web.AppKey("summaries", Summaries)
_REPORT_TYPES = {
    "html": "text/html",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "csv": "text/csv",
    "md": "text/markdown",
}
VERDICT_ORDER = ("unqualified", "unchecked", "qualified")


def add_pages(app: web.Application) -> None:
    app[SUMMARIES_KEY] = Summaries()
    app.router.add_get("/", dashboard)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/scans", scans_page)
    app.router.add_get(r"/scans/{scan:\d+|latest}", scan_page)
    app.router.add_get(r"/scans/{scan:\d+|latest}/sites/{site}", site_page)
    app.router.add_get(r"/scans/{scan:\d+|latest}/compare/{other:\d+|latest}", compare_page)
    app.router.add_get(r"/scans/{scan:\d+|latest}/report.{fmt:html|xlsx|json|csv|md}", report)


def _now(request: web.Request) -> dt.datetime:
    return dt.datetime.fromtimestamp(request.app[CLOCK_KEY](), dt.UTC)


def _wanted(request: web.Request, name: str) -> list[str]:
    return [v for v in request.query.getall(name, []) if v]


def _page_number(request: web.Request) -> int:
    text = request.query.get("page", "1")
    return int(text) if text.isdigit() and 0 < int(text) < 10**6 else 1


def paged(rows: Sequence[Any], page: int, size: int) -> tuple[list[Any], dict[str, int]]:
    """The rows of ``page`` (1-based, clamped) and where it is: page, pages, first, last, total."""
    pages = max(1, math.ceil(len(rows) / size))
    page = min(max(1, page), pages)
    start = (page - 1) * size
    shown = list(rows[start : start + size])
    return shown, {"page": page, "pages": pages, "first": start + 1 if shown else 0,
                   "last": start + len(shown), "total": len(rows)}  # fmt: skip


def _matches_check(codes: Sequence[str], wanted: Sequence[str]) -> bool:
    return any(code == c or code.startswith(c + ".") for code in codes for c in wanted)


def filter_sites(
    sites: Sequence[Mapping[str, Any]], unit: list[str], verdict: list[str], check: list[str]
) -> list[Mapping[str, Any]]:
    """Sites of any of the units ``unit``, with any of the verdicts ``verdict``, with a finding
    of any of ``check`` (a code or a family such as ``link``); an empty list does not filter.
    Worst first."""
    out = [
        s for s in sites
        if (not unit or s["unit"] in unit) and (not verdict or s["verdict"] in verdict)
        and (not check or _matches_check(s["checks"], check))
    ]  # fmt: skip
    rank = {v: i for i, v in enumerate(VERDICT_ORDER)}
    return sorted(out, key=lambda s: (rank.get(s["verdict"], 9), s["score"] or 0))


def _filters(request: web.Request, sites: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    selected = {k: _wanted(request, k) for k in ("unit", "verdict", "check")}
    codes = sorted({c for s in sites for c in s["checks"]} | set(selected["check"]))
    return {
        "selected": selected,
        "options": {
            "unit": sorted({str(s["unit"]) for s in sites} | set(selected["unit"])),
            "verdict": list(VERDICT_ORDER),
            "check": codes,
        },
        "active": any(selected.values()),
    }


def _site_rows(
    shown: Sequence[Mapping[str, Any]], trend: Sequence[Mapping[str, Any]], zone: dt.tzinfo
) -> list[dict[str, Any]]:
    """The rows of a sites table, each with a sparkline of its scores across ``trend``."""
    labels = [scan_label(t, zone) for t in trend]
    rows = []
    for s in shown:
        scores = [t["scores"].get(s["id"]) for t in trend]
        title = f"{s['name']} 历次得分：" + "，".join(
            f"{lab} {'—' if v is None else v}" for lab, v in zip(labels, scores, strict=True)
        )
        rows.append({**s, "spark": charts.sparkline(scores, title)})
    return rows


# -- pages --------------------------------------------------------------------------------


async def healthz(request: web.Request) -> web.Response:
    try:
        async with open_read_store(request) as store:
            try:
                latest: int | None = (await store.scan_info("latest")).id
            except StoreError:
                latest = None
    except Unavailable as exc:
        return web.json_response({"status": "error", "error": str(exc)}, status=503)
    return web.json_response({"status": "ok", "latest_scan": latest})


async def dashboard(request: web.Request) -> web.Response:
    """``/``: the latest scan's verdict counts, state and sites, and the charts."""
    now = _now(request)
    cache = request.app[SUMMARIES_KEY]
    async with open_read_store(request) as store:
        scans = await store.scans()
        if not scans:
            return render_page(request, "dashboard.html", latest=None)
        info = scans[0]
        zone = scan_zone(info)
        trend = await history(store, scans, cache, now)
        latest = trend[-1]
        activity = await store.scan_activity(info.id) if info.status == "incomplete" else None
        units, quarter_labels, per_unit = await quarters(store, scans, cache, now)
        days = await uptime_days(store, None, now, zone)
    state = scan_state(info, latest, activity, now)
    filters = _filters(request, latest["sites"])
    chosen = filter_sites(latest["sites"], **filters["selected"])
    shown, pager = paged(chosen, _page_number(request), PER_PAGE)
    labels = [scan_label(t, zone) for t in trend]
    scored = [[v for v in t["scores"].values() if v is not None] for t in trend]
    score_chart = charts.score_lines(
        labels,
        [("平均得分", [round(sum(v) / len(v), 1) if v else None for v in scored]),
         ("最低得分", [min(v) if v else None for v in scored])],
        "历次检查全部网站的平均得分和最低得分",
    )  # fmt: skip
    return render_page(
        request,
        "dashboard.html",
        latest=latest,
        info=info,
        state=state,
        times={k: cn_time(getattr(info, k), zone) for k in ("as_of", "started_at", "finished_at")},
        rows=_site_rows(shown, trend, zone),
        pager=pager,
        path="/",
        site_href=lambda site: href_for(request)(site_path(info.id, site)),
        score_chart=score_chart,
        uptime_chart=charts.uptime_bars(days, "最近 30 天全部网站首页的可用性（每天一格）"),
        response_chart=charts.response_line(days, "最近 30 天全部网站首页的平均响应时间"),
        units_chart=charts.unit_bars(units, quarter_labels, per_unit, "各季度问题最多的单位"),
        days=days,
        **filters,
    )


async def scans_page(request: web.Request) -> web.Response:
    async with open_read_store(request) as store:
        scans = await store.scans()
    rows = [
        {"scan": s, "previous": scans[i + 1].id if i + 1 < len(scans) else None,
         "times": {k: cn_time(getattr(s, k), scan_zone(s))
                   for k in ("as_of", "started_at", "finished_at")}}
        for i, s in enumerate(scans)
    ]  # fmt: skip
    return render_page(request, "scans.html", rows=rows)


async def scan_page(request: web.Request) -> web.Response:
    now = _now(request)
    async with open_read_store(request) as store:
        info = await scan_or_404(store, request.match_info["scan"])
        built = await build_report(store, info.id, now=now)
        all_scans = await store.scans()
        # a scan is compared with earlier ones only (a later one is refused: 400)
        others = [s for s in all_scans if s.id < info.id]
        trend = await history(store, [s for s in all_scans if s.id <= info.id],
                              request.app[SUMMARIES_KEY], now)  # fmt: skip
    zone = scan_zone(info)
    summary = trend[-1]
    filters = _filters(request, summary["sites"])
    chosen = filter_sites(summary["sites"], **filters["selected"])
    shown, pager = paged(chosen, _page_number(request), PER_PAGE)
    chosen_ids = {s["id"] for s in chosen}
    whole = len(summary["sites"]) <= SMALL_SCAN or bool(filters["selected"]["unit"])
    units = [
        {**u, "problems": [p for p in u["problems"] if p["site"] in chosen_ids]}
        for u in built["units"]
    ]
    context = report_context(built)
    return render_page(
        request,
        "scan.html",
        others=others,
        site_href=lambda site: href_for(request)(site_path(info.id, site)),
        rows=_site_rows(shown, trend, zone),
        pager=pager,
        path=f"/scans/{info.id}",
        whole=whole,
        units=[u for u in units if u["problems"]],
        unit_overview=_unit_overview(summary["sites"], built["units"]),
        ignored_shown=_local_times(
            [f for f in built["ignored"] if f["site"] in chosen_ids][:PER_PAGE], zone
        ),
        times={k: cn_time(getattr(info, k), zone) for k in ("as_of", "started_at", "finished_at")},
        **filters,
        **context,
    )


def _unit_overview(
    sites: Sequence[Mapping[str, Any]], units: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """One row per unit: its sites, how many are not qualified, problem columns and problems."""
    listed = {str(u["unit"]): u for u in units}
    rows: dict[str, dict[str, Any]] = {}
    for s in sites:
        row = rows.setdefault(str(s["unit"]), {"unit": s["unit"], "sites": 0, "bad": 0})
        row["sites"] += 1
        row["bad"] += s["verdict"] != "qualified"
    for name, row in rows.items():
        u = listed.get(name)
        row["columns"] = u["problem_columns"] if u else 0
        row["problems"] = len(u["problems"]) if u else 0
    return sorted(rows.values(), key=lambda r: (-r["problems"], -r["bad"], r["unit"]))


def _local_times(findings: Sequence[Mapping[str, Any]], zone: dt.tzinfo) -> list[dict[str, Any]]:
    """Findings (or ignored findings) with their times as a clerk reads them, in ``zone``."""
    out = []
    for f in findings:
        g = {**f, "observed_at": cn_time(f.get("observed_at"), zone)}
        if "ignored" in f:
            g["ignored"] = {**f["ignored"], "since": cn_time(f["ignored"].get("since"), zone)}
        out.append(g)
    return out


def _matches(
    finding: FindingEntry, checks: list[str], severities: list[str], columns: list[str]
) -> bool:
    if checks and not _matches_check([str(finding["check"])], checks):
        return False
    if severities and str(finding["severity"]) not in severities:
        return False
    return not columns or (finding["column"] or "") in columns


async def site_page(request: web.Request) -> web.Response:
    site_id = request.match_info["site"]
    now = _now(request)
    async with open_read_store(request) as store:
        info = await scan_or_404(store, request.match_info["scan"])
        built = await build_report(store, info.id, now=now)
        site = next((s for s in built["sites"] if s["id"] == site_id), None)
        if site is None:
            raise NotFound(
                f"第 {info.id} 次检查没有网站 {site_id!r} (no such site in scan {info.id})"
            )
        trend = await history(store, [s for s in await store.scans() if s.id <= info.id],
                              request.app[SUMMARIES_KEY], now)  # fmt: skip
        zone = scan_zone(info)
        days = await uptime_days(store, site_id, now, zone)
    mine = [f for f in built["findings"] if f["site"] == site_id]
    checks, severities, columns = (_wanted(request, k) for k in ("check", "severity", "column"))
    matching = [f for f in mine if _matches(f, checks, severities, columns)]
    shown, pager = paged(matching, _page_number(request), FINDINGS_PER_PAGE)
    context = report_context(built)
    labels = [scan_label(t, zone) for t in trend]
    return render_page(
        request,
        "site.html",
        site=site,
        findings=_local_times(shown, zone),
        matching=len(matching),
        pager=pager,
        total=len(mine),
        ignored=_local_times([f for f in built["ignored"] if f["site"] == site_id], zone),
        columns=[c for c in built["columns"] if c["site"] == site_id],
        options={
            "check": sorted({str(f["check"]) for f in mine} | set(checks)),
            "severity": [
                s
                for s in ("veto", "deduction", "warning", "info")
                if any(f["severity"] == s for f in mine)
            ],
            "column": sorted({str(f["column"]) for f in mine if f["column"]} | set(columns)),
        },
        selected={"check": checks, "severity": severities, "column": columns},
        path=site_path(info.id, site_id),
        site_names=context["site_names"],
        scan=context["scan"],
        score_chart=charts.score_lines(
            labels,
            [(site["name"], [t["scores"].get(site_id) for t in trend])],
            f"{site['name']} 历次检查得分",
        ),
        uptime_chart=charts.uptime_bars(days, f"{site['name']} 最近 30 天首页可用性（每天一格）"),
        response_chart=charts.response_line(days, f"{site['name']} 最近 30 天首页平均响应时间"),
        days=days,
        as_of=cn_time(info.as_of, zone),
    )


def compare_filters(
    request: web.Request, view: Mapping[str, Any]
) -> tuple[dict[str, Any], list[tuple[str, str, list[Any]]], int]:
    """The comparison's filters (unit, change 变化, check) as the request chose them, and the
    chosen findings: per group of ``view["groups"]``, each ``(key, heading, findings)``."""
    selected = {k: _wanted(request, k) for k in ("unit", "change", "check")}
    unit, change, check = selected["unit"], selected["change"], selected["check"]
    groups = [(key, label, list(items)) for key, label, items in view["groups"]]
    every = [f for _, _, items in groups for f in items]
    chosen = [
        (key, label, [f for f in items if (not unit or f["unit"] in unit)
                      and (not check or _matches_check([f["check"]], check))])
        for key, label, items in groups if not change or key in change
    ]  # fmt: skip
    filters = {
        "selected": selected,
        "options": {
            "unit": sorted({str(u["unit"]) for u in view["per_unit"]} | set(unit)),
            "change": [key for key, _, _ in CHANGES],
            "names": {key: word for key, _, word in CHANGES},
            "check": sorted({str(f["check"]) for f in every if f["check"]} | set(check)),
        },
        "active": any(selected.values()),
    }
    return filters, chosen, len(every)


async def compare_page(request: web.Request) -> web.Response:
    """``/scans/{scan}/compare/{other}``: the per-unit table whole, then the new, persisting and
    resolved findings paged (:data:`FINDINGS_PER_PAGE`) and filtered by unit, change and check."""
    async with open_read_store(request) as store:
        info = await scan_or_404(store, request.match_info["scan"])
        other = await scan_or_404(store, request.match_info["other"])
        try:
            built = await build_report(store, info.id, compare=other.id)
        except ReportError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
    context = report_context(built)
    view = context["comparison"]
    filters, chosen, total = compare_filters(request, view)
    flat = [(key, f) for key, _, items in chosen for f in items]
    shown, pager = paged(flat, _page_number(request), FINDINGS_PER_PAGE)
    path = f"/scans/{info.id}/compare/{other.id}"
    groups = [
        (key, label, len(items), [f for k, f in shown if k == key]) for key, label, items in chosen
    ]
    href = href_for(request)
    return render_page(
        request,
        "compare.html",
        site_href=lambda site: href(site_path(info.id, site)),
        unit_href=lambda unit: href(path, unit=unit),
        groups=[g for g in groups if g[3]],
        matching=len(flat),
        total=total,
        pager=pager,
        path=path,
        **filters,
        **context,
    )


async def report(request: web.Request) -> web.Response:
    fmt = request.match_info["fmt"]
    async with open_read_store(request) as store:
        info = await scan_or_404(store, request.match_info["scan"])
        built = await build_report(store, info.id)
    body = await asyncio.to_thread(render, built, fmt)  # openpyxl or Jinja: off the event loop
    data = body.encode("utf-8") if isinstance(body, str) else body
    response = web.Response(body=data, content_type=_REPORT_TYPES[fmt])
    if fmt in ("html", "json", "csv", "md"):
        response.charset = "utf-8"
    if fmt != "html":
        response.headers["Content-Disposition"] = (
            f'attachment; filename="govmon-scan-{info.id}.{fmt}"'
        )
    return response
