"""New-media accounts read through RSSHub: a real ``govmon scan`` against a local server that
answers as a self-hosted RSSHub does (its route paths, the ``?key=`` access key, RSS 2.0 with
RSSHub's generator tags, its HTML error pages with 403, 404 and 503, and a route blocked
upstream answering 200 with an error text).

The instance is configured by a name (``rsshub.test``) that ``[crawl] resolve`` maps to
127.0.0.1, with ``allow_private`` off: the office's own instance is trusted like its sites."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from crawler.cli import main
from tests.support.localserver import serve

KEY = "k3y-Only+For/Tests"  # with characters that must be escaped in a query
KEY_ENV = "GOVMON_TEST_RSSHUB_KEY"

# RSSHub's RSS 2.0 (lib/views/rss.tsx): dates as JavaScript's toUTCString() writes them
RSS = """<?xml version="1.0" encoding="UTF-8"?><rss xmlns:atom="http://www.w3.org/2005/Atom" \
version="2.0"><channel><title>{title}</title><link>https://weibo.com/{uid}/</link>
<atom:link href="http://rsshub.test:1200{path}" rel="self" type="application/rss+xml"/>
<description>{title} - Powered by RSSHub</description><generator>RSSHub</generator>
<webMaster>contact@rsshub.app (RSSHub)</webMaster><language>zh-cn</language>
<lastBuildDate>Tue, 16 Jun 2020 00:00:00 GMT</lastBuildDate><ttl>5</ttl>{items}
</channel></rss>"""
ITEM = """<item><title>{title}</title><description><![CDATA[<p>{title} 全文 &amp; 图片</p>]]>\
</description><link>https://weibo.com/{uid}/{n}</link><guid isPermaLink="false">\
https://weibo.com/{uid}/{n}</guid><pubDate>{date}</pubDate><author>{author}</author></item>"""

# RSSHub's error page (lib/views/error.tsx), trimmed to what matters
ERROR_PAGE = """<!DOCTYPE html><html lang="en"><head><title>RSSHub</title></head><body>
<h1 class="text-4xl font-bold">Looks like something went wrong</h1>
<p class="message">Error Message:<br><code class="mt-2 block details">{message}</code></p>
<p class="message">Route: <code class="ml-2">{route}</code></p>
<p class="message">Full Route: <code class="ml-2">{path}</code></p></body></html>"""

FEEDS = {
    # the newest post at 2020-06-01 16:30 UTC is 2020-06-02 00:30 in Beijing: 14 days before
    # as_of, within the rule (judged in UTC it would be 15 days, and stale)
    "/weibo/user/1195230310": (
        "蓬江发布的微博",
        ["Mon, 01 Jun 2020 16:30:00 GMT", "Fri, 29 May 2020 02:00:00 GMT"],
    ),
    "/wechat/mp/msgalbum/MzA3MjM0": ("蓬江发改 公众号", ["Wed, 01 Apr 2020 02:00:00 GMT"]),
    "/douyin/user/empty": ("抖音 空账号", []),
}


def _rsshub(seen: list[tuple[str, str | None]]) -> web.Application:
    async def route(request: web.Request) -> web.Response:
        path = request.path
        seen.append((path, request.query.get("key")))
        if request.query.get("key") != KEY:
            page = ERROR_PAGE.format(
                message="RejectError: Authentication failed. Access denied.", route=path, path=path
            )
            return web.Response(text=page, status=403, content_type="text/html")
        if path == "/douyin/user/blocked":  # the platform refused RSSHub: its FetchError
            message = "FetchError: [GET] &quot;https://www.douyin.com/user/x&quot;: 403 Forbidden"
            page = ERROR_PAGE.format(message=message, route="/douyin/user/:uid", path=path)
            return web.Response(text=page, status=503, content_type="text/html")
        if path == "/weibo/user/blocked200":  # a route blocked upstream, answered with 200
            return web.Response(text="Error: 微博 Cookie 已过期，请更新", content_type="text/plain")
        if path not in FEEDS:
            message = "NotFoundError: The route does not exist or has been deleted."
            page = ERROR_PAGE.format(message=message, route=path, path=path)
            return web.Response(text=page, status=404, content_type="text/html")
        title, dates = FEEDS[path]
        uid = path.rsplit("/", 1)[-1]
        items = "".join(
            ITEM.format(title=f"{title} 第{n}条", uid=uid, n=n, date=d, author=title)
            for n, d in enumerate(dates)
        )
        body = RSS.format(title=title, uid=uid, path=path, items=items)
        return web.Response(
            text=body, content_type="application/xml", headers={"RSSHub-Cache-Status": "HIT"}
        )

    async def home(request: web.Request) -> web.Response:  # the site (on the same server)
        return web.Response(
            text="<title>首页</title><p>2020-06-15 新闻</p>", content_type="text/html"
        )

    app = web.Application()
    app.router.add_get("/", home)
    app.router.add_get("/{tail:.+}", route)
    return app


def _config(tmp_path: Path, port: int) -> Path:
    cfg = tmp_path / "g.toml"
    cfg.write_text(
        f"""as_of = 2020-06-16
[crawl]
resolve = {{ "rsshub.test" = "127.0.0.1:{port}" }}
resolve_only = true
rate = 0
recheck_delay = 0
retries = 0
robots = "ignore"
[newmedia]
rsshub = "http://rsshub.test:1200"
rsshub_key_env = "{KEY_ENV}"
[[site]]
id = "s"
url = "http://127.0.0.1:{port}/"
  [[site.newmedia]]
  name = "蓬江发布 微博"
  rsshub = "/weibo/user/1195230310"
  [[site.newmedia]]
  name = "蓬江发改 公众号"
  rsshub = "/wechat/mp/msgalbum/MzA3MjM0"
  [[site.newmedia]]
  name = "抖音 (upstream refused)"
  rsshub = "/douyin/user/blocked"
  [[site.newmedia]]
  name = "微博 (blocked, 200)"
  rsshub = "/weibo/user/blocked200"
  [[site.newmedia]]
  name = "抖音 (no posts in its feed)"
  rsshub = "/douyin/user/empty"
  [[site.newmedia]]
  name = "微博 (route gone)"
  rsshub = "/weibo/user/gone"
""",
        encoding="utf-8",
    )
    return cfg


def _scan(tmp_path: Path, port: int, name: str) -> dict[str, dict[str, Any]]:
    """A scan and its JSON report: the new-media findings by account."""
    db, out = tmp_path / f"{name}.db", tmp_path / f"{name}.json"
    cfg = _config(tmp_path, port)
    assert main(["--log-level", "debug", "scan", str(cfg), "--db", str(db)]) == 0
    assert main(["report", "--db", str(db), "--output", str(out)]) == 0
    for path in (db, out):  # the key is nowhere in the store or the report
        assert KEY.encode() not in path.read_bytes()
        assert b"k3y-Only" not in path.read_bytes()
    report = json.loads(out.read_text(encoding="utf-8"))
    found = [f for f in report["findings"] if f["check"].startswith("newmedia.")]
    return {f["detail"]["account"]: f for f in found}


def test_accounts_read_through_rsshub(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    seen: list[tuple[str, str | None]] = []
    monkeypatch.setenv(KEY_ENV, KEY)
    with serve(_rsshub(seen)) as port:
        found = _scan(tmp_path, port, "right")
        routes = sorted(p for p, _ in seen if p != "/")
        keys = {k for p, k in seen if p != "/"}
        seen.clear()
        monkeypatch.setenv(KEY_ENV, "wrong-key")
        wrong = _scan(tmp_path, port, "wrong")
        monkeypatch.delenv(KEY_ENV)
        unset = _scan(tmp_path, port, "unset")
    logs = capfd.readouterr()
    assert "scan.start" in logs.out + logs.err  # the logs were seen
    assert KEY not in logs.out + logs.err
    assert "k3y-Only" not in logs.out + logs.err
    # each route asked for once, at its RSSHub path, with the access key
    assert routes == sorted(
        ["/weibo/user/1195230310", "/wechat/mp/msgalbum/MzA3MjM0", "/douyin/user/blocked",
         "/weibo/user/blocked200", "/douyin/user/empty", "/weibo/user/gone"]
    )  # fmt: skip
    assert keys == {KEY}
    # the fresh account (its newest post counted in Beijing time) is qualified: no finding
    assert "蓬江发布 微博" not in found
    stale = found["蓬江发改 公众号"]
    assert stale["check"] == "newmedia.stale"
    assert stale["severity"] == "veto"
    assert stale["url"] == "http://rsshub.test:1200/wechat/mp/msgalbum/MzA3MjM0"
    assert stale["detail"]["newest"] == "2020-04-01"
    assert stale["detail"]["days_since"] == 76
    assert stale["detail"]["route"] == "/wechat/mp/msgalbum/MzA3MjM0"
    # what could not be read is unread, never stale
    unread = {k: f for k, f in found.items() if f["check"] == "newmedia.unreadable"}
    assert sorted(unread) == [
        "微博 (blocked, 200)", "微博 (route gone)", "抖音 (no posts in its feed)",
        "抖音 (upstream refused)",
    ]  # fmt: skip
    assert all(f["severity"] == "info" for f in unread.values())
    refused = unread["抖音 (upstream refused)"]["detail"]
    assert refused["status"] == 503
    assert "403 Forbidden" in refused["message"]
    assert "没有这个路由" in unread["微博 (route gone)"]["detail"]["reason"]
    assert "Cookie 已过期" in unread["微博 (blocked, 200)"]["detail"]["message"]
    assert "没有任何条目" in unread["抖音 (no posts in its feed)"]["detail"]["reason"]
    # a wrong key: every account unread (403), none stale
    assert len(wrong) == 6
    assert {f["check"] for f in wrong.values()} == {"newmedia.unreadable"}
    assert {f["detail"]["status"] for f in wrong.values()} == {403}
    assert "访问密钥" in wrong["蓬江发布 微博"]["detail"]["reason"]
    assert "Authentication failed" in wrong["蓬江发布 微博"]["detail"]["message"]
    # no key set at all: unread, and the reason names the variable to set
    assert {f["check"] for f in unset.values()} == {"newmedia.unreadable"}
    assert KEY_ENV in unset["蓬江发布 微博"]["detail"]["reason"]
    # RSSHub's troubles are not the site's broken links
    for report in (found, wrong, unset):
        assert not [f for f in report.values() if f["check"].startswith("link.")]


def test_unreachable_rsshub_is_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    with serve(_rsshub([])) as port:
        cfg = _config(tmp_path, port)
        # the instance's name now maps to a port nothing listens on (the site's server's port
        # is taken for it, then freed)
        with serve(web.Application()) as dead:
            pass
        text = cfg.read_text(encoding="utf-8").replace(
            f'127.0.0.1:{port}" }}', f'127.0.0.1:{dead}" }}'
        )
        cfg.write_text(text, encoding="utf-8")
        db, out = tmp_path / "d.db", tmp_path / "d.json"
        assert main(["scan", str(cfg), "--db", str(db)]) == 0
        assert main(["report", "--db", str(db), "--output", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    media = [f for f in report["findings"] if f["check"].startswith("newmedia.")]
    assert len(media) == 6
    assert {f["check"] for f in media} == {"newmedia.unreadable"}
    assert {f["detail"]["reason"] for f in media} == {"无法连接 RSSHub"}
