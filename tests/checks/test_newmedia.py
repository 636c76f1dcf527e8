"""New-media accounts: a feed (RSS / Atom) or an HTML list of dated posts, judged at as_of."""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web

from crawler.cli import main
from tests.support.localserver import serve

RSS = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>蓬江发改</title>
<lastBuildDate>Tue, 16 Jun 2020 08:00:00 +0800</lastBuildDate>
<item><title>发布 一</title><link>http://x/1</link><pubDate>{d1}</pubDate></item>
<item><title>发布 二</title><link>http://x/2</link>
<pubDate>Mon, 01 Jun 2020 09:00:00 +0800</pubDate></item>
</channel></rss>"""
ATOM = """<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<updated>2020-06-15T10:00:00+08:00</updated>
<entry><title>旧文</title><published>2020-04-01T10:00:00+08:00</published></entry></feed>"""
LIST = """<html><head><title>微博</title></head><body><ul class="posts">
<li><a href="/p/1.html">今日发布一</a><span>2020-06-10</span></li>
<li><a href="/p/2.html">今日发布二</a><span>2020-06-02</span></li>
<li><a href="/p/3.html">今日发布三</a><span>2020-05-20</span></li></ul></body></html>"""


def _app() -> web.Application:
    async def home(request: web.Request) -> web.Response:
        return web.Response(
            text="<title>首页</title><p>2020-06-15 新闻</p>", content_type="text/html"
        )

    async def fresh(request: web.Request) -> web.Response:
        body = RSS.format(d1="Fri, 12 Jun 2020 09:00:00 +0800")
        return web.Response(text=body, content_type="application/rss+xml")

    async def stale(request: web.Request) -> web.Response:
        return web.Response(text=ATOM, content_type="application/atom+xml")

    async def empty(request: web.Request) -> web.Response:
        body = '<?xml version="1.0"?><rss version="2.0"><channel><title>空</title></channel></rss>'
        return web.Response(text=body, content_type="application/rss+xml")

    async def posts(request: web.Request) -> web.Response:
        return web.Response(text=LIST, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", home)
    app.router.add_get("/wx/fresh.xml", fresh)
    app.router.add_get("/wx/stale.xml", stale)
    app.router.add_get("/wb/", posts)
    app.router.add_get("/wx/empty.xml", empty)
    return app


def test_accounts_are_judged_from_their_feed_or_list(tmp_path: Path) -> None:
    with serve(_app()) as port:
        base = f"http://127.0.0.1:{port}"
        cfg = tmp_path / "g.toml"
        cfg.write_text(
            f"""as_of = 2020-06-16
[crawl]
allow_private = true
resolve_only = true
rate = 0
recheck_delay = 0
robots = "ignore"
[[site]]
id = "s"
url = "{base}/"
  [[site.newmedia]]
  name = "发改 微信 (fresh feed)"
  url = "{base}/wx/fresh.xml"
  [[site.newmedia]]
  name = "发改 头条 (stale feed)"
  url = "{base}/wx/stale.xml"
  [[site.newmedia]]
  name = "发改 微博 (list, 6 days old)"
  url = "{base}/wb/"
  [[site.newmedia]]
  name = "发改 抖音 (a feed with no posts)"
  url = "{base}/wx/empty.xml"
""",
            encoding="utf-8",
        )
        db, out = tmp_path / "g.db", tmp_path / "r.json"
        assert main(["scan", str(cfg), "--db", str(db)]) == 0
        assert main(["report", "--db", str(db), "--output", str(out)]) == 0
        later = tmp_path / "later.json"
        assert main(["scan", str(cfg), "--db", str(db), "--as-of", "2020-07-01"]) == 0
        assert main(["report", "--db", str(db), "--output", str(later)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    stale = [f for f in report["findings"] if f["check"] == "newmedia.stale"]
    assert [f["url"] for f in stale] == [f"{base}/wx/stale.xml"]
    assert stale[0]["severity"] == "veto"
    # the feed's <updated> is not a post: the newest post is 2020-04-01
    assert stale[0]["detail"]["newest"] == "2020-04-01"
    assert stale[0]["detail"]["days_since"] == 76
    # a feed with no posts is unread, never stale
    unread = [f for f in report["findings"] if f["check"] == "newmedia.unreadable"]
    assert [f["url"] for f in unread] == [f"{base}/wx/empty.xml"]
    assert "没有任何条目" in unread[0]["detail"]["reason"]
    # the account pages' links are not crawled as the site's own
    assert not [f for f in report["findings"] if f["check"].startswith("link.")]
    # a fortnight later, every account is stale
    report2 = json.loads(later.read_text(encoding="utf-8"))
    urls = sorted(f["url"] for f in report2["findings"] if f["check"] == "newmedia.stale")
    assert urls == [f"{base}/wb/", f"{base}/wx/fresh.xml", f"{base}/wx/stale.xml"]
