"""End-to-end: the columns check on sites of several CMS templates (tests/support/colsites.py).

`govmon scan` runs against real aiohttp servers on 127.0.0.11-15, then `govmon report --format
json` and the store's ``columns`` table are compared with the ground truth of `SITES`: the
columns the navigation leads to (URL, name, category, level), each column's newest date, and
every ``column.stale`` / ``column.blank`` / ``column.irregular`` / ``homepage.stale`` finding,
with nothing reported for fresh columns. Four scans, shared by the tests (module fixtures):

* ``default_scan``: the national default ``[rules]``, ``as_of = 2020-06-16``;
* ``local_scan``: the district's local rule added (news gaps of at most 14 days over 90 days,
  the FAQ base monthly);
* ``pinned_scan``: the TRS site's columns configured (``[[site.column]]``, one category pinned):
  configured columns replace discovery;
* ``later_scan``: ``--as-of 2021-06-16`` over the sites whose lists show years: every column
  with a rule is stale then, since the verdict is judged at as_of.

The expected findings are derived from the ground-truth table and the rule thresholds written
here (INTERFACE.md), never from the check's own code.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest

from crawler.cli import main as govmon
from tests.support.colsites import (
    AS_OF,
    FULL_YEAR_SITES,
    JSP,
    LATER,
    LOCAL_RULES,
    SITES,
    SITES_BY_ID,
    TRAP_TITLE,
    TRS,
    TRS_GZDT,
    ColSites,
    ColumnTruth,
    SiteTruth,
)

pytestmark = pytest.mark.timeout(60)

JUDGED = ("column.stale", "column.blank", "column.irregular", "column.undated", "homepage.stale")
RuleSet = Literal["default", "local"]

#: INTERFACE.md ``[rules]`` defaults: days a column of each category may go without an update
DEFAULT_MAX_AGE: dict[str, int] = {
    "news": 14,
    "notice": 183,
    "policy": 183,
    "personnel": 365,
    "planning": 365,
    "stats": 92,
}
LOCAL_MAX_AGE: dict[str, int] = {**DEFAULT_MAX_AGE, "faq": LOCAL_RULES["faq_max_age_days"]}
HOME_MAX_AGE = 14

COLUMN_SQL = (
    "SELECT site, url, name, category, top_level, items, dated_items, newest, pages, is_list,"
    " why, configured, parent FROM columns"
)


# ---------------------------------------------------------------------------------------------
# running scans


@dataclass(frozen=True)
class Scan:
    report: dict[str, Any]
    columns: list[dict[str, Any]]

    def findings(self, site: str, checks: tuple[str, ...] = JUDGED) -> list[dict[str, Any]]:
        return [f for f in self.report["findings"] if f["site"] == site and f["check"] in checks]

    def at(self, site: str, url: str) -> list[dict[str, Any]]:
        return [f for f in self.findings(site) if f["url"] == url]

    def columns_of(self, site: str) -> dict[str, dict[str, Any]]:
        return {row["url"]: row for row in self.columns if row["site"] == site}


def run_scan(folder: Path, config: str, *extra: str) -> Scan:
    folder.mkdir(parents=True, exist_ok=True)
    cfg = folder / "govmon.toml"
    cfg.write_text(config, encoding="utf-8")
    db = folder / "govmon.db"
    out = folder / "report.json"
    assert govmon(["scan", str(cfg), "--db", str(db), *extra]) == 0
    assert govmon(["report", "--db", str(db), "--format", "json", "--output", str(out)]) == 0
    report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    con = sqlite3.connect(db)
    try:
        con.row_factory = sqlite3.Row
        rows = [dict(row) for row in con.execute(COLUMN_SQL)]
    finally:
        con.close()
    return Scan(report, rows)


@pytest.fixture(scope="module")
def sites() -> Iterator[ColSites]:
    with ColSites() as running:
        yield running


@pytest.fixture(scope="module")
def default_scan(sites: ColSites, tmp_path_factory: pytest.TempPathFactory) -> Scan:
    return run_scan(tmp_path_factory.mktemp("default"), sites.config_toml())


@pytest.fixture(scope="module")
def local_scan(sites: ColSites, tmp_path_factory: pytest.TempPathFactory) -> Scan:
    return run_scan(tmp_path_factory.mktemp("local"), sites.config_toml(rules=LOCAL_RULES))


PINNED: list[dict[str, str | bool]] = [
    {"name": "工作动态", "url": "/gzdt/"},
    # an interpretation column pinned as a policy column: its items are 460 days old
    {"name": "解读回应", "url": "/zcjd/", "category": "policy", "top_level": True},
]


@pytest.fixture(scope="module")
def pinned_scan(sites: ColSites, tmp_path_factory: pytest.TempPathFactory) -> Scan:
    columns = [{**c, "url": sites.url("trs", str(c["url"]))} for c in PINNED]
    config = sites.config_toml(columns={"trs": columns})
    return run_scan(tmp_path_factory.mktemp("pinned"), config)


@pytest.fixture(scope="module")
def later_scan(sites: ColSites, tmp_path_factory: pytest.TempPathFactory) -> Scan:
    only = [arg for site in FULL_YEAR_SITES for arg in ("--site", site)]
    folder = tmp_path_factory.mktemp("later")
    return run_scan(folder, sites.config_toml(), "--as-of", LATER.isoformat(), *only)


# ---------------------------------------------------------------------------------------------
# what a correct check reports, from the ground truth


@dataclass(frozen=True)
class Expected:
    check: str
    url: str
    column: str | None
    detail: dict[str, Any]


def _stale(
    sites: ColSites, site: SiteTruth, col: ColumnTruth, limit: int, as_of: dt.date
) -> Expected:
    newest = col.newest
    assert newest is not None
    key = col.category == "news" or (col.top_level and col.category in ("notice", "policy"))
    detail = {
        "category": col.category,
        "newest": newest.isoformat(),
        "days_since": (as_of - newest).days,
        "max_age_days": limit,
        "key_column": key,
    }
    return Expected("column.stale", sites.url(site.id, col.path), col.name, detail)


def _blank(sites: ColSites, site: SiteTruth, col: ColumnTruth) -> Expected:
    detail = {"category": col.category, "placeholder": col.placeholder, "items": 0}
    return Expected("column.blank", sites.url(site.id, col.path), col.name, detail)


def _home(sites: ColSites, site: SiteTruth, as_of: dt.date) -> Expected:
    newest = site.home_newest
    detail = {
        "newest": newest.isoformat(),
        "days_since": (as_of - newest).days,
        "max_age_days": HOME_MAX_AGE,
    }
    return Expected("homepage.stale", sites.url(site.id, "/"), None, detail)


def expected_at_as_of(sites: ColSites, site: SiteTruth, rules: RuleSet) -> list[Expected]:
    """The findings the ground-truth table asks for at `AS_OF` under ``rules``."""
    limits = DEFAULT_MAX_AGE if rules == "default" else LOCAL_MAX_AGE
    out: list[Expected] = []
    for col in site.columns:
        match col.verdict(rules):
            case "stale":
                out.append(_stale(sites, site, col, limits[col.category], AS_OF))
            case "blank":
                out.append(_blank(sites, site, col))
            case "irregular":
                assert col.gap is not None
                start, end = col.gap
                detail = {
                    "category": col.category,
                    "largest_gap_days": (end - start).days,
                    "from": start.isoformat(),
                    "to": end.isoformat(),
                    "max_gap_days": LOCAL_RULES["news_max_gap_days"],
                    "window_days": LOCAL_RULES["news_gap_window_days"],
                }
                out.append(
                    Expected("column.irregular", sites.url(site.id, col.path), col.name, detail)
                )
    if site.home_stale:
        out.append(_home(sites, site, AS_OF))
    return out


def expected_later(sites: ColSites, site: SiteTruth) -> list[Expected]:
    """At `LATER`, default rules: every column with a rule and dated items is stale, blank
    columns stay blank (not also stale), the home page is stale."""
    out: list[Expected] = []
    for col in site.columns:
        if col.default == "blank":
            out.append(_blank(sites, site, col))
        elif col.category in DEFAULT_MAX_AGE and col.dates:
            out.append(_stale(sites, site, col, DEFAULT_MAX_AGE[col.category], LATER))
    out.append(_home(sites, site, LATER))
    return out


def show(findings: list[dict[str, Any]]) -> str:
    brief = [
        {"check": f["check"], "column": f["column"], "url": f["url"], "detail": f["detail"]}
        for f in findings
    ]
    return json.dumps(brief, ensure_ascii=False, indent=1, default=str)[:4000]


def assert_findings(scan: Scan, site: SiteTruth, expected: list[Expected]) -> None:
    """Exactly the expected findings (by check and subject), each with the expected details."""
    actual = scan.findings(site.id)
    want = {(e.check, e.url) for e in expected}
    got = {(f["check"], f["url"]) for f in actual}
    missing = sorted(want - got)
    extra = [f for f in actual if (f["check"], f["url"]) not in want]
    assert not missing, f"{site.id}: missing {missing}"
    assert not extra, f"{site.id}: unexpected {show(extra)}"
    for e in expected:
        (finding,) = [f for f in actual if (f["check"], f["url"]) == (e.check, e.url)]
        assert finding["column"] == e.column, show([finding])
        detail = finding["detail"]
        got_detail = {k: detail.get(k) for k in e.detail}
        assert got_detail == e.detail, f"{e.check} {e.url}"


def expected_columns(sites: ColSites, site: SiteTruth) -> set[tuple[str, str, str]]:
    return {(sites.url(site.id, c.path), c.name, c.category) for c in site.columns}


SITE_IDS = [s.id for s in SITES]


# ---------------------------------------------------------------------------------------------
# the scan and the column inventory


def test_scans_complete_at_as_of(default_scan: Scan, later_scan: Scan) -> None:
    assert default_scan.report["scan"]["status"] == "complete"
    assert default_scan.report["scan"]["as_of"].startswith(AS_OF.isoformat())
    assert {s["id"] for s in default_scan.report["sites"]} == set(SITE_IDS)
    assert later_scan.report["scan"]["as_of"].startswith(LATER.isoformat())
    assert {s["id"] for s in later_scan.report["sites"]} == set(FULL_YEAR_SITES)


@pytest.mark.parametrize("site_id", SITE_IDS)
def test_discovered_columns_match_navigation(
    sites: ColSites, default_scan: Scan, site_id: str
) -> None:
    site = SITES_BY_ID[site_id]
    rows = default_scan.columns_of(site_id)
    got = {(r["url"], r["name"], r["category"]) for r in rows.values()}
    want = expected_columns(sites, site)
    assert got == want, f"missing {sorted(want - got)}, unexpected {sorted(got - want)}"
    for col in site.columns:
        row = rows[sites.url(site_id, col.path)]
        assert bool(row["top_level"]) == col.top_level, col.name
        assert not row["configured"]
        if col.parent is not None:
            assert row["parent"] == sites.url(site_id, col.parent), col.name


@pytest.mark.parametrize("site_id", SITE_IDS)
def test_column_newest_and_items(sites: ColSites, default_scan: Scan, site_id: str) -> None:
    site = SITES_BY_ID[site_id]
    rows = default_scan.columns_of(site_id)
    problems = []
    for col in site.columns:
        row = rows.get(sites.url(site_id, col.path))
        if row is None:
            problems.append(f"{col.name}: not found")
            continue
        newest = col.newest.isoformat() if col.newest else None
        got = (row["newest"], row["items"], row["dated_items"])
        want = (newest, col.items, len(col.dates))
        if got != want:
            problems.append(f"{col.name} {col.path}: (newest, items, dated) {got} != {want}")
        if row["pages"] < col.pages:
            problems.append(f"{col.name}: {row['pages']} list pages read, {col.pages} exist")
        if col.dates and not row["is_list"]:
            problems.append(f"{col.name}: not taken for a list ({row['why']})")
    assert not problems, "\n".join(problems)


def test_trap_articles_titled_like_columns_are_not_columns(
    sites: ColSites, default_scan: Scan
) -> None:
    """区政府召开工作动态分析会 on the home page (a TRS article URL on one site, a JSP
    ``content.jsp?channelId=11&contentId=…`` URL on the other) is an item of 工作动态 / 部门动态,
    not a column, and stays an item of its column."""
    for site in (TRS, JSP):
        rows = default_scan.columns_of(site.id)
        assert TRAP_TITLE not in {r["name"] for r in rows.values()}, site.id
        articles = {
            sites.url(site.id, a.path)
            for items in sites.sites[site.id].app.articles.values()
            for a in items
        }
        assert not articles & set(rows), f"{site.id}: articles taken for columns"
    # the trap is the newest item of jsp 部门动态 (14 days old): with it the column is fresh
    row = default_scan.columns_of("jsp")[sites.url("jsp", "/list.jsp?channelId=11")]
    assert row["newest"] == JSP.column("/list.jsp?channelId=11").dates[0].isoformat()


def test_more_links_and_other_navigation_are_not_columns(
    sites: ColSites, default_scan: Scan
) -> None:
    for site in SITES:
        rows = default_scan.columns_of(site.id)
        for path in site.not_columns:
            assert sites.url(site.id, path) not in rows, f"{site.id}: {path} is not a column"
        assert sites.url(site.id, "/") not in rows


def test_breadcrumbs_and_pagers_are_not_items(sites: ColSites, default_scan: Scan) -> None:
    """当前位置：首页 > 工作动态 and 首页 / 下一页 / 尾页 on list pages add no item."""
    cases = (("trs", "/gzdt/"), ("jsp", "/list.jsp?channelId=12"), ("div", "/col/zwyw/index.html"))
    for site_id, path in cases:
        col = SITES_BY_ID[site_id].column(path)
        row = default_scan.columns_of(site_id)[sites.url(site_id, path)]
        assert row["items"] == col.items, f"{site_id} {col.name}"


def test_pagination_is_followed_to_the_end(sites: ColSites, default_scan: Scan) -> None:
    trs_log = set(sites.sites["trs"].log)
    # only createPageHTML(3, 0, "index", "html") leads to these
    assert {"/gzdt/index_1.html", "/gzdt/index_2.html"} <= trs_log
    jsp_log = set(sites.sites["jsp"].log)
    assert {"/list.jsp?channelId=12&pageNo=2", "/list.jsp?channelId=12&pageNo=3"} <= jsp_log
    # 图片新闻 has no page numbers, only 下一页 and 尾页
    assert "/list.jsp?channelId=18&pageNo=2" in jsp_log
    gzdt = default_scan.columns_of("trs")[sites.url("trs", "/gzdt/")]
    assert gzdt["dated_items"] == len(TRS.column("/gzdt/").dates)  # down to 2018, page 3


# ---------------------------------------------------------------------------------------------
# the findings


@pytest.mark.parametrize("site_id", SITE_IDS)
def test_findings_under_default_rules(sites: ColSites, default_scan: Scan, site_id: str) -> None:
    site = SITES_BY_ID[site_id]
    assert_findings(default_scan, site, expected_at_as_of(sites, site, "default"))


@pytest.mark.parametrize("site_id", SITE_IDS)
def test_findings_under_local_rule(sites: ColSites, local_scan: Scan, site_id: str) -> None:
    site = SITES_BY_ID[site_id]
    assert_findings(local_scan, site, expected_at_as_of(sites, site, "local"))


@pytest.mark.parametrize("rules", ["default", "local"])
def test_fresh_columns_are_not_reported(
    sites: ColSites, default_scan: Scan, local_scan: Scan, rules: RuleSet
) -> None:
    scan = default_scan if rules == "default" else local_scan
    reported = []
    for site in SITES:
        for col in site.columns:
            if col.verdict(rules) == "fresh":
                found = scan.at(site.id, sites.url(site.id, col.path))
                reported += [f"{site.id} {col.name}: {f['check']}" for f in found]
    assert not reported, reported


def test_edges_of_the_age_rules(sites: ColSites, default_scan: Scan) -> None:
    """14 days is fresh and 15 stale (news); 150 days fresh and 200 stale (notice, 183);
    300 days fresh (personnel, 365)."""
    cases = (
        ("jsp", "/list.jsp?channelId=11", None),  # 14 days
        ("jsp", "/list.jsp?channelId=12", 15),
        ("trs", "/tzgg/", None),  # 150 days
        ("jsp", "/list.jsp?channelId=13", 200),
        ("trs", "/rsxx/", None),  # 300 days
    )
    for site_id, path, days in cases:
        stale = [
            f
            for f in default_scan.at(site_id, sites.url(site_id, path))
            if f["check"] == "column.stale"
        ]
        if days is None:
            assert not stale, show(stale)
        else:
            assert [f["detail"]["days_since"] for f in stale] == [days]


@pytest.mark.parametrize("rules", ["default", "local"])
def test_blank_columns_are_not_also_stale(
    sites: ColSites, default_scan: Scan, local_scan: Scan, rules: RuleSet
) -> None:
    scan = default_scan if rules == "default" else local_scan
    blanks = [(s, c) for s in SITES for c in s.columns if c.default == "blank"]
    assert len(blanks) >= 3
    for site, col in blanks:
        checks = [f["check"] for f in scan.at(site.id, sites.url(site.id, col.path))]
        assert checks == ["column.blank"], f"{site.id} {col.name}: {checks}"


def test_stale_news_columns_are_not_also_irregular(sites: ColSites, local_scan: Scan) -> None:
    """Their gap to as_of (15 and 76 days) exceeds 14 too; one problem is reported once."""
    for site_id, path in (("jsp", "/list.jsp?channelId=12"), ("navhome", "/gzdt/")):
        checks = [f["check"] for f in local_scan.at(site_id, sites.url(site_id, path))]
        assert checks == ["column.stale"], f"{site_id} {path}: {checks}"


def test_homepage_judged_by_its_own_items_or_second_level_pages(
    sites: ColSites, default_scan: Scan
) -> None:
    judged = {}
    for site in SITES:
        homes = [f for f in default_scan.findings(site.id) if f["check"] == "homepage.stale"]
        assert len(homes) == int(site.home_stale), f"{site.id}: {show(homes)}"
        if homes:
            assert homes[0]["severity"] == "veto"
            judged[site.id] = str(homes[0]["detail"]["judged_on"])
    # oldhome shows dated items (the newest 20 days old): judged by them, not by its fresh
    # 新闻动态 column; navhome shows none: judged by its second-level pages
    assert judged["oldhome"] == "home page"
    assert "second-level" in judged["navhome"]
    # div's home page is only navigation too, over fresh second-level pages: not stale
    assert "div" not in judged


# ---------------------------------------------------------------------------------------------
# configured columns; another time point


def test_configured_columns_replace_discovery(sites: ColSites, pinned_scan: Scan) -> None:
    rows = pinned_scan.columns_of("trs")
    got = {(r["url"], r["name"], r["category"], bool(r["configured"])) for r in rows.values()}
    want = {
        (sites.url("trs", "/gzdt/"), "工作动态", "news", True),
        (sites.url("trs", "/zcjd/"), "解读回应", "policy", True),
    }
    assert got == want
    pinned = dataclasses.replace(TRS.column("/zcjd/"), name="解读回应", category="policy")
    # 政策文件 and 规划计划, stale when discovered, are not columns of this config
    assert_findings(pinned_scan, TRS, [_stale(sites, TRS, pinned, 183, AS_OF)])
    assert rows[sites.url("trs", "/gzdt/")]["newest"] == TRS_GZDT[0].isoformat()


def test_other_sites_still_discover_when_one_is_configured(
    sites: ColSites, pinned_scan: Scan
) -> None:
    for site in (JSP, SITES_BY_ID["div"]):
        rows = pinned_scan.columns_of(site.id)
        got = {(r["url"], r["name"], r["category"]) for r in rows.values()}
        assert got == expected_columns(sites, site), site.id


@pytest.mark.parametrize("site_id", FULL_YEAR_SITES)
def test_a_year_later_every_column_is_stale(
    sites: ColSites, later_scan: Scan, site_id: str
) -> None:
    site = SITES_BY_ID[site_id]
    expected = expected_later(sites, site)
    assert sum(e.check == "column.stale" for e in expected) >= 2
    assert_findings(later_scan, site, expected)
