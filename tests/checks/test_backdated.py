"""Backdated items: an item absent at an earlier scan but dated before it is a warning with both
scans as evidence. The traps: an item dated the day of the earlier scan (or the day before), an
item older than what the earlier scan read (page 5), an item whose URL changed, an old pinned
row; dates as ISO strings and scan times in another time zone."""

from __future__ import annotations

import datetime as dt

from checks.backdated import (
    BACKDATED,
    NOT_LISTED_BEFORE,
    REDATED_EARLIER,
    find_backdated,
    judge_backdated,
    scan_day,
)

D = dt.date
EARLIER_AT = dt.datetime(2020, 6, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
NOW_AT = dt.datetime(2020, 6, 16, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
BASE = "http://www.district.test/fgj/gzdt/"

# the earlier scan read the first page: items from 2020-05-31 back to 2020-05-10
BEFORE = [
    (BASE + "202005/t20200531_9.html", "区发改局召开五月工作例会", D(2020, 5, 31)),
    (BASE + "202005/t20200520_8.html", "区发改局开展安全生产检查", D(2020, 5, 20)),
    (BASE + "202005/t20200510_7.html", "区发改局组织学习新修订的条例", D(2020, 5, 10)),
]


def now_with(
    *extra: tuple[str, str, dt.date | str | None],
) -> list[tuple[str, str, dt.date | str | None]]:
    fresh = [(BASE + "202006/t20200615_10.html", "区发改局召开六月工作例会", D(2020, 6, 15))]
    return [*fresh, *extra, *BEFORE]


def test_an_item_that_appeared_with_an_old_date_is_suspect() -> None:
    planted = (BASE + "202005/t20200515_99.html", "区发改局开展政策宣传进企业活动", D(2020, 5, 15))
    suspects = find_backdated(now_with(planted), BEFORE, earlier_at=EARLIER_AT)
    assert [(s.url, s.date, s.reason) for s in suspects] == [
        (planted[0], D(2020, 5, 15), NOT_LISTED_BEFORE)
    ]
    assert suspects[0].horizon == D(2020, 5, 10)
    judged = judge_backdated(
        suspects, column_url=BASE, column_name="工作动态", earlier_at=EARLIER_AT, now_at=NOW_AT,
        earlier_scan=3, now_scan=7, earlier_items=len(BEFORE),
    )  # fmt: skip
    assert len(judged) == 1
    url, judgement = judged[0]
    assert url == planted[0]
    assert judgement.code == BACKDATED
    detail = judgement.detail
    assert detail["needs_review"] is True
    assert detail["date"] == "2020-05-15"
    assert detail["earlier_scan"] == {
        "id": 3, "at": "2020-06-01T10:00:00+08:00", "horizon": "2020-05-10", "items": 3,
        "listed": False, "date_then": None,
    }  # fmt: skip
    assert detail["this_scan"] == {"id": 7, "at": "2020-06-16T10:00:00+08:00"}


def test_trap_dated_the_day_of_the_earlier_scan_or_the_day_before() -> None:
    same_day = (BASE + "202006/t20200601_11.html", "区发改局召开专题会议", D(2020, 6, 1))
    day_before = (BASE + "202005/t20200531_12.html", "区发改局晚间会议纪要", D(2020, 5, 31))
    assert find_backdated(now_with(same_day, day_before), BEFORE, earlier_at=EARLIER_AT) == []
    # without the grace the day before is evidence; the day itself never is
    strict = find_backdated(
        now_with(same_day, day_before), BEFORE, earlier_at=EARLIER_AT, grace_days=0
    )
    assert [s.url for s in strict] == [day_before[0]]


def test_trap_an_item_beyond_what_the_earlier_scan_read() -> None:
    page5 = (BASE + "202004/t20200420_5.html", "区发改局四月工作简报", D(2020, 4, 20))
    on_horizon = (BASE + "202005/t20200510_6.html", "区发改局学习会议（二）", D(2020, 5, 10))
    assert find_backdated(now_with(page5, on_horizon), BEFORE, earlier_at=EARLIER_AT) == []
    # the caller knows the earlier scan read back further: then page5's item is evidence
    deeper = find_backdated(
        now_with(page5, on_horizon), BEFORE, earlier_at=EARLIER_AT, horizon="2020-04-01"
    )
    assert {s.url for s in deeper} == {page5[0], on_horizon[0]}


def test_trap_an_old_pinned_row_does_not_stretch_the_horizon() -> None:
    pinned = (BASE + "201801/t20180101_1.html", "【置顶】区发改局职能介绍", D(2018, 1, 1))
    before = [pinned, *BEFORE]
    older = (BASE + "202004/t20200420_5.html", "区发改局四月工作简报", D(2020, 4, 20))
    assert find_backdated([pinned, older, *BEFORE], before, earlier_at=EARLIER_AT) == []


def test_trap_a_moved_item_with_the_same_title_and_date_is_not_new() -> None:
    moved = [(u.replace("/fgj/", "/xxgk/fgj/"), t, d) for u, t, d in BEFORE]
    assert find_backdated(moved, BEFORE, earlier_at=EARLIER_AT) == []
    # the same title under a new URL with another date is another item
    other = [(BASE + "x.html", BEFORE[1][1] + "（续）", D(2020, 5, 25))]
    assert len(find_backdated(other, BEFORE, earlier_at=EARLIER_AT)) == 1


def test_an_item_redated_to_an_earlier_day_is_suspect() -> None:
    redated = [(BEFORE[0][0], BEFORE[0][1], D(2020, 5, 21)), *BEFORE[1:]]
    suspects = find_backdated(redated, BEFORE, earlier_at=EARLIER_AT)
    assert [(s.reason, s.date, s.earlier_date) for s in suspects] == [
        (REDATED_EARLIER, D(2020, 5, 21), D(2020, 5, 31))
    ]
    judged = judge_backdated(
        suspects, column_url=BASE, column_name="工作动态", earlier_at=EARLIER_AT, now_at=NOW_AT
    )
    assert judged[0][1].detail["earlier_scan"]["date_then"] == "2020-05-31"
    assert judged[0][1].detail["earlier_scan"]["listed"] is True
    # moved later (a correction forward) is not backdating
    forward = [(BEFORE[2][0], BEFORE[2][1], D(2020, 5, 30)), *BEFORE[:2]]
    assert find_backdated(forward, BEFORE, earlier_at=EARLIER_AT) == []


def test_undated_items_and_an_undated_earlier_list_say_nothing() -> None:
    undated = (BASE + "u.html", "无日期的信息", None)
    assert find_backdated(now_with(undated), BEFORE, earlier_at=EARLIER_AT) == []
    blind = [(u, t, None) for u, t, _ in BEFORE]
    planted = (BASE + "p.html", "区发改局开展政策宣传进企业活动", D(2020, 5, 15))
    assert find_backdated(now_with(planted), blind, earlier_at=EARLIER_AT) == []


def test_iso_strings_and_time_zones() -> None:
    before = [(u, t, d.isoformat()) for u, t, d in BEFORE]
    planted = (BASE + "p.html", "区发改局开展政策宣传进企业活动", "2020-05-30")
    # 2020-05-31 17:00 UTC is 2020-06-01 01:00 in Shanghai: the earlier scan's day is 1 June
    utc = dt.datetime(2020, 5, 31, 17, 0, tzinfo=dt.UTC)
    assert scan_day(utc) == D(2020, 6, 1)
    assert scan_day(dt.datetime(2020, 5, 31, 17, 0)) == D(2020, 5, 31)  # naive: already local
    suspects = find_backdated([planted, *before], before, earlier_at=utc)
    assert [s.date for s in suspects] == [D(2020, 5, 30)]
    # read in UTC the earlier scan's day is 31 May: the 30th is within the grace day
    assert find_backdated([planted, *before], before, earlier_at=utc, tz=dt.UTC) == []
