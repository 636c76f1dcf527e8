"""A page's own sections are not list rows: its top bar, logo, breadcrumb and footer.

The template is a minimal copy of the benchmark district's channel pages (benchmarks/district.py):
a top bar linking the portal, a logo link whose ``<img alt>`` is the site's name, a nav bar, a
"当前位置" breadcrumb and a footer. On a blank column (``<li class="empty">暂无信息</li>``) a site
with a long name used to be read as "3 rows of div under body, undated" (the portal link, the
logo, the breadcrumb's column) and reported ``column.stale`` instead of ``column.blank``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from selectolax.lexbor import LexborHTMLParser

from checks.readers.listing import ListReading, extract_items

AS_OF = dt.date(2020, 6, 30)
PORTAL = "http://127.0.0.1:8080/"
COLUMNS = [
    ("gzdt", "工作动态"),
    ("tzgg", "通知公告"),
    ("zcwj", "政策文件"),
    ("rsxx", "人事信息"),
    ("hdjl", "政务咨询"),
]
SHORT = "江滨区司法局"
LONG = "江滨区文化广电旅游体育局"
LONGER = "江滨区环市街道办事处"


def page(site: str, main: str, depth: int = 1) -> str:
    prefix = "../" * depth
    nav = "\n".join(
        [f'<li><a href="{prefix}">首页</a></li>']
        + [f'<li><a href="{prefix}{folder}/">{name}</a></li>' for folder, name in COLUMNS]
    )
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>人事信息_{site}</title></head>\n<body>\n"
        f'<div class="topbar"><div class="w"><a href="{PORTAL}">江滨区人民政府门户网站</a>'
        ' | <a href="javascript:void(0)" onclick="addFavorite()">加入收藏</a>'
        ' | <a href="#" id="wza">无障碍浏览</a></div></div>\n'
        f'<div class="header"><div class="w"><a href="{prefix}"><img src="/images/logo.png"'
        f' alt="{site}" width="420" height="60"></a></div></div>\n'
        f'<div class="nav"><div class="w"><ul>\n{nav}\n</ul></div></div>\n'
        f'<div class="w main">\n{main}</div>\n'
        '<div class="footer"><div class="w">\n'
        f"<p>主办单位：{site}　联系电话：0123-88880000</p>\n"
        '<p><a href="#top">返回顶部</a></p>\n</div></div>\n</body>\n</html>\n'
    )


def column(site: str, body: str) -> str:
    main = (
        '<div class="position">当前位置：<a href="../">首页</a> &gt; '
        '<a href="./">人事信息</a></div>\n'
        '<div class="col-box">\n<h2 class="col-title">人事信息</h2>\n'
        + body
        + '<div class="page"><script>createPageHTML(1, 0, "index", "html");</script></div>\n'
        "</div>\n"
    )
    return page(site, main)


BLANK = '<ul class="list">\n<li class="empty">暂无信息</li>\n</ul>\n'


def read(html: str, url: str) -> ListReading:
    return extract_items(LexborHTMLParser(html), url, "utf-8", as_of=AS_OF)


@pytest.mark.parametrize("site", [SHORT, LONG, LONGER, "江滨区" + "人力资源和社会保障局" * 2])
def test_blank_column_is_an_empty_list_whatever_the_site_name(site: str) -> None:
    reading = read(column(site, BLANK), "http://127.0.0.16:8080/rsxx/")
    assert reading == ListReading([], True, "an empty list: placeholder text '暂无信息'")


@pytest.mark.parametrize("url", ["http://127.0.0.16:8080/rsxx/", "http://h.test/bm/wgl/rsxx/"])
def test_top_bar_logo_and_breadcrumb_are_not_rows(url: str) -> None:
    # without the placeholder: still no list made of the page's sections
    reading = read(column(LONG, '<ul class="list"></ul>\n'), url)
    assert not reading.is_list
    assert reading.items == []


@pytest.mark.parametrize("site", [SHORT, LONG])
def test_column_with_rows_reads_only_its_rows(site: str) -> None:
    rows = "\n".join(
        f'<li><a href="./202006/t202006{day:02d}_{day}.html" target="_blank">'
        f"{site}2020年公开招聘工作人员公告（第{day}号）</a>"
        f'<span class="date">2020-06-{day:02d}</span></li>'
        for day in (15, 8, 1)
    )
    reading = read(column(site, f'<ul class="list">\n{rows}\n</ul>\n'), "http://h.test/rsxx/")
    assert reading.is_list
    assert [i.date for i in reading.items] == [dt.date(2020, 6, d) for d in (15, 8, 1)]
    assert all(i.url.startswith("http://h.test/rsxx/202006/") for i in reading.items)
    assert reading.extra == []


@pytest.mark.parametrize("site", [SHORT, LONG])
def test_article_of_the_template_is_not_a_list(site: str) -> None:
    main = (
        '<div class="position">当前位置：<a href="../../">首页</a> &gt; '
        '<a href="../">人事信息</a> &gt; 正文</div>\n'
        '<div class="article">\n<h1 class="title">2020年公开招聘工作人员公告</h1>\n'
        '<div class="info">发布时间：2020-06-15 09:30　来源：区人社局</div>\n'
        '<div class="content"><p>根据工作需要，经研究决定，公开招聘工作人员。</p></div>\n'
        "</div>\n"
    )
    reading = read(page(site, main, depth=2), "http://h.test/rsxx/202006/t20200615_1.html")
    assert not reading.is_list
    assert reading.items == []


def test_link_to_the_page_itself_is_not_a_row() -> None:
    # the column's own name, linked in the list's heading row, is no item of it
    rows = '<li><a href="./">人事信息栏目全部信息</a></li>\n' + "\n".join(
        f'<li><a href="./2020/{n}.html">关于公布2020年第{n}批事业单位招聘结果的通知</a>'
        f"<span>2020-06-{n:02d}</span></li>"
        for n in (12, 5)
    )
    reading = read(column(LONG, f'<ul class="list">\n{rows}\n</ul>\n'), "http://h.test/rsxx/")
    assert reading.is_list
    assert [i.url for i in reading.items] == [
        "http://h.test/rsxx/2020/12.html",
        "http://h.test/rsxx/2020/5.html",
    ]
