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

import datetime as dt
import functools
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from checks.categories import CATEGORY_NAMES
from checks.wording import cn_date
from crawler import __version__
from crawler.reports.evidence import evidence
from crawler.reports.model import FindingEntry, Report
from crawler.reports.words import (
    CHECK_NAMES,
    SEVERITY_NAMES,
    STATUSES,
    VERDICTS,
    banner,
    cn_time,
    comparison_groups,
    describe,
    display_url,
    indicator_name,
    report_zone,
    unit_count,
)

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

VERDICT_NAMES = VERDICTS
STATUS_NAMES = STATUSES
SITE_KIND_NAMES = {
    "department": "部门",
    "institution": "直属机构",
    "town": "镇街",
    "portal": "门户网站",
}
_SEVERITY_ORDER = {"veto": 0, "deduction": 1, "warning": 2, "info": 3}

_HTTP_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f]+\Z", re.IGNORECASE)
_CN_NUMERALS = "一二三四五六七八九十"


def is_http_url(value: object) -> bool:
    """Whether ``value`` may become a link: a plain http(s) URL without spaces or controls."""
    return isinstance(value, str) and _HTTP_URL.match(value) is not None


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
    groups = comparison_groups(report)
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


def _cn_time(value: str | None, zone: dt.tzinfo | None = None) -> str:
    """A time in Chinese, in ``zone``; without one, in the time's own offset (a time the web
    view already wrote in Chinese is kept)."""
    if zone is None and value:
        try:
            zone = dt.datetime.fromisoformat(value).tzinfo
        except ValueError:
            return value
    return cn_time(value, zone or dt.UTC)


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
    env.filters["cn_time"] = _cn_time
    env.filters["display_url"] = display_url
    env.filters["cn_date"] = cn_date
    env.filters["indicator_name"] = indicator_name
    env.filters["unit_count"] = unit_count
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
        "zone": report_zone(report),
    }


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page, readable on screen and when printed."""
    return environment().get_template("report.html").render(**report_context(report))
