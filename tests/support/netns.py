"""Run inside a network namespace of its own (``unshare -n``): addresses that must stay out of
reach are put on ``lo``, a trap server listens on each, and govmon scans a site on 127.0.0.1
whose pages link and redirect to them, directly and through a forwarding proxy.

``python -m tests.support.netns OUT.json`` (started by tests/crawler/net/test_address_rules.py)
writes what every trap server and the proxy were asked, and the findings of both scans. Nothing
here may run outside a namespace: it adds addresses to ``lo`` and binds port 80 on them.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from crawler.cli import main

# IPv4 addresses put on lo: the metadata services and the private ranges
TRAP_V4 = (
    "100.100.100.200",  # Alibaba Cloud metadata (shared address space 100.64.0.0/10)
    "100.64.0.1",
    "169.254.169.254",  # AWS, Tencent, Huawei ... metadata (link-local)
    "10.0.0.1",
    "192.168.0.1",
    "172.16.0.1",
)
# IPv6 addresses put on lo when the namespace has IPv6: site-local, and 6to4 forms of
# 100.100.100.200 and 10.0.0.1
TRAP_V6 = ("fec0::1", "2002:6464:64c8::1", "2002:a00:1::1")
LOOPBACK_TRAP = "127.0.0.2"  # behind the names localhost and 0x7f.0.0.2


def _ip(*args: str) -> bool:
    return subprocess.run(["ip", *args], check=False, capture_output=True).returncode == 0


def setup_addresses() -> tuple[list[str], list[str]]:
    """Bring ``lo`` up with the trap addresses; the IPv6 ones only where IPv6 works."""
    if not _ip("link", "set", "lo", "up"):
        raise SystemExit("cannot bring lo up (not in a network namespace of our own?)")
    v4 = [a for a in TRAP_V4 if _ip("addr", "add", f"{a}/32", "dev", "lo")]
    v6 = [a for a in TRAP_V6 if _ip("-6", "addr", "add", f"{a}/128", "dev", "lo", "nodad")]
    return v4, v6


def hostile_links(site: str, trap_port: int, v6: list[str]) -> list[str]:
    """Every URL the site's home page links to that must never be requested."""
    links = [
        "http://100.100.100.200/latest/meta-data/ram/security-credentials/role",
        "http://100.64.0.1/latest/meta-data/",
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://10.0.0.1/admin/",
        "http://192.168.0.1/admin/",
        "http://172.16.0.1/admin/",
        "http://[::ffff:100.100.100.200]/latest/meta-data/",
        "http://[::ffff:a00:1]/admin/",
        "http://meta.test/latest/meta-data/",  # [crawl] resolve maps it to 100.100.100.200
        "http://intranet.test/admin/",  # ... and this one to 10.0.0.1
        f"http://localhost:{trap_port}/admin/",
        f"http://0x7f.0.0.2:{trap_port}/admin/",
        f"http://2130706434:{trap_port}/decimal/",
    ]
    links += [f"http://[{a}]/admin/" for a in v6]
    links += [f"{site}go/meta.html", f"{site}go/shared.html"]  # redirects
    return links


REDIRECTS = {
    "/go/meta.html": "http://100.100.100.200/latest/user-data",
    "/go/shared.html": "http://100.64.0.1/latest/user-data",
}


def site_app(links: list[str]) -> web.Application:
    async def home(request: web.Request) -> web.Response:
        anchors = "".join(f'<li><a href="{u}">链接{i}</a></li>' for i, u in enumerate(links))
        body = (
            "<html><head><title>测试局</title></head><body><ul>"
            f'{anchors}<li><a href="/news/a.html">区政府召开常务会议</a> 2020-06-15</li>'
            "</ul></body></html>"
        )
        return web.Response(text=body, content_type="text/html")

    async def page(request: web.Request) -> web.Response:
        target = REDIRECTS.get(request.path)
        if target is not None:
            raise web.HTTPFound(target)
        if request.path == "/news/a.html":
            text = "<html><head><title>区政府召开常务会议</title></head><body>会议</body></html>"
            return web.Response(text=text, content_type="text/html")
        raise web.HTTPNotFound()

    app = web.Application()
    app.router.add_get("/", home)
    app.router.add_route("*", "/{tail:.*}", page)
    return app


def trap_app(name: str, hits: list[dict[str, str]]) -> web.Application:
    async def any_request(request: web.Request) -> web.Response:
        hits.append({"trap": name, "method": request.method, "target": request.path_qs})
        return web.Response(text="secret-credentials", content_type="text/plain")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", any_request)
    return app


def proxy_app(asked: list[str]) -> web.Application:
    """A forwarding proxy (absolute-form requests) that really forwards: what reaches a trap
    through it is counted there too."""

    async def forward(request: web.Request) -> web.StreamResponse:
        target = request.raw_path
        asked.append(f"{request.method} {target}")
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.request(request.method, target, allow_redirects=False) as resp,
            ):
                body = await resp.read()
                headers = {k: v for k, v in resp.headers.items() if k.lower() == "location"}
                return web.Response(
                    status=resp.status,
                    body=body,
                    headers=headers,
                    content_type=resp.content_type,
                )
        except Exception as exc:  # an unreachable target: what a proxy answers
            return web.Response(status=502, text=f"proxy: {type(exc).__name__}")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


async def _start(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner, int(runner.addresses[0][1])


def config(site: str) -> str:
    return f"""\
as_of = 2020-06-16

[crawl]
rate = 0
concurrency = 4
timeout = 2
retries = 0
recheck_delay = 0.05
allow_private = false
resolve = {{ "meta.test" = "100.100.100.200", "intranet.test" = "10.0.0.1" }}

[checks]
disable = ["site"]

[[site]]
id = "main"
name = "测试局"
unit = "测试局"
kind = "department"
url = "{site}"
"""


def scan(cfg: Path, db: Path, out: Path, proxy: str | None) -> list[dict[str, Any]]:

    argv = ["scan", str(cfg), "--db", str(db)] + (["--proxy", proxy] if proxy else [])
    if main(argv) != 0:
        raise SystemExit(f"scan failed: {argv}")
    if main(["report", "--db", str(db), "--format", "json", "--output", str(out)]) != 0:
        raise SystemExit("report failed")
    findings: list[dict[str, Any]] = json.loads(out.read_text(encoding="utf-8"))["findings"]
    return findings


def run(result_path: Path) -> None:
    v4, v6 = setup_addresses()
    hits: list[dict[str, str]] = []
    asked: list[str] = []
    links: list[str] = []
    loop = asyncio.new_event_loop()
    runners: list[web.AppRunner] = []

    async def start_all() -> tuple[int, int]:
        for address in (*v4, *v6):
            runners.append((await _start(trap_app(address, hits), address, 80))[0])
        # localhost and 0x7f.0.0.2 reach one of these (same port on 127.0.0.1 and 127.0.0.2)
        runner, trap_port = await _start(trap_app("127.0.0.1", hits), "127.0.0.1", 0)
        runners.append(runner)
        runners.append((await _start(trap_app(LOOPBACK_TRAP, hits), LOOPBACK_TRAP, trap_port))[0])
        # the site: its host (127.0.0.1) is configured, so it is trusted as today
        runner, site_port = await _start(site_app(links), "127.0.0.1", 0)
        runners.append(runner)
        links.extend(hostile_links(f"http://127.0.0.1:{site_port}/", trap_port, v6))
        runner, proxy_port = await _start(proxy_app(asked), "127.0.0.1", 0)
        runners.append(runner)
        return site_port, proxy_port

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    site_port, proxy_port = asyncio.run_coroutine_threadsafe(start_all(), loop).result(30)
    site = f"http://127.0.0.1:{site_port}/"
    scans: dict[str, list[dict[str, Any]]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            cfg = folder / "govmon.toml"
            cfg.write_text(config(site), encoding="utf-8")
            for name, proxy in (("direct", None), ("proxied", f"http://127.0.0.1:{proxy_port}")):
                scans[name] = scan(cfg, folder / f"{name}.db", folder / f"{name}.json", proxy)
    finally:

        async def stop_all() -> None:
            for runner in runners:
                await runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop_all(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
    result = {
        "site": site,
        "links": links,
        "v6": v6,
        "hits": hits,
        "proxy_asked": asked,
        "scans": scans,
    }
    result_path.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    run(Path(sys.argv[1]))
