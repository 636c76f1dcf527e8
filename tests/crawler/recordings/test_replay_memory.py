"""``govmon replay`` of a WARC gzipped as one stream keeps one record in memory, not the file
(issue 19, item 5).

A generated recording of 48 responses of 4 MB each (192 MB of output, about 1.4 MB on
disk), compressed as a single gzip stream, is replayed by a real ``govmon replay`` application
on 127.0.0.1 in a child process that asks for every response; the child measures its peak
(tracemalloc, and its RSS). Read as one stream into memory, as before, the peak was the whole
output (tracemalloc 207 MB, RSS +213 MB); indexed with checkpoints and read on demand, it is a
few copies of one record (34 MB; RSS +79 MB, thread arenas included).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crawler.recordings import (
    Located,
    StreamIndex,
    index_records,
    read_exchanges,
    read_response_at,
)
from tests.support.paths import REPO_ROOT

pytestmark = pytest.mark.timeout(300)

ROOT = REPO_ROOT
RECORDS = 48
BODY = 4 * 1024 * 1024
CHUNK = (b"<p>" + "区政府召开常务会议".encode() + b"</p>\n") * 2048


def _body_chunks(index: int, size: int) -> list[bytes]:
    """The body of record ``index``: ``size`` bytes, its index in the first line."""
    head = f"<html><head><title>record {index}</title></head><body>\n".encode()
    chunks = [head]
    left = size - len(head)
    while left > 0:
        piece = CHUNK[:left]
        chunks.append(piece)
        left -= len(piece)
    return chunks


def write_one_stream_warc(path: Path, records: int = RECORDS, size: int = BODY) -> None:
    """A WARC of ``records`` responses of ``size`` bytes, gzip-compressed as one stream,
    written piece by piece (the test process never holds a record)."""
    with gzip.open(path, "wb", compresslevel=1) as out:
        for i in range(records):
            http_head = (
                f"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                f"Content-Length: {size}\r\n\r\n"
            ).encode()
            warc_head = (
                "WARC/1.0\r\nWARC-Type: response\r\n"
                f"WARC-Target-URI: http://big.test/{i}.html\r\n"
                "WARC-Date: 2020-06-15T00:00:00Z\r\n"
                f"WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-{i:012d}>\r\n"
                "Content-Type: application/http; msgtype=response\r\n"
                f"Content-Length: {len(http_head) + size}\r\n\r\n"
            ).encode()
            out.write(warc_head + http_head)
            for chunk in _body_chunks(i, size):
                out.write(chunk)
            out.write(b"\r\n\r\n")


CHILD = r"""
import asyncio, json, resource, sys, tracemalloc
import aiohttp
from crawler.recordings.replay import INDEX, make_app
from tests.support.localserver import serve

def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

path, records, traced = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "traced"
before = rss()
if traced:
    tracemalloc.start()
app = make_app([path])
indexed = tracemalloc.get_traced_memory()
sizes = []

async def ask(port):
    async with aiohttp.ClientSession() as session:
        for i in range(records):
            url = f"http://big.test/{i}.html"
            async with session.get(url, proxy=f"http://127.0.0.1:{port}") as resp:
                size, head = 0, b""
                async for chunk in resp.content.iter_chunked(65536):  # not held: counted
                    head = head or chunk[:40]
                    size += len(chunk)
                sizes.append((resp.status, size, head.decode("ascii", "replace")))

with serve(app) as port:
    asyncio.run(ask(port))
current, peak = tracemalloc.get_traced_memory()
print(json.dumps({"indexed_peak": indexed[1], "peak": peak, "rss_before": before,
                  "rss_peak": rss(), "sizes": sizes, "misses": app[INDEX].misses}))
"""


@pytest.fixture(scope="module")
def big_warc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("warc") / "one-stream.warc.gz"
    write_one_stream_warc(path)
    return path


def replay_all(warc: Path, traced: bool) -> dict[str, Any]:
    """Replay every record of ``warc`` in a child process: its measurements."""
    mode = "traced" if traced else "rss"
    run = subprocess.run(
        [sys.executable, "-c", CHILD, str(warc), str(RECORDS), mode],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    got: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    # every response replayed whole, from its own record
    assert got["misses"] == 0
    assert [s[:2] for s in got["sizes"]] == [[200, BODY]] * RECORDS, got["sizes"]
    assert all(f"record {i}<" in s[2] for i, s in enumerate(got["sizes"]))
    return got


def test_replay_of_a_one_stream_gzip_keeps_a_record_not_the_file(big_warc: Path) -> None:
    assert big_warc.stat().st_size < 4 * 1024 * 1024  # a small file of large records
    total = RECORDS * BODY
    # Python's allocations: a few copies of one record at the peak (it is read, parsed and
    # sent), not the file's 192 MB
    traced = replay_all(big_warc, traced=True)
    assert traced["indexed_peak"] < 12 * BODY, traced
    assert traced["peak"] < 12 * BODY, traced
    # the process as the system sees it (without tracemalloc's own bookkeeping)
    plain = replay_all(big_warc, traced=False)
    assert plain["rss_peak"] - plain["rss_before"] < 0.6 * total, plain


def test_stream_places_read_back_like_the_stream(tmp_path: Path) -> None:
    """Small records, many checkpoints: every place reads back what a full read gives."""
    path = tmp_path / "small.warc.gz"
    write_one_stream_warc(path, records=40, size=300_000)
    full = {r.url: r.body for r in read_exchanges(path)}
    places = [p for p in index_records(path) if isinstance(p, Located)]
    assert len(places) == 40
    assert all(isinstance(p.stream, StreamIndex) for p in places)
    stream = places[0].stream
    assert stream is not None
    for place in reversed(places):
        again = read_response_at(place.path, place.offset, place.method, place.stream)
        assert again.body == full[place.url]
