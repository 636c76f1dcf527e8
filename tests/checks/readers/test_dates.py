"""Dates as Chinese government pages write them, and a page's own publication date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from benchmarks.dates_realdata import evaluate
from checks.readers.dates import (
    RawDate,
    find_dates,
    fold,
    latest_on_or_before,
    parse_date,
    resolve_sequence,
    scan,
)
from checks.readers.published import published_date
from tests.support.realdata import REALDATA, needs_realdata

D = dt.date(2020, 6, 15)
_CN = "〇一二三四五六七八九"


@pytest.mark.parametrize(
    "text",
    [
        "2020-06-15",
        "2020-6-15",
        "2020/6/15",
        "2020/06/15",
        "2020.06.15",
        "2020.6.15",
        "2020年6月15日",
        "2020年06月15日",
        "2020 年 6 月 15 日",
        "2020年6月15",
        "20200615",
        "20200615102033",
        "2020-06-15 10:20:33",
        "2020-06-15 10:20",
        "2020-06-15T10:20",
        "2020-06-15T10:20:33+08:00",
        "２０２０－０６－１５",
        "２０２０年６月１５日",
        "【2020-06-15】",
        "〔2020-06-15〕",
        "[2020-06-15]",
        "(2020-06-15 22:26:38)",
        "发布时间：2020-06-15",
        "二〇二〇年六月十五日",
        "6/15/2020 9:23:57 PM",
        "15/6/2020",
    ],
)
def test_every_written_form(text: str) -> None:
    assert parse_date(text) == D


@pytest.mark.parametrize(
    "text",
    [
        "[06-15]",
        "06-15",
        "6-15",
        "6/15",
        "6月15日",
        "【06-15】",
        "〔06-15〕",
        "（06-15）",
        "06-15 10:20",
    ],
)
def test_yearless_forms_take_the_context_year(text: str) -> None:
    assert parse_date(text, context_year=2020) == D
    assert parse_date(text, context_year=2019) == dt.date(2019, 6, 15)
    assert parse_date(text) is None  # no year to be had: no date


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "hello",
        "2020-02-30",
        "2021-02-29",
        "2020-13-01",
        "2020-06-32",
        "1989-12-31",
        "2101-01-01",
        "20201340",
        "x20200615",
        "电话：0750-3201234",
        "第2020号",
        "3.5",
        "2020-06",
        "二〇二〇年六月三十一日",
    ],
)
def test_not_dates(text: str) -> None:
    assert parse_date(text, context_year=2020) is None


def test_leap_day() -> None:
    assert parse_date("2020-02-29") == dt.date(2020, 2, 29)
    assert parse_date("02-29", context_year=2021) is None
    # yearless 02-29: the latest leap year not after as_of + 1 day
    assert parse_date("02-29", as_of=dt.date(2021, 3, 1)) == dt.date(2020, 2, 29)


def test_boundary_years() -> None:
    assert parse_date("1990-01-01") == dt.date(1990, 1, 1)
    assert parse_date("2100-12-31") == dt.date(2100, 12, 31)


def test_compact_only_when_it_is_the_whole_text() -> None:
    assert parse_date("20200615") == D
    assert parse_date(" [20200615] ") == D
    assert parse_date("编号20200615") is None
    assert parse_date("t20200615_123.html") is None
    assert find_dates("文号 20200615 号") == []


def test_yearless_with_as_of_picks_the_latest_not_after_the_next_day() -> None:
    as_of = dt.date(2021, 1, 5)
    assert parse_date("[12-30]", as_of=as_of) == dt.date(2020, 12, 30)
    assert parse_date("[01-05]", as_of=as_of) == dt.date(2021, 1, 5)
    assert parse_date("[01-06]", as_of=as_of) == dt.date(2021, 1, 6)  # one day of slack
    assert parse_date("[01-07]", as_of=as_of) == dt.date(2020, 1, 7)
    # New Year's Eve: tomorrow's 01-01 is already next year
    assert parse_date("01-01", as_of=dt.date(2020, 12, 31)) == dt.date(2021, 1, 1)
    # context_year wins over as_of
    assert parse_date("[01-07]", context_year=2021, as_of=as_of) == dt.date(2021, 1, 7)


def test_day_first_only_when_the_first_number_cannot_be_a_month() -> None:
    assert parse_date("7/5/2005 9:23:57 PM") == dt.date(2005, 7, 5)
    assert parse_date("17/5/2005") == dt.date(2005, 5, 17)


def test_chinese_numerals() -> None:
    assert parse_date("二〇一九年十二月三十一日") == dt.date(2019, 12, 31)
    assert parse_date("二〇二〇年一月一日") == dt.date(2020, 1, 1)
    assert parse_date("二〇二〇年十月二十日") == dt.date(2020, 10, 20)
    assert parse_date("二〇二〇年十三月一日") is None


def test_find_dates_spans_and_yearless_switch() -> None:
    text = "发布时间：2020-06-15 10:20 更新于[06-16] 另见2020年7月1日"
    found = find_dates(text)
    assert [d for d, _ in found] == [D, dt.date(2020, 7, 1)]
    for day, (start, end) in found:
        assert parse_date(text[start:end]) == day
    with_yearless = find_dates(text, yearless=True, context_year=2020)
    assert [d for d, _ in with_yearless] == [D, dt.date(2020, 6, 16), dt.date(2020, 7, 1)]
    # full-width text: spans still index the original string
    wide = "日期：２０２０－０６－１５"
    [(day, (start, end))] = find_dates(wide)
    assert day == D
    assert wide[start:end] == "２０２０－０６－１５"


def test_fold_keeps_length() -> None:
    text = "【２０２０－０６－１５】〔１〕\u3000"
    assert len(fold(text)) == len(text)
    assert fold(text) == "[2020-06-15][1] "


def test_scan_is_bounded() -> None:
    far = "x" * 1000 + "2020-06-15"
    assert scan(far, limit=500) == []
    assert scan(far)[0].start == 1000


# --- properties -------------------------------------------------------------------------------

dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31))


def _chinese(day: dt.date) -> str:
    def small(n: int) -> str:
        if n < 10:
            return _CN[n]
        tens, units = divmod(n, 10)
        return ("" if tens == 1 else _CN[tens]) + "十" + (_CN[units] if units else "")

    return "".join(_CN[int(c)] for c in str(day.year)) + f"年{small(day.month)}月{small(day.day)}日"


FORMATS: list[Callable[[dt.date], str]] = [
    lambda d: d.strftime("%Y-%m-%d"),
    lambda d: f"{d.year}-{d.month}-{d.day}",
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: d.strftime("%Y/%m/%d"),
    lambda d: d.strftime("%Y.%m.%d"),
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: d.strftime("%Y年%m月%d日"),
    lambda d: d.strftime("%Y%m%d"),
    lambda d: f"{d.month}/{d.day}/{d.year}",
    _chinese,
]
DECORATIONS: list[Callable[[str], str]] = [
    lambda s: s,
    lambda s: f"[{s}]",
    lambda s: f"【{s}】",
    lambda s: f"〔{s}〕",
    lambda s: f"（{s}）",
    lambda s: f"发布时间：{s}",
    lambda s: f" {s} ",
]


def _wide(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@given(
    dates,
    st.sampled_from(range(len(FORMATS))),
    st.sampled_from(range(len(DECORATIONS))),
    st.sampled_from(["", " 10:20", " 10:20:33", "T08:00"]),
    st.booleans(),
)
def test_any_date_in_any_form_reads_back(
    day: dt.date, form: int, decoration: int, clock: str, wide: bool
) -> None:
    written = FORMATS[form](day)
    if form == 7:  # the compact form is a date only as the whole text
        clock, decoration = "", 0
    text = DECORATIONS[decoration](written + clock)
    if wide:
        text = _wide(text)
    assert parse_date(text) == day


@given(dates, st.integers(min_value=1990, max_value=2100), st.booleans())
def test_yearless_with_context(day: dt.date, year: int, padded: bool) -> None:
    text = f"[{day.month:02d}-{day.day:02d}]" if padded else f"{day.month}月{day.day}日"
    try:
        expected: dt.date | None = day.replace(year=year)
    except ValueError:
        expected = None  # 02-29 in a common year
    assert parse_date(text, context_year=year) == expected


@given(dates, st.dates(min_value=dt.date(1995, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_yearless_with_as_of_is_the_latest_not_after_the_next_day(
    day: dt.date, as_of: dt.date
) -> None:
    got = parse_date(f"{day.month:02d}-{day.day:02d}", as_of=as_of)
    limit = as_of + dt.timedelta(days=1)
    assert got is not None
    assert (got.month, got.day) == (day.month, day.day)
    assert got <= limit
    assert latest_on_or_before(day.month, day.day, limit) == got
    # no later date with that month and day fits
    nxt = next(
        (dt.date(y, day.month, day.day) for y in range(got.year + 1, got.year + 9) if _ok(y, day)),
        None,
    )
    assert nxt is None or nxt > limit


def _ok(year: int, day: dt.date) -> bool:
    try:
        dt.date(year, day.month, day.day)
    except ValueError:
        return False
    return True


@given(st.text(max_size=300))
def test_any_text_never_raises(text: str) -> None:
    got = parse_date(text, as_of=dt.date(2020, 6, 16))
    assert got is None or 1990 <= got.year <= 2100
    for day, (start, end) in find_dates(text, yearless=True, context_year=2020):
        assert 0 <= start < end <= len(text)
        assert parse_date(text[start:end], context_year=2020) == day


@given(st.text(alphabet="0123456789-/.年月日号 []【】〔〕:T十一二三〇", max_size=60))
def test_date_like_noise_never_raises(text: str) -> None:
    got = parse_date(text, context_year=2020)
    assert got is None or 1990 <= got.year <= 2100


@given(st.text(max_size=200))
def test_published_date_never_raises(text: str) -> None:
    got = published_date(LexborHTMLParser(f"<html><body>{text}</body></html>"))
    assert got is None or 1990 <= got.year <= 2100


# --- a list's yearless dates ----------------------------------------------------------------


def _yearless(*pairs: tuple[int, int]) -> list[RawDate | None]:
    return [RawDate(None, m, d, 0, 5) for m, d in pairs]


def test_sequence_crossing_new_year() -> None:
    raws = _yearless((1, 4), (1, 2), (12, 30), (12, 15), (11, 20))
    assert resolve_sequence(raws, as_of=dt.date(2021, 1, 5)) == [
        dt.date(2021, 1, 4),
        dt.date(2021, 1, 2),
        dt.date(2020, 12, 30),
        dt.date(2020, 12, 15),
        dt.date(2020, 11, 20),
    ]


def test_sequence_spanning_more_than_a_year() -> None:
    # newest first, from June 2020 back to May 2019: rows after 2019-07 are a year older
    raws = _yearless((6, 10), (3, 1), (1, 5), (12, 20), (8, 1), (7, 1), (6, 1), (5, 20))
    got = resolve_sequence(raws, as_of=dt.date(2020, 6, 16))
    assert got == [
        dt.date(2020, 6, 10),
        dt.date(2020, 3, 1),
        dt.date(2020, 1, 5),
        dt.date(2019, 12, 20),
        dt.date(2019, 8, 1),
        dt.date(2019, 7, 1),
        dt.date(2019, 6, 1),
        dt.date(2019, 5, 20),
    ]


def test_sequence_oldest_first() -> None:
    raws = _yearless((5, 20), (6, 1), (7, 1), (8, 1), (12, 20), (1, 5), (3, 1), (6, 10))
    got = resolve_sequence(raws, as_of=dt.date(2020, 6, 16))
    assert got[0] == dt.date(2019, 5, 20)
    assert got[1] == dt.date(2019, 6, 1)
    assert got[-1] == dt.date(2020, 6, 10)


def test_sequence_pinned_old_row_does_not_shift_the_list() -> None:
    # 置顶: a notice from last October pinned above this month's items
    raws = _yearless((10, 20), (6, 15), (6, 10), (6, 1), (5, 28), (5, 20))
    got = resolve_sequence(raws, as_of=dt.date(2020, 6, 16))
    assert got == [
        dt.date(2019, 10, 20),
        dt.date(2020, 6, 15),
        dt.date(2020, 6, 10),
        dt.date(2020, 6, 1),
        dt.date(2020, 5, 28),
        dt.date(2020, 5, 20),
    ]


def test_sequence_context_years_and_full_dates() -> None:
    raws: list[RawDate | None] = [
        RawDate(2018, 3, 1, 0, 10),
        None,
        RawDate(None, 12, 30, 0, 5),
    ]
    got = resolve_sequence(raws, as_of=dt.date(2020, 6, 16), context_years=[None, None, 2017])
    assert got == [dt.date(2018, 3, 1), None, dt.date(2017, 12, 30)]


# --- a page's own publication date ----------------------------------------------------------


def _page(
    head: str = "", body: str = "", title: str = "关于做好防汛工作的通知"
) -> LexborHTMLParser:
    return LexborHTMLParser(
        f"<html><head><title>{title}_江门市蓬江区人民政府</title>{head}</head>"
        f"<body>{body}</body></html>"
    )


@pytest.mark.parametrize(
    "meta",
    [
        '<meta name="PubDate" content="2020-06-15 10:20">',
        '<meta name="pubdate" content="2020-06-15">',
        '<META NAME="PUBDATE" CONTENT="2020/6/15">',
        '<meta name="publishdate" content="2020-06-15">',
        '<meta name="firstpublishedtime" content="2020-06-15-10:20:33">',
        '<meta property="article:published_time" content="2020-06-15T10:20:00+08:00">',
        '<meta name="ArticleTime" content="2020年06月15日">',
        '<meta itemprop="datePublished" content="2020-06-15 08:04">',
    ],
)
def test_meta_dates(meta: str) -> None:
    body = "<h1>关于做好防汛工作的通知</h1><p>发布时间：2019-01-01</p>"
    assert published_date(_page(meta, body)) == D


def test_meta_pubdate_beats_a_generic_date_meta() -> None:
    head = '<meta name="date" content="2019-01-01"><meta name="PubDate" content="2020-06-15">'
    assert published_date(_page(head)) == D


def test_iso_time_with_offset_is_the_day_in_china() -> None:
    head = '<meta property="article:published_time" content="2020-06-14T20:30:00+00:00">'
    assert published_date(_page(head)) == D
    head = '<meta property="article:published_time" content="2020-06-15T20:30:00Z">'
    assert published_date(_page(head)) == dt.date(2020, 6, 16)


@pytest.mark.parametrize(
    "line",
    [
        "发布时间：2020-06-15 10:20",
        "发布日期：2020年06月15日",
        "发布时间:2020/6/15",
        "【发布日期：２０２０－０６－１５】",
        "时间：2020-06-15 浏览次数：100",
        "日期：2020.06.15",
        "发表于 2020-06-15",
        "2020-06-15 10:20 来源：江门日报",
        "来源：江门日报 2020-06-15",
    ],
)
def test_labelled_text(line: str) -> None:
    body = (
        "<div class='top'>今天是2020年6月20日 星期六</div>"
        f"<h1>关于做好防汛工作的通知</h1><div class='info'>{line}</div>"
        "<p>各镇人民政府、街道办事处：现将有关事项通知如下。</p>"
    )
    assert published_date(_page(body=body)) == D


def test_publication_label_beats_the_drafting_date() -> None:
    table = (
        "<table><tr><td>成文日期：</td><td>2020年06月10日</td></tr>"
        "<tr><td>发布日期：</td><td>2020年06月15日</td></tr></table>"
        "<h1>关于做好防汛工作的通知</h1><p>正文</p><p>二〇二〇年六月十日</p>"
    )
    assert published_date(_page(body=table)) == D
    only_drafted = "<h1>关于做好防汛工作的通知</h1><p>成文日期：2020-06-10</p>"
    assert published_date(_page(body=only_drafted)) == dt.date(2020, 6, 10)


def test_date_right_after_the_title() -> None:
    body = (
        "<ul class='nav'><li><a href='/a'>首页</a></li></ul>"
        "<div class='sidebar'><a href='/x'>旧闻 2018-01-01</a></div>"
        "<div class='tit'>关于做好防汛工作的通知</div><span>2020-06-15</span>"
        "<p>正文……</p>"
        "<div class='comments'>评论 发表时间：2020-06-19 10:00</div>"
    )
    assert published_date(_page(body=body)) == D


def test_comment_times_far_below_do_not_beat_the_date_under_the_title() -> None:
    filler = "<p>" + "正文内容。" * 400 + "</p>"
    body = (
        "<h1>关于做好防汛工作的通知</h1><div>2020-06-15 阅读 1024 次</div>"
        f"{filler}<div>网友评论 发表时间：2020-06-18 09:51:00</div>"
    )
    assert published_date(_page(body=body)) == D


def test_footer_dates_are_ignored() -> None:
    footer = (
        "<div class='footer'>版权所有 © 2003-2020 江门市蓬江区人民政府 "
        "网站更新时间：2020-06-15 粤ICP备05012345号 发布时间：2020-06-15</div>"
    )
    assert published_date(_page(body="<h1>关于做好防汛工作的通知</h1><p>正文</p>" + footer)) is None
    copyright_line = "<p>Copyright 2020-06-15 版权所有</p>"
    assert published_date(_page(body="<h1>通知</h1>" + copyright_line)) is None


def test_a_date_after_as_of_is_not_the_publication_date() -> None:
    body = "<h1>关于做好防汛工作的通知</h1><p>会议定于2020-07-01召开</p><p>日期：2020-06-15</p>"
    assert published_date(_page(body=body), as_of=dt.date(2020, 6, 16)) == D


def test_archive_ranges_and_links_come_last() -> None:
    body = (
        "<div>归档 <a href='/a'>12/01/2004 - 01/01/2005</a></div>"
        "<p>文章正文 2005-06-14 03:25:55</p>"
    )
    assert published_date(_page(body=body, title="海姑娘")) == dt.date(2005, 6, 14)


def test_visible_text_may_be_given() -> None:
    tree = _page()
    assert published_date(tree, "标题 发布日期：2020-06-15 正文") == D
    assert published_date(tree, "没有日期") is None


def test_no_date_at_all() -> None:
    assert published_date(_page(body="<h1>通知</h1><p>正文</p>")) is None
    assert published_date(LexborHTMLParser("")) is None


# --- real pages -------------------------------------------------------------------------------


@needs_realdata
def test_real_pages_labelled_day_at_least_90_percent() -> None:

    assert REALDATA is not None
    result = evaluate(REALDATA)
    assert result.total >= 40  # the labels were found: 51 pages name a day
    misses = [f"{m.path}: {m.want} vs {m.got}" for m in result.misses]
    assert result.share >= 0.90, misses
