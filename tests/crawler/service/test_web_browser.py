"""The web view end to end in headless Chromium (Debian's ``chromium`` package).

A real server on 127.0.0.1 serves a store made by ``run_demo``; Chromium loads its pages, dumps
the DOM it built and takes a screenshot, which must be a PNG of the window's size that is not one
blank colour. Without ``/usr/bin/chromium`` the tests skip, saying how to install it, unless
``GOVMON_REQUIRE_BROWSER=1`` is set: then they fail. Every browser run is bounded in time and
killed with its process group when it overruns.

Install: ``apt-get update && apt-get install -y chromium`` (as root).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import struct
import tempfile
import zlib
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from crawler.demo import run_demo
from crawler.reports import build_report
from crawler.reports.model import Report
from crawler.service.web import make_app
from storage.sqlite import SQLiteStore
from tests.crawler.reports.test_reports_formats import parse_html

CHROMIUM = Path("/usr/bin/chromium")
INSTALL = "apt-get update && apt-get install -y chromium"
WIDTH, HEIGHT = 1280, 900
BROWSER_TIMEOUT = 90.0  # seconds for one Chromium run
TOKEN = "browser-test-token-3f9a7c21"

pytestmark = pytest.mark.timeout(300)


def _chromium() -> Path:
    if CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    reason = (
        f"BROWSER TEST NOT RUN: {CHROMIUM} is missing; install Debian's chromium with `{INSTALL}`"
    )
    if os.environ.get("GOVMON_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " (GOVMON_REQUIRE_BROWSER=1 requires it)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> Path:
    return _chromium()


@pytest.fixture(scope="module")
def demo(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Report]:
    out = tmp_path_factory.mktemp("browserdemo")
    assert run_demo(out) == 0
    db = out / "govmon.db"

    async def report() -> Report:
        store = await SQLiteStore.open(db, create=False)
        try:
            return await build_report(store, 1)
        finally:
            await store.close()

    return db, asyncio.run(report())


@contextlib.asynccontextmanager
async def serving(db: Path, token: str | None = None) -> AsyncIterator[str]:
    """The web view on a real socket on 127.0.0.1; yields its base URL."""
    runner = web.AppRunner(make_app(str(db), token), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        assert host == "127.0.0.1"
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def browse(chromium: Path, tmp: Path, url: str, *extra: str) -> tuple[int, str, str]:
    """Run headless Chromium once on ``url``; return its exit status, stdout and stderr."""
    profile = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="profile-", dir=tmp))
    argv = [
        str(chromium), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", f"--window-size={WIDTH},{HEIGHT}",
        *extra, url,
    ]  # fmt: skip
    env = {**os.environ, "HOME": str(profile), "XDG_CONFIG_HOME": str(profile),
           "XDG_CACHE_HOME": str(profile)}  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        start_new_session=True,  # its own process group, so an overrun kills every helper
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), BROWSER_TIMEOUT)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        pytest.fail(f"chromium did not finish within {BROWSER_TIMEOUT:.0f} s on {url}")
    assert proc.returncode is not None
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


async def dump_dom(chromium: Path, tmp: Path, url: str) -> str:
    status, out, err = await browse(chromium, tmp, url, "--dump-dom")
    assert status == 0, f"chromium --dump-dom failed ({status}): {err[-2000:]}"
    assert "<html" in out, f"no DOM dumped for {url}: {err[-2000:]}"
    return out


# -- a tiny PNG reader (8-bit RGB/RGBA, not interlaced: what Chromium writes) -------------


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def read_png(data: bytes) -> tuple[int, int, list[bytes], int]:
    """``(width, height, rows of raw pixel bytes, bytes per pixel)``; checks every CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, header, idat = 8, b"", []
    while pos < len(data):
        (length, kind) = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8, depth
    assert colour in (2, 6), colour
    assert interlace == 0
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    assert len(raw) == height * (stride + 1), "truncated image data"
    rows: list[bytes] = []
    prev = bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        ftype = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        if ftype == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif ftype == 2:
            line = bytearray((x + p) & 0xFF for x, p in zip(line, prev, strict=True))
        elif ftype == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif ftype == 4:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                upleft = prev[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + _paeth(left, prev[i], upleft)) & 0xFF
        else:
            assert ftype == 0, f"unknown PNG filter {ftype}"
        prev = bytes(line)
        rows.append(prev)
    return width, height, rows, bpp


def _tiny_png(width: int, height: int, pixels: list[tuple[int, int, int]]) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    raw = b""
    for y in range(height):
        line = b"".join(bytes(p) for p in pixels[y * width : (y + 1) * width])
        raw += b"\x01" + bytes(  # the Sub filter, to exercise the reader's unfiltering
            (line[i] - (line[i - 3] if i >= 3 else 0)) & 0xFF for i in range(len(line))
        )
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))  # fmt: skip


def test_png_reader_on_a_known_image() -> None:
    pixels = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (10, 20, 30), (200, 100, 50), (1, 2, 3)]
    width, height, rows, bpp = read_png(_tiny_png(3, 2, pixels))
    assert (width, height, bpp) == (3, 2, 3)
    assert [tuple(r[i : i + 3]) for r in rows for i in range(0, 9, 3)] == pixels


# -- the browser tests ----------------------------------------------------------------------


async def test_browser_renders_the_scan_page(
    chromium: Path, demo: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    db, report = demo
    async with serving(db) as base:
        dom = await dump_dom(chromium, tmp_path, f"{base}/scans/1")
        shot = tmp_path / "scan.png"
        status, _, err = await browse(chromium, tmp_path, f"{base}/scans/1", f"--screenshot={shot}")
        assert status == 0, f"chromium --screenshot failed ({status}): {err[-2000:]}"
        site_dom = await dump_dom(chromium, tmp_path, f"{base}/scans/1/sites/jyj?check=column")

    root = parse_html(dom)
    verdicts = root.find("table", id="verdicts").find("tbody").find_all("tr")
    rank = {"unqualified": 0, "unchecked": 1, "qualified": 2}  # worst first
    ordered = sorted(report["sites"], key=lambda s: (rank[s["verdict"]], s["score"] or 0))
    assert [r.attrs["data-site"] for r in verdicts] == [s["id"] for s in ordered]
    for row, site in zip(verdicts, ordered, strict=True):
        assert row.cells()[3] == {"qualified": "合格", "unqualified": "不合格"}[site["verdict"]]
    problems = [r.attrs["data-id"] for r in root.find("table", id="units").find_all("tr")
                if "data-id" in r.attrs]  # fmt: skip
    assert problems == [p["id"] for u in report["units"] for p in u["problems"]]
    assert problems  # the demo's planted problems are there

    site_root = parse_html(site_dom)
    expected = [f for f in report["findings"]
                if f["site"] == "jyj" and f["check"].startswith("column.")]  # fmt: skip
    assert expected
    rows = site_root.find("table", id="findings").find_all("tr", class_="finding")
    assert [r.attrs["data-id"] for r in rows] == [f["id"] for f in expected]
    assert expected[0]["url"] in rows[0].text()

    width, height, pixels, bpp = read_png(shot.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)
    colours: Counter[bytes] = Counter()
    for line in pixels:
        for i in range(0, len(line), bpp):
            colours[line[i : i + 3]] += 1
    total = width * height
    top, top_count = colours.most_common(1)[0]
    assert len(colours) >= 16, f"only {len(colours)} colours: a blank page"
    assert top_count < 0.97 * total, f"{top_count / total:.1%} of the screenshot is {top.hex()}"
    dark = sum(n for c, n in colours.items() if sum(c) < 3 * 90)
    assert dark > 500, "no dark pixels: no text was drawn"


async def test_browser_with_a_token(
    chromium: Path, demo: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    db, report = demo
    async with serving(db, TOKEN) as base:
        refused = await dump_dom(chromium, tmp_path, f"{base}/scans/1")
        allowed = await dump_dom(chromium, tmp_path, f"{base}/scans/1?token={TOKEN}")
    assert "需要令牌" in parse_html(refused).find("h1").text()
    assert not parse_html(refused).find_all("table", id="verdicts")
    root = parse_html(allowed)
    rows = root.find("table", id="verdicts").find("tbody").find_all("tr")
    assert len(rows) == len(report["sites"])
    site_link = rows[0].find("a").attrs["href"] or ""
    assert site_link.endswith(f"?token={TOKEN}")  # the links keep working in the browser
