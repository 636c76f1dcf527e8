"""Markdown link and image syntax in site text is shown as text in report.md (issue 19, item 7).

A site on 127.0.0.1 names its columns ``![](//ab)人事`` and ``[x](//ab)动态``; they are
stale, so their names reach the Markdown report, where they must stay text.
"""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

from crawler.cli import main
from crawler.reports.markdown import md_text as _md
from tests.support.localserver import serve

HOSTILE_NAMES = ("![](//ab)人事", "[x](//ab)动态", "`code`通知公告")


def _site() -> web.Application:
    async def home(request: web.Request) -> web.Response:
        nav = "".join(
            f'<li><a href="/c{i}/">{name}</a></li>' for i, name in enumerate(HOSTILE_NAMES)
        )
        body = (
            f"<html><head><title>测试局</title></head><body><ul class='nav'>{nav}</ul>"
            "<ul class='list'><li><a href='/c1/a.html'>区政府召开常务会议</a>"
            "<span>2020-06-15</span></li></ul></body></html>"
        )
        return web.Response(text=body, content_type="text/html")

    async def column(request: web.Request) -> web.Response:
        rows = "".join(
            f"<li><a href='a{n}.html'>关于做好防汛工作的通知{n}</a><span>2018-0{n}-10</span></li>"
            for n in range(1, 6)
        )
        body = f"<html><head><title>栏目</title></head><body><ul>{rows}</ul></body></html>"
        return web.Response(text=body, content_type="text/html")

    async def article(request: web.Request) -> web.Response:
        body = "<html><head><title>文章</title></head><body><p>正文</p></body></html>"
        return web.Response(text=body, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", home)
    app.router.add_get("/{c}/", column)
    app.router.add_get("/{c}/{a}.html", article)
    return app


CONFIG = """\
as_of = 2020-06-16

[crawl]
rate = 0
timeout = 5
retries = 0
recheck_delay = 0.05
allow_private = true

[checks]
disable = ["site"]

[[site]]
id = "md"
name = "测试局"
unit = "[单位](//ab)"
kind = "department"
url = "http://127.0.0.1:{port}/"
"""


def test_link_and_image_syntax_in_column_names_is_text(tmp_path: Path) -> None:
    with serve(_site()) as port:
        cfg = tmp_path / "govmon.toml"
        cfg.write_text(CONFIG.format(port=port), encoding="utf-8")
        db = tmp_path / "g.db"
        assert main(["scan", str(cfg), "--db", str(db)]) == 0
    out = tmp_path / "report.md"
    assert main(["report", "--db", str(db), "--format", "md", "--output", str(out)]) == 0
    md = out.read_text(encoding="utf-8")
    for name in HOSTILE_NAMES:
        assert _md(name) in md, f"{name} not in the report as text:\n{md}"
    assert "\\[单位\\]\\(//ab\\)" in md
    # no live link, image or code span anywhere: every [ ( ! ` of site text is escaped
    live = re.findall(r"(?<!\\)(?:!\[|\]\(|\[x\]|`code`)", md)
    assert live == [], live


def test_escapes_cannot_be_undone() -> None:
    assert _md("![](//ab)") == "\\!\\[\\]\\(//ab\\)"
    # a backslash in the text is escaped itself, so it cannot swallow the escape of "["
    assert _md("\\[x](//ab)") == "\\\\\\[x\\]\\(//ab\\)"
    assert _md("a|b\nc<d>") == "a\\|b c&lt;d&gt;"
    assert _md(None) == ""
