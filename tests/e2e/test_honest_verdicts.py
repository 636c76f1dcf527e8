"""Never judge what was not read (issue 15): end to end, against real servers on 127.0.0.1.

One aiohttp application plays five hosts, told apart by their names (``[crawl] resolve`` maps
them to the server):

* ``good.test``: a small live channel, fresh news column, a page of numbered links;
* ``soft.test``: answers 200 with a "页面不存在" page for anything missing; its home page links
  a missing ``.xls`` (that page), a ``.pdf`` that is an ordinary web page, and a real PDF;
* ``wall.test``: an anti-bot front end: every request gets a 412 ``$_ts`` challenge;
* ``nowhere.test``: a name that does not resolve (not in ``resolve``, ``resolve_only``);
* ``closed.test``: mapped to a loopback port where nothing listens.
"""

from __future__ import annotations

import asyncio
import csv as csv_module
import datetime as dt
import io
import json
import signal
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from openpyxl import load_workbook  # type: ignore[import-untyped]

from checks.availability import scan_period
from checks.ipv6 import judge_literal
from crawler.cli import main as govmon
from crawler.core.coverage import unchecked_reason
from crawler.reports import render
from crawler.reports.model import Report
from tests.support.localserver import serve
from tests.support.scanproc import start_scan, wait_for_pages

pytestmark = pytest.mark.timeout(120)

AS_OF = "2020-06-16"
CHALLENGE = (
    "<html><head><meta charset='utf-8'></head><body><script>"
    "$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=59283;$_ts.cd='qtqlrrAlEaVtqq';"
    "</script></body></html>"
)
NOT_FOUND = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>提示信息</title></head><body>"
    "<div class='err'>对不起，您访问的页面不存在或已被删除。请返回首页继续浏览。</div>"
    "<p>江滨区人民政府网站 版权所有</p></body></html>"
)


def _page(title: str, body: str) -> web.Response:
    text = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body>{body}<div class='footer'>主办单位：江滨区人民政府</div></body></html>"
    )
    return web.Response(text=text, content_type="text/html", charset="utf-8")


def _good(path: str) -> web.StreamResponse:
    if path == "/":
        pager = "".join(f'<a href="/list/{n}.html">{n}</a> ' for n in (12345, 12346, 12347))
        return _page(
            "江滨区测试局",
            '<ul class="nav"><li><a href="/gzdt/">工作动态</a></li>'
            '<li><a href="/tzgg/">通知公告</a></li></ul>'
            '<div class="news"><ul><li><a href="/gzdt/t20200610_1.html">局务会议召开</a>'
            "<span>2020-06-10</span></li></ul></div>"
            f'<div class="pages">{pager}</div>'
            '<p><a href="/gone.html">旧版专题</a></p>',
        )
    if path == "/gone.html":
        # a 200 answer whose title says "not found", on a host that answers 404 honestly
        return _page("404 页面不存在", "<p>您访问的页面已删除。</p>")
    if path == "/tzgg/":
        rows = "".join(
            f'<li><a href="/tzgg/content_{k}.html">关于开展第{k}批安全生产大检查工作的通知</a></li>'
            for k in (1, 2, 3, 4)
        )
        return _page("通知公告", f'<div class="list"><ul>{rows}</ul></div>')
    if path.startswith("/tzgg/content_"):
        return _page("通知", "<div class='article'>一则没有发布日期的通知。</div>")
    if path == "/gzdt/":
        rows = "".join(
            f'<li><a href="/gzdt/t202006{d:02d}_{d}.html">工作动态第{d}条</a>'
            f"<span>2020-06-{d:02d}</span></li>"
            for d in (1, 5, 10)
        )
        return _page("工作动态", f'<div class="list"><ul>{rows}</ul></div>')
    if path.startswith("/gzdt/t"):
        return _page("工作动态文章", "<div class='article'>发布时间：2020-06-10 正文内容。</div>")
    if path.startswith("/list/"):
        return _page("列表", "<p>一页数字分页的内容。</p>")
    raise web.HTTPNotFound()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _soft(path: str) -> web.StreamResponse:
    if path == "/":
        return _page(
            "江滨区软404局",
            '<ul class="nav"><li><a href="/gzdt/">工作动态</a></li></ul>'
            '<div class="news"><ul><li><a href="/gzdt/t20200612_1.html">通知一则</a>'
            "<span>2020-06-12</span></li></ul></div>"
            '<p>附件：<a href="/files/missing.xls">统计表.xls</a>'
            ' <a href="/files/notice.pdf">通知.pdf</a> <a href="/files/ok.pdf">办法.pdf</a></p>',
        )
    if path == "/gzdt/":
        return _page(
            "工作动态",
            '<div class="list"><ul><li><a href="/gzdt/t20200612_1.html">通知一则</a>'
            "<span>2020-06-12</span></li></ul></div>",
        )
    if path == "/gzdt/t20200612_1.html":
        return _page("通知一则", "<div class='article'>发布时间：2020-06-12 正文。</div>")
    if path == "/files/ok.pdf":
        return web.Response(body=PDF, content_type="application/pdf")
    if path == "/files/notice.pdf":
        # an ordinary web page where a file should be: not the host's not-found page
        return _page(
            "关于开展安全生产检查的通知", "<div class='article'>" + "通知正文。" * 40 + "</div>"
        )
    return web.Response(text=NOT_FOUND, content_type="text/html", charset="utf-8")


def _app() -> web.Application:
    async def handle(request: web.Request) -> web.StreamResponse:
        host = request.host.split(":")[0]
        if host == "wall.test":
            return web.Response(status=412, text=CHALLENGE, content_type="text/html")
        if host == "soft.test":
            return _soft(request.path)
        if host == "echo.test":  # the same short page for every path, the home page's too
            return _page("首页", "<p>" + "欢迎访问本网站，这里是首页。" * 20 + "</p>")
        return _good(request.path)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with serve(_app()) as p:
        yield p


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config_text(port: int, sites: list[tuple[str, str]], closed: int | None = None) -> str:
    hosts = ("good.test", "soft.test", "wall.test", "echo.test")
    resolve = dict.fromkeys(hosts, f"127.0.0.1:{port}")
    if closed is not None:
        resolve["closed.test"] = f"127.0.0.1:{closed}"
    lines = [
        f"as_of = {AS_OF}",
        "[crawl]",
        "allow_private = true",
        "resolve_only = true",
        "timeout = 2",
        "retries = 1",
        "retry_backoff = 0.05",
        "recheck_delay = 0.1",
        "rate = 0",
        "concurrency = 4",
        "[crawl.resolve]",
        *(f'"{h}" = "{a}"' for h, a in resolve.items()),
        "",
    ]
    for sid, url in sites:
        lines += [
            "[[site]]",
            f'id = "{sid}"',
            f'name = "江滨区{sid}局"',
            f'unit = "江滨区{sid}局"',
            'kind = "department"',
            f'url = "{url}"',
            "",
        ]
    return "\n".join(lines)


def scan_and_report(tmp: Path, config: str, *extra: str) -> tuple[int, dict[str, Any], Path]:
    cfg = tmp / "govmon.toml"
    cfg.write_text(config, encoding="utf-8")
    db = tmp / "govmon.db"
    code = govmon(["scan", str(cfg), "--db", str(db), *extra])
    return code, report_json(db, tmp), db


def report_json(db: Path, tmp: Path, *args: str) -> dict[str, Any]:
    out = tmp / "report.json"
    assert govmon(["report", "--db", str(db), "--format", "json", "--output", str(out), *args]) == 0
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


def site_of(report: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in report["sites"] if s["id"] == sid)


def findings_of(report: dict[str, Any], sid: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["site"] == sid]


# -- 1. a site that cannot be read is never qualified ---------------------------------------------


@pytest.fixture(scope="module")
def district(port: int, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    tmp = tmp_path_factory.mktemp("district")
    closed = _closed_port()
    sites = [
        ("good", "http://good.test/"),
        ("soft", "http://soft.test/"),
        ("wall", "http://wall.test/"),
        ("echo", "http://echo.test/"),
        ("nowhere", "http://nowhere.test/"),
        ("closed", f"http://closed.test:{closed}/"),
    ]
    code, report, db = scan_and_report(tmp, config_text(port, sites, closed))
    assert code == 0
    return report, db


@pytest.mark.parametrize(("sid", "phase"), [("nowhere", "dns"), ("closed", "connect")])
def test_unreachable_site_is_unqualified_with_every_attempt(
    district: tuple[dict[str, Any], Path], sid: str, phase: str
) -> None:
    report, _ = district
    site = site_of(report, sid)
    assert site["verdict"] == "unqualified"
    assert site["vetoes"] == ["site.unreachable"]
    found = findings_of(report, sid)
    # nothing else is claimed: no IPv6, search, 找错, column or broken-link finding
    assert [f["check"] for f in found] == ["site.unreachable"], found
    detail = found[0]["detail"]
    assert detail["source"] == "scan"
    attempts = detail["attempts"]
    # the first try (and its retry, for a transient failure), then the confirming re-check
    assert len(attempts) >= 2
    assert any(a["recheck"] for a in attempts)
    assert any(not a["recheck"] for a in attempts)
    assert {a["phase"] for a in attempts} == {phase}
    assert all(a["at"] and a["elapsed_ms"] >= 0 for a in attempts)
    assert site["coverage"]["home"] == "unreachable"
    assert site["coverage"]["pages_read"] == 0


def test_live_site_is_judged_and_numbers_make_no_column(
    district: tuple[dict[str, Any], Path],
) -> None:
    report, _ = district
    good = site_of(report, "good")
    assert good["verdict"] == "qualified"
    cov = good["coverage"]
    assert cov["done"]
    assert cov["home"] == "read"
    assert cov["pages_found"] >= 5
    assert cov["pages_failed"] == 1  # /gone.html
    assert cov["pages_read"] + cov["pages_failed"] == cov["pages_found"]
    assert cov["columns_found"] == cov["columns_read"] >= 2
    names = {c["name"] for c in report["columns"] if c["site"] == "good"}
    assert "工作动态" in names
    assert not any(n.strip("0123456789") == "" for n in names), names
    assert not [f for f in findings_of(report, "good") if f["check"] == "message.no_statistics"]


def test_anti_bot_wall_is_unchecked_not_qualified(district: tuple[dict[str, Any], Path]) -> None:
    report, _ = district
    wall = site_of(report, "wall")
    assert wall["verdict"] == "unchecked"
    assert wall["unchecked"]["reason"] == "blocked"
    assert wall["score"] is None
    assert wall["vetoes"] == []
    assert wall["coverage"]["home"] == "blocked"
    # no claim from a home page never read
    checks = {f["check"] for f in findings_of(report, "wall")}
    assert not checks & {"site.no_ipv6", "site.no_search", "site.no_zhaocuo", "homepage.stale"}


def test_soft_404_attachment_is_broken_and_a_web_page_for_a_file_is_a_warning(
    district: tuple[dict[str, Any], Path],
) -> None:
    report, _ = district
    by_url = {f["url"]: f for f in findings_of(report, "soft")}
    missing = by_url["http://soft.test/files/missing.xls"]
    assert missing["check"] == "link.broken"
    assert missing["detail"]["kind"] == "attachment"
    assert missing["detail"]["reason"] == "soft-404"
    # a link to 通知.pdf names a category, but a file is never a column
    soft = site_of(report, "soft")["coverage"]
    assert soft["columns_found"] == soft["columns_read"] == 1
    page = by_url["http://soft.test/files/notice.pdf"]
    assert page["check"] == "link.wrong_type"
    assert page["severity"] == "warning"
    assert "http://soft.test/files/ok.pdf" not in by_url


def test_every_format_names_the_third_verdict(
    district: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    _, db = district
    texts = {}
    for fmt in ("md", "html", "csv"):
        out = tmp_path / f"r.{fmt}"
        assert govmon(["report", "--db", str(db), "--format", fmt, "--output", str(out)]) == 0
        texts[fmt] = out.read_text(encoding="utf-8")
    assert "未完成检查" in texts["md"]
    assert "反爬虫" in texts["md"]
    assert "未完成检查" in texts["html"]
    assert 'data-verdict="unchecked"' in texts["html"]
    # the CSV says which sites have no verdict before its table
    head = texts["csv"].lstrip("\ufeff").splitlines()
    assert head[0].startswith("状态 status,1 个网站未能完成检查")
    assert head[1].startswith("未完成检查 unchecked,wall,")
    assert head[3].startswith("编号 id,")  # then the table, after an empty row
    xlsx = tmp_path / "r.xlsx"
    assert govmon(["report", "--db", str(db), "--format", "xlsx", "--output", str(xlsx)]) == 0
    cells = [c.value for row in load_workbook(xlsx)["汇总"].iter_rows() for c in row]
    assert any(isinstance(v, str) and v.startswith("未完成检查") for v in cells)


# -- 3. an interrupted scan says so, and exits as shells expect -----------------------------------


def _slow_app(delay: float) -> web.Application:
    async def handle(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(delay)
        n = request.path.strip("/").removesuffix(".html") or "0"
        links = "".join(f'<a href="/{int(n) * 4 + k}.html">第{k}页</a>' for k in range(1, 5))
        return _page(f"页面{n}", links)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    return app


def test_sigint_stops_a_scan_with_130_and_unchecked_sites(tmp_path: Path) -> None:
    with serve(_slow_app(0.2)) as slow:
        cfg = tmp_path / "slow.toml"
        text = config_text(slow, [("good", "http://good.test/")]).replace(
            "resolve_only = true", 'resolve_only = true\nrobots = "ignore"'
        )
        cfg.write_text(text, encoding="utf-8")
        db = tmp_path / "slow.db"
        proc = start_scan(cfg, db)
        try:
            wait_for_pages(proc, db, 3)
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 130
    report = report_json(db, tmp_path)
    assert report["scan"]["status"] == "interrupted"
    good = site_of(report, "good")
    assert good["verdict"] == "unchecked"
    assert good["unchecked"]["reason"] == "interrupted"
    assert good["score"] is None
    html = tmp_path / "r.html"
    assert govmon(["report", "--db", str(db), "--format", "html", "--output", str(html)]) == 0
    page = html.read_text(encoding="utf-8")
    assert 'id="status-banner"' in page
    assert "检查未完成（已中断）" in page
    assert page.index("status-banner") < page.index('id="verdicts"')
    assert "interrupted" not in page.split('id="status-banner"')[1].split("</div>")[0]


# -- 4. availability over a fixed, reported period ------------------------------------------------


def _add_samples(db: Path, site: str, url: str, at: dt.datetime, n: int, failed: int) -> None:
    with sqlite3.connect(db) as conn:
        for i in range(n):
            moment = (at + dt.timedelta(minutes=30 * i)).isoformat()
            ok = i >= failed
            conn.execute(
                "INSERT INTO samples (site, url, at, ok, status, total_ms, failed_at, error)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (site, url, moment, int(ok), 200 if ok else None, 120,
                 None if ok else "connect", None if ok else "connect"),
            )  # fmt: skip


def test_availability_period_is_fixed_and_a_finished_report_never_changes(
    port: int, tmp_path: Path
) -> None:
    code, _, db = scan_and_report(tmp_path, config_text(port, [("good", "http://good.test/")]))
    assert code == 0
    tz = dt.timezone(dt.timedelta(hours=8))
    started = dt.datetime(2026, 9, 10, 9, 0, tzinfo=tz)
    with sqlite3.connect(db) as conn:  # the scan as if made in September
        conn.execute(
            "UPDATE scans SET started_at = ?, finished_at = ?",
            (started.isoformat(), (started + dt.timedelta(minutes=5)).isoformat()),
        )
    # 4 samples with 1 failure in the period: too few to judge, never a veto
    _add_samples(db, "good", "http://good.test/", started - dt.timedelta(days=2), 4, 1)
    report = report_json(db, tmp_path)
    period = report["scan"]["availability"]
    assert period["since"] == "2026-09-04T00:00:00+08:00"
    assert period["until"] == "2026-09-11T00:00:00+08:00"
    assert period["basis"] == "scan"
    assert period["min_samples"] == 20
    assert period["provisional"] is False
    good = site_of(report, "good")
    assert good["verdict"] == "qualified"
    assert good["availability"] == {"samples": 4, "failures": 1, "judged": False}
    codes = {f["check"]: f for f in findings_of(report, "good")}
    assert "site.unreachable" not in codes
    assert "site.availability" not in codes
    assert codes["site.samples_insufficient"]["severity"] == "info"
    # enough samples: 1 failure in 40 (2.5 %) is a deduction, not a veto
    _add_samples(db, "good", "http://good.test/", started - dt.timedelta(days=1), 36, 0)
    before = tmp_path / "before.md"
    assert govmon(["report", "--db", str(db), "--format", "md", "--output", str(before)]) == 0
    judged = report_json(db, tmp_path)
    assert {f["check"] for f in findings_of(judged, "good")} >= {"site.availability"}
    # samples after the period (all failed) change nothing: the report reads the same
    _add_samples(db, "good", "http://good.test/", started + dt.timedelta(days=3), 30, 30)
    after = tmp_path / "after.md"
    assert govmon(["report", "--db", str(db), "--format", "md", "--output", str(after)]) == 0
    assert after.read_bytes() == before.read_bytes()


def test_availability_of_a_fresh_scan_is_provisional(port: int, tmp_path: Path) -> None:
    code, report, _ = scan_and_report(tmp_path, config_text(port, [("good", "http://good.test/")]))
    assert code == 0
    assert report["scan"]["availability"]["provisional"] is True


# -- 5. comparisons that make sense ---------------------------------------------------------------


def test_compare_with_itself_previous_and_later(port: int, tmp_path: Path) -> None:
    config = config_text(port, [("good", "http://good.test/"), ("soft", "http://soft.test/")])
    code, first, db = scan_and_report(tmp_path, config)
    assert code == 0
    _add_samples(db, "good", "http://good.test/", dt.datetime.now(dt.UTC), 3, 1)
    code, second, _ = scan_and_report(tmp_path, config)
    assert code == 0
    second_id = second["scan"]["id"]
    same = report_json(db, tmp_path, "--scan", str(second_id), "--compare", str(second_id))
    assert same["comparison"]["new"] == []
    assert same["comparison"]["resolved"] == []
    prev = report_json(db, tmp_path, "--compare", "previous")
    assert prev["comparison"]["against"]["id"] == first["scan"]["id"]
    assert prev["comparison"]["new"] == []
    # comparing with a later scan is refused: bad usage, exit 2
    args = ["report", "--db", str(db), "--scan", str(first["scan"]["id"])]
    assert govmon([*args, "--compare", str(second_id)]) == 2
    assert govmon(["report", "--db", str(db), "--scan", "1", "--compare", "previous"]) == 2


# -- 9. the rules a small bug would break ----------------------------------------------------------


def test_a_not_found_title_is_broken_on_an_honest_host(
    district: tuple[dict[str, Any], Path],
) -> None:
    """good.test answers 404 for missing paths; one page answers 200 titled "404 页面不存在"."""
    report, _ = district
    gone = [f for f in findings_of(report, "good") if f["url"] == "http://good.test/gone.html"]
    assert len(gone) == 1
    assert gone[0]["check"] == "link.broken"
    assert gone[0]["detail"]["reason"] == "soft-404"


def test_a_column_of_undated_items_is_stale(district: tuple[dict[str, Any], Path]) -> None:
    """Undated items count as not updated (the 2015 table): 通知公告 lists four undated notices
    whose pages show no date either."""
    report, _ = district
    stale = [f for f in findings_of(report, "good") if f["check"] == "column.stale"]
    assert [f["url"] for f in stale] == ["http://good.test/tzgg/"]
    assert stale[0]["detail"]["newest"] is None
    assert "undated" in stale[0]["detail"]["reason"]


def test_csv_cells_are_escaped_and_never_formulas() -> None:
    nasty = ["=HYPERLINK(\"http://x\")", "+1", "-1", "@SUM(A1)", "\tcmd", "\rcmd",
             'a "quoted", field\nwith a line']  # fmt: skip
    findings = [
        {"id": f"id{i}", "check": "content.typo", "severity": "deduction", "site": "s",
         "unit": value, "column": value, "url": f"http://s.test/{i}", "page": None,
         "detail": {"text": value}}
        for i, value in enumerate(nasty)
    ]  # fmt: skip
    report = {"scan": {"status": "complete"}, "sites": [], "findings": findings}
    text = render(cast(Report, report), "csv")
    assert isinstance(text, str)
    rows = list(csv_module.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 1 + len(nasty)  # embedded quotes and newlines stay inside their cell
    for row, value in zip(rows[1:], nasty, strict=True):
        unit, column = row[4], row[5]
        assert unit == column
        if value[0] in "=+-@\t\r":
            assert unit == "'" + value  # quoted: a spreadsheet shows it as text
        else:
            assert unit == value


def test_ipv6_claims_only_from_evidence() -> None:

    v4 = judge_literal("http://59.37.12.8:8080/", "59.37.12.8")
    assert v4 is not None
    assert v4.code == "site.no_ipv6"
    assert v4.detail["reason"] == "published at an IPv4 address"
    assert judge_literal("http://[2001:db8::8]/", "2001:db8::8") is None
    assert judge_literal("http://[2001:db8::8]/", "[2001:db8::8]") is None


def test_the_schedule_window_is_the_sampling_period() -> None:

    tz = ZoneInfo("Asia/Shanghai")
    window = ["2020-06-16T00:00:00+08:00", "2020-06-21T00:00:00+08:00"]
    settings = {"availability": {"window": window, "days": 7, "min_samples": 30}}
    period = scan_period("2020-06-18T10:00:00+08:00", settings, tz)
    assert period.basis == "window"
    assert period.describe(tz)["since"] == window[0]
    assert period.describe(tz)["until"] == window[1]
    assert period.min_samples == 30
    # a scan made before coverage settings existed: the 7 days ending with its own day
    old = scan_period("2020-06-18T02:00:00+00:00", {}, tz)
    assert (old.basis, old.min_samples) == ("scan", 20)
    assert old.describe(tz)["since"] == "2020-06-12T00:00:00+08:00"


def test_a_home_page_like_the_not_found_page_is_still_read(
    district: tuple[dict[str, Any], Path],
) -> None:
    """echo.test answers its short home page for every path: the home page answered, so the
    site is reachable and read (never a soft-404, never site.unreachable)."""
    report, _ = district
    echo = site_of(report, "echo")
    assert echo["coverage"]["home"] == "read"
    assert echo["verdict"] != "unchecked"
    assert "site.unreachable" not in {f["check"] for f in findings_of(report, "echo")}


def test_a_home_page_that_cannot_be_parsed_leaves_the_site_unchecked() -> None:

    row = {"done": True, "home": "unreadable", "pages_found": 1}
    why = unchecked_reason(row, "complete")
    assert why is not None
    assert why.reason == "unreadable"
    assert unchecked_reason({**row, "home": "read", "pages_read": 1}, "complete") is None
