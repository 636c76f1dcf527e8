"""List pages in the markup of several CMSs: their rows, dates and other pages."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from checks.readers.encoding import decode_html
from checks.readers.listing import Item, ListReading, extract_items, pagination
from tests.support.realdata import REALDATA

AS_OF = dt.date(2020, 6, 16)
NAV = (
    '<div class="header"><ul class="nav">'
    + "".join(
        f'<li><a href="{href}">{name}</a></li>'
        for href, name in [
            ("/", "首页"),
            ("/zwgk/", "政务公开"),
            ("/bsfw/", "办事服务"),
            ("/hdjl/", "互动交流"),
            ("/zjpj/", "走进蓬江"),
        ]
    )
    + "</ul></div>"
)
FOOTER = """<div class="footer"><p>主办单位：江门市蓬江区人民政府办公室</p>
<p>版权所有 © 2003-2020 <a href="http://beian.miit.gov.cn/">粤ICP备05012345号</a></p></div>"""


def read(html: str, url: str, encoding: str = "utf-8", as_of: dt.date = AS_OF) -> ListReading:
    return extract_items(LexborHTMLParser(html), url, encoding, as_of=as_of)


def pages(html: str, url: str) -> list[str]:
    return pagination(LexborHTMLParser(html), url, html)


# --- TRS WCM: <li><a title>…</a><span>date</span></li>, pages from createPageHTML ----------

TRS_ROWS = [
    (
        "./202006/t20200615_2001.html",
        "蓬江区召开2020年防汛防旱防风工作会议暨三防指挥部成员单位会议",
        "蓬江区召开2020年防汛防旱防风工作会议暨三防指挥部...",
        "2020-06-15",
    ),
    ("./202006/t20200612_2000.html", "区领导督导检查安全生产工作", "", "2020-06-12"),
    ("./202006/t20200601_1999.html", "蓬江区开展“安全生产月”宣传咨询日活动", "", "2020-06-01"),
    (
        "./202005/t20200528_1998.html",
        "关于做好2020年高考期间噪声污染防治工作的公告",
        "关于做好2020年高考期间噪声污染防治…",
        "2020-05-28",
    ),
    ("../../xxgk/202005/t20200520_1997.html", "蓬江区召开扶贫工作推进会", "", "2020-05-20"),
]
TRS_LIS = "\n".join(
    f'<li><a href="{href}" title="{title}" target="_blank">{shown or title}</a>'
    f"<span>{day}</span></li>"
    for href, title, shown, day in TRS_ROWS
)
TRS = f"""<html><head><meta charset="utf-8"><title>工作动态</title></head><body>{NAV}
<div class="main"><div class="lm_title">工作动态</div>
<ul class="list">
{TRS_LIS}
</ul>
<div class="page"><script type="text/javascript">
var currentPage = 0;//所在页从0开始
var countPage = 12//共多少页
createPageHTML(countPage, currentPage, "index", "html");
</script></div></div>{FOOTER}</body></html>"""
TRS_URL = "http://www.pjq.gov.cn/zwdt/gzdt/"


def test_trs_list_rows_titles_and_dates() -> None:
    reading = read(TRS, TRS_URL)
    assert reading.is_list
    assert len(reading.items) == 5
    assert reading.why == "5 rows of li under ul.list, 5 with dates"
    first, _, _, fourth, fifth = reading.items
    # the cut text ("…...") gives way to the full title attribute
    assert first == Item(
        "蓬江区召开2020年防汛防旱防风工作会议暨三防指挥部成员单位会议",
        "http://www.pjq.gov.cn/zwdt/gzdt/202006/t20200615_2001.html",
        dt.date(2020, 6, 15),
    )
    assert fourth.title == "关于做好2020年高考期间噪声污染防治工作的公告"
    assert fourth.date == dt.date(2020, 5, 28)
    assert fifth.url == "http://www.pjq.gov.cn/xxgk/202005/t20200520_1997.html"
    # neither the nav bar nor the footer's links are rows
    assert all("/zwgk/" not in i.url and "beian" not in i.url for i in reading.items)


def test_trs_create_page_html_with_variables() -> None:
    got = pages(TRS, TRS_URL)
    assert got == [f"{TRS_URL}index_{n}.html" for n in range(1, 12)]


def test_trs_from_a_later_page_lists_the_first_one_too() -> None:
    got = pages(TRS.replace("currentPage = 0", "currentPage = 3"), TRS_URL + "index_3.html")
    assert got[0] == TRS_URL + "index.html"
    assert TRS_URL + "index_3.html" not in got
    assert len(got) == 11


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ('createPageHTML(3, 0, "index", "html");', ["index_1.html", "index_2.html"]),
        ("createPageHTML('page_div', 3, 1, 'index', 'htm', 20);", ["index_1.htm", "index_2.htm"]),
        ('createPageHTML(3,0,"list","shtml")', ["list_1.shtml", "list_2.shtml"]),
        ('createPageHTML(1, 0, "index", "html");', []),
    ],
)
def test_create_page_html_variants(call: str, expected: list[str]) -> None:
    html = (
        "<script>function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){}"
        f"</script><div><script>{call}</script></div>"
    )
    assert pages(html, TRS_URL) == [TRS_URL + name for name in expected]


# --- JSP: a table, pageNo= links ------------------------------------------------------------

JSP_ROWS = [
    (301, "江门市蓬江区人民政府关于2020年区级预算调整方案的报告", "2020/6/15"),
    (300, "关于印发《蓬江区优化营商环境实施方案》的通知", "2020/6/3"),
    (299, "蓬江区2020年第一季度政府信息公开工作情况", "2020/4/14"),
]
JSP_TRS = "\n".join(
    f'<tr><td><a href="detail.jsp?channelId=12&amp;id={n}">{title}</a></td><td>{day}</td></tr>'
    for n, title, day in JSP_ROWS
)
JSP_PAGER = "\n".join(
    f'<a href="list.jsp?channelId=12&amp;pageNo={n}">{text}</a>'
    for n, text in [(1, "首页"), (1, "上一页"), (2, "2"), (3, "3"), (2, "下一页"), (5, "尾页")]
)
JSP = f"""<html><body>{NAV}
<table class="tab_list" width="100%">
<tr><th>标题</th><th>发布日期</th></tr>
{JSP_TRS}
</table>
<div class="pagination">共5页 {JSP_PAGER.replace("上一页</a>", "上一页</a> <span>1</span>")}</div>
{FOOTER}</body></html>"""
JSP_URL = "http://www.pjq.gov.cn/web/list.jsp?channelId=12&pageNo=1"


def test_jsp_table_list() -> None:
    reading = read(JSP, JSP_URL)
    assert reading.is_list
    assert [i.date for i in reading.items] == [
        dt.date(2020, 6, 15),
        dt.date(2020, 6, 3),
        dt.date(2020, 4, 14),
    ]
    assert reading.items[0].url == "http://www.pjq.gov.cn/web/detail.jsp?channelId=12&id=301"
    assert "tr under" in reading.why


def test_jsp_page_no_pagination() -> None:
    base = "http://www.pjq.gov.cn/web/list.jsp?channelId=12&pageNo="
    assert pages(JSP, JSP_URL) == [base + "2", base + "3", base + "5"]


def test_query_page_links_outside_a_pager_and_other_hosts() -> None:
    html = (
        '<a href="?page=2">more</a><a href="/web/list.jsp?pageIndex=3">x</a>'
        '<a href="http://other.test/list?page=2">下一页</a><a href="/other/path?page=9">y</a>'
    )
    assert pages(html, "http://h.test/web/list.jsp") == [
        "http://h.test/web/list.jsp?page=2",
        "http://h.test/web/list.jsp?pageIndex=3",
    ]


def test_site_home_link_is_not_a_page() -> None:
    html = f"{NAV}<ul><li><a href='a.html'>某通知某通知某通知</a> 2020-06-01</li></ul>"
    assert pages(html, TRS_URL) == []


# --- yearless [06-15] crossing New Year; year headings ---------------------------------------

YEARLESS = """<div class="news"><ul>
<li><span class="date">[01-04]</span><a href="/a/5.html">区政府召开新年第一次常务会议</a></li>
<li><span class="date">[01-02]</span><a href="/a/4.html">区领导走访慰问困难群众和老党员</a></li>
<li><span class="date">[12-30]</span><a href="/a/3.html">蓬江区举行2021年元旦升旗仪式预演</a></li>
<li><span class="date">[12-15]</span><a href="/a/2.html">蓬江区召开年度安全生产工作总结会</a></li>
<li><span class="date">[11-20]</span><a href="/a/1.html">蓬江区开展消防安全大检查活动</a></li>
</ul></div>"""


def test_yearless_list_crossing_new_year() -> None:
    reading = read(YEARLESS, "http://h.test/col/", as_of=dt.date(2021, 1, 5))
    assert reading.is_list
    assert [i.date for i in reading.items] == [
        dt.date(2021, 1, 4),
        dt.date(2021, 1, 2),
        dt.date(2020, 12, 30),
        dt.date(2020, 12, 15),
        dt.date(2020, 11, 20),
    ]


def test_year_heading_gives_the_year() -> None:
    html = (
        "<div class='box'><h3>2019年</h3><ul>"
        "<li><a href='/a/2.html'>蓬江区召开年度安全生产工作总结会</a><em>12-30</em></li>"
        "<li><a href='/a/1.html'>蓬江区开展消防安全大检查活动活动</a><em>11-20</em></li>"
        "</ul></div>"
    )
    reading = read(html, "http://h.test/col/", as_of=dt.date(2021, 1, 5))
    assert [i.date for i in reading.items] == [dt.date(2019, 12, 30), dt.date(2019, 11, 20)]


def test_year_headings_between_rows() -> None:
    html = (
        "<dl class='archive'>"
        "<dt>2020</dt>"
        "<dd><a href='/a/3.html'>关于开展2020年度政府信息公开工作的通知</a><i>01-03</i></dd>"
        "<dt>2019</dt>"
        "<dd><a href='/a/2.html'>关于做好2019年年底安全生产工作的通知</a><i>12-30</i></dd>"
        "<dd><a href='/a/1.html'>关于做好2019年第四季度信息报送的通知</a><i>10-08</i></dd>"
        "</dl>"
    )
    reading = read(html, "http://h.test/col/", as_of=dt.date(2021, 6, 1))
    assert [i.date for i in reading.items] == [
        dt.date(2020, 1, 3),
        dt.date(2019, 12, 30),
        dt.date(2019, 10, 8),
    ]


# --- GBK bytes ------------------------------------------------------------------------------

GBK_ROWS = [
    (88, "蓬江区关于镕堃喆等同志任职前公示的通告", "2020年06月15日"),
    (87, "蓬江区2020年公开招聘事业单位工作人员公告", "2020年06月02日"),
    (86, "关于征求《蓬江区养犬管理规定》意见的公告", "2020年05月21日"),
]
GBK_PAGE = (
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
    '<title>通知公告</title></head><body><div class="list"><ul>'
    + "".join(
        f'<li><a href="show.asp?id={n}&amp;lm=通知">{title}</a>（{day}）</li>'
        for n, title, day in GBK_ROWS
    )
    + "</ul></div></body></html>"
)


def test_gbk_page_decoded_then_read() -> None:
    data = GBK_PAGE.encode("gbk")
    decoded = decode_html(data)
    assert decoded.charset == "gb18030"
    reading = read(decoded.text, "http://h.test/tzgg/index.asp", decoded.charset)
    assert reading.is_list
    assert next(i.title for i in reading.items) == "蓬江区关于镕堃喆等同志任职前公示的通告"
    assert [i.date for i in reading.items] == [
        dt.date(2020, 6, 15),
        dt.date(2020, 6, 2),
        dt.date(2020, 5, 21),
    ]
    # the raw Chinese in the query is encoded as the page's GBK, as a browser sends it
    assert reading.items[0].url == "http://h.test/tzgg/show.asp?id=88&lm=%CD%A8%D6%AA"


# --- a nav menu, a dated list and a 相关链接 box --------------------------------------------

NEWS_ROWS = [
    ("202006/t20200615_9.html", "蓬江区召开2020年上半年经济运行分析会", "2020-06-15"),
    ("202006/t20200610_8.html", "蓬江区开展夏季食品安全专项检查", "2020-06-10"),
    ("202006/t20200605_7.html", "蓬江区举行2020年“安全生产月”启动仪式", "2020-06-05"),
    ("202005/t20200529_6.html", "蓬江区召开人大代表建议办理工作会议", "2020-05-29"),
]
NEWS_LIS = "\n".join(
    f'<li><a href="/zwdt/gzdt/{href}">{title}</a><span>{day}</span></li>'
    for href, title, day in NEWS_ROWS
)
CROWDED = f"""<html><body>{NAV}
<div class="left"><h3>本栏目</h3><ul class="sub">
<li><a href="/zwdt/gzdt/">工作动态</a></li><li><a href="/zwdt/tzgg/">通知公告</a></li>
<li><a href="/zwdt/zcjd/">政策解读</a></li></ul></div>
<div class="right"><ul class="news_list">
{NEWS_LIS}
</ul></div>
<div class="xglj"><div class="xglj_title">相关链接</div><ul>
<li><a href="http://www.gov.cn/">中华人民共和国中央人民政府门户网站</a></li>
<li><a href="http://www.gd.gov.cn/">广东省人民政府门户网站网站网站</a></li>
<li><a href="http://www.jiangmen.gov.cn/">江门市人民政府门户网站网站网站</a></li>
<li><a href="http://www.xinhui.gov.cn/">江门市新会区人民政府门户网站</a></li>
<li><a href="http://www.jianghai.gov.cn/">江门市江海区人民政府门户网站</a></li>
</ul></div>{FOOTER}</body></html>"""


def test_dated_list_wins_over_nav_and_related_links() -> None:
    reading = read(CROWDED, "http://www.pjq.gov.cn/zwdt/gzdt/index.html")
    assert reading.is_list
    assert reading.why == "4 rows of li under ul.news_list, 4 with dates"
    assert [i.url.rsplit("_", 1)[1] for i in reading.items] == [
        "9.html",
        "8.html",
        "7.html",
        "6.html",
    ]
    assert reading.extra == []


def test_undated_list_is_a_list_but_a_nav_menu_is_not() -> None:
    undated = CROWDED.replace("<span>", "<!--").replace("</span>", "-->")
    reading = read(undated, "http://www.pjq.gov.cn/zwdt/gzdt/index.html")
    assert reading.is_list
    assert len(reading.items) == 4
    assert all(i.date is None for i in reading.items)
    assert "ul.news_list, undated" in reading.why
    nav_only = f"<html><body>{NAV}<p>欢迎访问</p>{FOOTER}</body></html>"
    reading = read(nav_only, "http://www.pjq.gov.cn/")
    assert not reading.is_list
    assert reading.items == []


# --- empty columns ----------------------------------------------------------------------------


@pytest.mark.parametrize("phrase", ["暂无信息", "暂无数据！", "该栏目暂无内容", "没有记录"])
def test_placeholder_page_is_an_empty_list(phrase: str) -> None:
    html = (
        f"<html><body>{NAV}<div class='list'><ul><li>{phrase}</li></ul></div>{FOOTER}</body></html>"
    )
    reading = read(html, "http://www.pjq.gov.cn/zwdt/tzgg/")
    assert reading.is_list
    assert reading.items == []
    assert "placeholder" in reading.why


def test_no_rows_at_all() -> None:
    reading = read("<html><body><p>欢迎</p></body></html>", "http://h.test/")
    assert reading == ListReading([], False, "no repeated rows with links")


# --- other markups ----------------------------------------------------------------------------


def test_div_rows_with_category_links() -> None:
    html = """<div id="instantPanel"><div class="cnt"><ul class="list_txt">
<li><span class="right">(2020-08-16 22:26:38)</span><a href="http://news.h.test/shehui/">[社会]</a>
<a href="http://news.h.test/20/0816/22/A.html">深圳盒马员工确诊，2地6人感染始末</a></li>
<li><span class="right">(2020-08-16 22:00:14)</span><a href="http://news.h.test/shehui/">[社会]</a>
<a href="http://news.h.test/20/0816/22/B.html">山东临沂暴雨淹死上百头牛路旁摆满死牛</a></li>
</ul></div><div class="cnt"><ul class="list_txt">
<li><span class="right">(2020-08-15 21:59:17)</span><a href="http://news.h.test/world/">[国际]</a>
<a href="http://news.h.test/20/0815/21/C.html">“大胃王”吃播江湖：假吃、催吐吸粉</a></li>
</ul></div></div>"""
    reading = read(html, "http://news.h.test/latest/", as_of=dt.date(2020, 8, 17))
    # two <ul> blocks of the same shape are one list; the title link is the row's link
    assert [i.url[-6:] for i in reading.items] == ["A.html", "B.html", "C.html"]
    assert [i.date for i in reading.items] == [dt.date(2020, 8, 16)] * 2 + [dt.date(2020, 8, 15)]
    assert "(2 blocks)" in reading.why


def test_bare_links_with_dates_beside_them() -> None:
    html = (
        "<div class='con'>"
        "<a href='/a/1.html'>关于公布2020年区级部门预算的公告</a><span>2020-06-15</span><br>"
        "<a href='/a/2.html'>关于公布2020年区级部门决算的公告</a><span>2020-06-11</span><br>"
        "<a href='/a/3.html'>关于2020年区级财政专项资金的公示</a><span>2020-06-09</span><br>"
        "</div>"
    )
    reading = read(html, "http://h.test/col/")
    assert [i.date for i in reading.items] == [
        dt.date(2020, 6, 15),
        dt.date(2020, 6, 11),
        dt.date(2020, 6, 9),
    ]


def test_dates_in_titles_are_not_row_dates() -> None:
    html = (
        "<ul class='list'>"
        "<li><a href='/a/2.html'>关于2020年6月30日停电的通知</a><span>2020-06-16</span></li>"
        "<li><a href='/a/1.html'>6月15日工作安排</a></li>"
        "<li><a href='/a/0.html'>2020年5月全区经济运行情况通报</a><span>2020-06-02</span></li>"
        "</ul>"
    )
    reading = read(html, "http://h.test/col/")
    assert [i.date for i in reading.items] == [dt.date(2020, 6, 16), None, dt.date(2020, 6, 2)]


def test_article_with_related_box_is_not_a_list() -> None:
    body = (
        "<p>"
        + "为深入贯彻落实党中央、国务院关于安全生产工作的决策部署，切实做好工作。" * 20
        + "</p>"
    )
    html = (
        f"<html><body>{NAV}<h1>蓬江区召开2020年上半年经济运行分析会</h1>"
        f"<div class='info'>发布时间：2020-06-15</div><div class='content'>{body}</div>"
        "<div class='related'><h4>相关文章</h4><ul>"
        "<li><a href='/a/1.html'>蓬江区开展夏季食品安全专项检查</a><span>2020-06-10</span></li>"
        "<li><a href='/a/2.html'>蓬江区召开人大代表建议办理工作会议</a><span>2020-05-29</span></li>"
        f"</ul></div>{FOOTER}</body></html>"
    )
    reading = read(html, "http://h.test/a/3.html")
    assert not reading.is_list
    assert reading.why.startswith("no list: only 2 rows")
    assert len(reading.items) == 2  # the related rows are still reported
    # with neither heading nor class to name the box: the article's prose outweighs it
    bare = html.replace("<h4>相关文章</h4>", "").replace("class='related'", "class='box'")
    reading = read(bare, "http://h.test/a/3.html")
    assert not reading.is_list
    assert reading.why.startswith("an article")


def test_base_href_is_honoured() -> None:
    html = (
        "<html><head><base href='http://h.test/root/'></head><body><ul>"
        "<li><a href='a/1.html'>关于公布2020年区级部门预算的公告</a> 2020-06-15</li>"
        "<li><a href='a/2.html'>关于公布2020年区级部门决算的公告</a> 2020-06-11</li>"
        "</ul></body></html>"
    )
    reading = read(html, "http://h.test/col/list.html")
    assert [i.url for i in reading.items] == [
        "http://h.test/root/a/1.html",
        "http://h.test/root/a/2.html",
    ]


def test_home_page_boxes_other_dated_rows_are_extra() -> None:
    html = f"""<html><body>{NAV}
<div class="ywbox"><h3>要闻动态</h3><ul class="yw">
<li><a href="/yw/1.html">蓬江区召开2020年上半年经济运行分析会</a><span>06-15</span></li>
<li><a href="/yw/2.html">蓬江区开展夏季食品安全专项检查活动</a><span>06-10</span></li>
<li><a href="/yw/3.html">蓬江区举行2020年安全生产月启动仪式</a><span>06-05</span></li>
</ul></div>
<div class="tzbox"><h3>通知公告</h3><table>
<tr><td><a href="/tz/1.html">关于2020年端午节放假安排的通知</a></td><td>2020-06-01</td></tr>
<tr><td><a href="/tz/2.html">关于开展安全生产大检查的通知</a></td><td>2020-05-20</td></tr>
</table></div>{FOOTER}</body></html>"""
    reading = read(html, "http://h.test/", as_of=AS_OF)
    assert [i.url for i in reading.items] == [f"http://h.test/yw/{n}.html" for n in (1, 2, 3)]
    assert reading.items[0].date == dt.date(2020, 6, 15)
    assert [(i.url, i.date) for i in reading.extra] == [
        ("http://h.test/tz/1.html", dt.date(2020, 6, 1)),
        ("http://h.test/tz/2.html", dt.date(2020, 5, 20)),
    ]


def test_pager_words_and_page_numbers() -> None:
    html = (
        "<div class='fy'><a href='list_2.html'>下页</a><a href='list_9.html'>末页</a></div>"
        "<div class='pages'><a href='index2.html'>2</a><a href='index3.html'>3</a></div>"
        "<div class='x'><a href='javascript:go(2)'>下一页</a></div>"
    )
    assert pages(html, "http://h.test/col/index.html") == [
        "http://h.test/col/list_2.html",
        "http://h.test/col/list_9.html",
        "http://h.test/col/index2.html",
        "http://h.test/col/index3.html",
    ]


@given(st.text(max_size=400))
def test_any_markup_never_raises(text: str) -> None:
    tree = LexborHTMLParser(text)
    reading = extract_items(tree, "http://h.test/col/", as_of=AS_OF)
    assert all(i.url.startswith("http") for i in reading.items)
    assert isinstance(reading.why, str)
    assert reading.why
    assert all(p.startswith("http://h.test/") for p in pagination(tree, "http://h.test/col/", text))


@given(
    st.lists(
        st.tuples(st.text(alphabet="通知公告关于的工作区", min_size=4, max_size=30), st.dates()),
        min_size=2,
        max_size=25,
    )
)
def test_generated_lists_read_back(rows: list[tuple[str, dt.date]]) -> None:
    rows = [(t, d) for t, d in rows if 1990 <= d.year <= 2100]
    lis = "".join(
        f"<li><a href='/a/{n}.html'>{t}</a><span>{d:%Y-%m-%d}</span></li>"
        for n, (t, d) in enumerate(rows)
    )
    reading = read(f"<html><body>{NAV}<ul class='list'>{lis}</ul></body></html>", "http://h.test/")
    if len(rows) >= 2:
        assert reading.is_list
        assert [(i.title, i.date) for i in reading.items] == rows


# --- five real list pages ---------------------------------------------------------------------

GERAPY = REALDATA / "gerapy-lists" if REALDATA is not None else None
needs_lists = pytest.mark.skipif(
    GERAPY is None or not GERAPY.is_dir(), reason="../shared/realdata/gerapy-lists is absent"
)


def real(name: str, url: str) -> tuple[ListReading, list[str]]:
    assert GERAPY is not None
    decoded = decode_html((GERAPY / name).read_bytes())
    tree = LexborHTMLParser(decoded.text)
    reading = extract_items(tree, url, decoded.charset, as_of=dt.date(2020, 8, 17))
    return reading, pagination(tree, url, decoded.text)


@needs_lists
def test_real_dfa66() -> None:
    url = "https://www.dfa66.com/dfaets/news/infodisclosure/announcement/index.html"
    reading, other = real("dfa66_announcement.html", url)
    assert reading.is_list
    assert len(reading.items) == 10
    assert all(i.date is not None for i in reading.items)
    assert (
        reading.items[0].title
        == "东方阿尔法优势产业混合型发起式证券投资基金可投资于科创板股票的公告"
    )
    assert reading.items[0].date == dt.date(2020, 7, 2)
    # shown cut with "...", read whole from the title attribute
    assert reading.items[2].title == (
        "关于新增申万宏源证券有限公司和申万宏源西部证券有限公司为东方阿尔法优势产业混合型"
        "发起式证券投资基金基金销售机构的公告"
    )
    assert reading.items[2].date == dt.date(2020, 6, 10)
    # the row's date, not the one in its URL (.../contents/2020/4/14-...)
    assert reading.items[7].date == dt.date(2020, 3, 16)
    assert reading.items[-1].date == dt.date(2019, 11, 16)
    assert other == [url.replace("index.html", f"index{n}.html") for n in (2, 3, 4)]


@needs_lists
def test_real_hrfund() -> None:
    url = "http://www.hr-fund.com.cn/news/information_2.html"
    reading, other = real("hrfund_announcement.html", url)
    assert reading.is_list
    assert len(reading.items) == 10
    assert reading.items[0].date == dt.date(2020, 4, 30)
    assert [i.date for i in reading.items[1:]] == [dt.date(2020, 4, 27)] * 9
    assert reading.items[-1].title == "华融现金增利货币市场基金招募说明书（更新）摘要"
    # the row's title link, not its download icon
    assert all(i.url.endswith(".pdf") for i in reading.items)
    assert other[0] == "http://www.hr-fund.com.cn/news/information.html"
    assert other[1:] == [
        f"http://www.hr-fund.com.cn/news/information_{n}.html" for n in range(3, 11)
    ]


@needs_lists
def test_real_hsqhfunds() -> None:
    reading, other = real("hsqhfunds_announcement.html", "http://www.hsqhfunds.com/front/gg.jhtml")
    assert reading.is_list
    assert len(reading.items) == 20
    assert all(i.date is not None for i in reading.items)
    by_title = {i.title: i.date for i in reading.items}
    assert by_title["恒生前海短债债券型发起式证投资基金基金合同生效公告"] == dt.date(2020, 6, 18)
    # listed 2020-05-23 though its file sits in 2020-5-22/
    assert by_title["恒生前海恒生沪深港通细分行业龙头指数证券投资基金基金合同生效公告"] == dt.date(
        2020, 5, 23
    )
    assert reading.items[0].date == dt.date(2020, 7, 2)
    assert reading.items[-1].date == dt.date(2020, 5, 21)
    assert other == []  # pages by onclick="toPage(2)" only


@needs_lists
def test_real_netease_rolling_news() -> None:
    reading, other = real("netease_rolling_news.html", "https://news.163.com/latest/")
    assert reading.is_list
    assert len(reading.items) == 40
    assert {i.date for i in reading.items} == {dt.date(2020, 8, 16)}
    assert reading.items[0].title == "一图读懂 | 深圳盒马员工确诊，2地6人感染始末"
    assert not any(i.title.startswith("[") for i in reading.items)  # category links
    assert other == []  # the calendar's day links go to another host


@needs_lists
def test_real_rtfund() -> None:
    reading, _ = real("rtfund_xxpl.html", "http://www.rtfund.com/main/xxpl/index.shtml")
    assert reading.is_list
    assert len(reading.items) == 15
    days = [i.date for i in reading.items]
    assert days.count(dt.date(2020, 7, 9)) == 6
    assert days.count(dt.date(2020, 7, 8)) == 2
    assert days.count(dt.date(2020, 7, 7)) == 2
    assert days.count(dt.date(2020, 7, 6)) == 5
    assert reading.items[0].title == (
        "融通关于旗下部分开放式基金新增华瑞保险销售有限公司为销售机构并参加其费率优惠活动的公告"
    )
    assert reading.items[0].url == "http://www.rtfund.com/main/a/20200709/12323944.shtml"
