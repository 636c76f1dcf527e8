"""The read-only web view on a store made by a real scan of the demo district.

The store holds scan 1 (``run_demo``: the bundled district scanned as of 2020-06-16) and scan 2,
written through the store's API: scan 1's findings less one, plus a finding a hostile page
planted (``<script>`` in its title, a ``javascript:`` URL). Every request goes to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import io
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import aiohttp.web
import pytest
from aiohttp.test_utils import TestClient, TestServer
from openpyxl import load_workbook  # type: ignore[import-untyped]

from checks.base import Finding
from crawler.demo import run_demo
from crawler.reports import build_report
from crawler.reports.model import Report
from crawler.service.web import (
    ReadOnlyStore,
    ServeError,
    is_loopback,
    make_app,
    parse_listen,
    run_server,
)
from storage.base import StoreError
from storage.sqlite import SQLiteStore
from tests.crawler.reports.test_reports_formats import Node, assert_inert, parse_html, write_scan

TOKEN = "kTq3-test-token-5d1c0a9e"
HOSTILE = Finding(
    check="content.typo", site="fgj", unit="区发展和改革局", column="<b>工作动态</b>",
    url="javascript:alert(document.cookie)", page="http://www.district.test/fgj/x.html",
    detail={"title": "<script>alert(1)</script>", "text": "<script>alert(1)</script>",
            "suggestion": "正确"},
)  # fmt: skip


async def _second_scan(db: Path) -> dict[str, Any]:
    store = await SQLiteStore.open(db, create=False)
    try:
        info = await store.scan_info(1)
        old = await store.findings(1)
    finally:
        await store.close()
    kept = [
        Finding(check=f["check"], site=f["site"], unit=f["unit"], url=f["url"], page=f["page"],
                column=f["column"], detail=f["detail"], severity=f["severity"])
        for f in old[1:]
    ]  # fmt: skip
    scan = await write_scan(db, [*kept, HOSTILE], info.sites, as_of="2020-07-16T00:00:00+08:00")
    assert scan == 2
    return {"resolved": old[0]["id"], "persisting": [f["id"] for f in old[1:]]}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("webdemo")
    assert run_demo(out) == 0
    db = out / "govmon.db"
    facts = asyncio.run(_second_scan(db))
    return db, facts


async def _report(db: Path, scan: int, compare: int | None = None) -> Report:
    store = await SQLiteStore.open(db, create=False)
    try:
        return await build_report(store, scan, compare)
    finally:
        await store.close()


@contextlib.asynccontextmanager
async def client_for(db: Path, token: str | None = None) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(make_app(str(db), token), host="127.0.0.1")) as client:
        yield client


SVG_TAGS = {"svg", "title", "line", "polyline", "circle", "rect", "text"}


def assert_inert_web(root: Node) -> None:
    """:func:`assert_inert` for the web view, whose charts are inline SVG: inside an ``<svg>``
    only drawing elements without handlers, links or styles; the rest as the report."""

    def strip(node: Node) -> Node:
        kept: list[Node | str] = []
        for child in node.children:
            if isinstance(child, str):
                kept.append(child)
            elif child.tag == "svg":
                for inner in child.iter():
                    assert inner.tag in SVG_TAGS, f"unexpected <{inner.tag}> in a chart"
                    for name in inner.attrs:
                        assert not name.startswith("on"), name
                        assert "href" not in name, name
                        assert name not in ("style", "src"), name
            else:
                kept.append(strip(child))
        return Node(node.tag, dict(node.attrs), kept)

    assert_inert(strip(root), relative_links=True)


def _digest(db: Path) -> str:
    return hashlib.sha256(db.read_bytes()).hexdigest()


async def test_every_page_answers_on_the_demo_store(demo_db: tuple[Path, dict[str, Any]]) -> None:
    db, _ = demo_db
    report = await _report(db, 1)
    before = _digest(db)
    pages = ["/", "/scans", "/?verdict=qualified&page=9", "/scans/1", "/scans/2",
             "/scans/latest", "/scans/2/compare/1",
             "/scans/2/compare/2", "/scans/latest/compare/1",
             *(f"/scans/1/sites/{s['id']}" for s in report["sites"]),
             "/scans/2/sites/fgj?check=link.broken&severity=deduction"]  # fmt: skip
    async with client_for(db) as client:
        for path in pages:
            resp = await client.get(path)
            assert resp.status == 200, path
            assert resp.content_type == "text/html", path
            page = await resp.text()
            assert_inert_web(parse_html(page))
            assert resp.headers["Content-Security-Policy"].startswith("default-src 'none'")
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
        # a scan is compared with an earlier one: a later one is refused, clearly
        later = await client.get("/scans/1/compare/2")
        assert later.status == 400
        assert "Traceback" not in await later.text()
        health = await client.get("/healthz")
        assert health.status == 200
        assert await health.json() == {"status": "ok", "latest_scan": 2}
        for fmt, ctype in (("html", "text/html"), ("json", "application/json"),
                           ("csv", "text/csv"), ("md", "text/markdown")):  # fmt: skip
            resp = await client.get(f"/scans/1/report.{fmt}")
            assert resp.status == 200, fmt
            assert resp.content_type == ctype
        resp = await client.get("/scans/1/report.json")
        assert (await resp.json())["findings"] == report["findings"]
        resp = await client.get("/scans/1/report.xlsx")
        wb = load_workbook(io.BytesIO(await resp.read()))
        assert wb.sheetnames[0] == "汇总"
        assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert _digest(db) == before  # read-only: the store file is byte for byte the same


async def test_scan_list_and_scan_page(demo_db: tuple[Path, dict[str, Any]]) -> None:
    db, _ = demo_db
    report = await _report(db, 1)
    async with client_for(db) as client:
        root = parse_html(await (await client.get("/scans")).text())
        rows = root.find("table", id="scans").find("tbody").find_all("tr")
        assert [r.attrs["data-scan"] for r in rows] == ["2", "1"]  # newest first
        links = {a.attrs["href"] for a in rows[0].find_all("a")}
        assert {"/scans/2", "/scans/2/compare/1"} <= links

        root = parse_html(await (await client.get("/scans/1")).text())
    verdicts = root.find("table", id="verdicts").find("tbody").find_all("tr")
    rank = {"unqualified": 0, "unchecked": 1, "qualified": 2}  # worst first
    ordered = sorted(report["sites"], key=lambda s: (rank[s["verdict"]], s["score"] or 0))
    assert [r.attrs["data-site"] for r in verdicts] == [s["id"] for s in ordered]
    for row, site in zip(verdicts, ordered, strict=True):
        assert row.attrs["data-verdict"] == site["verdict"]
        assert row.cells()[4] == str(site["score"])
        assert row.find("a").attrs["href"] == f"/scans/1/sites/{site['id']}"
    units = root.find("table", id="units").find_all("tbody", class_="unit")
    assert [u.attrs["data-unit"] for u in units] == [u["unit"] for u in report["units"]]
    problem_ids = [r.attrs["data-id"] for u in units for r in u.find_all("tr")]
    assert problem_ids == [p["id"] for u in report["units"] for p in u["problems"]]
    assert report["findings"]  # the demo district has planted problems


def _row_ids(page: str) -> list[str]:
    table = parse_html(page).find("table", id="findings")
    return [r.attrs["data-id"] or "" for r in table.find_all("tr", class_="finding")]


async def test_site_filters(demo_db: tuple[Path, dict[str, Any]]) -> None:
    db, _ = demo_db
    report = await _report(db, 1)
    mine = [f for f in report["findings"] if f["site"] == "jyj"]
    assert len({f["check"] for f in mine}) >= 3  # enough variety for the filters to matter
    column = next(f["column"] for f in mine if f["column"])

    def ids(pred: Any) -> list[str]:
        return [f["id"] for f in mine if pred(f)]

    cases: list[tuple[str, list[str]]] = [
        ("", ids(lambda f: True)),
        ("?check=column.stale", ids(lambda f: f["check"] == "column.stale")),
        ("?check=column", ids(lambda f: f["check"].startswith("column."))),
        ("?check=link.broken&check=column.blank",
         ids(lambda f: f["check"] in ("link.broken", "column.blank"))),
        ("?severity=deduction", ids(lambda f: f["severity"] == "deduction")),
        ("?severity=veto", []),
        (f"?column={column}", ids(lambda f: f["column"] == column)),
        (f"?check=link&column={column}", []),
        ("?check=no.such.check", []),
        ("?check=&severity=&column=", ids(lambda f: True)),  # the form's "all"
    ]  # fmt: skip
    async with client_for(db) as client:
        for query, expected in cases:
            resp = await client.get("/scans/1/sites/jyj" + query)
            assert resp.status == 200, query
            page = await resp.text()
            assert _row_ids(page) == expected, query
            shown = parse_html(page).find("p", id="shown-count").text()
            assert f"显示 {len(expected)} 个问题，共 {len(mine)} 个" in shown
        # the form keeps the selection
        page = await (await client.get("/scans/1/sites/jyj?check=column.stale")).text()
        select = parse_html(page).find("select", name="check")
        chosen = [o.attrs["value"] for o in select.find_all("option") if "selected" in o.attrs]
        assert chosen == ["column.stale"]


async def test_comparison_page(demo_db: tuple[Path, dict[str, Any]]) -> None:
    db, facts = demo_db
    async with client_for(db) as client:
        page = await (await client.get("/scans/2/compare/1")).text()
    root = parse_html(page)

    def listed(key: str) -> list[str]:
        table = root.find("table", id=f"comparison-{key}-table").find("tbody")
        return [r.attrs["data-id"] or "" for r in table.find_all("tr") if "data-id" in r.attrs]

    assert listed("new") == [HOSTILE.identity]
    assert sorted(listed("persisting")) == sorted(facts["persisting"])
    assert listed("resolved") == [facts["resolved"]]
    report = await _report(db, 2, 1)
    units = root.find("table", id="comparison-units").find("tbody").find_all("tr")
    assert [u.attrs["data-unit"] for u in units] == list(report["comparison"]["per_unit"])


async def test_hostile_content_is_shown_as_text(demo_db: tuple[Path, dict[str, Any]]) -> None:
    db, _ = demo_db
    async with client_for(db) as client:
        for path in ("/scans/2/sites/fgj", "/scans/2", "/scans/2/compare/1"):
            page = await (await client.get(path)).text()
            root = parse_html(page)
            assert_inert_web(root)
            assert "<script>" not in page
            assert "<b>工作动态</b>" in root.text(), path
        root = parse_html(await (await client.get("/scans/2/sites/fgj")).text())
        row = next(r for r in root.find_all("tr", class_="finding")
                   if r.attrs["data-id"] == HOSTILE.identity)  # fmt: skip
        assert "<script>alert(1)</script>" in row.text()
        assert "javascript:alert(document.cookie)" in row.text()
        assert all("javascript" not in (a.attrs.get("href") or "") for a in row.find_all("a"))


async def test_unknown_scans_sites_and_paths_are_404_pages(
    demo_db: tuple[Path, dict[str, Any]],
) -> None:
    db, _ = demo_db
    async with client_for(db) as client:
        missing = [
            "/scans/99",
            "/scans/99/sites/fgj",
            "/scans/1/sites/nope",
            "/scans/1/compare/99",
            "/scans/99/compare/1",
            "/scans/abc",
            "/scans/1/sites/%3Cscript%3E",
            "/nothing/here",
            "/scans/1/report.exe",
        ]
        for path in missing:
            resp = await client.get(path)
            assert resp.status == 404, path
            assert resp.content_type == "text/html"
            page = await resp.text()
            assert "Traceback" not in page
            assert "未找到" in parse_html(page).find("h1").text()
            assert "<script>" not in page
        resp = await client.get("/scans/1/sites/nope")
        assert "nope" in parse_html(await resp.text()).find("p", id="error-message").text()
        resp = await client.post("/scans/1")  # read-only: nothing but GET and HEAD
        assert resp.status == 405
        assert resp.headers["Allow"] == "GET,HEAD"


async def test_store_that_cannot_be_read_gives_503(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as conn:
        conn.execute("PRAGMA user_version=1")
    for db in (tmp_path / "missing.db", old):
        async with client_for(db) as client:
            resp = await client.get("/scans/1")
            assert resp.status == 503
            assert "Traceback" not in await resp.text()
            health = await client.get("/healthz")
            assert health.status == 503
            assert (await health.json())["status"] == "error"
    assert not (tmp_path / "missing.db").exists()  # nothing was created


async def test_read_only_store_refuses_writes(demo_db: tuple[Path, dict[str, Any]]) -> None:
    db, facts = demo_db
    store = await ReadOnlyStore.open(db, create=False)
    try:
        assert (await store.scan_info("latest")).id == 2
        with pytest.raises(StoreError, match="cannot write"):
            await store.ignore(facts["resolved"], "must not be stored")
    finally:
        await store.close()
    check = await SQLiteStore.open(db, create=False)
    try:
        assert facts["resolved"] not in await check.ignores()
    finally:
        await check.close()


async def test_token_is_required_on_every_request(
    demo_db: tuple[Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _ = demo_db
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    async with client_for(db, TOKEN) as client:
        for path in ("/", "/healthz", "/scans/1", "/scans/1/sites/fgj", "/scans/1/report.json",
                     "/scans/99"):  # fmt: skip
            resp = await client.get(path)
            assert resp.status == 401, path
            assert resp.headers["WWW-Authenticate"].startswith("Bearer")
            assert "Traceback" not in await resp.text()
            for headers, query in (({"Authorization": "Bearer wrong"}, ""),
                                   ({"Authorization": f"Basic {TOKEN}"}, ""),
                                   ({}, "?token=wrong"), ({}, f"?token={TOKEN[:-1]}")):  # fmt: skip
                resp = await client.get(path + query, headers=headers)
                assert resp.status == 401, (path, headers, query)
        resp = await client.get("/scans/1", headers={"Authorization": f"Bearer {TOKEN}"})
        assert resp.status == 200
        links = [a.attrs["href"] or "" for a in parse_html(await resp.text()).find_all("a")]
        assert not any("token=" in h for h in links)  # a header token is not put in links
        resp = await client.get(f"/scans/1?token={TOKEN}")
        assert resp.status == 200
        root = parse_html(await resp.text())
        inner = [a.attrs["href"] or "" for a in root.find_all("a")
                 if (a.attrs.get("href") or "").startswith("/")]  # fmt: skip
        assert inner
        assert all(f"token={TOKEN}" in h for h in inner)  # a query token follows the links
        followed = await client.get(inner[-1])
        assert followed.status == 200
        health = await client.get("/healthz", headers={"Authorization": f"bearer {TOKEN}"})
        assert health.status == 200
    assert (b"wrong", TOKEN.encode()) in compared  # constant-time comparison, every time


def test_make_app_refuses_an_empty_token(tmp_path: Path) -> None:
    with pytest.raises(ServeError, match="empty"):
        make_app(str(tmp_path / "x.db"), "  ")


def test_parse_listen() -> None:
    assert parse_listen("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert parse_listen("[::1]:9000") == ("::1", 9000)
    assert parse_listen("localhost:0") == ("localhost", 0)
    assert parse_listen("8080") == ("127.0.0.1", 8080)
    assert parse_listen(":8080") == ("", 8080)  # every interface
    for bad in ("127.0.0.1", "::1:80", "host:99999", "host:http", "[::1]8080"):
        with pytest.raises(ServeError):
            parse_listen(bad)


async def test_loopback_detection() -> None:
    for host in ("127.0.0.1", "127.8.9.10", "::1", "localhost", "::ffff:127.0.0.1"):
        assert await is_loopback(host), host
    for host in ("0.0.0.0", "::", "", "10.0.0.1", "192.168.1.10", "::ffff:10.0.0.1"):
        assert not await is_loopback(host), host


async def test_run_server_refuses_non_loopback_without_token(
    demo_db: tuple[Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _ = demo_db

    class NoBind:
        def __init__(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("run_server tried to bind")

    monkeypatch.setattr(aiohttp.web, "TCPSite", NoBind)
    for listen in ("0.0.0.0:8080", "[::]:8080", ":8080", "10.1.2.3:8080"):
        with pytest.raises(ServeError, match="refusing to listen"):
            await asyncio.wait_for(run_server(str(db), listen, None), 10)
    with pytest.raises(ServeError, match="at least 16"):
        await asyncio.wait_for(run_server(str(db), "0.0.0.0:8080", "short"), 10)
    with pytest.raises(ServeError, match="empty"):
        await asyncio.wait_for(run_server(str(db), "127.0.0.1:8080", ""), 10)
    with pytest.raises(ServeError, match="no such store"):
        await asyncio.wait_for(run_server(str(db.parent / "none.db"), "127.0.0.1:0", None), 10)


async def test_run_server_serves_on_loopback(
    demo_db: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    db, _ = demo_db
    task = asyncio.create_task(run_server(str(db), "127.0.0.1:0", TOKEN))
    try:
        url = ""
        async with asyncio.timeout(10):
            while not url:
                await asyncio.sleep(0.05)
                assert not task.done(), task
                for line in capsys.readouterr().out.splitlines():
                    if line.startswith("govmon serve: http://127.0.0.1:"):
                        url = line.split()[2]
        assert url.startswith("http://127.0.0.1:")
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.get(url + "healthz") as resp:
                assert resp.status == 401
            async with session.get(url + f"healthz?token={TOKEN}") as resp:
                assert resp.status == 200
                assert (await resp.json())["latest_scan"] == 2
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_empty_store(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    await (await SQLiteStore.open(db)).close()
    async with client_for(db) as client:
        resp = await client.get("/")
        assert resp.status == 200
        root = parse_html(await resp.text())
        assert "还没有检查记录" in root.find("p", id="no-scans").text()
        root = parse_html(await (await client.get("/scans")).text())
        assert "还没有检查记录" in root.find("table", id="scans").text()
        assert (await client.get("/scans/latest")).status == 404
        health = await client.get("/healthz")
        assert await health.json() == {"status": "ok", "latest_scan": None}
