"""Message statistics (留言统计): a live counter on the board, a dated box, a statistics table, a
linked page of monthly reports; missing or older than the configured period is the finding. The
traps: service figures (办件), message rows that mention numbers, links to service statistics."""

from __future__ import annotations

import datetime as dt

import pytest
from selectolax.lexbor import LexborHTMLParser

from checks.statistics import (
    DEFAULT_MAX_AGE_DAYS,
    NO_STATISTICS,
    MessageStats,
    judge_statistics,
    period_end,
    read_stats_page,
    stats_links,
)

AS_OF = dt.date(2020, 6, 16)
BOARD = "http://www.district.test/hdjl/zxzx/"

ROWS = """<table class="list">
<tr><th>标题</th><th>状态</th><th>留言时间</th></tr>
<tr><td><a href="/hdjl/zxzx/1.html">关于5G基站建设进度的咨询</a></td><td>已回复</td>
  <td>2020-06-10</td></tr>
<tr><td><a href="/hdjl/zxzx/2.html">我收到了2条诈骗短信怎么办</a></td><td>未回复</td>
  <td>2020-06-09</td></tr>
<tr><td><a href="/hdjl/zxzx/3.html">已回复3次仍未解决的噪音问题</a></td><td>办理中</td>
  <td>2020-06-08</td></tr>
</table>"""


def page(body: str, head: str = "") -> LexborHTMLParser:
    return LexborHTMLParser(
        f"""<html><head><title>政务咨询</title>{head}</head><body>
        <div class="nav"><a href="/">首页</a><a href="/hdjl/">互动交流</a></div>
        <div class="main">{body}</div>
        <div class="footer">主办单位：江滨区人民政府 联系电话：0123-88880000</div></body></html>"""
    )


def test_a_live_counter_on_the_board_is_current() -> None:
    board = page(f'<div class="tj">本月共收到留言 128 件，已答复 125 件，办结率 97.7%</div>{ROWS}')
    found = read_stats_page(board, BOARD, as_of=AS_OF)
    assert len(found) == 1
    stats = found[0]
    assert (stats.received, stats.answered, stats.rate) == (128, 125, "97.7%")
    assert stats.live
    assert stats.date is None
    assert stats.source == "text"
    assert judge_statistics([(BOARD, found)], as_of=AS_OF) is None


def test_label_and_value_cells_are_read() -> None:
    box = """<table class="tj"><tr><td>留言总数</td><td>1,024</td></tr>
      <tr><td>已回复</td><td>1,020</td></tr><tr><td>回复率</td><td>99.6%</td></tr></table>"""
    found = read_stats_page(page(box + ROWS), BOARD, as_of=AS_OF)
    assert [(s.received, s.answered, s.rate) for s in found] == [(1024, 1020, "99.6%")]


def test_a_dated_box_ages() -> None:
    box = "<p>统计时间：2020-01-01至2020-03-31</p><p>共收到来信 50 件，已办结 48 件。</p>"
    found = read_stats_page(page(box + ROWS), BOARD, as_of=AS_OF)
    assert [(s.received, s.answered, s.date) for s in found] == [(50, 48, dt.date(2020, 3, 31))]
    assert not found[0].live
    assert judge_statistics([(BOARD, found)], as_of=AS_OF) is None  # 77 days
    later = dt.date(2020, 8, 1)
    judged = judge_statistics([(BOARD, found)], as_of=later)
    assert judged is not None
    subject, judgement = judged
    assert subject == BOARD
    assert judgement.code == NO_STATISTICS
    assert judgement.detail["reason"] == "stale"
    assert judgement.detail["newest"] == "2020-03-31"
    assert judgement.detail["days_since"] == 123
    assert judgement.detail["max_age_days"] == DEFAULT_MAX_AGE_DAYS
    assert judgement.detail["statistics"]["received"] == 50
    # 0 turns the age rule off
    assert judge_statistics([(BOARD, found)], as_of=later, max_age_days=0) is None


def test_a_statistics_table_with_a_total_row_and_a_period_in_its_heading() -> None:
    table = """<h3>2020年5月留言办理情况统计</h3>
      <table><tr><th>单位</th><th>收到留言</th><th>已回复</th><th>回复率</th></tr>
      <tr><td>区发改局</td><td>12</td><td>12</td><td>100%</td></tr>
      <tr><td>区教育局</td><td>18</td><td>17</td><td>94.4%</td></tr>
      <tr><td>合计</td><td>30</td><td>29</td><td>96.7%</td></tr></table>"""
    found = read_stats_page(page(table), BOARD, as_of=AS_OF)
    assert len(found) == 1
    stats = found[0]
    assert (stats.received, stats.answered, stats.rate) == (30, 29, "96.7%")
    assert stats.source == "table"
    assert stats.date == dt.date(2020, 5, 31)


def test_trap_message_rows_with_numbers_are_no_statistics() -> None:
    found = read_stats_page(page(ROWS), BOARD, as_of=AS_OF)
    assert found == []
    judged = judge_statistics([(BOARD, found)], as_of=AS_OF, pages=[BOARD + "tj/"])
    assert judged is not None
    subject, judgement = judged
    assert subject == BOARD
    assert judgement.detail["reason"] == "missing"
    assert judgement.detail["pages"] == [BOARD, BOARD + "tj/"]


def test_trap_service_figures_are_no_message_statistics() -> None:
    service = '<div class="bj">本月受理办件 1234 件，办结 1200 件，办结率 97.2%</div>'
    assert read_stats_page(page(service + ROWS), BOARD, as_of=AS_OF) == []
    table = """<table><tr><th>事项</th><th>受理</th><th>办结</th></tr>
      <tr><td>行政许可事项</td><td>20</td><td>19</td></tr></table>"""
    assert read_stats_page(page(table), BOARD, as_of=AS_OF) == []


def test_a_linked_page_of_monthly_reports() -> None:
    reports = """<ul class="list">
      <li><a href="/hdjl/tj/202005.html">2020年5月份留言办理情况统计</a><span>2020-06-05</span></li>
      <li><a href="/hdjl/tj/202004.html">2020年4月份留言办理情况统计</a><span>2020-05-06</span></li>
      <li><a href="/hdjl/tj/202003.html">2020年3月份留言办理情况统计</a><span>2020-04-03</span></li>
      </ul>"""
    url = "http://www.district.test/hdjl/tj/"
    found = read_stats_page(page(reports), url, as_of=AS_OF, stats_page=True)
    assert [s.date for s in found] == [
        dt.date(2020, 6, 5), dt.date(2020, 5, 6), dt.date(2020, 4, 3),
    ]  # fmt: skip
    assert all(s.source == "title" and not s.live for s in found)
    assert judge_statistics([(BOARD, found)], as_of=AS_OF) is None
    stale = judge_statistics([(BOARD, found)], as_of=dt.date(2020, 10, 1))
    assert stale is not None
    assert stale[1].detail["newest"] == "2020-06-05"
    # on the board's own page, message titles are never read as statistics
    assert read_stats_page(page(reports), BOARD, as_of=AS_OF) == []


def test_a_linked_article_without_a_date_in_its_figures_takes_its_own_date() -> None:
    article = page(
        "<h1>留言办理情况通报</h1><p>共受理群众来信 56 件，已答复 56 件。</p>",
        '<meta name="PubDate" content="2019-12-20 10:00">',
    )
    found = read_stats_page(article, "http://www.district.test/hdjl/tj/1.html",
                            as_of=AS_OF, stats_page=True)  # fmt: skip
    assert [(s.received, s.answered, s.date, s.live) for s in found] == [
        (56, 56, dt.date(2019, 12, 20), False)
    ]
    judged = judge_statistics([(BOARD, found)], as_of=AS_OF)
    assert judged is not None
    assert judged[1].detail["reason"] == "stale"


def test_the_newest_statistics_of_any_consultation_column_count() -> None:
    old = MessageStats(10, 10, None, dt.date(2019, 1, 31), False, "text", "", BOARD)
    new = MessageStats(5, 5, None, dt.date(2020, 5, 31), False, "text", "", "http://x/ldxx/")
    assert judge_statistics([(BOARD, [old]), ("http://x/ldxx/", [new])], as_of=AS_OF) is None
    judged = judge_statistics([(BOARD, [old]), ("http://x/ldxx/", [])], as_of=AS_OF)
    assert judged is not None
    assert judged[0] == BOARD
    assert judged[1].detail["columns"] == [BOARD, "http://x/ldxx/"]
    assert judge_statistics([], as_of=AS_OF) is None


def test_stats_links() -> None:
    body = """<a href="/hdjl/tj/">留言统计</a><a href="/bsfw/tj/">办件统计</a>
      <a href="http://other.test/tj/">数据统计</a>
      <a href="/hdjl/zxzx/5.html">关于统计局的咨询很长的标题</a>
      <a href="/hdjl/qk/">答复情况</a>"""
    assert stats_links(page(body), BOARD) == [
        "http://www.district.test/hdjl/tj/",
        "http://www.district.test/hdjl/qk/",
    ]


@pytest.mark.parametrize(
    ("text", "end"),
    [
        ("2020年5月留言统计", dt.date(2020, 5, 31)),
        ("2020年5月份", dt.date(2020, 5, 31)),
        ("2020年1-5月", dt.date(2020, 5, 31)),
        ("2020年1月至2月", dt.date(2020, 2, 29)),
        ("2020年第二季度", dt.date(2020, 6, 30)),
        ("2020年一季度", dt.date(2020, 3, 31)),
        ("2020年上半年", dt.date(2020, 6, 30)),
        ("2019年度", dt.date(2019, 12, 31)),
        ("２０２０年５月", dt.date(2020, 5, 31)),
        ("2020年5月20日", None),
        ("没有日期", None),
    ],
)
def test_period_end(text: str, end: dt.date | None) -> None:
    assert period_end(text) == end
