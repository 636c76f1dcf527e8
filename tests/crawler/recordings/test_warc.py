"""Recordings: exchanges written to WARC and read back; damaged and foreign files read safely.

Everything is local: files under ``tmp_path``, the real WARC/ARC files of ../shared/realdata
(skipped when absent), and one child process killed with SIGKILL while it records.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from crawler import __version__
from crawler.net.fetcher import Exchange, Failure, Recorder
from crawler.net.urls import canonicalize
from crawler.recordings import (
    FAILURE_TYPE,
    RecordedFailure,
    RecordedResponse,
    WarcError,
    WarcRecorder,
    index_records,
    read_exchanges,
)
from tests.support.paths import REPO_ROOT
from tests.support.realdata import REALDATA, needs_realdata

pytestmark = pytest.mark.timeout(60)

AT = dt.datetime(2020, 6, 16, 1, 2, 3, 4, tzinfo=dt.UTC)
GBK_PAGE = "<html><head><title>通知公告</title></head><body>区政府办公室</body></html>".encode(
    "gbk"
)
REQUEST_HEADERS = [
    ("Host", "www.district.test"),
    ("User-Agent", "govmon/test"),
    ("Accept-Language", "zh-CN,zh;q=0.9"),
]


def _wire(text: str) -> str:
    """A header value as the fetcher hands it over: the UTF-8 bytes sent, read as latin-1."""
    return text.encode("utf-8").decode("latin-1")


def _url(text: str) -> str:
    url = canonicalize(text)
    assert url is not None
    return url


def exchanges() -> list[Exchange]:
    """A Chinese path with a GBK body (sent gzip, chunked), a HEAD, a redirect, a cut body, an
    https URL with a GBK query, and a 404 without a reason phrase."""
    return [
        Exchange(
            method="GET",
            url=_url("http://www.district.test/新闻/通知.html"),
            request_headers=REQUEST_HEADERS,
            status=200,
            reason="OK",
            response_headers=[
                ("Server", "nginx"),
                ("Content-Type", "text/html; charset=gbk"),
                ("Content-Encoding", "gzip"),
                ("Transfer-Encoding", "chunked"),
                ("Set-Cookie", "a=1; Path=/"),
                ("Set-Cookie", "b=2; Path=/"),
                ("Content-Disposition", _wire('inline; filename="通知.html"')),
            ],
            body=GBK_PAGE,
            truncated=False,
            at=AT,
        ),
        Exchange(
            method="HEAD",
            url="http://www.district.test/files/a.pdf",
            request_headers=REQUEST_HEADERS,
            status=200,
            reason="OK",
            response_headers=[("Content-Type", "application/pdf"), ("Content-Length", "123456")],
            body=b"",
            truncated=False,
            at=AT + dt.timedelta(seconds=1),
        ),
        Exchange(
            method="GET",
            url="http://www.district.test/old",
            request_headers=REQUEST_HEADERS,
            status=302,
            reason="Found",
            response_headers=[("Location", _wire("/新/")), ("Content-Length", "154")],
            body=b"",
            truncated=False,
            at=AT + dt.timedelta(seconds=2),
        ),
        Exchange(
            method="GET",
            url="http://www.district.test/big.html",
            request_headers=REQUEST_HEADERS,
            status=200,
            reason="OK",
            response_headers=[("Content-Type", "text/html"), ("Content-Length", "50000")],
            body=b"x" * 1000,
            truncated=True,
            at=AT + dt.timedelta(seconds=3),
        ),
        Exchange(
            method="GET",
            url="https://www.district.test/search?q=%D6%D0%CE%C4",
            request_headers=REQUEST_HEADERS,
            status=200,
            reason="OK",
            response_headers=[("Content-Type", "text/html; charset=gbk")],
            body="<p>中文</p>".encode("gbk"),
            truncated=False,
            at=AT + dt.timedelta(seconds=4),
        ),
        Exchange(
            method="GET",
            url="http://www.district.test/gone",
            request_headers=REQUEST_HEADERS,
            status=404,
            reason="",
            response_headers=[("Content-Type", "text/plain")],
            body=b"not here",
            truncated=False,
            at=AT + dt.timedelta(seconds=5),
        ),
    ]


def assert_same(read: RecordedResponse, written: Exchange) -> None:
    assert read.method == written.method
    assert read.url == written.url
    assert read.status == written.status
    assert read.reason == written.reason
    assert read.body == written.body
    assert read.truncated == written.truncated
    assert read.at == written.at
    assert list(read.request_headers) == written.request_headers


def member_ends(data: bytes) -> list[int]:
    """Where each gzip member of ``data`` ends (each must decompress on its own)."""
    ends = []
    rest = data
    while rest:
        decompressor = zlib.decompressobj(31)
        decompressor.decompress(rest)
        assert decompressor.eof
        rest = decompressor.unused_data
        ends.append(len(data) - len(rest))
    return ends


def record_all(path: Path, items: list[Exchange]) -> list[int]:
    """Record ``items``; the file's size after each (read while the recorder is open)."""
    sizes = []
    recorder: Recorder = WarcRecorder(path)  # what the fetcher takes
    sizes.append(path.stat().st_size)  # the warcinfo record, already on disk
    for item in items:
        recorder.record(item)
        sizes.append(path.stat().st_size)
    recorder.close()
    return sizes


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "scan.warc.gz"
    written = exchanges()
    record_all(path, written)
    read = list(read_exchanges([path]))
    assert len(read) == len(written)
    for got, want in zip(read, written, strict=True):
        assert_same(got, want)
        assert got.source == str(path)
        assert got.header("Content-Encoding") is None
        assert got.header("Transfer-Encoding") is None
        assert [k for k, _ in got.headers].count("Content-Length") <= 1

    page, head, redirect, cut, https, gone = read
    # the GBK page was sent gzip and chunked: the recorded headers describe the decoded body
    assert page.header("Content-Length") == str(len(GBK_PAGE))
    assert [v for k, v in page.headers if k == "Set-Cookie"] == ["a=1; Path=/", "b=2; Path=/"]
    assert page.header("Content-Disposition") == _wire('inline; filename="通知.html"')
    assert page.header("Content-Type") == "text/html; charset=gbk"
    assert page.body.decode("gbk").endswith("区政府办公室</body></html>")
    # a HEAD keeps the declared length of the entity it describes
    assert head.header("Content-Length") == "123456"
    assert head.body == b""
    # a redirect's Location byte for byte; its unread body is recorded as empty
    assert redirect.header("Location") == _wire("/新/")
    assert redirect.header("Content-Length") == "0"
    # a cut body is marked and its length is what was kept
    assert cut.header("X-Govmon-Truncated") == "true"
    assert cut.header("Content-Length") == "1000"
    assert page.header("X-Govmon-Truncated") is None
    assert https.url == "https://www.district.test/search?q=%D6%D0%CE%C4"
    assert gone.reason == ""
    assert gone.status == 404


def test_file_layout(tmp_path: Path) -> None:
    path = tmp_path / "scan.warc.gz"
    record_all(path, exchanges())
    data = path.read_bytes()
    assert len(member_ends(data)) == 1 + 2 * 6  # warcinfo, then a request and a response each
    text = gzip.decompress(data)
    assert text.startswith(b"WARC/1.1\r\nWARC-Type: warcinfo\r\n")
    assert f"software: govmon/{__version__}".encode() in text
    assert text.count(b"WARC-Type: response\r\n") == 6
    assert text.count(b"WARC-Type: request\r\n") == 6
    assert text.count(b"WARC-Concurrent-To: <urn:uuid:") == 6
    assert b"WARC-Date: 2020-06-16T01:02:03.000004Z\r\n" in text
    target = "WARC-Target-URI: http://www.district.test/%E6%96%B0%E9%97%BB/%E9%80%9A%E7%9F%A5.html"
    assert target.encode() in text
    assert text.count(b"WARC-Truncated: length\r\n") == 1
    # non-ASCII header bytes are kept as sent (warcio alone would percent-encode them)
    assert "Location: /新/\r\n".encode() in text
    assert b"HEAD /files/a.pdf HTTP/1.1\r\n" in text
    assert b"GET /search?q=%D6%D0%CE%C4 HTTP/1.1\r\n" in text
    assert b"HTTP/1.1 404\r\n" in text


def test_failures_are_recorded_as_metadata_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "scan.warc.gz"
    detail = "ClientConnectorError: Cannot connect to host 127.0.0.1:9 ssl:default\n[拒绝]"
    failures = [
        Failure("GET", "http://127.0.0.1:9/x.html", "connect", detail, None, "", None, AT),
        Failure("HEAD", "http://nosuchhost.invalid/", "dns", "OSError: no", None, "", None, AT),
        # a body cut off after its head: the head's status and type are kept
        Failure("GET", "http://www.district.test/a.html", "body", "", 200, "text/html", "5", AT),
    ]
    with WarcRecorder(path) as recorder:
        recorder.record(exchanges()[0])
        for failure in failures:
            recorder.record_failure(failure)
        recorder.record(exchanges()[-1])
        assert (recorder.records, recorder.failures) == (2, 3)
    text = gzip.decompress(path.read_bytes())
    assert text.count(b"WARC-Type: metadata\r\n") == 3
    assert text.count(f"Content-Type: {FAILURE_TYPE}\r\n".encode()) == 3
    # readers of responses see none of them
    assert [r.url for r in read_exchanges(path)] == [exchanges()[0].url, exchanges()[-1].url]
    read = [r for r in index_records(path) if isinstance(r, RecordedFailure)]
    assert [
        (r.method, r.url, r.error, r.detail, r.status, r.content_type, r.retry_after, r.at)
        for r in read
    ] == [
        (f.method, f.url, f.error, f.detail, f.status, f.content_type, f.retry_after, f.at)
        for f in failures
    ]
    assert {r.source for r in read} == {str(path)}


def test_metadata_of_other_tools_is_not_a_failure(tmp_path: Path) -> None:
    path = tmp_path / "other.warc"
    block = b'{"error": "connect"}'
    other = (
        b"WARC/1.0\r\nWARC-Type: metadata\r\nWARC-Target-URI: http://example.com/\r\n"
        b"WARC-Record-ID: <urn:uuid:1>\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(block)).encode() + b"\r\n\r\n" + block + b"\r\n\r\n"
    )
    path.write_bytes(other)
    assert list(index_records(path)) == []


def test_killed_between_records_reads_every_complete_record(tmp_path: Path) -> None:
    path = tmp_path / "scan.warc.gz"
    written = exchanges()
    sizes = record_all(path, written)
    data = path.read_bytes()
    assert sizes[-1] == len(data)  # each record was on disk as soon as record() returned
    assert sizes == sorted(set(sizes))
    # cut exactly between records: every record before the cut, nothing else, no warning
    for done, size in enumerate(sizes):
        copy = tmp_path / f"cut-{size}.warc.gz"
        copy.write_bytes(data[:size])
        with capture_logs() as logs:
            read = list(read_exchanges(copy))
        assert len(read) == done
        for got, want in zip(read, written, strict=False):
            assert_same(got, want)
        assert not [e for e in logs if e["log_level"] == "warning"]
    # cut anywhere else: exactly the complete exchanges (a half-written record is dropped), and a
    # warning unless the cut falls between a request record and its response
    records = member_ends(data)
    assert set(sizes) < set(records)
    cuts = {*range(sizes[0] + 1, len(data), 7)} | {s + d for s in records for d in (-1, 0, 1)}
    for cut in sorted(c for c in cuts - set(sizes) if c < len(data)):
        copy = tmp_path / "cut.warc.gz"
        copy.write_bytes(data[:cut])
        complete = sum(1 for s in sizes[1:] if s <= cut)
        with capture_logs() as logs:
            read = list(read_exchanges(copy))
        assert len(read) == complete, cut
        for got, want in zip(read, written, strict=False):
            assert_same(got, want)
        warned = [e for e in logs if e["log_level"] == "warning"]
        assert bool(warned) == (cut not in records), cut


def test_sigkilled_recorder_leaves_a_readable_file(tmp_path: Path) -> None:
    path = tmp_path / "killed.warc.gz"
    child = textwrap.dedent(
        f"""
        import datetime as dt, sys
        from crawler.net.fetcher import Exchange, Recorder
        from crawler.recordings import WarcRecorder
        recorder = WarcRecorder({str(path)!r})
        n = 0
        while True:
            body = (f"<p>page {{n}}</p>" * 200).encode()
            recorder.record(Exchange("GET", f"http://www.district.test/{{n}}.html", [], 200,
                                     "OK", [("Content-Type", "text/html")], body, False,
                                     dt.datetime.now(dt.UTC)))
            n += 1
            if n == 50:
                print("ready", flush=True)
        """
    )
    root = REPO_ROOT
    proc = subprocess.Popen(
        [sys.executable, "-c", child], cwd=root, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    read = list(read_exchanges(path))
    assert len(read) >= 50
    for n, got in enumerate(read):  # every exchange whole, in order; a half one dropped
        assert got.url == f"http://www.district.test/{n}.html"
        assert got.body == (f"<p>page {n}</p>" * 200).encode()
        assert not got.truncated


def test_concurrent_threads(tmp_path: Path) -> None:
    path = tmp_path / "threads.warc.gz"
    recorder = WarcRecorder(path)
    threads_n, each = 8, 40

    def work(t: int) -> None:
        for i in range(each):
            body = f"<p>thread {t} page {i}</p>".encode() * 50
            recorder.record(
                Exchange(
                    "GET",
                    f"http://www.district.test/{t}/{i}.html",
                    [],
                    200,
                    "OK",
                    [("Content-Type", "text/html")],
                    body,
                    False,
                    AT,
                )
            )

    threads = [threading.Thread(target=work, args=(t,)) for t in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    recorder.close()
    assert recorder.records == threads_n * each
    got = {(r.url, r.body) for r in read_exchanges(path)}
    want = {
        (f"http://www.district.test/{t}/{i}.html", f"<p>thread {t} page {i}</p>".encode() * 50)
        for t in range(threads_n)
        for i in range(each)
    }
    assert got == want


@pytest.mark.parametrize("where", ["middle", "trailer", "between"])
def test_append_cuts_a_half_written_record(tmp_path: Path, where: str) -> None:
    path = tmp_path / "resume.warc.gz"
    first, second, third, fourth = exchanges()[:4]
    sizes = record_all(path, [first, second, third])
    # killed while writing the third exchange: part of it is on disk
    request_end = next(end for end in member_ends(path.read_bytes()) if end > sizes[2])
    cut = {
        "middle": (sizes[2] + sizes[3]) // 2,
        "trailer": sizes[3] - 3,  # the response's data complete, its gzip trailer not
        "between": request_end,  # the request record, not its response
    }[where]
    with path.open("r+b") as fh:
        fh.truncate(cut)
    with WarcRecorder(path, append=True) as recorder:
        recorder.record(fourth)
    data = path.read_bytes()
    assert member_ends(data)[-1] == len(data)  # every member whole
    with capture_logs() as logs:
        read = list(read_exchanges(path))
    assert not [e for e in logs if e["log_level"] == "warning"]
    assert len(read) == 3
    for got, want in zip(read, [first, second, fourth], strict=True):
        assert_same(got, want)


def test_append_refuses_a_file_damaged_in_the_middle(tmp_path: Path) -> None:
    path = tmp_path / "damaged.warc.gz"
    sizes = record_all(path, exchanges()[:3])
    data = bytearray(path.read_bytes())
    data[(sizes[1] + sizes[2]) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(WarcError, match="damaged at byte"):
        WarcRecorder(path, append=True)
    assert path.read_bytes() == bytes(data)


def test_append_refuses_a_file_that_is_not_a_warc(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("my notes, not a recording\n")
    with pytest.raises(WarcError, match="not a gzip-compressed WARC"):
        WarcRecorder(path, append=True)
    assert path.read_text() == "my notes, not a recording\n"


def test_write_failure_does_not_disturb_the_caller(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    recorder = WarcRecorder("/dev/full")
    recorder.record(exchanges()[0])  # must not raise: the scan goes on
    assert recorder.records == 0
    assert recorder.error is not None
    with pytest.raises(WarcError, match="recording stopped"):
        recorder.close()


def test_record_after_close_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "closed.warc.gz"
    recorder = WarcRecorder(path)
    recorder.record(exchanges()[0])
    recorder.close()
    recorder.close()
    size = path.stat().st_size
    recorder.record(exchanges()[1])
    assert path.stat().st_size == size
    assert len(list(read_exchanges(path))) == 1


def test_not_a_warc(tmp_path: Path) -> None:
    html = tmp_path / "page.html"
    html.write_bytes(GBK_PAGE)
    with pytest.raises(WarcError, match=r"page\.html: not a WARC or ARC file"):
        list(read_exchanges(html))
    packed = tmp_path / "page.html.gz"
    packed.write_bytes(gzip.compress(GBK_PAGE))
    with pytest.raises(WarcError, match=r"page\.html\.gz: not a WARC or ARC file"):
        list(read_exchanges(packed))
    with pytest.raises(WarcError, match="cannot open"):
        list(read_exchanges(tmp_path / "missing.warc.gz"))
    empty = tmp_path / "empty.warc.gz"
    empty.write_bytes(b"")
    assert list(read_exchanges(empty)) == []


def test_files_are_read_in_order(tmp_path: Path) -> None:
    one, two = tmp_path / "1.warc.gz", tmp_path / "2.warc.gz"
    items = exchanges()
    record_all(one, items[:2])
    record_all(two, items[2:4])
    assert [r.url for r in read_exchanges([two, one])] == [
        items[2].url,
        items[3].url,
        items[0].url,
        items[1].url,
    ]
    assert [r.url for r in read_exchanges(str(one))] == [items[0].url, items[1].url]


def test_uncompressed_warc_from_another_tool(tmp_path: Path) -> None:
    """Request before response (as wget writes them), chunked and deflate-coded body, a
    request paired by Concurrent-To, and a response whose request names it."""
    body = zlib.compress("<html>县政府</html>".encode())
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    http = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
        b"Content-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked
    )
    request = b"HEAD /x HTTP/1.1\r\nHost: example.test\r\n\r\n"

    def record(kind: str, block: bytes, extra: str = "") -> bytes:
        head = (
            f"WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Record-ID: <urn:uuid:{kind}>\r\n"
            f"WARC-Target-URI: http://example.test/x\r\nWARC-Date: 2019-01-02T03:04:05Z\r\n"
            f"{extra}Content-Length: {len(block)}\r\n\r\n"
        )
        return head.encode() + block + b"\r\n\r\n"

    path = tmp_path / "wget.warc"
    path.write_bytes(
        record("request", request)
        + record("response", http, "WARC-Concurrent-To: <urn:uuid:request>\r\n")
    )
    (got,) = read_exchanges(path)
    assert got.method == "HEAD"  # from the request record
    assert got.body == b""
    assert got.at == dt.datetime(2019, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert ("Host", "example.test") in got.request_headers
    path.write_bytes(record("response", http) + record("request", b"GET /x HTTP/1.1\r\n\r\n"))
    (got,) = read_exchanges(path)
    assert got.method == "GET"
    assert got.body == "<html>县政府</html>".encode()
    assert got.header("Content-Encoding") is None
    assert got.header("Transfer-Encoding") is None
    assert got.header("Content-Length") == str(len(got.body))
    assert not got.truncated


# -- the real WARC/ARC files of ../shared/realdata/warcio ----------------------------------------


def _realdata_files() -> list[str]:
    if REALDATA is None:
        return []
    folder = REALDATA / "warcio"
    return sorted(p.name for p in folder.iterdir() if ".warc" in p.name or ".arc" in p.name)


# file: (responses as (method, url, status), truncated flags, a warning expected)
EXPECTED: dict[str, tuple[list[tuple[str, str, int]], list[bool], bool]] = {
    "example.warc.gz": ([("GET", "http://example.com/", 200)], [False], False),
    "example.warc": ([("GET", "http://example.com/", 200)], [False], False),
    "example.arc": ([("GET", "http://example.com/", 200)], [False], False),
    "example.arc.gz": ([("GET", "http://example.com/", 200)], [False], False),
    "example-iana.org-chunked.warc": ([("GET", "http://www.iana.org/", 200)], [False], False),
    "example-resource.warc.gz": ([("GET", "http://example.com/", 200)], [False], False),
    # WARC-Target-URI in angle brackets (a wget bug)
    "example-wget-bad-target-uri.warc.gz": ([("GET", "http://example.com/", 200)], [False], False),
    "post-test.warc.gz": (
        [
            ("POST", "http://httpbin.org/post", 200),
            ("POST", "http://httpbin.org/post", 200),
            ("POST", "http://httpbin.org/post?foo=bar", 200),
        ],
        [False, False, False],
        False,
    ),
    # gzip files that are not one member per record: read again as one stream
    "example-bad-non-chunked.warc.gz": ([("GET", "http://example.com/", 200)], [False], True),
    "example-bad.warc.gz.bad": (
        [
            ("GET", "http://example.com/?example=1", 200),
            ("GET", "http://www.iana.org/domains/example", 302),
        ],
        [False, False],
        True,
    ),
    "example-wrong-chunks.warc.gz": ([("GET", "http://example.com/", 200)], [False], True),
    # the response's gzip body lacks its last bytes
    "example-trunc.warc": ([("GET", "http://example.com/", 200)], [True], False),
    # spaces in the URL; the last record is shorter than it says (the file ends early)
    "example-space-in-url.arc": (
        [
            (
                "GET",
                "http://example.com/index.cfm?FuseAction=Email"
                "&EmailTitle=Examples%20From%20The%20Live%20Web&IsPopUp=False",
                200,
            )
        ],
        [True],
        True,
    ),
    "bad.arc": ([], [], False),  # records of length 0: nothing to serve
    "example-digest.warc": ([], [], False),  # request records only
    "example-space-in-target-uri.warc.gz": ([], [], False),  # a file:// resource
}


@needs_realdata
@pytest.mark.parametrize("name", _realdata_files() or ["(absent)"])
def test_realdata_file(name: str) -> None:
    assert REALDATA is not None
    if name not in EXPECTED:
        pytest.fail(f"a realdata WARC/ARC file without expectations: {name}")
    responses, truncated, warns = EXPECTED[name]
    with capture_logs() as logs:
        read = list(read_exchanges(REALDATA / "warcio" / name))
    assert [(r.method, r.url, r.status) for r in read] == responses
    assert [r.truncated for r in read] == truncated
    warned = [e for e in logs if e["log_level"] == "warning"]
    assert bool(warned) == warns, warned
    for r in read:
        assert r.header("Content-Encoding") is None  # gzip bodies decoded
        assert r.header("Transfer-Encoding") is None  # chunked bodies de-chunked
        assert r.at is not None
        assert r.at.tzinfo is not None
        if r.status == 200 and "example.com" in r.url:
            assert b"<title>Example Domain</title>" in r.body
            assert r.header("Content-Length") == str(len(r.body))
        if r.url == "http://www.iana.org/":
            assert r.body.rstrip().endswith(b"</html>")


@needs_realdata
def test_realdata_all_readable_together() -> None:
    assert REALDATA is not None
    paths = [REALDATA / "warcio" / name for name in _realdata_files() if name in EXPECTED]
    read = list(read_exchanges(paths))
    assert len(read) == sum(len(v[0]) for v in EXPECTED.values())
    # the revisit records of example.warc are not served as responses of their own
    assert sum(1 for r in read if r.source.endswith("/example.warc")) == 1


def test_warcinfo_names_the_version(tmp_path: Path) -> None:
    path = tmp_path / "info.warc.gz"
    WarcRecorder(path, info={"operator": "区政务服务数据管理局"}).close()
    text = gzip.decompress(path.read_bytes()).decode("utf-8")
    assert f"software: govmon/{__version__}\r\n" in text
    assert "operator: 区政务服务数据管理局\r\n" in text
    assert "WARC-Filename: info.warc.gz\r\n" in text
    assert list(read_exchanges(path)) == []
    assert os.path.getsize(path) > 0


# -- damage of every kind: a warning at worst, never an exception -------------------------------


def _valid_recording() -> bytes:
    """A small gzip recording (built once per process)."""
    if not hasattr(_valid_recording, "data"):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "r.warc.gz"
            record_all(path, exchanges())
            _valid_recording.data = path.read_bytes()  # type: ignore[attr-defined]
    data: bytes = _valid_recording.data  # type: ignore[attr-defined]
    return data


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), max_size=4),
    cut=st.none() | st.integers(0, 10**6),
)
def test_damaged_gzip_recordings_never_raise(
    tmp_path: Path, flips: list[tuple[int, int]], cut: int | None
) -> None:
    """Bytes flipped, the file cut: what is read is the recording's start, never a damaged
    record; WarcError only when the first record (which says WARC) is damaged."""
    original = _valid_recording()
    data = bytearray(original)
    for where, mask in flips:
        data[where % len(data)] ^= mask
    if cut is not None:
        data = data[: cut % len(data)]
    path = tmp_path / "damaged.warc.gz"
    path.write_bytes(bytes(data))
    first_record = member_ends(original)[0]
    with capture_logs():
        try:
            read = list(read_exchanges(path))
        except WarcError:
            damaged = [where % len(original) for where, _ in flips]
            assert min(damaged, default=len(data)) < first_record or len(data) < first_record
            return
    for got, want in zip(read, exchanges(), strict=False):
        assert_same(got, want)
    assert len(read) <= len(exchanges())


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    tail=st.binary(max_size=400),
    lines=st.lists(
        st.sampled_from(
            [
                b"WARC-Type: response",
                b"WARC-Type: request",
                b"WARC-Type: resource",
                b"WARC-Target-URI: http://x.test/",
                b"WARC-Target-URI: <http://x.test/ a>",
                b"Content-Length: 5",
                b"Content-Length: -3",
                b"Content-Length: 99999",
                b"Content-Length: x",
                b"",
                b"HTTP/1.1 200 OK",
                b"Transfer-Encoding: chunked",
                b"Content-Encoding: gzip",
                b"WARC/1.0",
                b"5",
                b"0",
            ]
        ),
        max_size=20,
    ),
)
def test_malformed_warcs_never_raise(tmp_path: Path, tail: bytes, lines: list[bytes]) -> None:
    path = tmp_path / "odd.warc"
    path.write_bytes(b"WARC/1.0\r\n" + b"\r\n".join(lines) + tail)
    with capture_logs():
        for r in read_exchanges(path):
            assert r.url.startswith("http")
            assert 100 <= r.status <= 999
