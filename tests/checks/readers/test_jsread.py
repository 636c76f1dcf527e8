"""The static readers of script-built pages (checks/readers/jsread.py): pure, on page text."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo

import pytest
from selectolax.lexbor import LexborHTMLParser

from checks.readers import jsread
from checks.readers.jsread import inline_scripts
from crawler.config import ConfigError, parse_config

BASE = "http://www.example.gov.cn/col/col12/index.html"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def _targets(body: str, url: str = BASE) -> tuple[list[str], int]:
    text = f"<html><body>{body}</body></html>"
    found = jsread.script_pager_targets(LexborHTMLParser(text), text, url)
    return [u for _, u in found.resolved], found.unresolved


def test_pager_functions_are_evaluated() -> None:
    script = (
        "<script>var base = 'list.jsp'; var size = 20;\n"
        "function toPage(n) {\n  location.href = n <= 1 ? 'index.html'"
        " : 'index_' + (n - 1) + '.html';\n}\n"
        "function goPage(p) { var url = base + '?pageNo=' + p + '&size=' + size;"
        " window.location = url; }\n"
        "var turn = function (i) { window.open('p' + (i * 10) + '.htm', '_self'); };\n"
        "</script>"
    )
    links = (
        '<a href="javascript:void(0)" onclick="toPage(1)">首页</a>'
        '<a href="javascript:void(0)" onclick="toPage(3);return false;">下一页</a>'
        '<a href="javascript:goPage(2)">2</a>'
        '<span onclick="turn(4)">[4]</span>'
    )
    resolved, unresolved = _targets(links + script)
    assert resolved == [
        "http://www.example.gov.cn/col/col12/index.html",
        "http://www.example.gov.cn/col/col12/index_2.html",
        "http://www.example.gov.cn/col/col12/list.jsp?pageNo=2&size=20",
        "http://www.example.gov.cn/col/col12/p40.htm",
    ]
    assert unresolved == 0


def test_what_only_a_browser_knows_is_unresolved() -> None:
    # defined in an external script, a form submission, another host: not derived
    assert _targets('<a href="javascript:;" onclick="executePage(2)">下一页</a>') == ([], 1)
    form = (
        "<script>function goPage(p){ document.getElementById('pageNo').value = p;"
        ' document.forms[0].submit(); }</script><a href="javascript:goPage(2)">2</a>'
    )
    assert _targets(form) == ([], 1)
    away = "<script>function go(p){ location.href = 'http://elsewhere.cn/' + p; }</script>"
    assert _targets(away + '<a onclick="go(2)">下一页</a>') == ([], 1)


def test_script_links_that_are_no_pager_are_left_alone() -> None:
    body = (
        '<a href="javascript:void(0)" onclick="addFavorite()">加入收藏</a>'
        '<a href="javascript:window.print()">打印本页</a><a onclick="share(2)">分享</a>'
    )
    assert _targets(body) == ([], 0)


def test_hanweb_datastore_and_dataproxy_request() -> None:
    page = (
        '<div id="4953"><script type="text/xml"><datastore><nextgroup><![CDATA[<a href="'
        "/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid=3&path=/&columnid=12&unitid=4953"
        '&webname=%E5%8C%BA&permissiontype=0"></a>]]></nextgroup><recordset>'
        "<record><![CDATA[<li><a href='/art/2020/6/1/art_12_1.html'>a</a></li>]]></record>"
        "<record><![CDATA[<li><a href='/art/2020/6/2/art_12_2.html'>b</a></li>]]></record>"
        "</recordset></datastore></script></div><script>$('#4953').jpage({perPage: 2,"
        " totalRecord: 9});</script>"
    )
    (store,) = jsread.hanweb_datastores(page)
    assert len(store.records) == 2
    assert jsread.jpage_settings(page) == {"perpage": 2, "totalrecord": 9}
    assert store.nextgroup is not None
    url, form = jsread.dataproxy_request(BASE, store.nextgroup, 3, 4, 2) or ("", b"")
    assert (
        url
        == "http://www.example.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=3&endrecord=4&perpage=2"
    )
    assert form == (
        b"col=1&appid=1&webid=3&path=/&columnid=12&sourceContentType=1&unitid=4953"
        b"&webname=%E5%8C%BA&permissiontype=0"
    )
    inlined = jsread.inline_datastores(page, [store], {0: ["<li>c</li>"]})
    assert "<datastore>" not in inlined
    assert inlined.startswith("<div id=\"4953\"><li><a href='/art/2020/6/1/art_12_1.html'>a</a>")
    assert "<li>c</li></div>" in inlined
    rows = jsread.Datastore(0, len(page), ("<tr><td>a</td></tr>",), None, None)
    assert jsread.inline_datastores(page, [rows], {}) == "<table><tr><td>a</td></tr></table>"


def test_gkmlpt_shell_and_api() -> None:
    tree = [
        {"id": 1, "name": "机构职能", "children": [{"id": 11, "name": "工作动态"}]},
        {"id": 2, "name": "通知公告", "children": []},
        {"id": 3, "name": "外链", "jump_url": "http://x.gov.cn/a.html"},
    ]
    shell = f"<script>window._CONFIG = {{SID: '757001', TREE: {json.dumps(tree)}, X: 1}};</script>"
    sid, found = jsread.gkmlpt_config(shell) or ("", [])
    assert (sid, len(found)) == ("757001", 3)
    page = "http://www.jiangmen.gov.cn/pjq/gkmlpt/index"
    catalogue = jsread.gkmlpt_catalogue_html(page, sid, found)
    assert '/pjq/gkmlpt/api/all/11?page=1&amp;sid=757001">工作动态' in catalogue
    assert "机构职能" not in catalogue  # a parent: its children are the lists
    assert 'href="http://x.gov.cn/a.html"' in catalogue
    api = f"http://www.jiangmen.gov.cn/pjq/gkmlpt/api/all/2?page=1&sid={sid}"
    assert jsread.is_gkmlpt_api(api)
    midnight = dt.datetime(2020, 6, 2, 0, 30, tzinfo=SHANGHAI)  # 2020-06-01 in UTC
    data = {
        "articles": [{"title": "通知", "date": int(midnight.timestamp()), "url": "/c/post_1.html"}],
        "total": 3,
    }
    html = jsread.gkmlpt_list_html(api, data, SHANGHAI) or ""
    assert '<a href="/c/post_1.html">通知</a><span class="date">2020-06-02</span>' in html
    assert 'page=2&amp;sid=757001">2</a>' in html
    assert 'page=3&amp;sid=757001">3</a>' in html
    assert jsread.gkmlpt_list_html(api, {"error": 1}, SHANGHAI) is None


def test_a_gkmlpt_catalogue_by_fragment_is_a_config_error() -> None:
    """``…/gkmlpt/index#1201`` is one URL for every catalogue (a fragment is never sent): as a
    configured column it would read the shell, so the config says what to write instead."""
    site = {"id": "a", "name": "a", "unit": "a", "url": "http://www.example.gov.cn/"}
    column = {"name": "通知公告", "url": "http://www.example.gov.cn/gkmlpt/index#1202"}
    with pytest.raises(ConfigError, match=r"site\[0\]\.column\[0\]\.url: .*api/all/1202"):
        parse_config({"site": [{**site, "column": [column]}]})
    read = {**column, "url": "http://www.example.gov.cn/gkmlpt/api/all/1202?page=1&sid=7"}
    config = parse_config({"site": [{**site, "column": [read]}]})
    assert config.sites[0].columns[0].url.endswith("/gkmlpt/api/all/1202?page=1&sid=7")


def test_inline_scripts_reads_a_page_as_a_browser_does() -> None:

    page = (
        '<script src="a.js"></script><script>var a=1;</script><p>x</p>'
        '<SCRIPT type="t">b()</script >'
    )
    assert inline_scripts(page) == "var a=1;\nb()"
    # unclosed tags: the first one runs to the end of the page, as one script (and linearly)
    unclosed = "<script>f(0);" + "<script>f(1);" * 3
    assert inline_scripts(unclosed) == "f(0);" + "<script>f(1);" * 3
