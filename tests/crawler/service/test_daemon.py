"""`govmon daemon` end to end: it samples, scans inside its window, warns a webhook, answers
/healthz and /metrics, and exits 0 on SIGTERM with everything flushed."""

from __future__ import annotations

import datetime as dt
import json
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.support.localserver import serve

POSTS = web.AppKey("posts", list[dict[str, Any]])


def _site() -> web.Application:
    async def home(request: web.Request) -> web.Response:
        # the newest dated item is years old: homepage.stale, a veto
        body = (
            "<title>测试区人民政府</title><ul class='list'>"
            "<li><a href='/a/1.html'>区政府召开常务会议</a><span>2020-01-02</span></li>"
            "<li><a href='/a/2.html'>区长调研重点项目</a><span>2020-01-01</span></li></ul>"
        )
        return web.Response(text=body, content_type="text/html")

    async def article(request: web.Request) -> web.Response:
        return web.Response(text="<title>文章</title><p>正文</p>", content_type="text/html")

    async def hook(request: web.Request) -> web.Response:
        request.app[POSTS].append(await request.json())
        return web.json_response({"ok": True})

    app = web.Application()
    app[POSTS] = []
    app.router.add_get("/", home)
    app.router.add_get("/a/{n}.html", article)
    app.router.add_post("/hook", hook)
    return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return int(resp.status), resp.read().decode("utf-8")


def daemon_config(base: str, metrics_port: int | None = None) -> str:
    """The test site's config: a window from today, 24 samples a day, the webhook."""
    today = dt.date.today()
    listen = f'metrics_listen = "127.0.0.1:{metrics_port}"\n' if metrics_port else ""
    return f"""[crawl]
allow_private = true
resolve_only = true
rate = 0
recheck_delay = 0
robots = "ignore"
[schedule]
window_start = {today.isoformat()}
window_end = {(today + dt.timedelta(days=2)).isoformat()}
samples_per_day = 24
webhook = "{base}/hook"
webhook_retries = 1
{listen}[[site]]
id = "t"
name = "测试区人民政府"
unit = "测试区政府办"
url = "{base}/"
"""


def test_daemon_samples_scans_warns_and_stops(tmp_path: Path) -> None:
    app = _site()
    metrics_port = _free_port()
    with serve(app) as port:
        base = f"http://127.0.0.1:{port}"
        cfg = tmp_path / "govmon.toml"
        cfg.write_text(daemon_config(base, metrics_port), encoding="utf-8")
        db = tmp_path / "govmon.db"
        proc = subprocess.Popen(
            [sys.executable, "-m", "crawler", "daemon", str(cfg), "--db", str(db)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline and not app[POSTS]:
                assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
                time.sleep(0.1)
            assert app[POSTS], "the webhook was never called"
            status, health = _get(f"http://127.0.0.1:{metrics_port}/healthz")
            assert status == 200
            assert json.loads(health)["last_scan"] == 1
            _, metrics = _get(f"http://127.0.0.1:{metrics_port}/metrics")
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, err.decode()[-2000:]
    # the plan in plain words at the default log level, before anything else
    said = [line for line in err.decode().splitlines() if line.startswith("govmon daemon: ")]
    assert said[0].startswith("govmon daemon: started: 1 site, store ")
    assert "availability: every site's home page 24 times a day" in said[1]
    assert re.search(
        r"the next round (now|at \d{4}-\d\d-\d\d \d\d:\d\d \(Asia/Shanghai\))$", said[1]
    )
    today = dt.date.today()
    assert said[2].startswith(f"govmon daemon: scan window {today.isoformat()} 00:00 to ")
    assert "the next scan now, 1 site, expected to end by " in said[2]
    payload = app[POSTS][0]
    checks = {e.get("check") for e in payload["events"]}
    assert "homepage.stale" in checks
    assert "govmon_probe_samples_total" in metrics
    assert 'govmon_findings_total{check="homepage.stale"' in metrics
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM samples").fetchone()[0] >= 1
        assert conn.execute("SELECT status FROM scans").fetchone()[0] == "complete"
