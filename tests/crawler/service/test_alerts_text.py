"""The alert's Chinese text: times in the config's zone, sentences for each warning, page text
shown and never interpreted in Markdown or HTML."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from crawler.service.alerts.text import chinese_time, compose, html_page, markdown, plain
from tests.support.alerts import report, stale_home

TZ = ZoneInfo("Asia/Shanghai")


def warning(rule: str, **numbers: Any) -> dict[str, Any]:
    return {"id": rule, "type": "early_warning", "check": "x", "rule": rule, "site": "s1",
            "url": "http://www.example.gov.cn/s1/", "message": "english", **numbers}  # fmt: skip


def test_times_are_in_the_config_zone_written_the_chinese_way() -> None:
    assert chinese_time("2026-12-07T00:00:00+00:00", TZ) == "2026年12月7日 08:00"
    assert chinese_time("2026-12-06T23:15:30.123456+00:00", TZ) == "2026年12月7日 07:15"
    assert chinese_time(dt.datetime(2026, 1, 5, 9, 3), TZ) == "2026年1月5日 09:03"  # naive: TZ
    assert chinese_time("2026-12-07T00:00:00+00:00", ZoneInfo("UTC")) == "2026年12月7日 00:00"


def test_the_head_says_which_scan_and_its_verdicts() -> None:
    message = compose(report(sites=5), [stale_home()], TZ)
    assert message.head == (
        "检查：第 12 次检查，监测时间点 2026年12月7日 08:00",
        "时间：2026年12月7日 08:00 开始，11:32 结束（已完成）",
        "结论：共 5 个网站，合格 3 个，不合格 1 个，未完成检查 1 个",
    )


def test_each_warning_is_a_chinese_sentence() -> None:
    events = [
        warning("failure_rate", value=0.042857, veto_at=0.05, samples=140, failures=6),
        warning("homepage_days", value=11, veto_at=15, newest="2026-11-26"),
        warning("blank_columns", value=4, veto_at=5),
        warning("stale_key_columns", value=3, veto_at=5),
        warning("incomplete_guides", value=4, veto_at=5),
        warning("unanswered_days", value=76, veto_at=91, title="路灯不亮"),
    ]
    (heading, items), *_ = [s for s in compose(report(), events, TZ).sections if "预警" in s[0]]
    assert heading == "预警：尚未构成单项否决（6 条）"
    texts = sorted(item.text for item in items)
    assert texts == sorted([
        "测试区第1局：首页抽查 140 次，失败 6 次（4.3%），"
        "失败率达到 5% 即构成“站点无法访问”单项否决",
        "测试区第1局：首页已 11 天未更新（最新信息发布于 2026年11月26日），"
        "超过 14 天即构成“首页不更新”单项否决",
        "测试区第1局：空白栏目 4 个，再多 1 个（共 5 个）即构成单项否决",
        "测试区第1局：未按时更新的动态要闻、通知公告、政策文件类栏目 3 个，"
        "再多 2 个（共 5 个）即构成单项否决",
        "测试区第1局：缺少 4 项及以上要素的办事指南 4 个，再多 1 个（共 5 个）即构成单项否决",
        "测试区第1局：“路灯不亮”已 76 天未回复，超过 90 天即构成“互动回应差”单项否决",
    ])  # fmt: skip
    assert "english" not in plain(compose(report(), events, TZ))


def test_vetoes_made_by_counts_and_scores_read_as_sentences() -> None:
    events = [
        {"id": "a", "type": "veto", "check": "column.blank", "site": "s0", "url": "", "count": 5},
        {"id": "b", "type": "veto", "check": "score", "site": "s1", "url": "", "score": 55.5},
    ]
    (heading, items), *_ = compose(report(), events, TZ).sections
    assert heading == "新的单项否决问题（2 个网站）"
    assert [i.text for i in items] == [
        "测试区第0局：空白栏目共 5 处，达到单项否决标准",
        "测试区第1局：总分 55.5 分，低于 60 分",
    ]


def test_page_text_is_shown_and_never_interpreted() -> None:
    evil = "路灯[点我](http://evil.example/)**急**<script>"
    events = [warning("unanswered_days", value=76, veto_at=91, title=evil)]
    message = compose(report(), events, TZ)
    md = markdown(message)
    assert "](http://evil.example/)" not in md
    assert "［点我］(http://evil.example/)＊＊急＊＊＜script＞" in md
    page = html_page(message)
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert evil in plain(message)  # plain text shows it as it is


def test_the_pointer_names_the_web_view_or_the_command() -> None:
    with_url = compose(report(), [stale_home()], TZ, report_url="http://10.0.0.5:8080")
    assert with_url.pointer == "完整报告：http://10.0.0.5:8080/scans/12"
    assert markdown(with_url).endswith("[完整报告](http://10.0.0.5:8080/scans/12)")
    without = compose(report(), [stale_home()], TZ)
    assert "govmon report --scan 12 --format html" in without.pointer
    assert without.pointer_url is None
