"""Resumable scans: killed with SIGKILL or stopped with SIGTERM, then `scan --resume` ends with
the same findings as a scan that was never interrupted, and fetches nothing twice needlessly."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from crawler.cli import main
from crawler.demo import SITE_ROOT, demo_config, make_app
from tests.support.localserver import serve
from tests.support.scanproc import start_scan, wait_for_pages

HITS = web.AppKey("hits", list[tuple[str, str, str]])
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _app(delay: float) -> web.Application:
    """The demo district, each answer delayed, every request logged."""
    app = make_app(SITE_ROOT)
    hits: list[tuple[str, str, str]] = []

    @web.middleware
    async def slow(request: web.Request, handler: Handler) -> web.StreamResponse:
        hits.append((request.method, request.host.split(":")[0], request.path_qs))
        await asyncio.sleep(delay)
        return await handler(request)

    app.middlewares.append(slow)
    app[HITS] = hits
    return app


@pytest.fixture
def site() -> Iterator[tuple[web.Application, int]]:
    app = _app(delay=0.03)
    with serve(app) as port:
        yield app, port


def _config(tmp_path: Path, port: int) -> Path:
    cfg = tmp_path / "district.toml"
    text = demo_config(port).replace("concurrency = 4", "concurrency = 2")
    cfg.write_text(text, encoding="utf-8")
    return cfg


def _findings(db: Path, tmp_path: Path) -> dict[tuple[str, str, str], Any]:
    out = tmp_path / f"{db.stem}.json"
    assert main(["report", "--db", str(db), "--output", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["scan"]["status"] == "complete"
    return {(f["check"], f["site"], f["url"]): f["detail"] for f in report["findings"]}


def test_sigkill_then_resume_gives_the_same_findings(
    site: tuple[web.Application, int], tmp_path: Path
) -> None:
    app, port = site
    cfg = _config(tmp_path, port)
    whole = tmp_path / "whole.db"
    assert main(["scan", str(cfg), "--db", str(whole)]) == 0
    expected = _findings(whole, tmp_path)
    assert len(expected) >= 8  # the demo's planted problems
    once = Counter((h, p) for m, h, p in app[HITS] if m == "GET")

    app[HITS].clear()
    db = tmp_path / "killed.db"
    proc = start_scan(cfg, db)
    try:
        wait_for_pages(proc, db, 25)
    finally:
        proc.kill()
        proc.communicate(timeout=10)
    hits: list[tuple[str, str, str]] = app[HITS]
    first = hits.copy()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT status FROM scans").fetchone()[0] == "running"
        done = {r[0] for r in conn.execute("SELECT url FROM pages")}
    assert main(["scan", str(cfg), "--db", str(db), "--resume"]) == 0
    second = app[HITS][len(first) :]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM scans").fetchone()[0] == 1  # same scan
    assert _findings(db, tmp_path) == expected
    both = Counter((h, p) for m, h, p in first + second if m == "GET")
    # pages committed before the kill were not fetched again: not more often over both runs
    # than in the uninterrupted scan (a page that is also a redirect's target, /fgj/bszn ->
    # /fgj/bszn/, is fetched twice there: as itself, and as the hop of a link not yet followed
    # when the scan died)
    refetched = [
        p
        for m, h, p in second
        if m == "GET" and f"http://{h}{p}" in done and both[(h, p)] > once.get((h, p), 0)
    ]
    assert refetched == []
    # over both runs, nothing was fetched more often than in the uninterrupted scan, but
    # robots.txt and the soft-404 probes (asked again after the restart) and what the first
    # run had fetched without committing it when it died: in flight, or in the writer's queue
    # (how many depends on the machine's load, so the set is checked, not a count)
    extra = [k for k, n in both.items() if n > once.get(k, 0)]
    extra = [k for k in extra if "robots.txt" not in k[1] and "govmon-404-probe" not in k[1]]
    uncommitted = {(h, p) for m, h, p in first if m == "GET" and f"http://{h}{p}" not in done}
    assert set(extra) <= uncommitted, set(extra) - uncommitted


def test_sigterm_stops_cleanly_and_resumes(
    site: tuple[web.Application, int], tmp_path: Path
) -> None:
    _, port = site
    cfg = _config(tmp_path, port)
    db = tmp_path / "term.db"
    proc = start_scan(cfg, db)
    try:
        wait_for_pages(proc, db, 15)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143  # 128 + SIGTERM, as shells expect of a stopped command
    assert b"--resume" in err
    with sqlite3.connect(db) as conn:
        status, finished = conn.execute("SELECT status, finished_at FROM scans").fetchone()
    assert status == "interrupted"
    assert finished is not None  # the writer was flushed and the scan closed
    # the interrupted scan's report gives no verdict: every site is unchecked, said first
    out = tmp_path / "interrupted.json"
    assert main(["report", "--db", str(db), "--format", "json", "--output", str(out)]) == 0
    stopped = json.loads(out.read_text(encoding="utf-8"))
    assert {s["verdict"] for s in stopped["sites"]} == {"unchecked"}
    assert {s["unchecked"]["reason"] for s in stopped["sites"]} == {"interrupted"}
    assert all(s["score"] is None and not s["coverage"]["done"] for s in stopped["sites"])
    md = tmp_path / "interrupted.md"
    assert main(["report", "--db", str(db), "--format", "md", "--output", str(md)]) == 0
    head = md.read_text(encoding="utf-8").splitlines()[:4]
    assert any("检查未完成（已中断）" in line for line in head), head
    assert main(["scan", str(cfg), "--db", str(db), "--resume"]) == 0
    findings = _findings(db, tmp_path)
    assert ("link.broken", "town", "http://town.district.test/zqgk/") in findings
    late = "http://www.district.test/fgj/hdjl/202005/t20200520_2200520.html"
    assert ("message.late_reply", "fgj", late) in findings
    assert os.path.exists(db)
