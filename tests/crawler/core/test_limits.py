"""Depth and page limits: beyond them pages are checked, not crawled; nothing is lost silently."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from aiohttp import web

from crawler.cli import main
from tests.support.localserver import serve

HITS = web.AppKey("hits", list[str])


def _tree() -> web.Application:
    """An endless binary tree of pages: /n/1 links /n/2 and /n/3, and so on."""
    hits: list[str] = []

    async def node(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        hits.append(f"{request.method} {n}")
        body = f'<title>{n}</title><a href="/n/{2 * n}">l</a><a href="/n/{2 * n + 1}">r</a>'
        return web.Response(text=body, content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/n/{n}", node)
    app[HITS] = hits
    return app


def _scan(tmp_path: Path, port: int, extra: str) -> tuple[list[tuple[int, int]], int]:
    cfg = tmp_path / "g.toml"
    cfg.write_text(
        "[crawl]\nallow_private = true\nresolve_only = true\nrate = 0\nrobots = 'ignore'\n"
        f'{extra}\n[[site]]\nid = "t"\nurl = "http://127.0.0.1:{port}/n/1"\n',
        encoding="utf-8",
    )
    db = tmp_path / "g.db"
    assert main(["scan", str(cfg), "--db", str(db)]) == 0
    with sqlite3.connect(db) as conn:
        pages = conn.execute("SELECT url_id, depth FROM pages ORDER BY url_id").fetchall()
        checked = conn.execute("SELECT count(*) FROM links WHERE outcome = 'ok'").fetchone()[0]
    return pages, checked


def test_max_depth_checks_but_does_not_crawl_deeper(tmp_path: Path) -> None:
    app = _tree()
    with serve(app) as port:
        pages, checked = _scan(tmp_path, port, "max_depth = 2")
    assert sorted(d for _, d in pages) == [0, 1, 1, 2, 2, 2, 2]
    assert checked == 8  # depth-3 pages are linked, so they are checked (HEAD), not parsed
    heads = [h for h in app[HITS] if h.startswith("HEAD")]
    assert sorted(int(h.split()[1]) for h in heads) == list(range(8, 16))


def test_max_pages_caps_the_crawl(tmp_path: Path) -> None:
    app = _tree()
    with serve(app) as port:
        pages, checked = _scan(tmp_path, port, "max_pages = 5")
    assert len(pages) == 5
    assert checked > 0  # the links of the last pages are still checked
