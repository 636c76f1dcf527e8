"""Pluggable page checks: they see every in-scope page once, and a failing one stops nothing."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path

from aiohttp import web

from checks.base import Finding, PageView, ScanContext
from checks.registry import load_checks
from crawler.config import Config, Site, load_config
from crawler.core.engine import Scan
from storage.base import FindingRecord
from storage.sqlite import SQLiteStore
from tests.support.localserver import serve

NOW = dt.datetime(2020, 6, 16, tzinfo=dt.UTC)
EVERY_FAMILY = (
    "content", "link", "column", "homepage", "newmedia", "message", "policy", "service", "site",
)  # fmt: skip


def _app() -> web.Application:
    async def page(request: web.Request) -> web.Response:
        n = int(request.match_info.get("n", "0"))
        nxt = f'<a href="/p{n + 1}.html">next</a>' if n < 4 else '<a href="/gone.html">x</a>'
        return web.Response(text=f"<title>第{n}页</title>{nxt}", content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/p{n}.html", page)
    return app


class TitleCheck:
    codes: tuple[str, ...] = ("content.typo",)

    def __init__(self, context: ScanContext) -> None:
        self.seen: list[str] = []

    def on_page(self, site: Site, page: PageView) -> Iterable[Finding]:
        self.seen.append(page.url)
        if page.parsed.title == "第2页":
            yield Finding("content.typo", site.id, site.unit, page.url, detail={"text": "第2页"})

    def finish(self, site: Site) -> Iterable[Finding]:
        yield Finding(
            "content.typo", site.id, site.unit, site.url, detail={"pages": len(self.seen)}
        )


class Broken:
    codes: tuple[str, ...] = ("content.sensitive",)

    def __init__(self, context: ScanContext) -> None:
        pass

    def on_page(self, site: Site, page: PageView) -> Iterable[Finding]:
        if page.is_home:
            raise RuntimeError("lexicon missing")
        return []

    def finish(self, site: Site) -> Iterable[Finding]:
        return []


def _config(tmp_path: Path, port: int, disable: str = "") -> Config:
    path = tmp_path / "g.toml"
    path.write_text(
        f"[crawl]\nallow_private = true\nresolve_only = true\nrate = 0\nrecheck_delay = 0\n"
        f'robots = "ignore"\n[checks]\ndisable = [{disable}]\n'
        f'[[site]]\nid = "s"\nurl = "http://127.0.0.1:{port}/"\n',
        encoding="utf-8",
    )
    return load_config(path)


async def _scan(config: Config, db: Path) -> list[FindingRecord]:
    store = await SQLiteStore.open(db)
    try:
        checks = load_checks(ScanContext(config, NOW), extra=[TitleCheck, Broken])
        result = await Scan(config, store, checks=checks).run()
        return await store.findings(result.scan_id)
    finally:
        await store.close()


async def test_checks_run_on_every_page_and_errors_become_findings(tmp_path: Path) -> None:
    with serve(_app()) as port:
        config = _config(tmp_path, port)
        findings = await _scan(config, tmp_path / "a.db")
    by_check: dict[str, list[FindingRecord]] = {}
    for f in findings:
        by_check.setdefault(str(f["check"]), []).append(f)
    typo = sorted(by_check["content.typo"], key=lambda f: str(f["url"]))
    assert [f["url"] for f in typo] == [
        f"http://127.0.0.1:{port}/",  # the site-level finish: 5 pages seen (/, p1..p4), each once
        f"http://127.0.0.1:{port}/p2.html",
    ]
    assert typo[0]["detail"] == {"pages": 5}
    [error] = by_check["check.error"]
    assert error["url"] == f"http://127.0.0.1:{port}/"
    assert "lexicon missing" in json.dumps(error["detail"])
    assert [f["url"] for f in by_check["link.broken"]] == [f"http://127.0.0.1:{port}/gone.html"]


async def test_disabled_families_do_not_run(tmp_path: Path) -> None:
    with serve(_app()) as port:
        config = _config(
            tmp_path,
            port,
            disable=", ".join(f'"{family}"' for family in EVERY_FAMILY),
        )
        assert load_checks(ScanContext(config, NOW), extra=[TitleCheck, Broken]) == []
        findings = await _scan(config, tmp_path / "b.db")
    assert findings == []
