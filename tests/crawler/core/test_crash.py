"""A scan killed with SIGKILL leaves a store that opens and keeps every committed finding."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from crawler.cli import main
from tests.support.localserver import serve

PAGES = 150


def _app() -> web.Application:
    async def page(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        links = "".join(
            f'<a href="/p/{m}.html">p{m}</a>' for m in (2 * n + 1, 2 * n + 2) if m < PAGES
        )
        body = (
            f"<html><head><title>第{n}页</title></head><body>{links}"
            f'<a href="/missing/{n}.html">坏链</a><img src="/missing/{n}.png"></body></html>'
        )
        return web.Response(text=body, content_type="text/html")

    async def home(request: web.Request) -> web.Response:
        raise web.HTTPFound("/p/0.html")

    app = web.Application()
    app.router.add_get("/", home)
    app.router.add_get("/p/{n}.html", page)
    return app


@pytest.fixture
def server() -> Iterator[int]:
    with serve(_app()) as port:
        yield port


def _config(tmp_path: Path, port: int, rate: int = 60) -> Path:
    cfg = tmp_path / f"govmon-{rate}.toml"
    cfg.write_text(
        f"""
[crawl]
allow_private = true
resolve_only = true
rate = {rate}
concurrency = 2
workers = 4
recheck_delay = 0.05
retries = 0
robots = "ignore"
[[site]]
id = "s"
url = "http://127.0.0.1:{port}/"
""",
        encoding="utf-8",
    )
    return cfg


def _count(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM findings").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_sigkill_mid_scan_keeps_committed_findings(server: int, tmp_path: Path) -> None:
    cfg = _config(tmp_path, server)
    db = tmp_path / "govmon.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler", "scan", str(cfg), "--db", str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seen = 0
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            seen = _count(db)
            if seen >= 40:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the scan finished before it could be killed"
        before = _count(db)  # committed, as another reader sees it
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    assert before >= 40
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        after = conn.execute("SELECT count(*) FROM findings").fetchone()[0]
        status = conn.execute("SELECT status FROM scans").fetchone()[0]
    assert after >= before
    assert status == "running"  # never marked complete
    # the store still serves reports, and says the scan is incomplete
    out = tmp_path / "r.json"
    assert main(["report", "--db", str(db), "--format", "json", "--output", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["scan"]["status"] == "incomplete"
    assert len(report["findings"]) == after
    # a complete scan of the same site into the same store still works afterwards
    fast = _config(tmp_path, server, rate=0)
    assert main(["scan", str(fast), "--db", str(db)]) == 0
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT id, status FROM scans ORDER BY id").fetchall()
        complete = conn.execute(
            "SELECT count(*) FROM findings WHERE scan_id = 2 AND check_code = 'link.broken'"
        ).fetchone()[0]
    assert rows == [(1, "running"), (2, "complete")]
    assert complete == 2 * PAGES  # every page has a missing page and a missing image
