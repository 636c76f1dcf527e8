"""The web view as a place to work: the dashboard's counts and state, a running scan that looks
running and a dead one that does not, false positives marked and undone from the page (login,
CSRF, Origin, the ignore record and the log), and page sizes at a province's size.

Every store is a real SQLite file; every request goes to a real server on 127.0.0.1; clocks are
fake (``make_app(clock=...)``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import structlog
from aiohttp.test_utils import TestClient, TestServer

from benchmarks.web_pages import make_store, measure
from checks.base import Finding
from crawler.reports import build_report
from crawler.service.web import make_app
from crawler.service.web.summary import STALE_AFTER
from storage.sqlite import SQLiteStore
from tests.crawler.reports.test_reports_formats import parse_html, write_scan
from tests.crawler.service.test_web import assert_inert_web

TOKEN = "work-test-token-7c1e9a55"
SITES = [
    {"id": "a", "name": "甲局网站", "unit": "甲局", "kind": "department", "url": "http://a.test/"},
    {"id": "b", "name": "乙镇网站", "unit": "乙镇", "kind": "town", "url": "http://b.test/"},
]
VETO = Finding(check="column.blank", site="a", unit="甲局", column="通知公告",
               url="http://a.test/tzgg/", severity="veto", detail={"items": 0})  # fmt: skip
MINOR = Finding(check="link.broken", site="b", unit="乙镇", column=None, url="http://b.test/x.html",
                page="http://b.test/", detail={"status": 404})  # fmt: skip


@contextlib.asynccontextmanager
async def client_for(
    db: Path, token: str | None = None, clock: Callable[[], float] | None = None
) -> AsyncIterator[TestClient[Any, Any]]:
    app = make_app(str(db), token, clock=clock) if clock else make_app(str(db), token)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


@pytest.fixture
async def crafted(tmp_path: Path) -> Path:
    db = tmp_path / "crafted.db"
    await write_scan(db, [VETO, MINOR], SITES, as_of="2020-03-16T00:00:00+08:00")
    await write_scan(db, [VETO, MINOR], SITES, as_of="2020-06-16T00:00:00+08:00")
    return db


def _counts(page: str) -> dict[str, str]:
    tiles = parse_html(page).find("div", id="verdict-counts").find_all("a")
    return {t.attrs["data-verdict"] or "": t.find("span").text() for t in tiles}


async def test_dashboard_counts_state_and_charts(crafted: Path) -> None:
    async with client_for(crafted) as client:
        page = await (await client.get("/")).text()
        root = parse_html(page)
        assert_inert_web(root)
        assert _counts(page) == {"qualified": "1", "unqualified": "1", "unchecked": "0"}
        assert root.find("p", id="scan-state").attrs["data-state"] == "complete"
        chart = root.find("div", id="score-chart").find("svg")
        assert chart.attrs["role"] == "img"
        assert "平均得分" in chart.find("title").text()
        points = chart.find_all("circle")  # two scans, two series
        assert len(points) == 4
        assert any("第2次" in p.text() and "分" in p.text() for p in points)
        units = root.find("div", id="units-chart").find("svg")
        assert "乙镇 · 2020年第2季度：1 个问题" in units.text()
        # the filter by verdict keeps the unqualified site only
        bad = parse_html(await (await client.get("/?verdict=unqualified")).text())
        rows = bad.find("table", id="verdicts").find("tbody").find_all("tr")
        assert [r.attrs["data-site"] for r in rows] == ["a"]
        by_check = parse_html(await (await client.get("/scans/2?check=link")).text())
        rows = by_check.find("table", id="verdicts").find("tbody").find_all("tr")
        assert [r.attrs["data-site"] for r in rows] == ["b"]


async def test_a_rule_added_while_serving_changes_the_dashboard_at_once(crafted: Path) -> None:
    """The dashboard's summaries are cached: a rule by URL pattern (``govmon ignore --url``)
    set while the view runs must make them stale, as an ignored finding does."""
    async with client_for(crafted) as client:
        assert _counts(await (await client.get("/")).text())["unqualified"] == "1"
        store = await SQLiteStore.open(crafted)
        try:
            await store.ignore_rule("http://a.test/*", "栏目已停用", by="测试")
        finally:
            await store.close()
        counts = _counts(await (await client.get("/")).text())
        assert counts == {"qualified": "2", "unqualified": "0", "unchecked": "0"}


async def _running_scan(db: Path, finish: str | None) -> str:
    """A scan left as a process leaves it: one link checked at a known time."""
    store = await SQLiteStore.open(db)
    try:
        await store.begin_scan(config_path="x.toml", config_digest="1" * 16,
                               as_of="2026-12-07T08:00:00+08:00", sites=SITES,
                               settings={"timezone": "Asia/Shanghai"})  # fmt: skip
        if finish:
            await store.finish_scan(finish, 3, 4)
    finally:
        await store.close()
    at = "2026-12-07T08:10:00+08:00"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO links (scan_id, url_id, url, outcome, reason, status, final_url, method,"
            " attempts, checked_at) VALUES (1, 1, 'http://a.test/', 'ok', '', 200,"
            " 'http://a.test/', 'GET', 1, ?)",
            (at,),
        )
    conn.close()
    return at


@pytest.mark.parametrize(
    ("finish", "after", "state", "words"),
    [
        (None, 30.0, "running", "正在检查"),
        (None, STALE_AFTER + 60, "stalled", "检查进程可能已被终止"),
        ("interrupted", 30.0, "interrupted", "检查已中断"),
    ],
)
async def test_a_running_scan_looks_running_and_a_dead_one_does_not(
    tmp_path: Path, finish: str | None, after: float, state: str, words: str
) -> None:
    db = tmp_path / "run.db"
    at = await _running_scan(db, finish)
    now = dt.datetime.fromisoformat(at).timestamp() + after
    async with client_for(db, clock=lambda: now) as client:
        root = parse_html(await (await client.get("/")).text())
    shown = root.find("p", id="scan-state")
    assert shown.attrs["data-state"] == state
    assert words in shown.text()
    assert "已完成网站 0/2 个" in shown.text()
    if state == "running":
        assert "最近一次进展 2026年12月7日 08:10" in shown.text()  # the config's zone, Chinese


async def _login(client: TestClient[Any, Any], name: str = "王小明") -> None:
    origin = {"Origin": str(client.make_url("/")).rstrip("/")}
    resp = await client.post("/login", data={"token": TOKEN, "name": name, "next": "/"},
                             headers=origin, allow_redirects=False)  # fmt: skip
    assert resp.status == 303
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie


def _csrf(page: str) -> str:
    return parse_html(page).find("form", class_="mark").find("input").attrs["value"] or ""


async def test_false_positive_marked_and_undone_from_the_page(crafted: Path) -> None:
    site = "/scans/2/sites/a"
    async with client_for(crafted, TOKEN) as client:
        origin = {"Origin": str(client.make_url("/")).rstrip("/")}
        # without a login: the page reads (with the token) but has no forms, and writes fail
        page = await (await client.get(site, headers={"Authorization": f"Bearer {TOKEN}"})).text()
        assert 'class="mark"' not in page
        form = {"reason": "栏目已改版", "next": site, "csrf": "x"}
        resp = await client.post(f"/findings/{VETO.identity}/ignore", data=form, headers=origin)
        assert resp.status == 401  # no token, no session
        resp = await client.post("/login", data={"token": "wrong", "name": "王小明"},
                                 headers=origin)  # fmt: skip
        assert resp.status == 403
        assert "令牌不正确" in await resp.text()
        await _login(client)
        page = await (await client.get(site)).text()  # the session cookie is the token now
        csrf = _csrf(page)
        assert len(csrf) > 30
        for bad_form, headers in (({**form, "csrf": "forged"}, origin),
                                  ({**form, "csrf": csrf}, {"Origin": "http://evil.test"}),
                                  ({**form, "csrf": csrf}, {"Origin": "null"}),
                                  ({**form, "csrf": csrf},
                                   {"Origin": "null", "Sec-Fetch-Site": "cross-site"}),
                                  ({**form, "csrf": csrf}, {})):  # fmt: skip
            resp = await client.post(f"/findings/{VETO.identity}/ignore", data=bad_form,
                                     headers=headers)  # fmt: skip
            assert resp.status == 403, headers
        assert "不合格" in parse_html(page).find("dd", id="site-verdict").text()
        with structlog.testing.capture_logs() as logs:
            resp = await client.post(f"/findings/{VETO.identity}/ignore",
                                     data={**form, "csrf": csrf}, headers=origin,
                                     allow_redirects=False)  # fmt: skip
            assert resp.status == 303
            assert resp.headers["Location"] == site
        assert logs == [{"event": "web.ignore", "finding": VETO.identity, "who": "王小明",
                         "remote": "127.0.0.1", "reason": "栏目已改版", "changed": True,
                         "log_level": "warning"}]  # fmt: skip
        page = await (await client.get(site)).text()
        root = parse_html(page)
        assert root.find("dd", id="site-verdict").text().strip() == "合格"  # dropped out
        ignored = root.find("table", id="ignored").find("tbody").find_all("tr")
        assert [r.attrs["data-id"] for r in ignored] == [VETO.identity]
        assert "栏目已改版（王小明，网页标记）" in ignored[0].text()
        assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d", ignored[0].text())  # not ISO
        dash = await (await client.get("/")).text()
        assert _counts(dash) == {"qualified": "2", "unqualified": "0", "unchecked": "0"}
        # undone: back to 不合格
        undo = root.find("table", id="ignored").find("form")
        assert undo.attrs["action"] == f"/findings/{VETO.identity}/unignore"
        with structlog.testing.capture_logs() as logs:
            resp = await client.post(undo.attrs["action"] or "", headers=origin,
                                     data={"reason": "复查仍为空", "next": site,
                                           "csrf": csrf})  # fmt: skip
            assert resp.status == 200
        assert logs[0]["event"] == "web.unignore"
        assert logs[0]["who"] == "王小明"
        root = parse_html(await resp.text())
        assert "不合格" in root.find("dd", id="site-verdict").text()
    store = await SQLiteStore.open(crafted, create=False)
    try:
        assert await store.ignores() == {}
    finally:
        await store.close()


async def test_without_a_token_the_view_is_read_only(crafted: Path) -> None:
    async with client_for(crafted) as client:
        origin = {"Origin": str(client.make_url("/")).rstrip("/")}
        page = await (await client.get("/scans/2/sites/a")).text()
        assert 'class="mark"' not in page
        assert "/login" not in page
        resp = await client.post(f"/findings/{VETO.identity}/ignore", headers=origin,
                                 data={"reason": "x", "csrf": "x"})  # fmt: skip
        assert resp.status == 403
        assert "只读" in await resp.text()
        resp = await client.post("/login", data={"token": TOKEN, "name": "x"}, headers=origin)
        assert resp.status == 403
    store = await SQLiteStore.open(crafted, create=False)
    try:
        assert await store.ignores() == {}
    finally:
        await store.close()


@pytest.mark.timeout(120)
async def test_pages_stay_small_at_a_province_size(tmp_path: Path) -> None:
    """1,000 sites: the scan page was 1,591,014 bytes before it was paged."""
    db = tmp_path / "province.db"
    await make_store(db, sites=1000)
    sizes = await measure(db)
    assert all(size > 0 for size in sizes.values()), sizes
    assert sizes["scan /scans/latest"] < 100_000, sizes
    assert sizes["dashboard /"] < 100_000, sizes
    assert sizes["filtered scan (unqualified, one unit)"] < 40_000, sizes
    async with client_for(db) as client:
        root = parse_html(await (await client.get("/scans/latest?page=3")).text())
        rows = root.find("table", id="verdicts").find("tbody").find_all("tr")
        assert len(rows) == 50
        assert "第 3/20 页" in root.find("nav", class_="pager").text()
        one = parse_html(await (await client.get("/scans/latest?unit=单位007")).text())
        units = {
            r.cells()[2] for r in one.find("table", id="verdicts").find("tbody").find_all("tr")
        }
        assert units == {"单位007"}


def _change_rows(root: Any) -> dict[str, list[Any]]:
    """The finding rows of the comparison page, per change (new, persisting, resolved)."""
    out: dict[str, list[Any]] = {}
    for key in ("new", "persisting", "resolved"):
        for table in root.find_all("table", id=f"comparison-{key}-table"):
            out[key] = [r for r in table.find("tbody").find_all("tr") if "data-id" in r.attrs]
    return out


async def test_comparison_stays_small_at_a_province_size(tmp_path: Path) -> None:
    """1,000 sites: the comparison page was 1,691,457 bytes before it was paged and filtered."""
    db = tmp_path / "province.db"
    await make_store(db, sites=1000)
    sizes = await measure(db)
    assert 0 < sizes["compare /scans/4/compare/3"] < 100_000, sizes
    assert 0 < sizes["filtered compare (new, one unit)"] < 50_000, sizes
    store = await SQLiteStore.open(db)
    try:
        built = await build_report(store, 4, compare=3)
    finally:
        await store.close()
    comp = built["comparison"]
    checks = {f["id"]: f["check"] for f in (*built["findings"], *comp["resolved"])}
    units = list(comp["per_unit"])
    async with client_for(db) as client:
        root = parse_html(await (await client.get("/scans/4/compare/3?page=2")).text())
        rows = _change_rows(root)
        assert sum(len(r) for r in rows.values()) == 100
        total = len(comp["new"]) + len(comp["persisting"]) + len(comp["resolved"])
        pages = -(-total // 100)
        assert f"第 2/{pages} 页" in root.find("nav", class_="pager").text()
        # one unit's resolved findings: all of them, only them, and the unit table stays whole
        path = "/scans/4/compare/3?change=resolved&unit=单位007"
        one = parse_html(await (await client.get(path)).text())
        rows = _change_rows(one)
        assert list(rows) == ["resolved"]
        assert {r.cells()[3] for r in rows["resolved"]} == {"单位007"}
        assert len(rows["resolved"]) == comp["per_unit"]["单位007"]["resolved"]
        table = one.find("table", id="comparison-units").find("tbody")
        assert [r.attrs["data-unit"] for r in table.find_all("tr")] == units
        select = one.find("select", name="change")
        assert [o.attrs["value"] for o in select.find_all("option") if "selected" in o.attrs] == [
            "resolved"
        ]
        # a check family: every row shown is of it, and as many as the report has
        fam = parse_html(await (await client.get("/scans/4/compare/3?check=column")).text())
        shown = [r.attrs["data-id"] for rs in _change_rows(fam).values() for r in rs]
        ids = [*comp["new"], *comp["persisting"], *(f["id"] for f in comp["resolved"])]
        family = [i for i in ids if checks[i].startswith("column.")]
        assert shown == family[:100]
        assert (
            f"符合条件的问题 {len(family)} 个，共 {total} 个"
            in fam.find("p", id="shown-count").text()
        )
