"""Survey and interview activity: 6 a year on portals, 3 elsewhere, a configured interview
minimum; follow-ups, duplicates, undated and out-of-year items are not activities; several
columns of one category count together; unread and placeholder-blank columns are not judged."""

from __future__ import annotations

import datetime as dt

from checks.activity import (
    INTERVIEW,
    SURVEY,
    TOO_FEW,
    ActivityRules,
    count_activities,
    is_follow_up,
    judge_activity,
    minimum,
    rule_keys,
)
from checks.columns import ColumnState
from checks.readers.listing import Item

AS_OF = dt.date(2020, 6, 16)


def column(
    category: str, items: list[Item], *, name: str = "意见征集", url: str = "http://x.test/yjzj/",
    read: bool = True, placeholder: bool = False,
) -> ColumnState:  # fmt: skip
    state = ColumnState(
        url=url, name=name, category=category, unit="区政府办", top_level=True, configured=False
    )
    state.items = {i.url: i for i in items}
    state.read = {url} if read else set()
    state.placeholder = placeholder
    return state


def surveys(n: int, start: dt.date = dt.date(2020, 6, 1), step: int = 40) -> list[Item]:
    return [
        Item(f"关于征求《第{k}号管理办法》意见的公告", f"http://x.test/yjzj/{k}.html",
             start - dt.timedelta(days=step * k))
        for k in range(n)
    ]  # fmt: skip


def test_rules_and_minimums() -> None:
    rules = ActivityRules()
    assert minimum(SURVEY, "portal", rules) == 6
    assert minimum(SURVEY, "department", rules) == 3
    assert minimum(SURVEY, "town", rules) == 3
    assert minimum(INTERVIEW, "portal", rules) == 0
    assert minimum("news", "portal", rules) == 0
    custom = ActivityRules.from_mapping({"survey_min_portal": 8, "interview_min": 2, "other": 1})
    assert (custom.survey_min_portal, custom.survey_min_other, custom.interview_min) == (8, 3, 2)
    assert dict(rule_keys()) == {"survey_min_portal": 6, "survey_min_other": 3, "interview_min": 0}


def test_a_portal_needs_six_and_a_department_three() -> None:
    five = column(SURVEY, surveys(5))
    found = judge_activity([five], "portal", AS_OF)
    assert len(found) == 1
    subject, judgement = found[0]
    assert subject is five
    assert judgement.code == TOO_FEW
    assert (judgement.detail["count"], judgement.detail["minimum"]) == (5, 6)
    assert judgement.detail["since"] == "2019-06-16"
    assert len(judgement.detail["activities"]) == 5
    assert judge_activity([five], "department", AS_OF) == []
    assert judge_activity([column(SURVEY, surveys(6))], "portal", AS_OF) == []  # exactly enough


def test_the_year_before_as_of_bounds_both_ends() -> None:
    items = [
        Item("关于征求意见的公告一", "http://x.test/1", dt.date(2019, 6, 16)),  # first day: in
        Item("关于征求意见的公告二", "http://x.test/2", dt.date(2019, 6, 15)),  # a day too old
        Item("关于征求意见的公告三", "http://x.test/3", dt.date(2020, 6, 16)),  # as_of: in
        Item("关于征求意见的公告四", "http://x.test/4", dt.date(2020, 6, 17)),  # after as_of
    ]
    counted = count_activities(items, AS_OF, SURVEY)
    assert [i.url for i in counted.counted] == ["http://x.test/1", "http://x.test/3"]
    assert counted.outside == 2


def test_follow_ups_duplicates_and_undated_items_are_not_activities() -> None:
    items = [
        *surveys(3),
        Item("《第0号管理办法》意见征集结果反馈", "http://x.test/f1", dt.date(2020, 6, 10)),
        Item("关于《第1号管理办法》意见采纳情况的说明", "http://x.test/f2", dt.date(2020, 5, 1)),
        Item("关于征求《第0号管理办法》意见的公告", "http://x.test/dup", dt.date(2020, 6, 1)),
        Item("关于开展群众满意度调查的通知", "http://x.test/u", None),
    ]
    counted = count_activities(items, AS_OF, SURVEY)
    assert counted.count == 3
    assert (counted.follow_ups, counted.duplicates, counted.undated) == (2, 1, 1)
    found = judge_activity([column(SURVEY, items)], "portal", AS_OF)
    detail = found[0][1].detail
    assert (detail["count"], detail["follow_ups"], detail["duplicates"], detail["undated"]) == (
        3, 2, 1, 1,
    )  # fmt: skip
    # a title that merely contains 结果 is an activity
    assert not is_follow_up("关于征求《考核结果运用办法》意见的公告", SURVEY)


def test_interviews_are_judged_only_with_a_configured_minimum() -> None:
    talks = column(
        INTERVIEW,
        [
            Item("【预告】区长在线访谈：优化营商环境", "http://x.test/zb/0", dt.date(2020, 5, 1)),
            Item("区长在线访谈：优化营商环境", "http://x.test/zb/1", dt.date(2020, 5, 8)),
        ],
        name="在线访谈",
        url="http://x.test/zxft/",
    )
    assert judge_activity([talks], "portal", AS_OF) == []
    found = judge_activity([talks], "portal", AS_OF, ActivityRules(interview_min=2))
    assert len(found) == 1
    assert found[0][1].detail["count"] == 1  # the preview is not a second interview
    assert found[0][1].detail["category"] == INTERVIEW
    assert judge_activity([talks], "portal", AS_OF, ActivityRules(interview_min=1)) == []


def test_several_survey_columns_count_together() -> None:
    a = column(SURVEY, surveys(2), name="意见征集", url="http://x.test/yjzj/")
    b = column(
        SURVEY,
        [
            Item("网上问卷调查：公共服务满意度", "http://x.test/wsdc/1", dt.date(2020, 3, 3)),
            Item(
                "关于征求《第0号管理办法》意见的公告", "http://x.test/wsdc/2", dt.date(2020, 6, 1)
            ),
        ],
        name="网上调查",
        url="http://x.test/wsdc/",
    )
    assert judge_activity([a, b], "department", AS_OF) == []  # 2 + 1 new (one is the same)
    found = judge_activity([a, b], "portal", AS_OF)
    subject, judgement = found[0]
    assert subject is a  # the column with the most
    assert judgement.detail["count"] == 3
    assert judgement.detail["duplicates"] == 1
    assert [c["url"] for c in judgement.detail["columns"]] == [a.url, b.url]


def test_unread_and_placeholder_blank_columns_are_not_judged_but_an_empty_list_is() -> None:
    assert judge_activity([column(SURVEY, [], read=False)], "portal", AS_OF) == []
    assert judge_activity([column(SURVEY, [], placeholder=True)], "portal", AS_OF) == []
    empty = judge_activity([column(SURVEY, [])], "department", AS_OF)
    assert len(empty) == 1
    assert empty[0][1].detail["count"] == 0
    # other categories are none of this check's business
    assert judge_activity([column("news", [])], "portal", AS_OF) == []
