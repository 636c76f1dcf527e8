"""Issue 9's indicators through real scans of served sites: search, IPv6, 找错, activity,
statistics, backdated items and hijacked links, each with its trap."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from aiohttp import web

from crawler.cli import main
from tests.support.localserver import serve

STATE = web.AppKey("state", dict[str, Any])
TITLE = "区政府召开2020年安全生产工作会议"


def _page(title: str, body: str) -> str:
    return (
        f'<html><head><meta charset="utf-8"><title>{title}</title></head><body>{body}</body></html>'
    )


def _rows(items: list[tuple[str, str, str]]) -> str:
    lis = "".join(f'<li><a href="{u}">{t}</a><span>{d}</span></li>' for u, t, d in items)
    return f'<ul class="list">{lis}</ul>'


def _portal(ext: str) -> web.Application:
    """A portal with a search form, the 找错 entry, a thin survey column, a board with its
    statistics, and an external link that now serves a gambling page."""
    app = web.Application()
    app[STATE] = {
        "news": [("/xw/1.html", TITLE, "2020-06-10"), ("/xw/2.html", "区长调研", "2020-06-01")]
    }
    nav = (
        '<div class="nav"><a href="/xw/">工作动态</a><a href="/dczj/">调查征集</a>'
        '<a href="/hdjl/">政务咨询</a></div>'
        '<form action="/search" method="get"><input type="text" name="q">'
        '<input type="submit" value="搜索"></form>'
        '<a href="http://zfwzgl.www.gov.cn/exposure/jiucuo.html?site_code=1&url=x">我为政府网站找错</a>'
        f'<a href="{ext}/casino.html">友情链接：某某网</a><a href="{ext}/news.html">新闻报道</a>'
        f'<a href="{ext}/partner.html">合作单位</a>'
    )

    async def handle(request: web.Request) -> web.Response:
        path = request.path
        news = request.app[STATE]["news"]
        pages = {
            "/": _page("测试区人民政府", nav + _rows(news)),
            "/xw/": _page("工作动态", nav + _rows(news)),
            "/dczj/": _page(
                "调查征集",
                nav
                + _rows(
                    [
                        ("/dczj/1.html", "关于城市公园建设的意见征集", "2020-03-01"),
                        ("/dczj/2.html", "关于公交线路优化的问卷调查", "2019-11-20"),
                    ]
                ),
            ),
            "/hdjl/": _page(
                "政务咨询",
                nav
                + "<p>2020年5月共收到群众留言12件，已答复12件，答复率100%。</p>"
                + _rows([("/hdjl/1.html", "咨询停车问题", "2020-06-01")]),
            ),
        }
        if path == "/search":
            q = unquote(request.query.get("q", ""))
            hits = "".join(f'<li><a href="{u}">{t}</a></li>' for u, t, _ in news if q and q in t)
            tabs = '<div class="tabs"><a class="tab on">全部(1)</a>'
            tabs += '<a class="tab">政策文件(0)</a></div>'
            return web.Response(
                text=_page("搜索结果", tabs + f"<ul>{hits}</ul>"), content_type="text/html"
            )
        text = pages.get(path)
        if text is None:
            if path.startswith(("/xw/", "/dczj/", "/hdjl/")):
                return web.Response(text=_page("文章", "<p>正文</p>"), content_type="text/html")
            raise web.HTTPNotFound()
        return web.Response(text=text, content_type="text/html")

    app.router.add_get("/{tail:.*}", handle)
    return app


def _external() -> web.Application:
    async def casino(request: web.Request) -> web.Response:
        body = _page("澳门葡京娱乐城", "<p>真人视讯 在线博彩 百家乐 注册即送彩金</p>")
        return web.Response(text=body, content_type="text/html")

    async def news(request: web.Request) -> web.Response:
        body = _page(
            "某市公安局开展专项行动", "<p>近日，我市公安机关开展打击网络赌博专项行动。</p>"
        )
        return web.Response(text=body, content_type="text/html")

    async def partner(request: web.Request) -> web.Response:
        moved = request.app[STATE].get("moved_to")
        if moved:  # the domain changed hands: it now sends visitors elsewhere
            raise web.HTTPFound(moved)
        body = _page("江滨区软件产业协会", "<p>协会简介、会员单位、行业动态。</p>")
        return web.Response(text=body, content_type="text/html")

    app = web.Application()
    app[STATE] = {}
    app.router.add_get("/casino.html", casino)
    app.router.add_get("/news.html", news)
    app.router.add_get("/partner.html", partner)
    return app


def _plain() -> web.Application:
    """A department site: no search, no 找错 entry, served on IPv6 too when it can be."""

    async def home(request: web.Request) -> web.Response:
        body = _page("测试区教育局", _rows([("/a/1.html", "教育局召开会议", "2020-06-12")]))
        return web.Response(text=body, content_type="text/html")

    async def article(request: web.Request) -> web.Response:
        return web.Response(text=_page("文章", "<p>正文</p>"), content_type="text/html")

    app = web.Application()
    app.router.add_get("/", home)
    app.router.add_get("/a/{n}.html", article)
    return app


def _has_loopback_v6() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


EXT: list[web.Application] = []


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[web.Application, int, int, int, int | None]]:
    ext = _external()
    EXT.append(ext)
    with serve(ext, host="127.0.0.2") as ext_port:
        portal = _portal(f"http://127.0.0.2:{ext_port}")
        with serve(portal) as portal_port, serve(_plain(), host="127.0.0.3") as plain_port:
            if _has_loopback_v6():
                with serve(_plain(), host="::1") as v6_port:
                    yield portal, portal_port, ext_port, plain_port, v6_port
            else:
                yield portal, portal_port, ext_port, plain_port, None


def _scan(tmp: Path, servers: tuple[web.Application, int, int, int, int | None],
          db: Path) -> dict[str, Any]:  # fmt: skip
    _, portal_port, _, plain_port, v6_port = servers
    resolve = f'"edu.district.test" = "127.0.0.3:{plain_port}"'
    v6_site = ""
    if v6_port is not None:
        resolve += f', "v6.district.test" = "[::1]:{v6_port}"'
        v6_site = '\n[[site]]\nid = "v6"\nkind = "department"\nurl = "http://v6.district.test/"\n'
    cfg = tmp / "g.toml"
    cfg.write_text(
        f"""as_of = 2020-06-16
[crawl]
allow_private = true
resolve_only = true
rate = 0
recheck_delay = 0
robots = "ignore"
resolve = {{ {resolve} }}
[[site]]
id = "portal"
kind = "portal"
url = "http://127.0.0.1:{portal_port}/"
[[site]]
id = "edu"
kind = "department"
url = "http://edu.district.test/"
{v6_site}""",
        encoding="utf-8",
    )
    out = tmp / f"{db.stem}.json"
    assert main(["scan", str(cfg), "--db", str(db)]) == 0
    assert main(["report", "--db", str(db), "--output", str(out)]) == 0
    report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return report


@pytest.fixture(scope="module")
def first(
    servers: tuple[web.Application, int, int, int, int | None],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("indicators")
    report = _scan(tmp, servers, tmp / "g.db")
    report["tmp"] = str(tmp)
    return report


def _codes(report: dict[str, Any], site: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for f in report["findings"]:
        if f["site"] == site:
            out.setdefault(f["check"], []).append(f)
    return out


def test_search_and_zhaocuo(first: dict[str, Any]) -> None:
    portal = _codes(first, "portal")
    edu = _codes(first, "edu")
    assert "site.no_search" not in portal  # a working search that finds a recent title
    assert "site.search_broken" not in portal
    assert "site.no_zhaocuo" not in portal
    assert [f["url"] for f in edu["site.no_search"]] == ["http://edu.district.test/"]
    assert [f["url"] for f in edu["site.no_zhaocuo"]] == ["http://edu.district.test/"]


def test_ipv6(first: dict[str, Any], servers: tuple[Any, ...]) -> None:
    edu = _codes(first, "edu")
    assert edu["site.no_ipv6"][0]["detail"]["reason"] == "no AAAA record"
    # published at an IPv4 address: nobody can reach it over IPv6, and nothing is looked up
    [literal] = _codes(first, "portal")["site.no_ipv6"]
    assert literal["detail"]["reason"] == "published at an IPv4 address"
    if servers[4] is not None:
        assert "site.no_ipv6" not in _codes(first, "v6")  # its name resolves to ::1 and loads


def test_activity_and_statistics(first: dict[str, Any]) -> None:
    portal = _codes(first, "portal")
    [few] = portal["column.too_few"]
    assert few["column"] == "调查征集"
    assert "message.no_statistics" not in portal  # 共收到…件，已答复…件 on the board


def test_hijacked_external_link(first: dict[str, Any]) -> None:
    hijacked = _codes(first, "portal")["link.hijacked"]
    by_url = {f["url"].rsplit("/", 1)[1]: f for f in hijacked}
    assert by_url["casino.html"]["severity"] == "veto"
    # a news report about a crackdown: shown, for a person's eye, never a veto
    news = by_url.get("news.html")
    assert news is None or news["severity"] == "warning"


def test_backdated_item_at_the_next_scan(
    first: dict[str, Any], servers: tuple[web.Application, int, int, int, int | None]
) -> None:
    portal = servers[0]
    portal[STATE]["news"] = [
        ("/xw/1.html", TITLE, "2020-06-10"),
        ("/xw/9.html", "关于补发上月工作简报的说明", "2020-06-05"),  # new, but dated in the past
        ("/xw/2.html", "区长调研", "2020-06-01"),
    ]
    # and the partner's domain now sends its visitors to an unrelated site
    EXT[-1][STATE]["moved_to"] = f"http://127.0.0.3:{servers[3]}/"
    first_hijacked = {f["url"] for f in _codes(first, "portal")["link.hijacked"]}
    assert not any(u.endswith("/partner.html") for u in first_hijacked)
    tmp = Path(first["tmp"])
    second = _scan(tmp, servers, tmp / "g.db")
    backdated = _codes(second, "portal").get("content.backdated", [])
    assert [f["url"].rsplit("/", 1)[1] for f in backdated] == ["9.html"]
    assert backdated[0]["severity"] == "warning"
    moved = [
        f for f in _codes(second, "portal")["link.hijacked"] if f["url"].endswith("partner.html")
    ]
    assert len(moved) == 1
    assert moved[0]["severity"] == "warning"
    assert moved[0]["detail"]["needs_review"] is True
    assert moved[0]["detail"]["previous"]["title"] == "江滨区软件产业协会"
