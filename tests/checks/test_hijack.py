"""Hijacked external links: gambling and pornography pages (the shipped lexicon, the hijack words,
the user's lexicon; GBK pages), a target moved to an unrelated site since the last scan, parked
domains, script redirects; the traps: a news report on a crackdown (reported, needing review, at
warning severity), a government site reporting a crackdown, a site that changed its domain, a
first cross-domain redirect, a file that is no page."""

from __future__ import annotations

import pytest

from checks.hijack import (
    HIJACK_WORDS,
    HIJACKED,
    SEVERITY_HIJACKED,
    SEVERITY_NEEDS_REVIEW,
    TargetSnapshot,
    judge_hijack,
    read_target,
    registrable_domain,
    severity_of,
    snapshot,
    title_similarity,
)
from checks.lexicon import Lexicon
from checks.readers.wordlists import shipped_sensitive

LINK = "http://www.partner-assoc.test/"


def html(title: str, body: str, head: str = "") -> bytes:
    return (f"<html><head><title>{title}</title>{head}</head><body>{body}</body></html>").encode()


def test_a_gambling_page_is_a_veto_with_its_title_and_words() -> None:
    body = html(
        "澳门新葡京娱乐城-官方网站",
        '<div class="nav">真人视讯 | 电子游艺 | 体育投注</div><p>注册送彩金，首存优惠天天送</p>',
        '<meta name="keywords" content="博彩,百家乐,时时彩">',
    )
    judgement = judge_hijack(LINK, LINK, body, "text/html; charset=utf-8")
    assert judgement is not None
    assert judgement.code == HIJACKED
    detail = judgement.detail
    assert detail["title"] == "澳门新葡京娱乐城-官方网站"
    assert {"新葡京", "真人视讯", "电子游艺", "体育投注", "注册送彩金", "博彩", "百家乐"} <= set(
        detail["words"]
    )
    assert detail["reasons"] == ["sensitive"]
    assert detail["needs_review"] is False
    assert detail["snippets"]
    assert severity_of(judgement) == SEVERITY_HIJACKED


def test_a_pornography_page_found_by_the_hijack_words_alone() -> None:
    body = html("午夜福利", "<p>国产自拍 成人直播 在线观看</p>")
    judgement = judge_hijack(LINK, LINK, body, "text/html")
    assert judgement is not None
    assert set(judgement.detail["words"]) == {"国产自拍", "成人直播"}
    # the extra list is not in the shipped lexicon: it adds to it
    assert not set(HIJACK_WORDS) & set(shipped_sensitive())


def test_a_gbk_page_is_decoded_before_reading() -> None:
    page = "<html><head><meta charset='gbk'><title>六合彩开奖直播</title></head><body>" + (
        "<p>一码中特</p></body></html>"
    )
    judgement = judge_hijack(LINK, LINK, page.encode("gbk"), "text/html")
    assert judgement is not None
    assert set(judgement.detail["words"]) == {"六合彩", "一码中特"}


@pytest.mark.parametrize(
    ("content_type", "head"),
    [("text/html; charset=rot13", ""), ("text/html", '<meta charset="rot13">')],
)
def test_a_hostile_charset_declaration_is_survived(content_type: str, head: str) -> None:
    body = html("澳门新葡京", "<p>真人视讯</p>", head)
    judgement = judge_hijack(LINK, LINK, body, content_type)
    assert judgement is not None
    assert {"新葡京", "真人视讯"} <= set(judgement.detail["words"])


def test_the_users_lexicon_is_used() -> None:
    body = html("某某商城", "<p>出售某违禁品，货到付款</p>")
    assert judge_hijack(LINK, LINK, body, "text/html") is None
    mine = Lexicon(sensitive=["出售某违禁品"])
    judgement = judge_hijack(LINK, LINK, body, "text/html", lexicon=mine)
    assert judgement is not None
    assert judgement.detail["words"] == ["出售某违禁品"]


def test_trap_a_news_report_on_a_crackdown_is_reported_for_review() -> None:
    body = html(
        "公安机关持续开展打击整治行动_某某新闻网",
        "<p>近日，市公安局严厉打击网络赌博犯罪，捣毁一个涉嫌开设网络赌场的团伙。</p>"
        "<p>警方提醒：远离六合彩等非法赌博活动。</p>",
    )
    judgement = judge_hijack("http://news.example.test/a/1.html",
                             "http://news.example.test/a/1.html", body, "text/html")  # fmt: skip
    assert judgement is not None
    detail = judgement.detail
    assert detail["needs_review"] is True
    assert detail["reasons"] == ["sensitive_in_enforcement_context"]
    assert "网络赌场" in detail["words"]
    assert any("打击" in s or "涉嫌" in s for s in detail["snippets"])
    assert "person" in detail["review"]
    assert severity_of(judgement) == SEVERITY_NEEDS_REVIEW  # a warning: no veto on a news link


def test_trap_a_government_site_reporting_a_crackdown_is_not_reported() -> None:
    body = html("江门市公安局", "<p>严厉打击网络赌博犯罪，远离六合彩。</p>")
    target = "http://gaj.jiangmen.gov.cn/"
    assert judge_hijack(target, target, body, "text/html") is None
    # but planted spam on a government host is reported
    hacked = html("江门市公安局", "<p>澳门新葡京 真人视讯 开户送彩金</p>")
    judgement = judge_hijack(target, target, hacked, "text/html")
    assert judgement is not None
    assert severity_of(judgement) == SEVERITY_HIJACKED


def test_a_target_moved_to_an_unrelated_site_since_the_last_scan() -> None:
    previous = TargetSnapshot("江滨区行业协会", "www.partner-assoc.test")
    body = html("欢迎光临 某某商贸有限公司", "<p>主营五金建材</p>")
    final = "http://www.shop-other.test/index.html"
    judgement = judge_hijack(LINK, final, body, "text/html", previous=previous)
    assert judgement is not None
    detail = judgement.detail
    assert detail["reasons"] == ["moved"]
    assert detail["needs_review"] is True
    assert detail["final_host"] == "www.shop-other.test"
    assert detail["previous"] == {"title": "江滨区行业协会", "final_host": "www.partner-assoc.test"}
    assert severity_of(judgement) == SEVERITY_NEEDS_REVIEW
    # moved and gambling: the veto
    spam = html("皇冠体育", "<p>足球投注</p>")
    both = judge_hijack(LINK, final, spam, "text/html", previous=previous)
    assert both is not None
    assert both.detail["reasons"] == ["sensitive", "moved"]
    assert severity_of(both) == SEVERITY_HIJACKED


def test_traps_moves_that_are_not_hijacks() -> None:
    previous = TargetSnapshot("新华网_让新闻离你更近", "www.xinhuanet.test")
    same_site = html("新华网_让新闻离你更近", "<p>要闻</p>")
    final = "http://www.news-cn.test/"
    assert judge_hijack(LINK, final, same_site, "text/html", previous=previous) is None
    # a move to a government domain (a department merged into another)
    merged = html("江门市发展和改革局", "<p>机构改革后本站已迁移</p>")
    gov = "http://fgj.jiangmen.gov.cn/"
    assert judge_hijack(LINK, gov, merged, "text/html", previous=previous) is None
    # the same registrable domain (www. added) is no move
    www = TargetSnapshot("江滨区行业协会", "partner-assoc.test")
    other_title = html("江滨区行业协会官网（新版）首页", "")
    assert judge_hijack(LINK, LINK, other_title, "text/html", previous=www) is None
    # a first cross-domain redirect without a snapshot: nothing to compare with
    assert judge_hijack(LINK, final, html("某某商贸有限公司", ""), "text/html") is None


def test_a_parked_domain_needs_review() -> None:
    body = html("partner-assoc.test", "<p>该域名已过期，如需续费请联系注册商。</p>")
    judgement = judge_hijack(LINK, LINK, body, "text/html")
    assert judgement is not None
    assert judgement.detail["reasons"] == ["parked"]
    assert judgement.detail["needs_review"] is True
    sale = html("Domain for sale", "<p>This domain is for sale! Buy this domain today.</p>")
    assert judge_hijack(LINK, LINK, sale, "text/html") is not None


def test_a_script_redirect_counts_as_where_the_target_ends() -> None:
    body = html("", "", '<script>window.location.href="http://www.bet-site.test/?a=1";</script>')
    reading = read_target(LINK, body, "text/html")
    assert reading.page_redirect == "http://www.bet-site.test/?a=1"
    assert reading.final_host == "www.bet-site.test"
    assert snapshot(reading) == TargetSnapshot("", "www.bet-site.test")
    previous = TargetSnapshot("江滨区行业协会", "www.partner-assoc.test")
    judgement = judge_hijack(LINK, LINK, body, "text/html", previous=previous)
    assert judgement is not None
    assert judgement.detail["reasons"] == ["moved"]
    assert judgement.detail["page_redirect"] == "http://www.bet-site.test/?a=1"
    refresh = html("", "", '<meta http-equiv="refresh" content="0; url=http://www.bet-site.test/">')
    assert read_target(LINK, refresh, "text/html").final_host == "www.bet-site.test"
    # a redirect within the same site changes nothing
    local = html("首页", "", "<script>location.href='/index.html'</script>")
    assert read_target(LINK, local, "text/html").final_host == "www.partner-assoc.test"


def test_a_file_is_no_page() -> None:
    assert judge_hijack(LINK + "a.pdf", LINK + "a.pdf", b"%PDF-1.4 ...", "application/pdf") is None
    # an unlabelled body is sniffed
    sniffed = b"<!DOCTYPE html><html><title>\xe5\x8d\x9a\xe5\xbd\xa9</title></html>"
    judgement = judge_hijack(LINK, LINK, sniffed, "")
    assert judgement is not None
    assert judgement.detail["words"] == ["博彩"]


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("www.jiangmen.gov.cn", "jiangmen.gov.cn"),
        ("gaj.jiangmen.gov.cn", "jiangmen.gov.cn"),
        ("www.example.com.cn", "example.com.cn"),
        ("bbs.example.gd.cn", "example.gd.cn"),
        ("www.example.com", "example.com"),
        ("news.bbc.co.uk", "bbc.co.uk"),
        ("example.com", "example.com"),
        ("WWW.Example.COM.", "example.com"),
        ("10.1.2.3", "10.1.2.3"),
        ("::1", "::1"),
    ],
)
def test_registrable_domain(host: str, domain: str) -> None:
    assert registrable_domain(host) == domain


def test_title_similarity() -> None:
    assert title_similarity("江滨区行业协会", "江滨区行业协会") == 1.0
    assert title_similarity("江滨区行业协会", "澳门新葡京") == 0.0
    assert title_similarity("", "x") == 0.0
    assert 0.5 < title_similarity("新华网_让新闻离你更近", "新华网 - 让新闻离你更近！") <= 1.0
