"""One hostile page must not stall the scan (issue 19, items 2 and 3).

A site on 127.0.0.1 serves two pages of 120,000 nested ``div`` elements (one of them a column's
list page) and a column page with 10,000 ``createPageHTML(name, …)`` calls; a plain site beside
it is scanned in the same run. The plain site's crawl is timed by its own server, alone and
next to the hostile one: a page that held the event loop (17 s for 100,000 nested ``div``\\ s,
50 s for the pager) would stretch it by that much. The nested pages are reported unreadable,
never blank or stale.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from checks.readers import extract
from checks.readers.extract import UnreadablePage, parse_html
from checks.readers.nesting import MAX_PARSE_WORK, check_parse_work, parse_work
from crawler.cli import main
from tests.support.localserver import serve

DEPTH = 120_000


@dataclass
class Log:
    times: list[float] = field(default_factory=list)

    @property
    def span(self) -> float:
        return self.times[-1] - self.times[0] if len(self.times) > 1 else 0.0


def _html(title: str, body: str) -> str:
    return f"<html><head><title>{title}</title></head><body>{body}</body></html>"


def plain_site(log: Log) -> web.Application:
    """Ten fresh news articles, a stale notice column and a broken link."""

    @web.middleware
    async def timing(request: web.Request, handler: Any) -> web.StreamResponse:
        log.times.append(time.monotonic())
        response: web.StreamResponse = await handler(request)
        return response

    async def home(request: web.Request) -> web.Response:
        nav = "<ul class='nav'><li><a href='/gzdt/'>工作动态</a></li>"
        nav += "<li><a href='/tzgg/'>通知公告</a></li></ul>"
        news = "".join(
            f"<li><a href='/gzdt/a{i}.html'>区政府召开第{i}次常务会议</a>"
            f"<span>2020-06-1{i}</span></li>"
            for i in range(10)
        )
        return web.Response(
            text=_html("平安局", nav + f"<ul class='list'>{news}</ul><a href='/gone.html'>旧</a>"),
            content_type="text/html",
        )

    async def news(request: web.Request) -> web.Response:
        rows = "".join(
            f"<li><a href='a{i}.html'>区政府召开第{i}次常务会议</a><span>2020-06-1{i}</span></li>"
            for i in range(10)
        )
        return web.Response(text=_html("工作动态", f"<ul>{rows}</ul>"), content_type="text/html")

    async def notices(request: web.Request) -> web.Response:
        rows = "".join(
            f"<li><a href='n{i}.html'>关于做好第{i}项工作的通知</a>"
            f"<span>2019-0{i + 1}-01</span></li>"
            for i in range(5)
        )
        return web.Response(text=_html("通知公告", f"<ul>{rows}</ul>"), content_type="text/html")

    async def article(request: web.Request) -> web.Response:
        return web.Response(text=_html("文章", "<p>正文</p>"), content_type="text/html")

    app = web.Application(middlewares=[timing])
    app.router.add_get("/", home)
    app.router.add_get("/gzdt/", news)
    app.router.add_get("/tzgg/", notices)
    app.router.add_get("/{c}/{a}.html", article)
    return app


def nested_page(depth: int = DEPTH) -> str:
    return _html("通知公告", "<div>" * depth + "很深" + "</div>" * 10)


def pager_page(calls: int = 10_000) -> str:
    script = "".join(f"createPageHTML(v{i},0,'index','html');" for i in range(calls))
    rows = "<li><a href='a1.html'>区政府召开常务会议</a><span>2020-06-15</span></li>"
    return _html("工作动态", f"<ul>{rows}</ul><script>{script}</script>")


def hostile_site() -> web.Application:
    async def home(request: web.Request) -> web.Response:
        nav = (
            "<ul class='nav'><li><a href='/tzgg/'>通知公告</a></li>"
            "<li><a href='/gzdt/'>工作动态</a></li></ul>"
            "<a href='/deep.html'>深</a>"
        )
        return web.Response(text=_html("深渊局", nav), content_type="text/html")

    async def nested(request: web.Request) -> web.Response:
        return web.Response(text=nested_page(), content_type="text/html")

    async def pager(request: web.Request) -> web.Response:
        return web.Response(text=pager_page(), content_type="text/html")

    async def article(request: web.Request) -> web.Response:
        return web.Response(text=_html("文章", "<p>正文</p>"), content_type="text/html")

    app = web.Application()
    app.router.add_get("/", home)
    app.router.add_get("/tzgg/", nested)
    app.router.add_get("/deep.html", nested)
    app.router.add_get("/gzdt/", pager)
    app.router.add_get("/gzdt/{a}.html", article)
    return app


def _config(sites: dict[str, int]) -> str:
    text = """\
as_of = 2020-06-16

[crawl]
rate = 0
concurrency = 4
timeout = 30
retries = 0
recheck_delay = 0.05
allow_private = true

[checks]
disable = ["site"]
"""
    for name, port in sites.items():
        text += (
            f'\n[[site]]\nid = "{name}"\nname = "{name}"\nunit = "{name}"\n'
            f'url = "http://127.0.0.1:{port}/"\n'
        )
    return text


def _scan(tmp: Path, sites: dict[str, int], name: str) -> dict[str, Any]:
    cfg = tmp / f"{name}.toml"
    cfg.write_text(_config(sites), encoding="utf-8")
    db, out = tmp / f"{name}.db", tmp / f"{name}.json"
    assert main(["scan", str(cfg), "--db", str(db)]) == 0
    assert main(["report", "--db", str(db), "--output", str(out)]) == 0
    report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return report


def _findings(report: dict[str, Any], site: str) -> set[tuple[str, str]]:
    """``(check, path)`` of a site's findings (the ports differ from run to run)."""
    return {
        (f["check"], "/" + f["url"].split("/", 3)[3])
        for f in report["findings"]
        if f["site"] == site
    }


def test_hostile_pages_do_not_hold_the_neighbour_site(tmp_path: Path) -> None:
    alone, beside = Log(), Log()
    with serve(plain_site(alone)) as port:
        base = _scan(tmp_path, {"plain": port}, "alone")
    with serve(plain_site(beside)) as port, serve(hostile_site()) as hostile:
        both = _scan(tmp_path, {"plain": port, "deep": hostile}, "both")
    # the plain site's findings do not change beside the hostile one
    found = _findings(both, "plain")
    assert found == _findings(base, "plain")
    assert ("link.broken", "/gone.html") in found
    assert ("column.stale", "/tzgg/") in found
    # its crawl is not held up: a stalled event loop would add 17 s (nested) or 50 s (pager)
    assert len(beside.times) == len(alone.times)
    assert beside.span <= 5 * alone.span + 3.0, (alone.span, beside.span)
    # the nested pages: unreadable, neither followed nor judged
    deep = _findings(both, "deep")
    assert {("page.unreadable", "/deep.html"), ("page.unreadable", "/tzgg/")} <= deep, deep
    reasons = {f["detail"]["reason"] for f in both["findings"] if f["check"] == "page.unreadable"}
    assert reasons == {"nesting too deep"}
    assert not {("column.blank", "/tzgg/"), ("column.stale", "/tzgg/")} & deep, deep
    deep_site = next(s for s in both["sites"] if s["id"] == "deep")
    assert "column.blank" not in deep_site["vetoes"]


def test_the_estimate_refuses_the_nested_page_in_one_pass() -> None:
    """Counted, not timed: the pass stops as soon as the limit is passed."""
    page = nested_page()
    work = parse_work(page, MAX_PARSE_WORK)
    assert MAX_PARSE_WORK < work <= MAX_PARSE_WORK + DEPTH
    with pytest.raises(UnreadablePage) as info:
        parse_html("http://h/", page)
    assert info.value.reason == "nesting too deep"


def test_ordinary_and_held_pages_are_read() -> None:
    """What held before stays readable: 250k nested tables, a malformed page's 20,000 levels
    through tables, 130k-row lists, long flat pages, sloppy unclosed lists and cells."""
    for page in (
        "<table><tr><td>" * 83_000,
        "<div><span><table><tr><td>" * 4_000,
        "<table>" + "<tr><td><a href='a.html'>标题</a></td><td>2020-06-15</td></tr>" * 130_000,
        "<ul>" + "<li><a href='a.html'>标题</a><span>2020-06-15</span>" * 50_000,
        "<table>" + "<tr><td>a<td>b" * 50_000,
        "<div><p>text</div>" * 20_000,
        "<p>" + "<br>" * 200_000,
        "<div>x</div>" * 200_000,
        "<font>" * 300 + "<b><i>" * 300 + "<p>文字</p>" * 10_000,
    ):
        check_parse_work(page)


async def test_a_slow_parse_the_estimate_missed_does_not_hold_the_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second line of defence: with the estimate switched off, a slow page is parsed in a
    worker thread, the event loop keeps running, and past the time limit the page is
    unreadable (``parsing too slow``)."""
    monkeypatch.setattr(extract, "check_parse_work", lambda text, limit=0: None)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    running = asyncio.create_task(ticker())
    try:
        with pytest.raises(UnreadablePage) as info:
            await extract.parse_html_off_loop("http://h/", "<div>" * 30_000, time_limit=0.3)
    finally:
        running.cancel()
    assert info.value.reason == "parsing too slow"
    assert ticks >= 10  # the loop ran all along (held, it would not have ticked at all)


# markup whose parse grows with the square of its size (found by timing lexbor on random tag
# soup), and markup whose parse stays linear: the estimate must grow alike (counted, not timed)
QUADRATIC = (
    "<div>",
    "<span>",
    "<b></div>",
    "<ul><li>",
    "<svg><g>",
    "<!-- --!><div>",
    "<td><font></div><template><math>",  # <font> without attributes stays in MathML
    "<table/></p><div><td><nobr><g/>",  # foster parenting walks the whole stack
    "<dd></template><listing><option><table/><math></table>",  # </table> from MathML
    "<form><body><div/><h2></form>",  # </form> leaves what it holds open
    "</b><a href=1><marquee><a>",  # taking an <a> out of the formatting list
    "<td><span><table/></b></p >",  # </p> in a table inserts a foster-parented <p>
    "<applet><summary><select><option><center><!-->",  # a select drops most tags
)
LINEAR = ("<div>x</div>", "<table><tr><td>", "<li>x", "<p>x", "<tr><td>a<td>b", "<br>")


@pytest.mark.parametrize("unit", QUADRATIC)
def test_the_estimate_grows_with_quadratic_markup(unit: str) -> None:
    small = parse_work(unit * (15_000 // len(unit)))
    large = parse_work(unit * (60_000 // len(unit)))
    assert large >= 10 * small > 0, (small, large)  # four times the markup: 16 times the work


@pytest.mark.parametrize("unit", LINEAR)
def test_the_estimate_stays_linear_on_linear_markup(unit: str) -> None:
    small = parse_work(unit * (15_000 // len(unit)))
    large = parse_work(unit * (60_000 // len(unit)))
    assert large <= 5 * max(small, 1), (small, large)
