"""Government sites whose lists, boards and pagers are built by script, served on loopback.

Each site is a real aiohttp application on its own loopback address playing the page shapes and
the JSON of a real platform (``../shared/DOMAIN.md``, "Pages built by script"). All dates are
fixed relative to `AS_OF` (2020-06-16), so every finding is known in advance (`PLANTED`), and so
are the traps that must never be reported (`TRAPS`):

    hanweb  127.0.0.61  大汉 Hanweb JCMS (its search box added to the home page by a script):
                        column pages ``/col/col1201/index.html`` whose rows are
                        ``<record><![CDATA[<li>…</li>]]></record>`` inside ``<script
                        type="text/xml"><datastore>``, later groups only by POST to
                        ``/module/web/jpage/dataproxy.jsp?startrecord=16&endrecord=30&perpage=15``
                        with the form fields col, appid, webid, path, columnid,
                        sourceContentType, unitid, webname, permissiontype; articles
                        ``/art/2020/6/13/art_1201_5001.html``; the home page's news box is a
                        datastore too
    gkmlpt  127.0.0.62  广东 gkmlpt 政府信息公开目录: ``/gkmlpt/index`` is an empty shell with
                        ``window._CONFIG = {SID: '757001', TREE: [...]}``; its lists come from
                        ``/gkmlpt/api/all/<catalogue>?page=N&sid=757001`` as JSON with dates in
                        epoch seconds; articles ``/gkmlpt/content/2/1201/post_9001.html``
    board   127.0.0.63  a 网上咨询 board whose list comes by XHR as JSON (title, createTime,
                        status, replyTime, replyOrgName) and whose detail pages are shells filled
                        by script; a 工作动态 column whose list is fetched from a JSON API of no
                        known platform (only a browser reads it)
    pager   127.0.0.64  pagers that exist only as script: ``onclick="toPage(2)"`` (an inline
                        function building ``index_1.html``), ``href="javascript:goPage(2)"``
                        (building ``list.jsp?pageNo=2``), and ``onclick="executePage(2)"``
                        defined in an external script (only a browser sees where it goes);
                        a site search whose results page is filled by ``fetch()``

Planted findings (`PLANTED`): a stale and a blank column on Hanweb and on gkmlpt, a late reply
and a 127-day unanswered message on the XHR board, a 127-day unanswered message on the second
page of the ``goPage`` board and a late reply on the second page of the ``executePage`` board.
Traps (`TRAPS`): every other column is fresh (one gkmlpt article published at 00:30 Beijing
time exactly 14 days before as_of: read in UTC it would be 15 days old), the home pages are
fresh, every other message was answered in time or is not yet due, every detail page is
complete.

`ScriptSites` serves them in background threads; `requests` logs what each site was asked
(method, path and query, and the form of a POST).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import html
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import quote

from aiohttp import web

from tests.support.localserver import serve

AS_OF = dt.date(2020, 6, 16)
BEIJING = dt.timezone(dt.timedelta(hours=8))
SID = "757001"
UNIT_ID = "4953"
WEB_ID = "3185"
PER_PAGE = 15  # Hanweb records a page (a dataproxy group is one page here)


def ago(days: int) -> dt.date:
    return AS_OF - dt.timedelta(days=days)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _page(title: str, body: str, head: str = "") -> web.Response:
    text = (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(title)}</title>\n{head}</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
    return web.Response(text=text, content_type="text/html", charset="utf-8")


def _json(data: object) -> web.Response:
    return web.Response(text=json.dumps(data, ensure_ascii=False), content_type="application/json")


def _not_found() -> web.Response:
    return web.Response(status=404, text="not found")


def _app(handle: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.Application:
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handle)
    return app


def _article(title: str, when: dt.date, site: str) -> web.Response:
    body = (
        '<div class="nav"><a href="/">首页</a></div>\n'
        f'<div class="article">\n<h1>{_e(title)}</h1>\n'
        f'<div class="info">发布时间：{when.isoformat()}　来源：{_e(site)}</div>\n'
        f'<div class="content"><p>{_e(title)}。本文为测试正文，'
        "介绍有关工作的具体安排和落实情况，请各单位认真贯彻执行。</p></div>\n</div>"
    )
    return _page(title, body, f'<meta name="PubDate" content="{when.isoformat()} 09:00">\n')


# ---------------------------------------------------------------------------------------------
# 大汉 Hanweb JCMS


@dataclass(frozen=True)
class HanwebColumn:
    id: int
    name: str
    category: str
    dates: tuple[dt.date, ...]  # newest first

    @property
    def path(self) -> str:
        return f"/col/col{self.id}/index.html"

    def record(self, i: int) -> str:
        when = self.dates[i]
        art = f"/art/{when.year}/{when.month}/{when.day}/art_{self.id}_{5001 + i}.html"
        title = f"{self.name}第{i + 1}号信息"
        return (
            f'<li><a href="{art}" title="{_e(title)}" target="_blank">{_e(title)}</a>'
            f'<span class="bt-data-time">{when.isoformat()}</span></li>'
        )


def _every(first: int, step: int, count: int) -> tuple[dt.date, ...]:
    return tuple(ago(first + step * i) for i in range(count))


HANWEB_COLUMNS = (
    HanwebColumn(1201, "工作动态", "news", _every(3, 4, 40)),  # fresh, 3 groups
    # stale (183 days); two groups: its POST for rows 16-30 goes to the URL of 工作动态's
    HanwebColumn(1202, "通知公告", "notice", _every(200, 10, 20)),
    HanwebColumn(1203, "政策文件", "policy", ()),  # blank: the datastore has no record
    HanwebColumn(1204, "人事信息", "personnel", _every(300, 30, 3)),  # fresh under 365
)


def _datastore(records: list[str], column: HanwebColumn) -> str:
    webname = quote("江滨区人民政府")
    nextgroup = (
        f'<a href="/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid={WEB_ID}&path=/'
        f'&columnid={column.id}&unitid={UNIT_ID}&webname={webname}&permissiontype=0"></a>'
    )
    rows = "\n".join(f"<record><![CDATA[\n{r}\n]]></record>" for r in records)
    return (
        f"<datastore>\n<nextgroup><![CDATA[{nextgroup}]]></nextgroup>\n"
        f"<recordset>\n{rows}\n</recordset>\n</datastore>"
    )


class HanwebSite:
    name = "江滨区人民政府（大汉）"

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.columns = {c.id: c for c in HANWEB_COLUMNS}

    def _nav(self) -> str:
        links = "".join(f'<li><a href="{c.path}">{c.name}</a></li>' for c in HANWEB_COLUMNS)
        return f'<div class="nav"><ul><li><a href="/">首页</a></li>{links}</ul></div>'

    def home(self) -> web.Response:
        news = self.columns[1201]
        box = _datastore([news.record(i) for i in range(5)], news)
        search = (
            '<div class="search" id="search-box"></div>\n<script>\n'
            "document.getElementById('search-box').innerHTML = '<form action=\"/jsearch/search.do\""
            ' method="get"><input type="text" name="q" placeholder="请输入关键字">'
            '<input type="submit" value="搜索"></form>\';\n</script>\n'
        )
        body = (
            f'{self._nav()}\n{search}<div class="main"><h2>最新动态</h2>\n<div id="5001">'
            f'<script type="text/xml">{box}</script></div>\n'
            '<script type="text/javascript" src="/module/jslib/jquery/jpage/jquery.page.js">'
            "</script>\n</div>"
        )
        return _page(self.name, body)

    def column(self, column: HanwebColumn) -> web.Response:
        first = [column.record(i) for i in range(min(PER_PAGE, len(column.dates)))]
        store = _datastore(first, column)
        body = (
            f'{self._nav()}\n<div class="bt-position">当前位置：<a href="/">首页</a> &gt; '
            f'{column.name}</div>\n<div class="bt-list" id="{UNIT_ID}">'
            f'<script type="text/xml">{store}</script></div>\n'
            '<script type="text/javascript" src="/module/jslib/jquery/jpage/jquery.page.js">'
            "</script>\n<script>\n$(document).ready(function () {\n"
            f"  $('#{UNIT_ID}').jpage({{ dataStore: '', proxyUrl: "
            f"'/module/web/jpage/dataproxy.jsp', perPage: {PER_PAGE}, groupSize: 1, "
            f"totalRecord: {len(column.dates)}, barPosition: 'bottom', "
            "showMode: 'full', allowActiveTransparent: true });\n});\n</script>"
        )
        return _page(column.name, body)

    def search(self, query: str) -> web.Response:
        rows = "".join(
            column.record(i)
            for column in HANWEB_COLUMNS
            for i in range(len(column.dates))
            if query and query in f"{column.name}第{i + 1}号信息"
        )
        body = (
            '<div class="tabs"><a href="#">全部</a><a href="#">信息公开</a><a href="#">办事服务</a>'
            f'</div>\n<ul class="results">{rows or "<li>没有找到相关结果</li>"}</ul>'
        )
        return _page("搜索结果", body)

    async def dataproxy(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.log.append(f"{request.method} {request.path_qs} {sorted(form.items())}")
        if request.method != "POST":
            return web.Response(status=405, text="POST only")
        try:
            start = int(request.query["startrecord"])
            end = int(request.query["endrecord"])
            column = self.columns[int(str(form["columnid"]))]
        except (KeyError, ValueError):
            return web.Response(status=400, text="bad request")
        if str(form.get("unitid")) != UNIT_ID or str(form.get("webid")) != WEB_ID:
            return web.Response(status=400, text="bad unit")
        records = [column.record(i) for i in range(start - 1, min(end, len(column.dates)))]
        xml = '<?xml version="1.0" encoding="UTF-8"?>\n' + _datastore(records, column)
        return web.Response(text=xml, content_type="text/xml", charset="utf-8")

    def app(self) -> web.Application:
        async def handle(request: web.Request) -> web.StreamResponse:
            self.log.append(f"{request.method} {request.path_qs}")
            path = request.path
            if path == "/":
                return self.home()
            for column in HANWEB_COLUMNS:
                if path in (column.path, column.path.removesuffix("index.html")):
                    return self.column(column)
                prefix = f"_{column.id}_"
                if path.startswith("/art/") and prefix in path:
                    i = int(path.rsplit("_", 1)[1].split(".")[0]) - 5001
                    if 0 <= i < len(column.dates):
                        return _article(f"{column.name}第{i + 1}号信息", column.dates[i], "")
            if path == "/jsearch/search.do":
                return self.search(request.query.get("q", ""))
            if path.endswith(".js"):
                return web.Response(text="/* jpage */", content_type="application/javascript")
            return _not_found()

        app = web.Application()
        app.router.add_route("*", "/module/web/jpage/dataproxy.jsp", self.dataproxy)
        app.router.add_route("*", "/{tail:.*}", handle)
        return app


# ---------------------------------------------------------------------------------------------
# 广东 gkmlpt


@dataclass(frozen=True)
class Catalogue:
    id: int
    name: str
    category: str
    times: tuple[dt.datetime, ...]  # Beijing time, newest first

    def api_path(self, page: int = 1) -> str:
        return f"/gkmlpt/api/all/{self.id}?page={page}&sid={SID}"


def _times(first: dt.datetime, step_days: int, count: int) -> tuple[dt.datetime, ...]:
    return tuple(first - dt.timedelta(days=step_days * i) for i in range(count))


def _bj(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=BEIJING)


CATALOGUES = (
    # exactly 14 days old at 00:30 Beijing time (15 days in UTC): fresh
    Catalogue(1201, "工作动态", "news", _times(_bj(ago(14), 0, 30), 5, 25)),
    Catalogue(1202, "通知公告", "notice", _times(_bj(ago(250), 10), 30, 4)),  # stale
    Catalogue(1203, "政策文件", "policy", ()),  # blank
    Catalogue(1204, "规划计划", "planning", _times(_bj(ago(100), 15), 60, 3)),  # fresh
)
GKML_PER_PAGE = 10


class GkmlptSite:
    name = "江滨区人民政府（政府信息公开目录）"

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.catalogues = {c.id: c for c in CATALOGUES}

    def home(self) -> web.Response:
        news = CATALOGUES[0]
        rows = "".join(
            f'<li><a href="/gkmlpt/content/2/{news.id}/post_{9001 + i}.html">'
            f"{news.name}第{i + 1}篇</a><span>{t.date().isoformat()}</span></li>"
            for i, t in enumerate(news.times[:5])
        )
        body = (
            '<div class="nav"><a href="/">首页</a> <a href="/gkmlpt/index">政府信息公开</a></div>\n'
            f'<div class="news"><h2>要闻动态</h2><ul>{rows}</ul></div>'
        )
        return _page(self.name, body)

    def shell(self) -> web.Response:
        tree = [
            {"id": c.id, "name": c.name, "post_count": len(c.times), "children": [],
             "jump_url": ""}
            for c in CATALOGUES
        ]  # fmt: skip
        config = (
            f"window._CONFIG = {{\n  SID: '{SID}',\n  TREE: {json.dumps(tree, ensure_ascii=False)},"
            "\n  SERVICE_AREA_ID: 440703,\n  IS_MOBILE: false\n};"
        )
        body = (
            '<div id="app"></div>\n'
            '<script src="/gkmlpt/gkml/pc/js/chunk-vendors.js"></script>\n'
            '<script src="/gkmlpt/gkml/pc/js/app.js"></script>'
        )
        return _page("政府信息公开目录", body, f"<script>\n{config}\n</script>\n")

    def api(self, request: web.Request, catalogue: Catalogue) -> web.Response:
        page = int(request.query.get("page", "1"))
        if request.query.get("sid") != SID or page < 1:
            return _json({"articles": [], "total": 0})
        host = f"http://{request.host}"
        start = (page - 1) * GKML_PER_PAGE
        articles = [
            {
                "id": 9001 + i,
                "title": f"{catalogue.name}第{i + 1}篇",
                "date": int(t.timestamp()),
                "url": f"{host}/gkmlpt/content/2/{catalogue.id}/post_{9001 + i}.html"
                f"#{catalogue.id}",
                "document_number": "",
                "publisher": "江滨区人民政府办公室",
            }
            for i, t in enumerate(catalogue.times)
        ][start : start + GKML_PER_PAGE]
        total = len(catalogue.times)
        return _json({"articles": articles, "total": total,
                      "classify": {"id": catalogue.id, "name": catalogue.name,
                                   "post_count": total}})  # fmt: skip

    def app(self) -> web.Application:
        async def handle(request: web.Request) -> web.StreamResponse:
            self.log.append(f"{request.method} {request.path_qs}")
            path = request.path
            if path == "/":
                return self.home()
            if path == "/gkmlpt/index":
                return self.shell()
            if path.startswith("/gkmlpt/api/all/"):
                catalogue = self.catalogues.get(int(path.rsplit("/", 1)[1] or 0))
                if catalogue is not None:
                    return self.api(request, catalogue)
            if path.startswith("/gkmlpt/content/"):
                _, _, _, _, cid, post = path.split("/")
                catalogue = self.catalogues.get(int(cid))
                i = int(post.removeprefix("post_").removesuffix(".html")) - 9001
                if catalogue is not None and 0 <= i < len(catalogue.times):
                    when = catalogue.times[i].date()
                    return _article(f"{catalogue.name}第{i + 1}篇", when, "江滨区人民政府")
            if path.endswith(".js"):
                return web.Response(text="/* gkml app */", content_type="application/javascript")
            return _not_found()

        return _app(handle)


# ---------------------------------------------------------------------------------------------
# a board loaded by XHR, and a news list from a JSON API of no known platform


@dataclass(frozen=True)
class Letter:
    id: int
    title: str
    asked: dt.date
    replied: dt.date | None
    unit: str = "区住房和城乡建设局"

    @property
    def status(self) -> str:
        return "已回复" if self.replied is not None else "未回复"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "createTime": f"{self.asked.isoformat()} 09:12:00",
            "status": self.status,
            "replyTime": f"{self.replied.isoformat()} 16:30:00" if self.replied else "",
            "replyOrgName": self.unit if self.replied else "",
        }


BOARD_LETTERS = (
    Letter(101, "咨询小区加装电梯补贴申请条件", ago(15), ago(13)),  # 2020-06-01 -> 06-03: on time
    Letter(102, "反映道路施工夜间噪音扰民", dt.date(2020, 5, 6), dt.date(2020, 5, 20)),  # late
    Letter(103, "咨询公租房轮候进度", dt.date(2020, 2, 10), None),  # 127 days unanswered
    Letter(104, "建议增设公交站点", ago(4), None),  # 2 working days: not yet due
)
NEWS_DATES = _every(2, 5, 8)


class BoardSite:
    name = "江滨区住房和城乡建设局"

    delay = 0.0  # seconds each message's data takes (a test that kills a scan midway)

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.letters = {letter.id: letter for letter in BOARD_LETTERS}

    def _nav(self) -> str:
        return (
            '<div class="nav"><a href="/">首页</a> <a href="/gzdt/index.html">工作动态</a> '
            '<a href="/hdjl/zxzx/index.html">网上咨询</a></div>'
        )

    def home(self) -> web.Response:
        rows = "".join(
            f'<li><a href="/gzdt/art_{i + 1}.html">工作动态第{i + 1}篇</a><span>{d}</span></li>'
            for i, d in enumerate(NEWS_DATES[:5])
        )
        return _page(self.name, f'{self._nav()}\n<div class="news"><ul>{rows}</ul></div>')

    def news_shell(self) -> web.Response:
        script = """
fetch('/api/news/list?page=1&size=15', {headers: {'X-Requested-With': 'XMLHttpRequest'}})
  .then(function (r) { return r.json(); })
  .then(function (res) {
    var html = '';
    res.data.records.forEach(function (it) {
      html += '<li><a href="' + it.url + '">' + it.title + '</a><span class="date">' +
              it.publishTime + '</span></li>';
    });
    document.getElementById('news-list').innerHTML = html;
  });
"""
        body = (
            f'{self._nav()}\n<div class="position">当前位置：首页 &gt; 工作动态</div>\n'
            f'<div class="list"><ul id="news-list"></ul></div>\n<script>{script}</script>'
        )
        return _page("工作动态", body)

    def board_shell(self) -> web.Response:
        script = """
$ajax('/api/letters?page=1&size=20', function (res) {
  var rows = '';
  res.data.list.forEach(function (m) {
    rows += '<tr><td><a href="detail.html?id=' + m.id + '">' + m.title + '</a></td><td>' +
            m.createTime.substring(0, 10) + '</td><td>' + m.status + '</td><td>' +
            (m.replyTime ? m.replyTime.substring(0, 10) : '') + '</td><td>' +
            (m.replyOrgName || '') + '</td></tr>';
  });
  document.querySelector('#letters tbody').innerHTML = rows;
});
function $ajax(url, done) {
  var xhr = new XMLHttpRequest();
  xhr.open('GET', url);
  xhr.onload = function () { done(JSON.parse(xhr.responseText)); };
  xhr.send();
}
"""
        body = (
            f"{self._nav()}\n"
            '<div class="position">当前位置：首页 &gt; 互动交流 &gt; 网上咨询</div>\n'
            '<table id="letters"><thead><tr><th>标题</th><th>留言时间</th><th>状态</th>'
            "<th>答复时间</th><th>答复单位</th></tr></thead><tbody></tbody></table>\n"
            f"<script>{script}</script>"
        )
        return _page("网上咨询", body)

    def detail_shell(self) -> web.Response:
        script = """
var id = new URLSearchParams(location.search).get('id');
fetch('/api/letter?id=' + id).then(function (r) { return r.json(); }).then(function (res) {
  var m = res.data;
  document.getElementById('title').textContent = m.title;
  document.getElementById('asked').textContent = m.createTime;
  document.getElementById('question').textContent = m.content;
  document.getElementById('status').textContent = m.status;
  document.getElementById('unit').textContent = m.replyOrgName;
  document.getElementById('replied').textContent = m.replyTime;
  document.getElementById('reply').textContent = m.replyContent;
});
"""
        body = (
            f'{self._nav()}\n<table class="detail">'
            '<tr><td>留言标题</td><td id="title"></td></tr>'
            '<tr><td>留言时间</td><td id="asked"></td></tr>'
            '<tr><td>留言内容</td><td id="question"></td></tr>'
            '<tr><td>办理状态</td><td id="status"></td></tr>'
            '<tr><td>答复单位</td><td id="unit"></td></tr>'
            '<tr><td>答复时间</td><td id="replied"></td></tr>'
            '<tr><td>答复内容</td><td id="reply"></td></tr>'
            f"</table>\n<script>{script}</script>"
        )
        return _page("留言详情", body)

    def app(self) -> web.Application:
        async def handle(request: web.Request) -> web.StreamResponse:
            self.log.append(f"{request.method} {request.path_qs}")
            path = request.path
            if path == "/":
                return self.home()
            if path in ("/gzdt/", "/gzdt/index.html"):
                return self.news_shell()
            if path.startswith("/gzdt/art_"):
                i = int(path.removeprefix("/gzdt/art_").removesuffix(".html")) - 1
                if 0 <= i < len(NEWS_DATES):
                    return _article(f"工作动态第{i + 1}篇", NEWS_DATES[i], self.name)
            if path == "/api/news/list":
                records = [
                    {"title": f"工作动态第{i + 1}篇", "url": f"/gzdt/art_{i + 1}.html",
                     "publishTime": d.isoformat()}
                    for i, d in enumerate(NEWS_DATES)
                ]  # fmt: skip
                return _json({"code": 0, "data": {"records": records, "total": len(records)}})
            if path in ("/hdjl/zxzx/", "/hdjl/zxzx/index.html"):
                return self.board_shell()
            if path == "/hdjl/zxzx/detail.html":
                return self.detail_shell()
            if path == "/api/letters":
                rows = [letter.as_json() for letter in BOARD_LETTERS]
                return _json({"code": 200, "data": {"list": rows, "total": len(rows)}})
            if path == "/api/letter":
                await asyncio.sleep(self.delay)
                letter = self.letters.get(int(request.query.get("id", "0") or 0))
                if letter is None:
                    return _json({"code": 404, "data": None})
                data = letter.as_json()
                data["content"] = f"{letter.title}，请予答复。"
                data["replyContent"] = (
                    "您好，来信收悉。经研究，现答复如下：已按规定办理。" if letter.replied else ""
                )
                return _json({"code": 200, "data": data})
            return _not_found()

        return _app(handle)


# ---------------------------------------------------------------------------------------------
# pagers that exist only as script


@dataclass(frozen=True)
class Row:
    title: str
    asked: dt.date
    replied: dt.date | None


GZDT_DATES = _every(1, 3, 30)  # 工作动态: 3 pages of 10, toPage()
# 网上咨询 (goPage): page 1 on time, page 2 holds the 127-day unanswered message
GOPAGE_ROWS = (
    (
        Row("咨询社保卡补办流程", ago(8), ago(6)),
        Row("咨询老旧小区改造范围", ago(22), ago(21)),
        Row("咨询企业开办所需材料", ago(30), ago(27)),
    ),
    (
        Row("反映小区物业服务问题", dt.date(2020, 2, 10), None),  # unanswered for 127 days
        Row("咨询养老补贴发放时间", ago(60), ago(58)),
    ),
)
# 领导信箱 (executePage, defined in an external script): page 2 holds a late reply
EXECUTE_ROWS = (
    (
        Row("建议增加社区医疗点", ago(9), ago(7)),
        Row("咨询义务教育招生政策", ago(20), ago(16)),
    ),
    (
        Row("反映农贸市场环境卫生问题", dt.date(2020, 5, 6), dt.date(2020, 5, 20)),  # late
        Row("咨询残疾人补贴申请", ago(70), ago(68)),
    ),
)
PAGER_JS = """
function executePage(page) {
  document.location.href = page <= 1 ? 'index.html' : 'index_' + (page - 1) + '.html';
}
"""


class PagerSite:
    name = "江滨区人力资源和社会保障局"

    def __init__(self, log: list[str]) -> None:
        self.log = log

    def _nav(self) -> str:
        return (
            '<div class="nav"><a href="/">首页</a> <a href="/gzdt/index.html">工作动态</a> '
            '<a href="/hdjl/list.jsp">网上咨询</a> <a href="/ldxx/index.html">领导信箱</a></div>'
        )

    def home(self) -> web.Response:
        rows = "".join(
            f'<li><a href="/gzdt/art_{i + 1}.html">人社动态第{i + 1}篇</a><span>{d}</span></li>'
            for i, d in enumerate(GZDT_DATES[:5])
        )
        search = (
            '<form class="search" action="/search/result.html" method="get">'
            '<input type="text" name="q" placeholder="请输入关键字">'
            '<input type="submit" value="搜索"></form>'
        )
        body = f'{self._nav()}\n{search}\n<div class="news"><ul>{rows}</ul></div>'
        return _page(self.name, body)

    def search_shell(self) -> web.Response:
        script = """
var q = new URLSearchParams(location.search).get('q') || '';
fetch('/api/search?q=' + encodeURIComponent(q)).then(function (r) { return r.json(); })
  .then(function (res) {
    document.getElementById('results').innerHTML = res.data.map(function (it) {
      return '<li><a href="' + it.url + '" title="' + it.title + '">' + it.title +
             '</a><span>' + it.date + '</span></li>';
    }).join('') || '<li>没有找到相关结果</li>';
  });
"""
        body = (
            '<div class="search-tabs"><a href="#">全部</a><a href="#">政务公开</a>'
            '<a href="#">办事服务</a><a href="#">互动交流</a></div>\n'
            f'<ul id="results"></ul>\n<script>{script}</script>'
        )
        return _page("搜索结果", body)

    def news_page(self, page: int) -> web.Response:
        rows = "".join(
            f'<li><a href="/gzdt/art_{i + 1}.html">人社动态第{i + 1}篇</a>'
            f'<span class="date">{GZDT_DATES[i]}</span></li>'
            for i in range(page * 10, page * 10 + 10)
        )
        pager = [f"<span>第{page + 1}页/共3页</span>"]
        if page > 0:
            pager.append(f'<a href="javascript:void(0)" onclick="toPage({page})">上一页</a>')
        if page < 2:
            pager.append(f'<a href="javascript:void(0)" onclick="toPage({page + 2})">下一页</a>')
            pager.append('<a href="javascript:void(0)" onclick="toPage(3)">尾页</a>')
        script = (
            "function toPage(n) {\n"
            "  location.href = n <= 1 ? 'index.html' : 'index_' + (n - 1) + '.html';\n}"
        )
        body = (
            f'{self._nav()}\n<div class="list"><ul>{rows}</ul></div>\n'
            f'<div class="pager">{" ".join(pager)}</div>\n<script>{script}</script>'
        )
        return _page("工作动态", body)

    def board_page(self, rows: tuple[Row, ...], base: int, detail: str) -> str:
        lines = "".join(
            f'<tr><td><a href="{detail}?id={base + i}">{_e(r.title)}</a></td>'
            f"<td>{r.asked.isoformat()}</td><td>{'已回复' if r.replied else '未回复'}</td>"
            f"<td>{r.replied.isoformat() if r.replied else ''}</td>"
            f"<td>{'区人力资源和社会保障局' if r.replied else ''}</td></tr>"
            for i, r in enumerate(rows)
        )
        return (
            '<table class="board"><tr><th>标题</th><th>留言时间</th><th>状态</th><th>答复时间</th>'
            f"<th>答复单位</th></tr>{lines}</table>"
        )

    def gopage(self, page: int) -> web.Response:
        table = self.board_page(GOPAGE_ROWS[page - 1], page * 100, "detail.jsp")
        other = 2 if page == 1 else 1
        word = "下一页" if page == 1 else "上一页"
        pager = (
            f'<div class="page"><a href="javascript:goPage({other})">{other}</a> '
            f'<a href="javascript:goPage({other})">{word}</a></div>'
        )
        script = (
            "var listUrl = 'list.jsp';\nfunction goPage(p) {\n"
            "  window.location.href = listUrl + '?pageNo=' + p;\n}"
        )
        body = f"{self._nav()}\n{table}\n{pager}\n<script>{script}</script>"
        return _page("网上咨询", body)

    def ldxx(self, page: int) -> web.Response:
        table = self.board_page(EXECUTE_ROWS[page - 1], 500 + page * 10, "/ldxx/detail.html")
        other = 2 if page == 1 else 1
        word = "下一页" if page == 1 else "上一页"
        pager = (
            f'<div class="page"><a href="javascript:;" onclick="executePage({other})">{word}</a>'
            "</div>"
        )
        body = f'{self._nav()}\n{table}\n{pager}\n<script src="/js/pager.js"></script>'
        return _page("领导信箱", body)

    def detail(
        self, rows: tuple[tuple[Row, ...], ...], ident: int, offset: int, per: int
    ) -> web.Response:
        page, i = divmod(ident - offset, per)
        try:
            if page < 1:
                raise IndexError(page)
            row = rows[page - 1][i]
        except IndexError:
            return _not_found()
        reply = (
            f"<tr><td>答复单位</td><td>区人力资源和社会保障局</td></tr>"
            f"<tr><td>答复时间</td><td>{row.replied.isoformat()}</td></tr>"
            "<tr><td>答复内容</td><td>您好，来信收悉，已按规定办理。</td></tr>"
            if row.replied
            else ""
        )
        body = (
            f'{self._nav()}\n<table class="detail"><tr><td>留言标题</td><td>{_e(row.title)}</td>'
            f"</tr><tr><td>留言时间</td><td>{row.asked.isoformat()}</td></tr>"
            f"<tr><td>办理状态</td><td>{'已回复' if row.replied else '未回复'}</td></tr>"
            f"{reply}</table>"
        )
        return _page(row.title, body)

    def app(self) -> web.Application:
        async def handle(request: web.Request) -> web.StreamResponse:
            self.log.append(f"{request.method} {request.path_qs}")
            path = request.path
            if path == "/":
                return self.home()
            if path in ("/gzdt/", "/gzdt/index.html"):
                return self.news_page(0)
            if path in ("/gzdt/index_1.html", "/gzdt/index_2.html"):
                return self.news_page(int(path[-6]))
            if path.startswith("/gzdt/art_"):
                i = int(path.removeprefix("/gzdt/art_").removesuffix(".html")) - 1
                if 0 <= i < len(GZDT_DATES):
                    return _article(f"人社动态第{i + 1}篇", GZDT_DATES[i], self.name)
            if path == "/search/result.html":
                return self.search_shell()
            if path == "/api/search":
                q = request.query.get("q", "")
                hits = [
                    {"title": title, "url": url, "date": day.isoformat()}
                    for title, url, day in (
                        *((f"人社动态第{i + 1}篇", f"/gzdt/art_{i + 1}.html", d)
                          for i, d in enumerate(GZDT_DATES)),
                        *((r.title, f"/hdjl/detail.jsp?id={p * 100 + i}", r.asked)
                          for p, rows in enumerate(GOPAGE_ROWS, 1) for i, r in enumerate(rows)),
                        *((r.title, f"/ldxx/detail.html?id={500 + p * 10 + i}", r.asked)
                          for p, rows in enumerate(EXECUTE_ROWS, 1)
                          for i, r in enumerate(rows)),
                    )
                    if q and q in title
                ]  # fmt: skip
                return _json({"code": 0, "data": hits})
            if path == "/hdjl/list.jsp":
                page = request.query.get("pageNo", "1")
                if page in ("1", "2"):
                    return self.gopage(int(page))
            if path == "/hdjl/detail.jsp":
                return self.detail(GOPAGE_ROWS, int(request.query.get("id", "0") or 0), 0, 100)
            if path in ("/ldxx/", "/ldxx/index.html"):
                return self.ldxx(1)
            if path == "/ldxx/index_1.html":
                return self.ldxx(2)
            if path == "/ldxx/detail.html":
                return self.detail(EXECUTE_ROWS, int(request.query.get("id", "0") or 0), 500, 10)
            if path == "/js/pager.js":
                return web.Response(text=PAGER_JS, content_type="application/javascript")
            return _not_found()

        return _app(handle)


# ---------------------------------------------------------------------------------------------
# the ground truth


@dataclass(frozen=True)
class Planted:
    check: str
    site: str
    path: str  # the subject's path and query on its site
    why: str


SITES: dict[str, tuple[str, Callable[[list[str]], Any]]] = {
    "hanweb": ("127.0.0.61", HanwebSite),
    "gkmlpt": ("127.0.0.62", GkmlptSite),
    "board": ("127.0.0.63", BoardSite),
    "pager": ("127.0.0.64", PagerSite),
}

#: every finding of the judged checks a correct scan reports, and nothing else
PLANTED = (
    Planted("column.stale", "hanweb", "/col/col1202/index.html", "通知公告 200 days old"),
    Planted("column.blank", "hanweb", "/col/col1203/index.html", "政策文件 with no record"),
    Planted("column.stale", "gkmlpt", f"/gkmlpt/api/all/1202?page=1&sid={SID}", "250 days"),
    Planted("column.blank", "gkmlpt", f"/gkmlpt/api/all/1203?page=1&sid={SID}", "no article"),
    Planted("message.late_reply", "board", "/hdjl/zxzx/detail.html?id=102", "10 working days"),
    Planted("message.unanswered", "board", "/hdjl/zxzx/detail.html?id=103", "127 days"),
    Planted("message.unanswered", "pager", "/hdjl/detail.jsp?id=200", "127 days, page 2"),
    Planted("message.late_reply", "pager", "/ldxx/detail.html?id=520", "page 2 by executePage"),
)
#: the pages whose lists only a browser reads (with ``render = "never"``: column.unreadable)
BROWSER_ONLY = (
    ("board", "/gzdt/index.html"),
    ("board", "/hdjl/zxzx/index.html"),
    ("pager", "/ldxx/index.html"),
)
JUDGED = (
    "homepage.stale",
    "column.stale",
    "column.blank",
    "column.irregular",
    "column.unreadable",
    "message.unanswered",
    "message.late_reply",
    "message.overdue",
    "message.incomplete",
)
#: expected verdicts with a browser: a veto (message.unanswered) on the two boards' sites
VERDICTS = {"hanweb": "qualified", "gkmlpt": "qualified", "board": "unqualified",
            "pager": "unqualified"}  # fmt: skip


@dataclass
class Running:
    ip: str
    port: int
    log: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://{self.ip}:{self.port}"


class ScriptSites:
    """The sites of `SITES` (or the ``wanted`` ones), served while the block runs."""

    def __init__(self, wanted: tuple[str, ...] = tuple(SITES)) -> None:
        self.wanted = wanted
        self.sites: dict[str, Running] = {}
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> ScriptSites:
        try:
            for site in self.wanted:
                ip, make = SITES[site]
                log: list[str] = []
                port = self._stack.enter_context(serve(make(log).app(), ip))
                self.sites[site] = Running(ip, port, log)
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stack.close()

    def url(self, site: str, path: str) -> str:
        return self.sites[site].base + path

    def requests(self, site: str) -> list[str]:
        return list(self.sites[site].log)

    def config_toml(self, *, render: str = "auto", extra: str = "") -> str:
        lines = [
            f"as_of = {AS_OF.isoformat()}",
            'timezone = "Asia/Shanghai"',
            "",
            "[crawl]",
            "allow_private = true",
            "resolve_only = true",
            "rate = 0",
            "concurrency = 4",
            "timeout = 10",
            "retries = 0",
            "recheck_delay = 0.1",
            'robots = "ignore"',
            f'render = "{render}"',
            extra,
            "",
        ]
        for site, running in self.sites.items():
            lines += [
                "[[site]]",
                f'id = "{site}"',
                f'name = "{site}"',
                f'unit = "{site}"',
                'kind = "department"',
                f'url = "{running.base}/"',
                "",
            ]
        return "\n".join(lines)
