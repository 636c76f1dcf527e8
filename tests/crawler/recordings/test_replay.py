"""Record a small site with the real fetcher, replay the WARC, fetch it again through the replay.

Every server listens on 127.0.0.1 with an ephemeral port; the site's host name is mapped to it
by the fetcher's resolver (``only``: no name is ever looked up), and the replaying fetcher
reaches nothing but the replay server (its proxy).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import gzip
import http.client
import io
import json
import re
import signal
import socket
import subprocess
import sys
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from crawler.net.fetcher import Exchange, Failure, FetchResult, GovResolver, HttpFetcher
from crawler.recordings import (
    Located,
    RecordedResponse,
    WarcError,
    WarcRecorder,
    index_records,
    read_exchanges,
    read_response_at,
)
from crawler.recordings.replay import (
    INDEX,
    REPLAY_HEADER,
    ReplayIndex,
    make_app,
    parse_listen,
    run_replay,
)
from tests.support.realdata import REALDATA, needs_realdata

pytestmark = pytest.mark.timeout(60)

HOST = "www.district.test"
BASE = f"http://{HOST}"
MAX_BODY = 100_000
HOME = '<html><body><a href="/新闻/index.html">新闻</a><a href="/old">旧</a></body></html>'
NEWS = "<html><head><title>工作动态</title></head><body>区政府召开常务会议</body></html>"
NEWS_GBK = NEWS.encode("gbk")
NEWS_PATH = "/%E6%96%B0%E9%97%BB/index.html"
PDF = b"%PDF-1.4\n" + b"0" * 5000
BIG = b"<html>" + b"y" * 300_000 + b"</html>"
LAST_MODIFIED = "Tue, 16 Jun 2020 01:00:00 GMT"
AT = dt.datetime(2020, 6, 16, 1, 0, 0, tzinfo=dt.UTC)


def site() -> web.Application:
    async def home(request: web.Request) -> web.Response:
        return web.Response(text=HOME, content_type="text/html", headers={"Set-Cookie": "s=1"})

    async def news(request: web.Request) -> web.Response:
        return web.Response(
            body=NEWS_GBK,
            content_type="text/html",
            charset="gbk",
            headers={"Last-Modified": LAST_MODIFIED},
        )

    async def compressed(request: web.Request) -> web.Response:
        response = web.Response(text=HOME * 50, content_type="text/html")
        response.enable_compression(force=web.ContentCoding.gzip)
        return response

    async def old(request: web.Request) -> web.Response:
        # a Location with raw UTF-8 bytes, as some servers send it
        return web.Response(status=302, headers={"Location": "/新闻/index.html"})

    async def pdf(request: web.Request) -> web.Response:
        return web.Response(body=PDF, content_type="application/pdf")

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=BIG, content_type="text/html")

    async def gone(request: web.Request) -> web.Response:
        return web.Response(status=404, text="not here", content_type="text/plain")

    async def search(request: web.Request) -> web.Response:
        return web.Response(text=f"<p>query {request.query_string}</p>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/", home)
    app.router.add_get("/新闻/index.html", news)
    app.router.add_get("/gz.html", compressed)
    app.router.add_get("/old", old)
    app.router.add_get("/files/doc.pdf", pdf)
    app.router.add_get("/big.html", big)
    app.router.add_get("/gone", gone)
    app.router.add_get("/search", search)
    return app


# (method, url) fetched while recording and again through the replay
FETCHES = [
    ("GET", f"{BASE}/"),
    ("GET", f"{BASE}{NEWS_PATH}"),
    ("GET", f"{BASE}/gz.html"),
    ("GET", f"{BASE}/old"),
    ("HEAD", f"{BASE}/files/doc.pdf"),
    ("GET", f"{BASE}/big.html"),
    ("GET", f"{BASE}/gone"),
    ("GET", f"{BASE}/search?q=%D6%D0%CE%C4"),
]
HEADERS_THAT_MATTER = ("Content-Type", "Location", "Last-Modified", "Set-Cookie")


class Collect:
    """A recorder keeping the exchanges and failures (and passing them on to another recorder)."""

    def __init__(self, inner: WarcRecorder | None = None) -> None:
        self.inner = inner
        self.exchanges: list[Exchange] = []
        self.failures: list[Failure] = []

    def record(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)
        if self.inner is not None:
            self.inner.record(exchange)

    def record_failure(self, failure: Failure) -> None:
        self.failures.append(failure)
        if self.inner is not None:
            self.inner.record_failure(failure)

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()

    def last(self, method: str, url: str) -> Exchange:
        return [e for e in self.exchanges if e.method == method and e.url == url][-1]


@contextlib.asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        tcp = web.TCPSite(runner, "127.0.0.1", 0)
        await tcp.start()
        yield int(runner.addresses[0][1])
    finally:
        await runner.cleanup()


def fetcher(
    *, recorder: Collect | None = None, site_port: int | None = None, proxy: str | None = None
) -> HttpFetcher:
    overrides: dict[str, tuple[str, int | None]] = {}
    if site_port is not None:
        overrides[HOST] = ("127.0.0.1", site_port)
    return HttpFetcher(
        user_agent="govmon-test",
        timeout=10,
        max_body=MAX_BODY,
        max_redirects=5,
        resolver=GovResolver(overrides, only=True, allow_private=True),
        recorder=recorder,
        proxy=proxy,
    )


async def fetch_all(client: HttpFetcher) -> list[FetchResult]:
    try:
        return [await client.fetch(url, method=method) for method, url in FETCHES]
    finally:
        await client.close()


def values(exchange: Exchange, name: str) -> list[str]:
    return [v for k, v in exchange.response_headers if k.lower() == name.lower()]


@pytest.fixture
async def recorded(tmp_path: Path) -> tuple[Path, list[FetchResult], Collect]:
    """The site fetched once with a WARC recorder: the file, the results, the exchanges."""
    path = tmp_path / "site.warc.gz"
    original = Collect(WarcRecorder(path))
    async with serving(site()) as port:
        results = await fetch_all(fetcher(recorder=original, site_port=port))
    original.close()
    return path, results, original


async def test_replay_through_proxy_matches_the_recording(
    recorded: tuple[Path, list[FetchResult], Collect],
) -> None:
    path, results, original = recorded
    assert [r.error for r in results] == [None] * len(FETCHES)
    again = Collect()
    app = make_app([path])
    async with serving(app) as port:
        replayed = await fetch_all(fetcher(recorder=again, proxy=f"http://127.0.0.1:{port}"))
    assert app[INDEX].misses == 0
    for first, second in zip(results, replayed, strict=True):
        assert second.error is None, second.error_detail
        assert (second.status, second.final_url, second.redirects) == (
            first.status,
            first.final_url,
            first.redirects,
        )
        assert second.body == first.body
        assert second.truncated == first.truncated
        assert second.content_type == first.content_type
        assert second.requests == first.requests
    assert len(again.exchanges) == len(original.exchanges)
    for one, two in zip(original.exchanges, again.exchanges, strict=True):
        assert (two.method, two.url, two.status, two.reason) == (
            one.method,
            one.url,
            one.status,
            one.reason,
        )
        assert two.body == one.body
        for name in HEADERS_THAT_MATTER:
            assert values(two, name) == values(one, name), (one.url, name)
        assert values(two, REPLAY_HEADER) == ["hit"]

    by_url = {r.url: r for r in replayed}
    news = by_url[f"{BASE}{NEWS_PATH}"]
    assert news.body == NEWS_GBK
    assert news.content_type == "text/html; charset=gbk"
    assert by_url[f"{BASE}/old"].final_url == f"{BASE}{NEWS_PATH}"
    assert by_url[f"{BASE}/gz.html"].body == (HOME * 50).encode()
    assert by_url[f"{BASE}/big.html"].truncated
    assert by_url[f"{BASE}/gone"].status == 404
    assert by_url[f"{BASE}/search?q=%D6%D0%CE%C4"].body == b"<p>query q=%D6%D0%CE%C4</p>"
    # the gzip page is served decoded, and says so
    gz = again.last("GET", f"{BASE}/gz.html")
    assert values(original.last("GET", f"{BASE}/gz.html"), "Content-Encoding") == ["gzip"]
    assert values(gz, "Content-Encoding") == []
    assert values(gz, "Content-Length") == [str(len((HOME * 50).encode()))]
    # a HEAD replays the declared length of the entity, no body
    head = again.last("HEAD", f"{BASE}/files/doc.pdf")
    assert values(head, "Content-Length") == [str(len(PDF))]
    assert head.body == b""
    # the cut body is marked as cut
    assert values(again.last("GET", f"{BASE}/big.html"), "X-Govmon-Truncated") == ["true"]


async def test_misses_head_from_get_and_get_from_head(
    recorded: tuple[Path, list[FetchResult], Collect],
) -> None:
    path, _, _ = recorded
    seen = Collect()
    app = make_app([path])
    async with serving(app) as port:
        client = fetcher(recorder=seen, proxy=f"http://127.0.0.1:{port}")
        try:
            miss = await client.fetch(f"{BASE}/never-recorded.html")
            other_host = await client.fetch("http://other.district.test/")
            head = await client.fetch(f"{BASE}{NEWS_PATH}", method="HEAD")
            from_head = await client.fetch(f"{BASE}/files/doc.pdf")
            recorded_404 = await client.fetch(f"{BASE}/gone")
        finally:
            await client.close()
    assert miss.status == 404
    assert b"not recorded: GET http://www.district.test/never-recorded.html" in miss.body
    assert values(seen.last("GET", f"{BASE}/never-recorded.html"), REPLAY_HEADER) == ["miss"]
    assert other_host.status == 404
    assert app[INDEX].misses == 2
    # a HEAD answered from the recorded GET: its headers and length, no body
    assert head.status == 200
    head_exchange = seen.last("HEAD", f"{BASE}{NEWS_PATH}")
    assert values(head_exchange, REPLAY_HEADER) == ["from-get"]
    assert values(head_exchange, "Content-Length") == [str(len(NEWS_GBK))]
    assert values(head_exchange, "Content-Type") == ["text/html; charset=gbk"]
    assert head.body == b""
    # a GET answered from the recorded HEAD: its status and type, an empty body
    assert from_head.status == 200
    assert from_head.content_type == "application/pdf"
    assert from_head.body == b""
    assert values(seen.last("GET", f"{BASE}/files/doc.pdf"), REPLAY_HEADER) == ["from-head"]
    # a recorded 404 is not a miss
    assert recorded_404.body == b"not here"
    assert values(seen.last("GET", f"{BASE}/gone"), REPLAY_HEADER) == ["hit"]


async def test_direct_requests_with_host_header(
    recorded: tuple[Path, list[FetchResult], Collect],
) -> None:
    path, _, _ = recorded
    async with serving(make_app([path])) as port, aiohttp.ClientSession() as session:
        origin = f"http://127.0.0.1:{port}"
        async with session.get(origin + NEWS_PATH, headers={"Host": HOST}) as response:
            assert response.status == 200
            assert await response.read() == NEWS_GBK
            assert response.headers["Last-Modified"] == LAST_MODIFIED
        async with session.get(
            origin + "/old", headers={"Host": HOST}, allow_redirects=False
        ) as response:
            assert response.status == 302
            # the Location bytes as the site sent them (raw UTF-8)
            location = next(v for k, v in response.raw_headers if k == b"Location")
            assert location == "/新闻/index.html".encode()
        async with session.get(origin + NEWS_PATH, headers={"Host": "elsewhere.test"}) as resp:
            assert resp.status == 404
            assert resp.headers[REPLAY_HEADER] == "miss"
        # the same path asked for as https is another URL: not recorded
        async with session.get(
            origin + NEWS_PATH, headers={"Host": HOST, "X-Forwarded-Proto": "https"}
        ) as response:
            assert response.status == 404


async def raw_request(port: int, request: bytes) -> tuple[bytes, bytes]:
    """Send ``request`` as is; the response's head and body (the server closes)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


async def test_request_targets_byte_for_byte(
    recorded: tuple[Path, list[FetchResult], Collect],
) -> None:
    path, _, _ = recorded
    async with serving(make_app([path])) as port:
        # absolute form, as to a proxy, with a GBK-encoded query
        head, body = await raw_request(
            port,
            b"GET http://www.district.test/search?q=%D6%D0%CE%C4 HTTP/1.1\r\n"
            b"Host: www.district.test\r\nConnection: close\r\n\r\n",
        )
        assert head.startswith(b"HTTP/1.1 200")
        assert body == b"<p>query q=%D6%D0%CE%C4</p>"
        # the same query in UTF-8 is another URL
        head, _ = await raw_request(
            port,
            b"GET http://www.district.test/search?q=%E4%B8%AD%E6%96%87 HTTP/1.1\r\n"
            b"Host: www.district.test\r\nConnection: close\r\n\r\n",
        )
        assert head.startswith(b"HTTP/1.1 404")
        # absolute form without a path is the root; the host comes from the target
        head, body = await raw_request(
            port,
            b"GET http://WWW.District.test HTTP/1.1\r\nHost: wrong.test\r\n"
            b"Connection: close\r\n\r\n",
        )
        assert head.startswith(b"HTTP/1.1 200")
        assert body == HOME.encode()
        # the Chinese path raw in origin form reaches the percent-encoded recording
        head, body = await raw_request(
            port,
            b"GET " + NEWS_PATH.encode() + b" HTTP/1.1\r\nHost: www.district.test:80\r\n"
            b"Connection: close\r\n\r\n",
        )
        assert head.startswith(b"HTTP/1.1 200")
        assert body == NEWS_GBK


def https_exchanges() -> list[Exchange]:
    def make(
        url: str, status: int, headers: list[tuple[str, str]], body: bytes, method: str = "GET"
    ) -> Exchange:
        return Exchange(method, url, [("Host", HOST)], status, "", headers, body, False, AT)

    return [
        make(
            "https://www.district.test/secure/",
            301,
            [("Location", "https://www.district.test/secure/index.html")],
            b"",
        ),
        make(
            "https://www.district.test/secure/index.html",
            200,
            [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")],
            "<html>政务公开</html>".encode(),
        ),
        make("https://www.district.test/raw", 200, [], b"%PDF-1.4 no type"),
        make("https://www.district.test/down", 503, [("Retry-After", "120")], b"busy"),
    ]


async def test_https_urls_replay_over_plain_http(tmp_path: Path) -> None:
    path = tmp_path / "https.warc.gz"
    with WarcRecorder(path) as recorder:
        for exchange in https_exchanges():
            recorder.record(exchange)
    seen = Collect()
    async with serving(make_app([path])) as port:
        client = fetcher(recorder=seen, proxy=f"http://127.0.0.1:{port}")
        try:
            page = await client.fetch("https://www.district.test/secure/")
            raw = await client.fetch("https://www.district.test/raw")
            down = await client.fetch("https://www.district.test/down")
            plain = await client.fetch("http://www.district.test/secure/index.html")
        finally:
            await client.close()
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"http://127.0.0.1:{port}/secure/index.html",
                headers={"Host": HOST, "X-Forwarded-Proto": "https"},
            ) as response,
        ):
            assert response.status == 200
            assert await response.text() == "<html>政务公开</html>"
    assert page.error is None, page.error_detail
    assert page.status == 200
    assert page.final_url == "https://www.district.test/secure/index.html"
    assert page.redirects == ["https://www.district.test/secure/index.html"]
    assert page.body == "<html>政务公开</html>".encode()
    assert page.content_type == "text/html; charset=utf-8"
    # recorded without a Content-Type: replayed without one (no octet-stream added)
    assert raw.content_type == ""
    assert raw.body == b"%PDF-1.4 no type"
    assert values(seen.last("GET", "https://www.district.test/raw"), "Content-Type") == []
    assert down.status == 503
    assert down.retry_after == "120"
    assert down.body == b"busy"
    # the scheme is part of the URL: the http twin was never recorded
    assert plain.status == 404
    assert values(seen.last("GET", plain.url), REPLAY_HEADER) == ["miss"]


async def test_the_last_recording_wins(tmp_path: Path) -> None:
    def page(body: str, at: dt.datetime) -> Exchange:
        return Exchange(
            "GET",
            f"{BASE}/",
            [],
            200,
            "OK",
            [("Content-Type", "text/html")],
            body.encode(),
            False,
            at,
        )

    early, late = tmp_path / "early.warc.gz", tmp_path / "late.warc.gz"
    with WarcRecorder(early) as recorder:
        recorder.record(page("first", AT))
        recorder.record(page("second", AT))
    with WarcRecorder(late) as recorder:
        recorder.record(page("third", AT))

    async def home(paths: list[Path]) -> bytes:
        async with serving(make_app(paths)) as port:
            client = fetcher(proxy=f"http://127.0.0.1:{port}")
            try:
                return (await client.fetch(f"{BASE}/")).body
            finally:
                await client.close()

    assert await home([early]) == b"second"
    assert await home([early, late]) == b"third"
    assert await home([late, early]) == b"second"


def test_make_app_rejects_a_file_that_is_not_a_warc(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(NEWS_GBK)
    with pytest.raises(WarcError, match="not a WARC"):
        make_app([path])
    packed = tmp_path / "page.html.gz"
    packed.write_bytes(gzip.compress(NEWS_GBK))
    with pytest.raises(WarcError, match="not a WARC"):
        make_app([packed])


async def test_run_replay_prints_its_address_and_serves(
    recorded: tuple[Path, list[FetchResult], Collect],
) -> None:
    path, _, _ = recorded
    out = io.StringIO()
    task = asyncio.create_task(run_replay([path], "127.0.0.1:0", out=out))
    try:
        async with asyncio.timeout(10):
            while "serving on" not in out.getvalue():
                assert not task.done(), out.getvalue()
                await asyncio.sleep(0.01)
        match = re.search(r"serving on (http://127\.0\.0\.1:(\d+))", out.getvalue())
        assert match is not None, out.getvalue()
        assert f"--proxy {match.group(1)}" in out.getvalue()
        client = fetcher(proxy=match.group(1))
        try:
            result = await client.fetch(f"{BASE}{NEWS_PATH}")
        finally:
            await client.close()
        assert result.status == 200
        assert result.body == NEWS_GBK
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert "stopped; 1 served, 0 not recorded" in out.getvalue()


@pytest.mark.parametrize(
    ("listen", "expected"),
    [
        ("127.0.0.1:8090", ("127.0.0.1", 8090)),
        (":9000", ("127.0.0.1", 9000)),
        ("9000", ("127.0.0.1", 9000)),
        ("[::1]:8090", ("::1", 8090)),
        ("localhost:0", ("localhost", 0)),
    ],
)
def test_parse_listen(listen: str, expected: tuple[str, int]) -> None:
    assert parse_listen(listen) == expected


@pytest.mark.parametrize("listen", ["127.0.0.1:http", "127.0.0.1:70000", "[::1]8090", ""])
def test_parse_listen_rejects(listen: str) -> None:
    with pytest.raises(ValueError, match="bad --listen"):
        parse_listen(listen)


# -- recorded failures --------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def cut_short() -> AsyncIterator[int]:
    """A server that promises 1000 bytes of HTML, sends 5 and closes: a body failure."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nRetry-After: 7\r\n"
            b"Content-Length: 1000\r\n\r\nshort"
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


async def test_recorded_failures_replay_as_the_same_failures(tmp_path: Path) -> None:
    path = tmp_path / "failures.warc.gz"
    original = Collect(WarcRecorder(path))
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
        refused = f"http://127.0.0.1:{closed.getsockname()[1]}/x.html"
        async with cut_short() as port, serving(site()) as site_port:
            cut = f"http://127.0.0.1:{port}/cut.html"
            targets = [
                ("GET", refused),
                ("HEAD", refused),
                ("GET", "http://nosuchhost.invalid/"),
                ("GET", cut),
                ("GET", f"{BASE}/"),
            ]
            client = fetcher(recorder=original, site_port=site_port)
            try:
                live = [await client.fetch(url, method=method) for method, url in targets]
            finally:
                await client.close()
    original.close()
    assert [r.error for r in live] == ["connect", "connect", "dns", "body", None]
    assert (live[3].status, live[3].content_type, live[3].retry_after) == (200, "text/html", "7")
    recorded = [(f.method, f.url, f.error) for f in original.failures]
    assert recorded == [(m, u, r.error) for (m, u), r in zip(targets[:4], live, strict=False)]
    again = Collect()
    app = make_app([path])
    async with serving(app) as port:
        client = fetcher(recorder=again, proxy=f"http://127.0.0.1:{port}")
        try:
            replayed = [await client.fetch(url, method=method) for method, url in targets]
        finally:
            await client.close()
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"http://127.0.0.1:{port}/", headers={"Host": "nosuchhost.invalid"}
            ) as resp,
        ):
            # a client that is not govmon sees a 502 saying what was recorded
            assert resp.status == 502
            assert resp.headers[REPLAY_HEADER] == "failed"
            assert "recorded failure" in await resp.text()
            assert json.loads(resp.headers["X-Govmon-Failure"])["error"] == "dns"
    assert app[INDEX].misses == 0
    assert app[INDEX].failures == 5
    for first, second in zip(live, replayed, strict=True):
        assert (second.error, second.error_detail) == (first.error, first.error_detail)
        assert (second.status, second.content_type, second.retry_after) == (
            first.status,
            first.content_type,
            first.retry_after,
        )
        assert second.body == first.body
    # a scan recorded through the replay records the failures again
    assert [(f.method, f.url, f.error, f.detail) for f in again.failures] == [
        (f.method, f.url, f.error, f.detail) for f in original.failures
    ]


# -- the index: places in the files, not bodies ----------------------------------------------


def test_the_index_holds_places_and_reads_responses_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "big.warc.gz"
    body = b"<html>" + b"z" * 200_000 + b"</html>"
    with WarcRecorder(path) as recorder:
        for exchange in https_exchanges():
            recorder.record(exchange)
        for i in range(50):
            page = Exchange(
                "GET",
                f"{BASE}/big/{i}.html",
                [("Host", HOST)],
                200,
                "OK",
                [("Content-Type", "text/html")],
                body,
                False,
                AT,
            )
            recorder.record(page)
        recorder.record(page)  # recorded twice: the last one wins
    tracemalloc.start()
    try:
        index = ReplayIndex.load([path])
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < 2_000_000  # 50 bodies of 200 kB are not in memory
    assert all(isinstance(entry, Located) for entry in index.responses.values())
    assert len(index.responses) == 54
    expected = {(r.method, r.url): r for r in read_exchanges(path)}
    assert set(index.responses) == set(expected)
    for key, entry in index.responses.items():
        assert isinstance(entry, Located)
        got = read_response_at(entry.path, entry.offset, entry.method)
        assert (
            dataclasses.replace(got, request_headers=expected[key].request_headers)
            == (expected[key])
        )


@needs_realdata
def test_the_index_of_foreign_files_reads_what_read_exchanges_reads() -> None:
    assert REALDATA is not None
    folder = REALDATA / "warcio"
    names = sorted(p.name for p in folder.iterdir() if ".warc" in p.name or ".arc" in p.name)
    located = 0
    for name in names:
        path = folder / name
        want = list(read_exchanges(path))
        got: list[RecordedResponse] = []
        for entry in index_records(path):
            if isinstance(entry, Located):
                located += 1
                got.append(read_response_at(entry.path, entry.offset, entry.method, entry.stream))
            else:
                assert isinstance(entry, RecordedResponse), name
                got.append(entry)
        assert len(got) == len(want), name
        for one, two in zip(got, want, strict=True):
            same = dataclasses.replace(
                one, request_headers=two.request_headers, request_digest=two.request_digest
            )
            assert same == two, name
    assert located >= 10  # most of them are read again at their offsets


async def test_an_index_whose_file_changed_answers_an_error(tmp_path: Path) -> None:
    path = tmp_path / "https.warc.gz"
    with WarcRecorder(path) as recorder:
        for exchange in https_exchanges():
            recorder.record(exchange)
    app = make_app([path])
    path.write_bytes(b"")
    async with serving(app) as port, aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{port}/raw"
        headers = {"Host": HOST, "X-Forwarded-Proto": "https"}
        async with session.get(url, headers=headers) as response:
            assert (response.status, response.headers[REPLAY_HEADER]) == (500, "error")


# -- stopping --------------------------------------------------------------------------------


def test_replay_stops_on_sigterm_and_prints_its_summary(tmp_path: Path) -> None:
    path = tmp_path / "https.warc.gz"
    with WarcRecorder(path) as recorder:
        for exchange in https_exchanges():
            recorder.record(exchange)
    command = [sys.executable, "-m", "crawler", "replay", str(path), "--listen", "127.0.0.1:0"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8"
    ) as child:
        try:
            assert child.stdout is not None
            first = child.stdout.readline()
            match = re.search(r"serving on http://127\.0\.0\.1:(\d+)", first)
            assert match is not None, first + (child.stderr.read() if child.stderr else "")
            connection = http.client.HTTPConnection("127.0.0.1", int(match.group(1)), timeout=10)
            connection.request(
                "GET", "http://www.district.test/raw", headers={"X-Forwarded-Proto": "https"}
            )
            assert connection.getresponse().read() == b"%PDF-1.4 no type"
            connection.close()
            child.send_signal(signal.SIGTERM)
            out, err = child.communicate(timeout=20)
        finally:
            if child.poll() is None:
                child.kill()
    assert child.returncode == 0, err
    assert "govmon replay: stopped; 1 served, 0 not recorded" in out, out + err
