"""A recorded scan replays offline to the same findings (scan --record, replay, scan --proxy)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from crawler.cli import main
from crawler.demo import SITE_ROOT, demo_config, serve
from crawler.recordings import RecordedFailure, index_records
from crawler.recordings.replay import INDEX, make_app
from tests.support.govsite import GovSite
from tests.support.localserver import serve as serve_app


def _findings(db: Path, out: Path) -> dict[tuple[str, str, str], Any]:
    assert main(["report", "--db", str(db), "--output", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["scan"]["status"] == "complete"
    return {(f["check"], f["site"], f["url"]): f["detail"] for f in report["findings"]}


def test_a_recording_replays_to_the_same_findings(tmp_path: Path) -> None:
    warc = tmp_path / "district.warc.gz"
    with serve(SITE_ROOT) as live:
        cfg = tmp_path / "district.toml"
        cfg.write_text(demo_config(live.port), encoding="utf-8")
        recorded = tmp_path / "recorded.db"
        assert main(["scan", str(cfg), "--db", str(recorded), "--record", str(warc)]) == 0
    # the live site is gone: everything now comes from the recording
    assert warc.stat().st_size > 10_000
    with serve_app(make_app([warc])) as port:
        replayed = tmp_path / "replayed.db"
        proxy = f"http://127.0.0.1:{port}"
        assert main(["scan", str(cfg), "--db", str(replayed), "--proxy", proxy]) == 0
    before = _findings(recorded, tmp_path / "a.json")
    after = _findings(replayed, tmp_path / "b.json")
    assert len(before) >= 8  # the demo's planted problems
    assert after == before


# -- a soft-404 host and failed requests: replayed as recorded -----------------------------------

SOFT_PAGE = (
    "<html><head><title>提示信息</title></head><body>"
    + "<p>页面不存在 抱歉，您要访问的内容已经移走 请返回首页继续浏览</p>" * 5
    + "</body></html>"
)


def soft_site(refused: int) -> web.Application:
    """A host that answers 200 "页面不存在" (with a title that says nothing) for any unknown path,
    whose home links a missing page, a port on 127.0.0.1 that refuses connections, a name that
    never resolves and a page slower than the scan's timeout."""

    async def home(request: web.Request) -> web.Response:
        links = [
            "/news/a.html",
            "/news/gone.html",
            f"http://127.0.0.1:{refused}/x.html",
            "http://nosuchhost.invalid/",
            "/slow.html",
        ]
        body = "".join(f'<a href="{href}">链接{i}</a>' for i, href in enumerate(links))
        return web.Response(
            text=f"<html><head><title>测试局</title></head><body>{body}</body></html>",
            content_type="text/html",
        )

    async def article(request: web.Request) -> web.Response:
        text = "<p>区政府召开常务会议，研究部署防汛工作。会议要求各部门落实责任。</p>" * 5
        return web.Response(
            text=f"<html><head><title>区政府召开常务会议</title></head><body>{text}</body></html>",
            content_type="text/html",
        )

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)  # the scan's timeout is 1 s
        return web.Response(text="<html>too late</html>", content_type="text/html")

    async def missing(request: web.Request) -> web.Response:
        return web.Response(text=SOFT_PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", home)
    app.router.add_get("/news/a.html", article)
    app.router.add_get("/slow.html", slow)
    app.router.add_get("/{tail:.*}", missing)
    return app


def soft_config(port: int) -> str:
    return f"""\
as_of = 2020-06-16

[crawl]
rate = 0
concurrency = 4
timeout = 1
retries = 1
retry_backoff = 0.05
recheck_delay = 0.05
resolve = {{ "www.soft.test" = "127.0.0.1:{port}" }}
resolve_only = true
allow_private = true

[[site]]
id = "soft"
name = "测试局"
unit = "测试局"
kind = "department"
url = "http://www.soft.test/"
"""


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A port on 127.0.0.1 that is bound but does not listen: connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def test_soft_404s_and_failures_replay_to_the_same_findings(
    tmp_path: Path, refused_port: int
) -> None:
    warc = tmp_path / "soft.warc.gz"
    cfg = tmp_path / "soft.toml"
    recorded = tmp_path / "recorded.db"
    with serve_app(soft_site(refused_port)) as port:
        cfg.write_text(soft_config(port), encoding="utf-8")
        assert main(["scan", str(cfg), "--db", str(recorded), "--record", str(warc)]) == 0
    failures = [r for r in index_records(warc) if isinstance(r, RecordedFailure)]
    assert {(f.url, f.error) for f in failures} == {
        (f"http://127.0.0.1:{refused_port}/x.html", "connect"),
        ("http://nosuchhost.invalid/", "dns"),
        ("http://www.soft.test/slow.html", "timeout"),
    }
    app = make_app([warc])
    with serve_app(app) as port:
        replayed = tmp_path / "replayed.db"
        proxy = f"http://127.0.0.1:{port}"
        assert main(["scan", str(cfg), "--db", str(replayed), "--proxy", proxy]) == 0
    assert app[INDEX].misses == 0  # the soft-404 probe included
    before = _findings(recorded, tmp_path / "a.json")
    after = _findings(replayed, tmp_path / "b.json")
    assert after == before
    soft = before[("link.broken", "soft", "http://www.soft.test/news/gone.html")]
    assert (soft["reason"], soft["status"]) == ("soft-404", 200)
    assert ("link.broken", "soft", "http://www.soft.test/news/a.html") not in before
    refused = before[("link.broken", "soft", f"http://127.0.0.1:{refused_port}/x.html")]
    assert refused["reason"] == "connect"
    assert "Connect call failed" in refused["error"]
    assert before[("link.broken", "soft", "http://nosuchhost.invalid/")]["reason"] == "dns"
    assert before[("link.broken", "soft", "http://www.soft.test/slow.html")]["reason"] == "timeout"


def test_the_trap_site_replays_to_the_same_link_findings(tmp_path: Path) -> None:
    """Every trap of tests/support/govsite.py (TLS, DNS, refused and timed-out connections, soft-404
    hosts by content and by redirect, 429/503 with Retry-After ...) recorded and replayed."""
    warc = tmp_path / "traps.warc.gz"
    cfg = tmp_path / "traps.toml"
    recorded, replayed = tmp_path / "recorded.db", tmp_path / "replayed.db"
    with GovSite() as site:
        cfg.write_text(site.config_toml(), encoding="utf-8")
        assert main(["scan", str(cfg), "--db", str(recorded), "--record", str(warc)]) == 0
    app = make_app([warc])
    with serve_app(app) as port:
        proxy = f"http://127.0.0.1:{port}"
        assert main(["scan", str(cfg), "--db", str(replayed), "--proxy", proxy]) == 0
    assert app[INDEX].misses == 0
    assert app[INDEX].failures > 0
    links = ("link.broken", "link.blocked")
    before = {k: v for k, v in _findings(recorded, tmp_path / "a.json").items() if k[0] in links}
    after = {k: v for k, v in _findings(replayed, tmp_path / "b.json").items() if k[0] in links}
    reasons = {detail["reason"] for detail in before.values()}
    assert {"soft-404", "tls", "dns", "connect", "timeout"} <= reasons
    assert after == before
