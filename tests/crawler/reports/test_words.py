"""The Chinese words of the reports: reasons, times, dates, display URLs and evidence lines.

The demo (``test_chinese_first.py``) shows only some checks; these are the words of the others
that the issue saw in English: ``no AAAA record``, ``alias_loads``, ``private address``, the
raw JSON of ``content.backdated``.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from checks import catalogue
from checks.wording import REASON_WORDS, cn_date, reason_words
from crawler.reports.evidence import evidence, evidence_text
from crawler.reports.words import cn_time, describe, display_url, indicator_name, unit_count
from tests.crawler.reports.test_chinese_first import offenders


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("timeout", "超时"),
        ("dns", "域名解析失败"),
        ("private address", "指向内网地址，未访问"),
        ("http 404", "HTTP 404 找不到页面"),
        ("http 599", "HTTP 状态码 599"),
        ("no AAAA record", "域名没有 IPv6 地址（AAAA 记录）"),
        ("dns: ClientConnectorDNSError: nodename nor servname", "域名解析失败"),
        ("timeout: not loaded within 15 s (waiting for the body)", "超时：15 秒内未能打开"),
        ("too many redirects (more than 10)", "跳转次数过多（超过 10 次）"),
        ("image answered with a web page", "图片地址返回的是网页"),
        ("no “我为政府网站找错” entry on the home page", "首页没有“我为政府网站找错”入口"),
        ("an empty list: placeholder text '暂无信息'", "列表为空，页面显示“暂无信息”"),
        ("unreadable: nesting too deep (depth 600)", "页面无法解析"),
        ("redated_earlier", "上次检查时这条信息的日期较晚，现在改成了更早的日期"),
    ],
)
def test_reasons_are_said_in_chinese(reason: str, words: str) -> None:
    assert reason_words(reason) == words


def test_every_word_of_the_table_is_chinese() -> None:
    assert offenders(list(REASON_WORDS.values()), set()) == []
    assert reason_words("a plug-in's own words") == "a plug-in's own words"  # kept, not lost


def test_times_and_dates_as_a_clerk_writes_them() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    assert cn_time("2020-06-16T00:15:30.123456+00:00", shanghai) == "2020年6月16日 08:15"
    assert cn_time(dt.datetime(2020, 1, 2, 3, 4, tzinfo=dt.UTC), shanghai) == "2020年1月2日 11:04"
    assert cn_time(None, shanghai) == "—"
    assert cn_time("2020年6月16日 08:00", shanghai) == "2020年6月16日 08:00"  # already written
    assert cn_date("2020-06-05") == "2020年6月5日"
    assert cn_date("not a date") == "not a date"


def test_display_urls_are_decoded_and_links_are_not() -> None:
    assert display_url("http://x.test/%E9%80%9A%E7%9F%A5.pdf") == "http://x.test/通知.pdf"
    # ASCII escapes keep their meaning: %2F is not a slash, %20 not a space
    assert (
        display_url("http://x.test/a%2Fb%20c?q=%E4%B8%AD%26") == "http://x.test/a%2Fb%20c?q=中%26"
    )
    # GBK bytes (here 通知) are shown as they are, not as the letters they happen to spell
    assert display_url("http://x.test/%CD%A8%D6%AA.pdf") == "http://x.test/%CD%A8%D6%AA.pdf"
    # an invisible, direction-changing character stays visible as its escape
    assert display_url("http://x.test/%E2%80%AEfdp.exe") == "http://x.test/%E2%80%AEfdp.exe"
    assert display_url("http://x.test/%E9%80") == "http://x.test/%E9%80"  # cut short: kept


def _finding(check: str, detail: dict[str, object]) -> dict[str, object]:
    return {"id": "0" * 16, "check": check, "severity": "deduction", "site": "s", "unit": "u",
            "column": None, "url": "http://x.test/", "page": None, "detail": detail,
            "observed_at": None}  # fmt: skip


def test_no_ipv6_evidence_is_chinese() -> None:
    f = _finding(
        "site.no_ipv6",
        {"home": "http://x.test/", "host": "x.test", "addresses": [], "alias": "www.x.test",
         "alias_addresses": ["2001:db8::1"], "alias_loads": True, "reason": "no AAAA record",
         "status": None, "note": "www.x.test answers over IPv6, but the home page's own host"},
    )  # fmt: skip
    shown = dict(evidence(f))
    assert shown["原因"] == ["域名没有 IPv6 地址（AAAA 记录）"]
    assert shown["另一域名可用 IPv6"] == ["是"]
    assert "note" not in str(shown)  # English machine detail: in the JSON only
    assert catalogue.describe("site.no_ipv6", f["detail"]) == (  # type: ignore[arg-type]
        "不支持IPv6：域名没有 IPv6 地址（AAAA 记录）"
    )
    assert offenders([evidence_text(f)], set()) == []


def test_backdated_evidence_is_sentences_not_json() -> None:
    f = _finding(
        "content.backdated",
        {"title": "关于某事的通知", "date": "2020-05-01", "reason": "not_listed_before",
         "column": "通知公告", "list_page": "http://x.test/tzgg/",
         "earlier_scan": {"id": 3, "at": "2020-06-01T02:00:00+00:00", "horizon": "2020-05-20",
                          "items": 20, "listed": False, "date_then": None},
         "this_scan": {"id": 4, "at": "2020-06-08T02:00:00+00:00"}, "needs_review": True},
    )  # fmt: skip
    text = evidence_text(f)
    assert "{" not in text
    assert "上次检查：第 3 次检查，时间 2020年6月1日 10:00" in text
    assert "列表覆盖到 2020年5月20日" in text
    assert "需人工核实：是" in text
    assert offenders([text], set()) == []
    sentence = catalogue.describe("content.backdated", f["detail"])  # type: ignore[arg-type]
    assert sentence.startswith("疑似伪造发布日期：“关于某事的通知”标注日期 2020年5月1日，")


def test_a_private_address_is_said_in_words() -> None:
    f = _finding("link.blocked", {"kind": "external", "reason": "private address",
                                  "pages": ["http://x.test/"], "on_homepage": True})  # fmt: skip
    sentence = catalogue.describe("link.blocked", f["detail"])  # type: ignore[arg-type]
    assert "（指向内网地址，未访问）" in sentence
    assert offenders([sentence, evidence_text(f)], set()) == []


def test_headings_count_what_they_list() -> None:
    problem = {"id": "1", "site": "s", "site_name": "某站", "column": None,
               "check": "site.no_ipv6", "severity": "deduction", "problem": "不支持IPv6",
               "url": "http://x.test/"}  # fmt: skip
    unit = {"unit": "区政府办公室", "sites": ["某站"], "problem_columns": 0,
            "problems": [problem] * 3}  # fmt: skip
    assert unit_count(unit) == "3 个问题"  # type: ignore[arg-type]
    unit["problem_columns"] = 1
    assert unit_count(unit) == "3 个问题，涉及 1 个栏目"  # type: ignore[arg-type]
    assert indicator_name("功能 search, IPv6, 找错") == "功能"
    assert indicator_name("链接可用性 links") == "链接可用性"


def test_a_link_finding_without_reason_or_pages_never_reads_none() -> None:
    """A finding whose detail lacks fields (an old store, a plug-in) is described without
    'None' or '0 个页面引用'."""
    text = describe({"check": "link.broken", "detail": {"kind": "attachment"}})
    assert "None" not in text
    assert "0 个页面引用" not in text
    assert text.startswith("错链断链：")
    full = {"kind": "page", "reason": "http 404", "pages": ["http://h/a"]}
    assert describe({"check": "link.broken", "detail": full}).endswith("，1 个页面引用")
