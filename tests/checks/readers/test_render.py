"""The browser fallback's bounds (checks/readers/render.py), end to end in headless Chromium.

One site on 127.0.0.71 whose columns are filled by ``fetch()``: one that loads (with pictures, a
style sheet and a font the browser must not fetch, and a request to an address outside every
configured site that the private-address rule must stop), one whose data never comes within
``render_timeout``, one whose data request fails. The scan must read the first, report the
other two ``column.unreadable`` (never blank), send nothing to 127.0.0.72, and fetch no image,
style sheet or font. The browser restarted after every page (``render_restart = 1``) and after
a crash still renders. Skips without a browser unless ``GOVMON_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from checks.readers.render import open_renderer
from crawler.config import CrawlSettings
from crawler.net.fetcher import FetchResult
from tests.e2e.test_scripted import Scan, require_browser, run_scan
from tests.support.localserver import serve

pytestmark = pytest.mark.timeout(180)

AS_OF = dt.date(2020, 6, 16)
MEDIA = ("img", "css", "fonts", "media")
SHELL = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{name}</title>
<link rel="stylesheet" href="/css/site.css">
<style>@font-face {{ font-family: f; src: url(/fonts/f.woff2); }} body {{ font-family: f; }}</style>
</head><body><div class="nav"><a href="/">首页</a></div>
<img src="/img/banner.png"><ul id="rows"></ul>
<script>
{extra}
document.body.insertAdjacentHTML('beforeend', '<img src="/img/by-script.png">' +
  '<link rel="stylesheet" href="/css/by-script.css"><video src="/media/by-script.mp4"></video>');
fetch('{api}').then(function (r) {{ if (!r.ok) throw new Error(r.status); return r.json(); }})
  .then(function (rows) {{
    document.getElementById('rows').innerHTML = rows.map(function (it) {{
      return '<li><a href="' + it.url + '">' + it.title + '</a><span>' + it.date + '</span></li>';
    }}).join('');
  }});
</script></body></html>"""


class Site:
    def __init__(self) -> None:
        self.log: list[str] = []
        self.outside: list[str] = []
        self.outside_port = 0

    def app(self) -> web.Application:
        async def handle(request: web.Request) -> web.StreamResponse:
            self.log.append(f"{request.method} {request.path_qs}")
            path = request.path
            if path == "/":
                rows = "".join(
                    f'<li><a href="/news/a{i}.html">动态{i}</a><span>2020-06-1{i}</span></li>'
                    for i in range(3)
                )
                nav = (
                    '<a href="/news/">工作动态</a> <a href="/notice/">通知公告</a> '
                    '<a href="/policy/">政策文件</a> <a href="/rsxx/">人事信息</a>'
                )
                return _html(f"<html><body><div class='nav'>{nav}</div><ul>{rows}</ul></body>")
            if path.startswith("/news/a"):
                return _html("<html><body><h1>动态</h1><p>发布时间：2020-06-12</p></body></html>")
            leak = f"fetch('http://127.0.0.72:{self.outside_port}/leak');"
            for folder, name, api, extra in (
                ("/news/", "工作动态", "/api/news", leak),
                ("/notice/", "通知公告", "/api/slow", ""),
                ("/policy/", "政策文件", "/api/broken", ""),
            ):
                if path == folder:
                    return _html(SHELL.format(name=name, api=api, extra=extra))
            if path == "/api/news":
                news = [{"title": f"动态{i}", "url": f"/news/a{i}.html", "date": f"2020-06-1{i}"}
                        for i in range(3)]  # fmt: skip
                return web.json_response(news)
            if path.split("/")[1] in MEDIA:  # answered (a HEAD is enough for the link check)
                return web.Response(body=b"x", content_type="application/octet-stream")
            if path == "/rsxx/":  # page 1 in the page; the pager redraws the list in place
                rows = "".join(
                    f'<li><a href="/news/a{i}.html">人事{i}</a><span>2020-06-1{i}</span></li>'
                    for i in range(3)
                )
                pager = (
                    '<div class="page">'
                    '<a href="javascript:;" onclick="loadPage(2)">下一页</a></div>'
                )
                return _html(
                    f"<html><body><ul id='rows'>{rows}</ul>{pager}"
                    "<script src='/js/ajaxpager.js'></script></body></html>"
                )
            if path == "/js/ajaxpager.js":
                script = (
                    "function loadPage(n) { fetch('/api/news?page=' + n).then(function (r) {"
                    " return r.json(); }).then(function (rows) { document.getElementById('rows')"
                    ".innerHTML = rows.map(function (it) { return '<li>' + it.title + '</li>';"
                    " }).join(''); }); }"
                )
                return web.Response(text=script, content_type="application/javascript")
            if path == "/api/slow":
                await asyncio.sleep(8)
                return web.json_response([])
            if path == "/api/broken":
                return web.Response(status=500, text="error")
            return web.Response(status=404, text="not found")

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        return app

    def outside_app(self) -> web.Application:
        async def handle(request: web.Request) -> web.StreamResponse:
            self.outside.append(request.path_qs)
            return web.json_response([])

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        return app


def _html(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/html", charset="utf-8")


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Site, int]]:
    running = Site()
    with serve(running.outside_app(), "127.0.0.72") as outside:
        running.outside_port = outside
        with serve(running.app(), "127.0.0.71") as port:
            yield running, port


def _config(port: int, **crawl: Any) -> str:
    extra = "\n".join(f"{k} = {v}" for k, v in crawl.items())
    return f"""as_of = {AS_OF.isoformat()}
[crawl]
resolve_only = true
rate = 0
timeout = 10
retries = 0
recheck_delay = 0.1
robots = "ignore"
render_timeout = 3
{extra}

[[site]]
id = "r"
name = "r"
unit = "r"
url = "http://127.0.0.71:{port}/"
"""


@pytest.fixture(scope="module")
def scan(site: tuple[Site, int], tmp_path_factory: pytest.TempPathFactory) -> Scan:
    require_browser()
    return run_scan(tmp_path_factory.mktemp("render"), _config(site[1], render_restart=1))


def test_a_render_is_bounded_and_honest(scan: Scan) -> None:
    judged = {(check, path) for check, _, path in scan.judged()}
    assert judged == {
        ("column.unreadable", "/notice/"),
        ("column.unreadable", "/policy/"),
        ("column.unreadable", "/rsxx/"),
    }
    in_place = scan.finding("column.unreadable", "r", "/rsxx/")["detail"]
    assert in_place["part"] == "pager"  # its first page was read (fresh: nothing else to say)
    assert "in place" in in_place["reason"]
    slow = scan.finding("column.unreadable", "r", "/notice/")["detail"]["reason"]
    assert slow.startswith("render timed out after 3 s"), slow
    broken = scan.finding("column.unreadable", "r", "/policy/")["detail"]["reason"]
    assert broken.startswith("its data request failed: "), broken
    assert "(http 500)" in broken
    assert scan.columns[("r", "工作动态")]["items"] == 3
    assert "2 rendered, 2 could not be read" in scan.summary


def test_the_browser_fetches_through_govmon(site: tuple[Site, int], scan: Scan) -> None:
    running, _ = site
    assert running.outside == []  # the private-address rule held for the page's own request
    fetched = set(running.log)
    assert "GET /api/news" in fetched
    # images, style sheets, fonts and media are checked as links (HEAD) where the page shows
    # them, rendered or not; the browser itself never loads them (a GET)
    loaded = {r for r in fetched if r.startswith("GET /") and r.split("/")[1] in MEDIA}
    assert loaded == set()
    assert "HEAD /img/by-script.png" in fetched  # the rendered page's picture, checked


async def test_the_browser_starts_again_after_a_crash() -> None:
    require_browser()
    page = b"<html><body><ul id=x></ul><script>x.innerHTML='<li>ok</li>'</script></body></html>"

    async def fetch(url: str, **_: Any) -> FetchResult:
        return FetchResult(url=url, final_url=url, status=404, body=b"")

    renderer = await open_renderer(CrawlSettings(render_restart=50), fetch)
    try:
        result = FetchResult(url="http://a.test/", final_url="http://a.test/", status=200,
                             content_type="text/html", body=page)  # fmt: skip
        first = await renderer.render("http://a.test/", result, pagers=False)
        assert "<li>ok</li>" in first.html
        await renderer._browser.close()  # as if Chromium had crashed
        again = await renderer.render("http://a.test/", result, pagers=False)
        assert "<li>ok</li>" in again.html
        assert renderer.restarts == 1
    finally:
        await renderer.close()
