"""Message boards: lists and detail pages read by their labels in several layouts, and the reply
judgement (late, overdue, unanswered, incomplete, simple questions) across holidays and
make-up working days."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from selectolax.lexbor import LexborHTMLParser

from checks.messages import (
    CALENDAR_GAP,
    INCOMPLETE,
    LATE_REPLY,
    OVERDUE,
    UNANSWERED,
    FaqIndex,
    ReplyRules,
    faq_match,
    judge_message,
)
from checks.readers.boards import (
    PROCESSING,
    REPLIED,
    UNKNOWN,
    UNREPLIED,
    Message,
    check_selectors,
    merge_message,
    normalize_status,
    read_message_detail,
    read_message_list,
)
from checks.readers.encoding import decode_html
from checks.workdays import calendar_years
from tests.support.realdata import REALDATA, needs_realdata
from tests.support.strategies import RANDOM_MARKUP

D = dt.date
BOARD = "http://www.district.test/hdjl/"
AS_OF = D(2020, 6, 16)
DISTRICT = ReplyRules(reply_working_days=5, simple_reply_working_days=1, unanswered_max_days=90)


def page(body: str, title: str = "互动交流") -> LexborHTMLParser:
    """A page with the usual chrome around ``body``: a nav, a header, a footer with labels."""
    return LexborHTMLParser(
        f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}_江滨区</title>
<style>.x{{color:red}}</style></head><body>
<div class="header"><a href="/"><img src="/logo.png" alt="江滨区人民政府"></a></div>
<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/zwdt/">政务动态</a></li>
<li><a href="/hdjl/">互动交流</a></li></ul></div>
<div class="position">当前位置：<a href="/">首页</a> &gt; 互动交流</div>
<div class="main">{body}</div>
<div class="footer"><p>主办单位：江滨区人民政府办公室</p>
<p>承办单位：江滨区政务服务数据管理局　联系电话：0123-88880000</p>
<p>某ICP备00000000号　某公网安备 00000000000000号</p></div>
</body></html>"""
    )


def urls(messages: list[Message]) -> list[str]:
    return [m.url.rsplit("/", 1)[-1] for m in messages]


# --------------------------------------------------------------------------------------------
# List pages
# --------------------------------------------------------------------------------------------

TABLE_WITH_HEADER = """
<table class="board">
  <tr><th>序号</th><th>留言标题</th><th>留言时间 ↓</th><th>答复时间</th><th>办理状态：</th></tr>
  <tr><td>1</td><td><a href="./202005/t1.html"
      title="咨询五一期间办证大厅是否上班的问题">咨询五一期间办证...</a></td>
      <td>2020-04-29</td><td>2020-05-07</td><td>已回复</td></tr>
  <tr><td>2</td><td><a href="./202005/t2.html">反映小区路灯损坏</a></td>
      <td>2020/5/8</td><td>2020/5/15</td><td>已答复</td></tr>
  <tr><td>3</td><td><a href="./202006/t3.html">咨询学位申请</a></td>
      <td>2020年6月5日</td><td></td><td>办理中</td></tr>
  <tr><td>4</td><td><a href="./202002/t4.html">投诉噪音扰民</a></td>
      <td>2020-02-20 09:12</td><td></td><td>未回复</td></tr>
</table>
<div class="page"><a href="index_1.html">下一页</a> <a href="index_9.html">尾页</a></div>
"""

UL_ROWS = """
<ul class="msg-list">
  <li><a href="./t1.html">咨询五一期间办证大厅是否上班</a><span class="date">2020-04-29</span>
      <span class="st">已回复</span></li>
  <li><a href="./t2.html">反映小区路灯损坏</a><span class="date">2020-05-08</span>
      <span class="st">已办结</span></li>
  <li><a href="./t3.html">咨询学位申请</a><span class="date">2020-06-05</span>
      <span class="st">办理中</span></li>
  <li><a href="./t4.html">投诉噪音扰民</a><span class="date">2020-02-20</span>
      <span class="st"><img src="/wdf.png" alt="未回复"></span></li>
</ul>
<ul class="links"><li><a href="http://www.gov.cn/">中国政府网</a></li>
<li><a href="http://www.gd.gov.cn/">广东省人民政府</a></li></ul>
"""

LABELLED_CARDS = """
<div class="list">
  <div class="item"><h3><a href="./t1.html">咨询五一期间办证大厅是否上班</a></h3>
    <p>提问时间：2020年4月29日　状态：已回复</p><p>答复单位：区行政服务中心</p></div>
  <div class="item"><h3><a href="./t2.html">反映小区路灯损坏</a></h3>
    <p>提问时间：2020年5月8日　状态：已回复</p><p>答复单位：区城管局</p></div>
  <div class="item"><h3><a href="./t3.html">咨询学位申请</a></h3>
    <p>提问时间：2020年6月5日　状态：办理中</p></div>
  <div class="item"><h3><a href="./t4.html">投诉噪音扰民</a></h3>
    <p>提问时间：2020年2月20日　状态：未回复</p></div>
</div>
"""

DEFINITION_LISTS = """
<div class="letters">
  <dl><dt><a href="./t1.html">咨询五一期间办证大厅是否上班</a></dt>
      <dd>来信时间：2020-04-29</dd><dd>已答复</dd></dl>
  <dl><dt><a href="./t2.html">反映小区路灯损坏</a></dt>
      <dd>来信时间：2020-05-08</dd><dd>已答复</dd></dl>
  <dl><dt><a href="./t3.html">咨询学位申请</a></dt>
      <dd>来信时间：2020-06-05</dd><dd>办理中</dd></dl>
  <dl><dt><a href="./t4.html">投诉噪音扰民</a></dt>
      <dd>来信时间：2020-02-20</dd><dd>未回复</dd></dl>
</div>
"""

HEADERLESS_TABLE = """
<table>
  <tr><td><a href="./t1.html">咨询五一期间办证大厅是否上班</a></td><td>2020-04-29</td>
      <td>已回复</td><td><a href="./t1.html">查看</a></td></tr>
  <tr><td><a href="./t2.html">反映小区路灯损坏</a></td><td>2020-05-08</td>
      <td>已回复</td><td><a href="./t2.html">查看</a></td></tr>
  <tr><td><a href="./t3.html">咨询学位申请</a></td><td>2020-06-05</td>
      <td>办理中</td><td><a href="./t3.html">查看</a></td></tr>
  <tr><td><a href="./t4.html">投诉噪音扰民</a></td><td>2020-02-20</td>
      <td>未回复</td><td><a href="./t4.html">查看</a></td></tr>
</table>
"""

WHOLE_ROW_LINKS = """
<ul>
  <li><a href="./t1.html"><span class="t">咨询五一期间办证大厅是否上班</span>
      <span class="d">2020-04-29</span><em>已回复</em></a></li>
  <li><a href="./t2.html"><span class="t">反映小区路灯损坏</span>
      <span class="d">2020-05-08</span><em>已回复</em></a></li>
  <li><a href="./t3.html"><span class="t">咨询学位申请</span>
      <span class="d">2020-06-05</span><em>办理中</em></a></li>
  <li><a href="./t4.html"><span class="t">投诉噪音扰民</span>
      <span class="d">2020-02-20</span><em>未回复</em></a></li>
</ul>
"""

EXPECTED_ASKED = [D(2020, 4, 29), D(2020, 5, 8), D(2020, 6, 5), D(2020, 2, 20)]
EXPECTED_STATUS = [REPLIED, REPLIED, PROCESSING, UNREPLIED]


@pytest.mark.parametrize(
    "layout",
    [UL_ROWS, LABELLED_CARDS, DEFINITION_LISTS, HEADERLESS_TABLE, WHOLE_ROW_LINKS],
    ids=["ul", "labelled-cards", "dl", "headerless-table", "whole-row-links"],
)
def test_list_layouts_read_by_rows(layout: str) -> None:
    got = read_message_list(page(layout), BOARD + "index.html")
    assert urls(got) == ["t1.html", "t2.html", "t3.html", "t4.html"]
    assert [m.asked for m in got] == EXPECTED_ASKED
    assert [m.status for m in got] == EXPECTED_STATUS
    assert got[0].title == "咨询五一期间办证大厅是否上班"
    assert got[2].title == "咨询学位申请"
    assert all(not m.from_detail for m in got)


def test_list_table_read_by_its_header() -> None:
    got = read_message_list(page(TABLE_WITH_HEADER), BOARD + "index.html")
    assert [m.url for m in got] == [
        BOARD + "202005/t1.html",
        BOARD + "202005/t2.html",
        BOARD + "202006/t3.html",
        BOARD + "202002/t4.html",
    ]
    # the link's title attribute beats a truncated text
    assert got[0].title == "咨询五一期间办证大厅是否上班的问题"
    assert [m.asked for m in got] == EXPECTED_ASKED
    assert [m.replied for m in got] == [D(2020, 5, 7), D(2020, 5, 15), None, None]
    assert [m.status for m in got] == EXPECTED_STATUS


def test_a_board_table_nested_in_a_layout_table() -> None:
    layout = f"""<table width="980">
    <tr><td><a href="/">首页</a> <a href="/zwgk/">政务公开</a></td></tr>
    <tr><td>{TABLE_WITH_HEADER}</td></tr>
    <tr><td><a href="/about.html">关于我们</a> <a href="/map.html">网站地图</a></td></tr></table>"""
    got = read_message_list(page(layout), BOARD + "index.html")
    assert urls(got) == ["t1.html", "t2.html", "t3.html", "t4.html"]


def test_labelled_cards_give_the_unit() -> None:
    got = read_message_list(page(LABELLED_CARDS), BOARD)
    assert [m.unit for m in got] == ["区行政服务中心", "区城管局", "", ""]


def test_navigation_links_pagination_and_footer_are_not_messages() -> None:
    got = read_message_list(page(UL_ROWS), BOARD)
    assert all("gov.cn" not in m.url for m in got)
    got = read_message_list(page(TABLE_WITH_HEADER), BOARD)
    assert all("index_" not in m.url for m in got)


def test_a_single_message_list() -> None:
    one = '<div class="box"><a href="./t9.html">咨询公积金提取</a> <span>2020-06-10</span> 已回复'
    one += "</div>"
    got = read_message_list(page(one), BOARD)
    assert urls(got) == ["t9.html"]
    assert got[0].asked == D(2020, 6, 10)
    assert got[0].status == REPLIED


def test_two_unlabelled_dates_are_asked_then_answered() -> None:
    rows = """<ul>
      <li><a href="./t1.html">咨询一</a><span>2020-05-08</span><span>2020-05-15</span></li>
      <li><a href="./t2.html">咨询二</a><span>2020-06-01</span><span>2020-06-02</span></li></ul>"""
    got = read_message_list(page(rows), BOARD)
    assert [(m.asked, m.replied) for m in got] == [
        (D(2020, 5, 8), D(2020, 5, 15)),
        (D(2020, 6, 1), D(2020, 6, 2)),
    ]


def test_yearless_dates_take_their_year_from_as_of() -> None:
    rows = """<ul><li><a href="./t1.html">咨询一</a><span>[06-11]</span></li>
      <li><a href="./t2.html">咨询二</a><span>[06-12]</span></li></ul>"""
    got = read_message_list(page(rows), BOARD, as_of=AS_OF)
    assert [m.asked for m in got] == [D(2020, 6, 11), D(2020, 6, 12)]


# a board the heuristics misread: the reply date comes first in each row, unlabelled
REVERSED_DATES = """
<div class="rows">
  <div class="r"><a class="tt" href="./t1.html">咨询一</a><span class="rt">2020-05-15</span>
      <span class="qt">2020-05-08</span><b class="s">已回复</b></div>
  <div class="r"><a class="tt" href="./t2.html">咨询二</a><span class="rt">2020-06-02</span>
      <span class="qt">2020-06-01</span><b class="s">已回复</b></div>
</div>
"""


def test_selector_overrides_fix_a_board_the_heuristics_misread() -> None:
    misread = read_message_list(page(REVERSED_DATES), BOARD)
    assert misread[0].asked == D(2020, 5, 15)  # the heuristic's guess: wrong
    selectors = {
        "item": "div.r",
        "item_link": "a.tt",
        "item_asked": "span.qt",
        "item_replied": "span.rt",
        "item_status": "b.s",
    }
    assert check_selectors(selectors) == []
    got = read_message_list(page(REVERSED_DATES), BOARD, selectors=selectors)
    assert [(m.title, m.asked, m.replied, m.status) for m in got] == [
        ("咨询一", D(2020, 5, 8), D(2020, 5, 15), REPLIED),
        ("咨询二", D(2020, 6, 1), D(2020, 6, 2), REPLIED),
    ]


@needs_realdata
@pytest.mark.parametrize(
    ("name", "url", "rows"),
    [
        ("dfa66_announcement.html", "https://www.dfa66.com/a/index.html", 10),
        ("hrfund_announcement.html", "http://www.hr-fund.com.cn/news/information_2.html", 10),
        ("hsqhfunds_announcement.html", "http://www.hsqhfunds.com/front/gg.jhtml", 20),
        ("netease_rolling_news.html", "https://news.163.com/latest/", 40),
        ("rtfund_xxpl.html", "http://www.rtfund.com/main/xxpl/index.shtml", 15),
    ],
)
def test_real_list_pages_give_one_row_per_item(name: str, url: str, rows: int) -> None:
    """Five real list pages (not boards, but the same row shapes: title links with download
    icons and category tags beside them, dates in <i>, <span> or cells)."""
    assert REALDATA is not None
    decoded = decode_html((REALDATA / "gerapy-lists" / name).read_bytes())
    got = read_message_list(LexborHTMLParser(decoded.text), url, as_of=D(2020, 8, 17))
    assert len(got) == rows
    assert all(m.asked is not None for m in got)
    assert all(len(m.title) >= 8 for m in got)
    if name.startswith("dfa66"):
        assert got[0].asked == D(2020, 7, 2)
        assert got[7].asked == D(2020, 3, 16)  # the row's date, not the one in its URL
        assert got[2].title.endswith("基金销售机构的公告")  # whole, from the title attribute
    if name.startswith("hrfund"):
        assert all(m.url.endswith(".pdf") for m in got)  # the title link, not the icon's


def test_selector_table_is_checked() -> None:
    problems = check_selectors({"itme": "li", "asked": "span[", "reply": " "})
    assert len(problems) == 3
    assert any("itme" in p for p in problems)
    assert any("cannot parse" in p for p in problems)


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("已回复", REPLIED),
        ("已答复", REPLIED),
        ("已办结", REPLIED),
        ("未回复", UNREPLIED),
        ("暂未答复", UNREPLIED),
        ("待处理", UNREPLIED),
        ("办理中", PROCESSING),
        ("已受理", PROCESSING),
        ("正在办理", PROCESSING),
        ("", UNKNOWN),
        ("查看", UNKNOWN),
    ],
)
def test_status_words(text: str, status: str) -> None:
    assert normalize_status(text) == status


# --------------------------------------------------------------------------------------------
# Detail pages
# --------------------------------------------------------------------------------------------

DETAIL_TABLE = """
<table class="letter">
  <tr><th>留言标题</th><td>反映小区路灯损坏</td></tr>
  <tr><th>留言人</th><td>网友</td></tr>
  <tr><th>留言时间</th><td>2020-05-08 19:05</td></tr>
  <tr><th>留言内容</th><td>小区三盏路灯坏了半个月。</td></tr>
  <tr><th>办理状态</th><td>已回复</td></tr>
  <tr><th>答复单位</th><td>区城管局</td></tr>
  <tr><th>答复时间</th><td>2020-05-15 10:30</td></tr>
  <tr><th>答复内容</th><td>您好！已安排维修。</td></tr>
</table>
"""

DETAIL_DL = """
<dl class="letter">
  <dt>信件标题</dt><dd>反映小区路灯损坏</dd>
  <dt>来信时间</dt><dd>2020年5月8日</dd>
  <dt>来信内容</dt><dd>小区三盏路灯坏了半个月。</dd>
  <dt>回复单位</dt><dd>区城管局</dd>
  <dt>回复时间</dt><dd>2020年5月15日</dd>
  <dt>回复内容</dt><dd>您好！已安排维修。</dd>
</dl>
"""

DETAIL_SPANS = """
<div class="letter">
  <h1>反映小区路灯损坏</h1>
  <p><span class="l">提问时间：</span>2020/5/8</p>
  <div class="q"><span class="l">留言内容：</span>小区三盏路灯坏了半个月。</div>
  <p><span class="l">办理单位：</span><span>区城管局</span></p>
  <p><span class="l">答复时间：</span>2020/5/15</p>
  <div class="a"><span class="l">答复内容：</span><p>您好！</p><p>已安排维修。</p></div>
</div>
"""

DETAIL_LINES = """
<div class="content">
  标题：反映小区路灯损坏<br>
  留言时间：2020年5月8日 19:05　状态：已办结<br>
  留言内容：小区三盏路灯坏了半个月。<br>
  答复单位：区城管局　答复时间：2020年5月15日<br>
  答复内容：您好！已安排维修。
</div>
"""

DETAIL_HEADER_ROW = """
<h1>反映小区路灯损坏</h1>
<table>
  <tr><th>留言时间</th><th>办理状态</th><th>答复单位</th><th>答复时间</th></tr>
  <tr><td>2020-05-08</td><td>已回复</td><td>区城管局</td><td>2020-05-15</td></tr>
</table>
<h3>留言内容</h3><p>小区三盏路灯坏了半个月。</p>
<h3>答复内容</h3><p>您好！已安排维修。</p>
"""

DETAIL_SIGNED = """
<div class="letter">
  <h2>反映小区路灯损坏</h2>
  <p>留言时间：2020-05-08</p>
  <p>留言内容：小区三盏路灯坏了半个月。</p>
  <div class="reply"><p><strong>回复：</strong></p>
    <p>您好！已安排维修。</p>
    <p>区城管局</p>
    <p>2020年5月15日</p></div>
</div>
"""


@pytest.mark.parametrize(
    "layout",
    [DETAIL_TABLE, DETAIL_DL, DETAIL_SPANS, DETAIL_LINES, DETAIL_HEADER_ROW, DETAIL_SIGNED],
    ids=["table", "dl", "spans", "lines", "header-row", "signed"],
)
def test_detail_layouts_read_by_label(layout: str) -> None:
    msg = read_message_detail(page(layout), BOARD + "t2.html")
    assert msg.title == "反映小区路灯损坏"
    assert msg.asked == D(2020, 5, 8)
    assert msg.replied == D(2020, 5, 15)
    assert msg.unit == "区城管局"
    assert msg.has_reply_text
    assert msg.status == REPLIED
    assert msg.reply_complete
    assert msg.from_detail
    if layout is not DETAIL_HEADER_ROW:
        assert msg.question.startswith("小区三盏路灯坏了半个月")


def test_detail_with_an_empty_reply_time_and_no_unit_is_incomplete() -> None:
    body = """<table>
      <tr><td>留言标题</td><td>咨询学位申请</td></tr>
      <tr><td>留言时间</td><td>2020-06-01</td></tr>
      <tr><td>答复时间</td><td></td></tr>
      <tr><td>答复内容</td><td>请于6月20日前到教育局现场确认。</td></tr></table>"""
    msg = read_message_detail(page(body), BOARD + "t3.html")
    assert msg.has_reply_text
    assert msg.replied is None
    # the footer's 承办单位 is site furniture, not the replying unit
    assert msg.unit == ""
    assert msg.reply_published
    assert msg.missing_reply_parts == ["答复时间", "答复单位"]
    codes = [j.code for j in judge_message(msg, AS_OF, DISTRICT)]
    assert codes == [INCOMPLETE]


def test_a_reply_that_is_a_date_in_a_sentence_is_content() -> None:
    body = """<table><tr><td>留言时间</td><td>2020-05-08</td></tr>
      <tr><td>答复单位</td><td>区城管局</td></tr><tr><td>答复时间</td><td>2020-05-11</td></tr>
      <tr><td>答复内容</td><td>已于2020年5月10日修复。</td></tr></table>"""
    msg = read_message_detail(page(body), BOARD + "t.html")
    assert msg.has_reply_text
    assert msg.reply_complete
    # a reply that is only a signature is not content
    signed_only = """<p>留言时间：2020-05-08</p><div><p>答复内容：</p><p>区城管局</p>
      <p>2020年5月15日</p></div>"""
    msg = read_message_detail(page(signed_only), BOARD + "t.html")
    assert (msg.unit, msg.replied, msg.has_reply_text) == ("区城管局", D(2020, 5, 15), False)
    assert msg.missing_reply_parts == ["答复内容"]


def test_detail_with_a_placeholder_reply_is_unanswered() -> None:
    body = """<table>
      <tr><td>留言标题</td><td>投诉噪音扰民</td></tr>
      <tr><td>留言时间</td><td>2020-02-20</td></tr>
      <tr><td>办理状态</td><td>未回复</td></tr>
      <tr><td>答复单位</td><td>暂无</td></tr>
      <tr><td>答复时间</td><td>—</td></tr>
      <tr><td>答复内容</td><td>暂无回复</td></tr></table>"""
    msg = read_message_detail(page(body), BOARD + "t4.html")
    assert msg.status == UNREPLIED
    assert not msg.has_reply_text
    assert msg.unit == ""
    assert msg.replied is None
    assert not msg.reply_published
    judged = judge_message(msg, AS_OF, DISTRICT)
    assert [j.code for j in judged] == [UNANSWERED]
    assert judged[0].detail["days"] == 117


def test_detail_selectors_override_labels() -> None:
    body = """<div class="q-time">2020-05-08</div><div class="who">区城管局</div>
      <div class="when">2020-05-15</div><div class="txt">您好！已安排维修。</div>"""
    msg = read_message_detail(
        page(body, "反映小区路灯损坏"),
        BOARD + "t2.html",
        selectors={"asked": ".q-time", "unit": ".who", "replied": ".when", "reply": ".txt"},
    )
    assert (msg.asked, msg.unit, msg.replied, msg.has_reply_text) == (
        D(2020, 5, 8),
        "区城管局",
        D(2020, 5, 15),
        True,
    )
    assert msg.title == "反映小区路灯损坏"


def test_merge_prefers_the_detail_page() -> None:
    listed = read_message_list(page(TABLE_WITH_HEADER), BOARD + "index.html")[1]
    detail = read_message_detail(page(DETAIL_TABLE), listed.url)
    merged = merge_message(listed, detail)
    assert merged.url == listed.url
    assert merged.unit == "区城管局"
    assert merged.from_detail
    assert merged.asked == D(2020, 5, 8)


DETAILS = {
    "t1.html": """<table><tr><th>留言时间</th><td>2020-04-29</td></tr>
      <tr><th>答复单位</th><td>区行政服务中心</td></tr><tr><th>答复时间</th><td>2020-05-07</td></tr>
      <tr><th>答复内容</th><td>五一假期大厅不办公，6日起正常办理。</td></tr></table>""",
    "t2.html": DETAIL_DL,
    "t3.html": """<div class="c">提问时间：2020年6月5日<br>办理状态：办理中<br>
      答复内容：</div>""",
    "t4.html": """<dl><dt>来信时间</dt><dd>2020-02-20</dd><dt>回复内容</dt><dd>暂无回复</dd>
      </dl>""",
}


@pytest.mark.parametrize(
    "layout",
    [TABLE_WITH_HEADER, UL_ROWS, LABELLED_CARDS, DEFINITION_LISTS, HEADERLESS_TABLE],
    ids=["table", "ul", "labelled-cards", "dl", "headerless-table"],
)
def test_a_whole_board_is_judged(layout: str) -> None:
    """List, detail pages, merge and judgement: every late, overdue and unanswered message is
    found with its working days, and the timely one is not."""
    judged: dict[str, list[tuple[str, int | None]]] = {}
    for listed in read_message_list(page(layout), BOARD + "index.html", as_of=AS_OF):
        name = listed.url.rsplit("/", 1)[-1]
        detail = read_message_detail(page(DETAILS[name]), listed.url, as_of=AS_OF)
        msg = merge_message(listed, detail)
        judged[name] = [
            (j.code, j.detail["working_days"]) for j in judge_message(msg, AS_OF, DISTRICT)
        ]
    assert judged == {
        "t1.html": [],  # 3 working days across May Day
        "t2.html": [(LATE_REPLY, 6)],  # Saturday 9 May was a working day
        "t3.html": [(OVERDUE, 7)],
        "t4.html": [(UNANSWERED, 81)],  # 117 days; 81 working days
    }


# --------------------------------------------------------------------------------------------
# Judgement
# --------------------------------------------------------------------------------------------


def answered(asked: dt.date, replied: dt.date, **kw: object) -> Message:
    return Message(
        url="http://www.district.test/hdjl/t.html",
        title=str(kw.get("title", "咨询")),
        asked=asked,
        status=REPLIED,
        replied=replied,
        unit="区城管局",
        has_reply_text=True,
        from_detail=True,
    )


def waiting(asked: dt.date, status: str = UNREPLIED, **kw: object) -> Message:
    return Message(
        url="http://www.district.test/hdjl/w.html",
        title=str(kw.get("title", "咨询")),
        asked=asked,
        status=status,
        from_detail=bool(kw.get("from_detail", False)),
    )


def test_reply_across_may_day_is_on_time() -> None:
    assert judge_message(answered(D(2020, 4, 29), D(2020, 5, 7)), AS_OF, DISTRICT) == []
    # on the deadline, a make-up Saturday; and the Sunday after it
    assert judge_message(answered(D(2020, 4, 29), D(2020, 5, 9)), AS_OF, DISTRICT) == []
    assert judge_message(answered(D(2020, 4, 29), D(2020, 5, 10)), AS_OF, DISTRICT) == []


def test_reply_on_the_sixth_working_day_is_late() -> None:
    judged = judge_message(answered(D(2020, 5, 8), D(2020, 5, 15)), AS_OF, DISTRICT)
    assert [j.code for j in judged] == [LATE_REPLY]
    detail = judged[0].detail
    assert detail["asked"] == "2020-05-08"
    assert detail["answered"] == "2020-05-15"
    assert detail["working_days"] == 6  # Saturday 9 May was a working day
    assert detail["limit"] == 5
    assert detail["simple"] is False
    judged = judge_message(answered(D(2020, 4, 29), D(2020, 5, 11)), AS_OF, DISTRICT)
    assert [(j.code, j.detail["working_days"]) for j in judged] == [(LATE_REPLY, 6)]


def test_reply_across_national_day_is_on_time() -> None:
    as_of = D(2020, 12, 1)
    assert judge_message(answered(D(2020, 9, 30), D(2020, 10, 12)), as_of, DISTRICT) == []
    # twelve calendar days without a holiday: 8 working days
    judged = judge_message(answered(D(2020, 6, 3), D(2020, 6, 15)), as_of, DISTRICT)
    assert [(j.code, j.detail["working_days"]) for j in judged] == [(LATE_REPLY, 8)]


def test_unanswered_messages_are_overdue_then_a_veto() -> None:
    # asked Friday 5 June, unanswered on 16 June: 7 working days
    judged = judge_message(waiting(D(2020, 6, 5), PROCESSING), AS_OF, DISTRICT)
    assert [j.code for j in judged] == [OVERDUE]
    assert judged[0].detail["working_days"] == 7
    assert judged[0].detail["answered"] is None
    # asked 11 June: 3 working days, not overdue yet
    assert judge_message(waiting(D(2020, 6, 11)), AS_OF, DISTRICT) == []
    # asked 20 February: 117 days, the veto case, and only that
    judged = judge_message(waiting(D(2020, 2, 20)), AS_OF, DISTRICT)
    assert [j.code for j in judged] == [UNANSWERED]
    assert judged[0].detail["days"] == 117
    assert judged[0].detail["max_days"] == 90
    # exactly 90 days is not more than 90: overdue only
    judged = judge_message(waiting(AS_OF - dt.timedelta(days=90)), AS_OF, DISTRICT)
    assert [j.code for j in judged] == [OVERDUE]


def test_messages_outside_the_year_before_as_of_are_not_judged() -> None:
    assert judge_message(waiting(D(2019, 6, 15)), AS_OF, DISTRICT) == []
    assert judge_message(waiting(D(2019, 6, 16)), AS_OF, DISTRICT) != []
    assert judge_message(waiting(D(2020, 6, 20)), AS_OF, DISTRICT) == []  # after as_of
    assert judge_message(Message(url="u", asked=None, status=UNREPLIED), AS_OF, DISTRICT) == []
    custom = ReplyRules(lookback_days=30)
    assert judge_message(waiting(D(2020, 4, 1)), AS_OF, custom) == []


def test_a_reply_after_as_of_had_not_come_at_as_of() -> None:
    judged = judge_message(answered(D(2020, 6, 1), D(2020, 6, 20)), AS_OF, DISTRICT)
    assert [j.code for j in judged] == [OVERDUE]
    assert judged[0].detail["working_days"] == 11


def test_list_rows_that_say_nothing_wait_for_their_detail_page() -> None:
    row = Message(url="u", title="咨询", asked=D(2020, 3, 1))
    assert judge_message(row, AS_OF, DISTRICT) == []
    # the same message read on its detail page, with no reply: unanswered
    detail = Message(url="u", title="咨询", asked=D(2020, 3, 1), from_detail=True)
    assert [j.code for j in judge_message(detail, AS_OF, DISTRICT)] == [UNANSWERED]


def test_incomplete_is_judged_only_from_the_detail_page() -> None:
    row = Message(url="u", asked=D(2020, 6, 10), status=REPLIED, replied=D(2020, 6, 11))
    assert judge_message(row, AS_OF, DISTRICT) == []
    detail = Message(
        url="u",
        asked=D(2020, 6, 10),
        status=REPLIED,
        replied=D(2020, 6, 11),
        has_reply_text=True,
        from_detail=True,
    )
    judged = judge_message(detail, AS_OF, DISTRICT)
    assert [(j.code, j.detail["missing"]) for j in judged] == [(INCOMPLETE, ["答复单位"])]
    # a replied status with nothing else: all three missing, and its lateness cannot be told
    bare = Message(url="u", asked=D(2020, 1, 10), status=REPLIED, from_detail=True)
    judged = judge_message(bare, AS_OF, DISTRICT)
    assert [(j.code, j.detail["missing"]) for j in judged] == [
        (INCOMPLETE, ["答复时间", "答复单位", "答复内容"])
    ]


def test_incomplete_and_late_together() -> None:
    msg = Message(
        url="u",
        asked=D(2020, 5, 8),
        status=REPLIED,
        replied=D(2020, 5, 15),
        has_reply_text=False,
        unit="区城管局",
        from_detail=True,
    )
    assert [j.code for j in judge_message(msg, AS_OF, DISTRICT)] == [INCOMPLETE, LATE_REPLY]


FAQ = [
    "社保卡丢失如何补办？",
    "如何办理居住证？",
    "新生儿出生证明怎么办理？",
    "公积金提取需要哪些材料",
]


def test_simple_questions_have_the_shorter_limit() -> None:
    # Thursday 11 June, answered Monday 15 June: 2 working days
    msg = answered(D(2020, 6, 11), D(2020, 6, 15), title="请问社保卡丢失了怎么补办")
    judged = judge_message(msg, AS_OF, DISTRICT, faq=FAQ)
    assert [j.code for j in judged] == [LATE_REPLY]
    assert judged[0].detail["simple"] is True
    assert judged[0].detail["limit"] == 1
    assert judged[0].detail["faq"] == "社保卡丢失如何补办？"
    # a column marked simple
    plain = answered(D(2020, 6, 11), D(2020, 6, 15), title="咨询路灯维修")
    assert judge_message(plain, AS_OF, DISTRICT, faq=FAQ) == []
    assert [j.code for j in judge_message(plain, AS_OF, DISTRICT, simple=True)] == [LATE_REPLY]
    # without a separate rule (simple_reply_working_days = 0) the ordinary limit applies
    national = ReplyRules()
    assert judge_message(msg, AS_OF, national, faq=FAQ) == []
    assert judge_message(plain, AS_OF, national, simple=True) == []
    # a Friday question answered on Monday is within one working day
    friday = answered(D(2020, 6, 12), D(2020, 6, 15), title="社保卡丢失怎么补办")
    assert judge_message(friday, AS_OF, DISTRICT, faq=FaqIndex(FAQ)) == []


def test_question_sharing_words_with_an_faq_entry_is_not_simple() -> None:
    msg = answered(D(2020, 6, 11), D(2020, 6, 15), title="如何注销居住证")
    assert judge_message(msg, AS_OF, DISTRICT, faq=FAQ) == []


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("社保卡丢失了怎么补办？", "社保卡丢失如何补办？"),
        ("请问一下，社保卡丢失后如何补办", "社保卡丢失如何补办？"),
        ("您好，想问一下怎么办理居住证", "如何办理居住证？"),
        ("提取公积金需要哪些材料？", "公积金提取需要哪些材料"),
        # the traps: the same subject, another question
        ("如何注销居住证", None),
        ("居住证办理需要多长时间", None),
        ("新生儿医保怎么参保", None),
        ("社保卡密码忘了怎么办", None),
        ("公积金贷款额度怎么算", None),
        ("咨询", None),
        ("", None),
    ],
)
def test_faq_match(question: str, expected: str | None) -> None:
    assert faq_match(question, FAQ) == expected


def test_faq_index_scores() -> None:
    index = FaqIndex(FAQ)
    title, score = index.score("社保卡丢失如何补办")
    assert title == "社保卡丢失如何补办？"
    assert score == pytest.approx(1.0)
    assert index.score("天气") == (None, 0.0)
    assert FaqIndex([]).match("社保卡丢失如何补办") is None


def test_a_year_without_calendar_data_is_a_warning_not_a_guess() -> None:
    last = calendar_years()[1]
    as_of = D(last + 1, 3, 1)
    judged = judge_message(waiting(D(last + 1, 2, 20)), as_of, DISTRICT)
    assert [j.code for j in judged] == [CALENDAR_GAP]
    assert judged[0].detail["year"] == last + 1
    assert "chinesecalendar" in judged[0].detail["reason"]
    judged = judge_message(answered(D(last, 12, 28), D(last + 1, 1, 4)), as_of, DISTRICT)
    assert [j.code for j in judged] == [CALENDAR_GAP]
    # the veto needs calendar days only: still found, with the working days unknown
    judged = judge_message(waiting(D(last, 10, 1)), as_of, DISTRICT)
    assert [j.code for j in judged] == [UNANSWERED]
    assert judged[0].detail["working_days"] is None


def test_rules_from_a_config_table() -> None:
    rules = ReplyRules.from_mapping(
        {"reply_working_days": 3, "simple_reply_working_days": 1, "news_max_age_days": 14}
    )
    assert rules == ReplyRules(reply_working_days=3, simple_reply_working_days=1)
    same_day = ReplyRules(count_from="same_day")
    # counting the day of the message too: 7 working days for 8-15 May
    judged = judge_message(answered(D(2020, 5, 8), D(2020, 5, 15)), AS_OF, same_day)
    assert judged[0].detail["working_days"] == 7


HTML = RANDOM_MARKUP


@settings(max_examples=200, deadline=None)
@given(HTML)
def test_any_markup_reads_without_error(html: str) -> None:
    tree = LexborHTMLParser(html)
    for msg in read_message_list(tree, BOARD, as_of=AS_OF):
        judge_message(msg, AS_OF, DISTRICT, faq=FAQ)
    detail = read_message_detail(tree, BOARD + "t.html", as_of=AS_OF)
    judge_message(detail, AS_OF, DISTRICT)
