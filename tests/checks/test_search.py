"""Site search: forms (GET and POST, GBK and UTF-8, hidden fields kept), script-built searches,
a link to a search page (a trap: not "no search"), results read for the exact title and for
category tabs, and the traps of results pages (the title only in a side box, a site navigation
that names categories, a script shell)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, parse_qsl, urlsplit

import aiohttp
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from checks.readers.forms import (
    FORM_CONTENT_TYPE,
    SearchBox,
    SearchForm,
    SearchLink,
    build_request,
    find_search,
)
from checks.readers.listing import Item
from checks.readers.text import comparable
from checks.search import (
    NO_CATEGORIES,
    NO_SEARCH,
    NOT_FOUND,
    SEARCH_BROKEN,
    ResultsReading,
    judge_results,
    judge_search,
    pick_query,
    read_results,
)

HOME = "http://www.district.test/fgj/"
TITLE = "关于做好2020年防汛防旱工作的通知"


def tree(body: str, head: str = "") -> LexborHTMLParser:
    return LexborHTMLParser(f"<html><head>{head}</head><body>{body}</body></html>")


def form_of(body: str, charset: str = "utf-8", url: str = HOME) -> SearchForm:
    found = find_search(tree(body), url, charset)
    assert isinstance(found, SearchForm), found
    return found


# --------------------------------------------------------------------------------------------
# finding the search


TRS_FORM = """
<div class="header"><form name="searchform" action="/was5/web/search?old=1" method="get"
  target="_blank">
  <input type="hidden" name="channelid" value="229105">
  <input type="hidden" name="prepage" value="10">
  <input type="text" name="searchword" placeholder="请输入关键字">
  <input type="submit" value="搜索"></form></div>"""


def test_a_get_form_with_hidden_fields_on_a_gbk_page() -> None:
    form = form_of(TRS_FORM, "gbk")
    assert form.action == "http://www.district.test/was5/web/search?old=1"
    assert form.method == "GET"
    assert form.field == "searchword"
    assert form.hidden == {"channelid": "229105", "prepage": "10"}
    assert form.charset == "gb18030"  # gbk read as its superset: the same bytes for GBK text
    method, url, body = build_request(form, "防汛 工作")
    assert method == "GET"
    assert body is None
    # the action's own query is replaced, as browsers do; the query is GBK, spaces as "+"
    expected = "%B7%C0%D1%B4+%B9%A4%D7%F7"
    assert url == (
        "http://www.district.test/was5/web/search?channelid=229105&prepage=10"
        f"&searchword={expected}"
    )
    assert "防汛 工作".encode("gbk") == bytes.fromhex(expected.replace("%", "").replace("+", "20"))


def test_a_post_form_with_its_own_accept_charset() -> None:
    body = """<form id="ssform" action="https://search.district.test/s.jsp" method="POST"
      accept-charset="utf-8"><input name="keyword" title="站内搜索">
      <select name="scope"><option value="all">全站</option>
      <option value="fgj" selected>本站</option></select>
      <input type="radio" name="sort" value="time" checked><input type="radio" name="sort"
      value="rel"><input type="checkbox" name="title_only" value="1">
      <input type="hidden" name="off" value="x" disabled>
      <button type="submit">搜 索</button></form>"""
    form = form_of(body, "gb2312")
    assert form.method == "POST"
    assert form.charset == "utf-8"
    assert form.hidden == {"scope": "fgj", "sort": "time"}  # unchecked and disabled are left out
    method, url, data = build_request(form, "防汛")
    assert (method, url) == ("POST", "https://search.district.test/s.jsp")
    assert data is not None
    assert parse_qsl(data.decode("ascii")) == [
        ("keyword", "防汛"),
        ("scope", "fgj"),
        ("sort", "time"),
    ]
    assert FORM_CONTENT_TYPE == "application/x-www-form-urlencoded"


def test_an_empty_action_submits_to_the_page_and_base_href_counts() -> None:
    form = form_of('<form><input name="q" placeholder="搜索"></form>')
    assert form.action == HOME
    based = find_search(
        tree('<form action="search.html"><input name="q"></form>', '<base href="/other/">'),
        HOME,
    )
    assert isinstance(based, SearchForm)
    assert based.action == "http://www.district.test/other/search.html"


def test_characters_outside_the_charset_go_as_character_references() -> None:
    form = form_of('<form action="/s"><input name="q"></form>', "gbk")
    # gb18030 covers everything: a latin-1 form does not
    latin = SearchForm("http://x.test/s", "GET", "q", {}, "latin-1")
    _, url, _ = build_request(latin, "é中")
    assert url == "http://x.test/s?q=%E9%26%2320013%3B"
    _, url, _ = build_request(form, "𠀀")  # a CJK extension B character: four GB18030 bytes
    assert parse_qs(urlsplit(url).query, encoding="gb18030")["q"] == ["𠀀"]


def test_a_charset_that_is_no_text_encoding_falls_back_to_the_pages() -> None:
    form = form_of('<form action="/s" accept-charset="rot13"><input name="q"></form>', "gbk")
    assert form.charset == "gb18030"
    assert form_of('<form action="/s"><input name="q"></form>', "rot13").charset == "utf-8"


def test_the_search_form_wins_over_login_and_letter_query_forms() -> None:
    body = """
    <form action="/login.do" method="post"><input name="username"><input type="password"
      name="pwd"><input type="submit" value="登录"></form>
    <form action="/letter/find.do"><input name="cxm" placeholder="请输入查询码">
      <input type="submit" value="查询"></form>
    <form action="/search/" class="search"><input name="q"><input type="submit" value="搜索">
    </form>"""
    form = form_of(body)
    assert form.action == "http://www.district.test/search/"
    assert form.field == "q"


def test_no_search_at_all_is_no_search() -> None:
    body = """<form action="/login.do" method="post"><input name="username">
      <input type="password" name="pwd"></form>
      <form action="/letter/find.do"><input name="cxm" placeholder="请输入查询码"></form>
      <p>本站搜索功能正在建设中。</p><a href="/about/">关于我们</a>"""
    assert find_search(tree(body), HOME) is None
    judgement = judge_search(HOME, None)
    assert judgement is not None
    assert judgement.code == NO_SEARCH
    assert judgement.detail["home"] == HOME


def test_trap_a_link_to_a_search_page_is_not_no_search() -> None:
    home = '<div class="top"><a href="/search/index.html">站内搜索</a></div>'
    found = find_search(tree(home), HOME)
    assert found == SearchLink("http://www.district.test/search/index.html", "站内搜索", HOME)
    # the caller reads the search page and finds the form there
    page = find_search(tree(TRS_FORM), found.url)
    assert isinstance(page, SearchForm)
    assert page.page == found.url
    # a link whose page cannot be read is no "no search" either
    assert judge_search(HOME, None, via=found) is None


def test_an_icon_link_to_the_search_page() -> None:
    body = '<a class="search-btn" href="/sousuo/"><img src="/images/s.png"></a>'
    found = find_search(tree(body), HOME)
    assert isinstance(found, SearchLink)
    assert found.url == "http://www.district.test/sousuo/"
    # a web search engine is not the site's search
    assert find_search(tree('<a href="https://www.baidu.com/">搜索</a>'), HOME) is None


def test_a_script_built_search_is_read_from_the_script() -> None:
    body = """<div class="ss"><input id="kw" name="kw" placeholder="请输入关键词">
      <a href="javascript:void(0)" onclick="go()">搜索</a></div>
      <script>function go(){ var v = document.getElementById('kw').value;
      window.location.href = "/search/index.html?siteid=2&q=" + encodeURIComponent(v); }</script>"""
    form = form_of(body, "gbk")
    assert form.source == "script"
    assert form.field == "q"
    assert form.hidden == {"siteid": "2"}
    assert form.charset == "utf-8"  # encodeURIComponent sends UTF-8 whatever the page's charset
    _, url, _ = build_request(form, "防汛")
    assert url == "http://www.district.test/search/index.html?siteid=2&q=%E9%98%B2%E6%B1%9B"


def test_a_box_the_crawler_cannot_submit_is_a_search_but_not_judged() -> None:
    body = '<input id="searchText" placeholder="请输入搜索内容"><span onclick="doIt()">搜索</span>'
    found = find_search(tree(body), HOME)
    assert isinstance(found, SearchBox)
    assert found.field == "searchText"
    assert judge_search(HOME, found) is None


def test_a_page_wide_aspnet_form_is_a_box_not_a_search_form() -> None:
    inputs = "".join(f'<input name="f{i}">' for i in range(5))
    body = f"""<form method="post" action="default.aspx"><input type="hidden" name="__VIEWSTATE"
      value="x">{inputs}<input name="txtKeyword" placeholder="站内搜索"></form>"""
    assert isinstance(find_search(tree(body), HOME), SearchBox)


# --------------------------------------------------------------------------------------------
# the item to search for


def test_pick_query_prefers_a_whole_recent_title_old_enough_to_be_indexed() -> None:
    as_of = dt.date(2020, 6, 16)
    items = [
        Item("今天的新闻标题足够长的一条", "http://x/1", dt.date(2020, 6, 16)),  # too fresh
        Item("关于做好2020年防汛防旱工作的...", "http://x/2", dt.date(2020, 6, 12)),  # cut
        Item("短标题", "http://x/3", dt.date(2020, 6, 13)),  # too short
        Item(TITLE, "http://x/4", dt.date(2020, 6, 10)),
        Item("区发改局召开2020年第二季度工作会议", "http://x/5", dt.date(2020, 6, 1)),
        Item("未来的日期不算数的标题很长", "http://x/6", dt.date(2020, 7, 1)),
    ]
    chosen = pick_query(items, as_of)
    assert chosen is not None
    assert chosen.url == "http://x/4"
    only_fresh = pick_query(items[:1], as_of)
    assert only_fresh is not None
    assert only_fresh.url == "http://x/1"  # nothing older: the newest whole title will do
    assert pick_query([items[1], items[2]], as_of) is None


# --------------------------------------------------------------------------------------------
# reading results


def results_page(results: str, extra: str = "") -> LexborHTMLParser:
    return tree(
        f"""<div class="nav"><a href="/">首页</a><a href="/zwgk/">政务公开</a>
        <a href="/hdjl/">互动交流</a><a href="/bsfw/">办事服务</a></div>
        <div class="result-list">{results}</div>{extra}
        <div class="footer">版权所有：江滨区人民政府</div>"""
    )


TABS = """<ul class="search-tabs"><li><a href="?t=0">全部(12)</a></li>
  <li><a href="?t=1">信息公开(8)</a></li><li><a href="?t=2">政策文件(3)</a></li>
  <li><a href="?t=3">办事服务(1)</a></li></ul>"""


def test_the_exact_title_is_found_whatever_the_highlighting_and_punctuation() -> None:
    results = """<p>共找到 12 条结果</p>
      <div class="item"><a href="/a/1.html">关于做好<em>2020</em>年<font color=red>防汛</font>
      防旱工作的通知</a><p>发布时间：2020-06-10</p></div>
      <div class="item"><a href="/a/2.html">关于做好2019年防汛防旱工作的通知</a></div>"""
    page = results_page(results, TABS)
    assert judge_results(page, TITLE) == (True, True)
    reading = read_results(page, "关于做好２０２０年防汛防旱工作的通知。")  # full width, a stop
    assert reading.found
    assert reading.matched is not None
    assert "防汛" in reading.matched
    assert reading.categories[:3] == ("全部", "信息公开", "政策文件")


def test_a_cut_title_and_a_title_with_a_category_prefix_match() -> None:
    cut = results_page('<a href="/a/1.html">关于做好2020年防汛防旱工作...</a>')
    assert read_results(cut, TITLE).found
    prefixed = results_page('<a href="/a/1.html">【通知公告】关于做好2020年防汛防旱工作的通知</a>')
    assert read_results(prefixed, TITLE).found
    other = results_page('<a href="/a/9.html">关于做好2020年防汛防旱工作的通知的解读</a>')
    assert read_results(other, TITLE).found  # contained, with little around it
    different = results_page('<a href="/a/2.html">关于做好2019年防汛防旱工作的通知</a>')
    assert not read_results(different, TITLE).found


def test_trap_the_title_only_in_a_side_box_is_not_found() -> None:
    side = f"""<div class="hot-news"><h3>热点信息</h3><ul><li><a href="/a/1.html">{TITLE}</a></li>
      </ul></div>"""
    page = results_page("<p>没有找到相关结果，请更换关键词。</p>", side)
    reading = read_results(page, TITLE)
    assert not reading.found
    assert reading.no_results
    assert reading.readable
    judgement = judge_search(
        HOME, form_of(TRS_FORM), query=TITLE, item_url="http://x/4", results=reading
    )
    assert judgement is not None
    assert judgement.code == SEARCH_BROKEN
    assert judgement.detail["problems"] == [NOT_FOUND, NO_CATEGORIES]
    assert judgement.detail["query"] == TITLE


def test_trap_a_side_box_beside_other_results_does_not_count() -> None:
    side = f"""<div class="rank"><ul><li><a href="/a/1.html">{TITLE}</a></li></ul></div>"""
    page = results_page('<a href="/a/2.html">关于做好2019年防汛防旱工作的通知</a>', side)
    reading = read_results(page, TITLE)
    assert (reading.found, reading.result_links, reading.no_results) == (False, 1, False)
    # a class that merely contains the letters of a side box's name is no side box
    photos = results_page(f'<div class="photo-list"><a href="/a/1.html">{TITLE}</a></div>')
    assert read_results(photos, TITLE).found


def test_trap_a_no_results_page_with_the_title_in_an_unmarked_box() -> None:
    page = results_page(f'<p>抱歉，没有找到相关结果</p><div><a href="/a/1.html">{TITLE}</a></div>')
    reading = read_results(page, TITLE)
    assert reading.matched is not None
    assert not reading.found


def test_zero_results_said_in_a_count() -> None:
    page = results_page("<p>共找到0条相关结果</p>")
    reading = read_results(page, TITLE)
    assert reading.no_results
    assert not reading.found


def test_trap_the_site_navigation_is_no_category_tabs() -> None:
    # the navigation names 政务公开 / 互动交流 / 办事服务, and so does a plain menu without the
    # markers of tabs (全部, counts, a tab-like class, a 分类 label)
    menu = """<ul class="topmenu"><li><a href="/xxgk/">信息公开</a></li>
      <li><a href="/bsfw/">办事服务</a></li><li><a href="/hdjl/">互动交流</a></li></ul>"""
    page = results_page(f'<a href="/a/1.html">{TITLE}</a>', menu)
    assert judge_results(page, TITLE) == (True, False)


def test_a_labelled_category_block_counts() -> None:
    block = """<div class="box"><span>按分类：</span><a href="?c=1">政策文件</a>
      <a href="?c=2">新闻动态</a><a href="?c=3">办事指南</a></div>"""
    page = results_page(f'<a href="/a/1.html">{TITLE}</a>', block)
    assert judge_results(page, TITLE) == (True, True)


def test_a_results_page_built_by_script_is_not_judged() -> None:
    shell = tree('<div id="app"></div><script src="/static/search.js"></script>')
    reading = read_results(shell, TITLE)
    assert not reading.readable
    assert judge_search(HOME, form_of(TRS_FORM), query=TITLE, results=reading) is None


def test_judge_search_outcomes() -> None:
    form = form_of(TRS_FORM)
    good = ResultsReading(found=True, by_category=True, result_links=3)
    assert judge_search(HOME, form, query=TITLE, results=good) is None
    flat = ResultsReading(found=True, by_category=False, result_links=3)
    judged = judge_search(HOME, form, query=TITLE, results=flat)
    assert judged is not None
    assert judged.detail["problems"] == [NO_CATEGORIES]
    assert judge_search(HOME, form, query=TITLE, results=flat, require_categories=False) is None
    failed = judge_search(HOME, form, query=TITLE, failure="http 500")
    assert failed is not None
    assert failed.code == SEARCH_BROKEN
    assert failed.detail["reason"] == "http 500"
    assert judge_search(HOME, form) is None  # not submitted: nothing to say


# --------------------------------------------------------------------------------------------
# a real submission on loopback: a GBK search engine (GET) and a UTF-8 one (POST)


async def test_a_gbk_search_engine_finds_the_title_sent_in_gbk() -> None:
    async def search(request: web.Request) -> web.Response:
        raw = request.rel_url.raw_query_string
        words = parse_qs(raw, encoding="gbk", errors="strict").get("searchword", [""])[0]
        hit = f'<a href="/a/1.html">{TITLE}</a>' if words == TITLE else ""
        html = f"<html><body>{TABS}<div class='list'>{hit or '<p>没有找到相关结果</p>'}</div>"
        return web.Response(body=(html + "</body></html>").encode("gbk"),
                            content_type="text/html", charset="gbk")  # fmt: skip

    async def post(request: web.Request) -> web.Response:
        data = await request.post()
        hit = f'<a href="/a/1.html">{TITLE}</a>' if data.get("keyword") == TITLE else ""
        return web.Response(
            text=f"<html><body>{hit}<p>x</p></body></html>", content_type="text/html"
        )

    app = web.Application()
    app.router.add_get("/was5/web/search", search)
    app.router.add_post("/s.jsp", post)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    home = f"http://127.0.0.1:{port}/"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            form = form_of(TRS_FORM, "gbk", home)
            method, url, _ = build_request(form, TITLE)
            async with session.request(method, url) as response:
                page = LexborHTMLParser((await response.read()).decode("gbk"))
            assert judge_results(page, TITLE) == (True, True)
            _, miss_url, _ = build_request(form, "不存在的标题")
            async with session.get(miss_url) as response:
                miss = read_results(LexborHTMLParser((await response.read()).decode("gbk")), TITLE)
            assert (miss.found, miss.no_results) == (False, True)

            post_form = form_of(
                '<form action="/s.jsp" method="post" class="search"><input name="keyword"></form>',
                "utf-8",
                home,
            )
            method, url, body = build_request(post_form, TITLE)
            headers = {"Content-Type": FORM_CONTENT_TYPE}
            async with session.request(method, url, data=body, headers=headers) as response:
                found, _ = judge_results(LexborHTMLParser(await response.text()), TITLE)
            assert found
    finally:
        await runner.cleanup()


# --------------------------------------------------------------------------------------------
# properties


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=30))
def test_any_query_survives_the_encoding_in_gbk(query: str) -> None:
    form = SearchForm("http://x.test/s?a=1", "GET", "q", {"c": "频道"}, "gb18030")
    _, url, _ = build_request(form, query)
    fields = parse_qs(urlsplit(url).query, encoding="gb18030", keep_blank_values=True)
    assert fields["q"] == [query]
    assert fields["c"] == ["频道"]
    assert "a" not in fields


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_comparable_is_idempotent_and_ignores_spaces(text: str) -> None:
    once = comparable(text)
    assert comparable(once) == once
    assert comparable(" ".join(text)) == once
