"""Policy interpretation matching: explicit links either way, 《title》 mentions, document
numbers with their issuing prefix, and the look-back window."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from selectolax.lexbor import LexborHTMLParser

from checks.interpretation import (
    Doc,
    DocNumber,
    core_title,
    explicit_links,
    extract_doc_number,
    find_doc_numbers,
    match_interpretations,
    normalize_title,
    read_doc,
    unmatched_policies,
)
from tests.support.strategies import RANDOM_MARKUP

D = dt.date
SITE = "http://www.district.test"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("蓬府办〔2020〕12号", "蓬府办〔2020〕12号"),
        ("蓬府办[2020]12号", "蓬府办〔2020〕12号"),
        ("蓬府办［2020］12号", "蓬府办〔2020〕12号"),
        ("蓬府办（2020）12号", "蓬府办〔2020〕12号"),
        ("蓬府办(2020)第12号", "蓬府办〔2020〕12号"),
        ("蓬府办【2020】 12 号", "蓬府办〔2020〕12号"),
        ("国办秘函〔2019〕19号", "国办秘函〔2019〕19号"),
        ("根据蓬府办〔2020〕12号文件精神", "蓬府办〔2020〕12号"),
        ("按照江门市人民政府办公室印发的江府办〔2021〕3号", "江府办〔2021〕3号"),
        ("根据江经信〔2020〕5号", "江经信〔2020〕5号"),
        ("粤人社规〔2021〕3号", "粤人社规〔2021〕3号"),
        ("《关于印发工作方案的通知》（蓬府办〔2020〕12号）", "蓬府办〔2020〕12号"),
        ("〔2020〕12号", "〔2020〕12号"),
        ("2020年第12号", None),
        ("（2020）年度报告", None),
        ("电话(0750)12号", None),
        ("第12号台风", None),
        ("", None),
    ],
)
def test_extract_doc_number(text: str, expected: str | None) -> None:
    assert extract_doc_number(text) == expected


def test_document_numbers_compare_by_prefix() -> None:
    office = DocNumber("蓬府办", 2020, 12)
    assert office.same_as(DocNumber("根据蓬府办", 2020, 12))
    assert not office.same_as(DocNumber("蓬府", 2020, 12))  # another issuer
    assert not office.same_as(DocNumber("蓬府办", 2020, 13))
    assert not office.same_as(DocNumber("蓬府办", 2019, 12))
    assert not office.same_as(DocNumber("办", 2020, 12))  # too short to tell
    assert [str(n) for n in find_doc_numbers("蓬府〔2020〕1号和蓬府办〔2020〕2号")] == [
        "蓬府〔2020〕1号",
        "蓬府办〔2020〕2号",
    ]


def test_titles_normalise() -> None:
    assert normalize_title("关于印发《江滨区 促进就业若干措施》的通知（江滨府办〔2020〕12号）") == (
        "关于印发江滨区促进就业若干措施的通知"
    )
    assert core_title("江滨区人民政府办公室关于印发《江滨区促进就业若干措施》的通知") == (
        "江滨区促进就业若干措施"
    )
    assert core_title("关于做好防汛工作的通知") is None


# --------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------

P_TITLE = Doc(
    url=f"{SITE}/zcwj/t1.html",
    title="江滨区人民政府办公室关于印发《江滨区促进就业若干措施》的通知",
    published=D(2020, 5, 10),
    number="江滨府办〔2020〕12号",
)
P_NUMBER = Doc(
    url=f"{SITE}/zcwj/t2.html",
    title="关于做好2020年防汛防旱工作的通知",
    published=D(2020, 4, 1),
    number="江滨府〔2020〕8号",
)
P_OWN_LINK = Doc(
    url=f"{SITE}/zcwj/t3.html",
    title="关于调整城乡居民医疗保险缴费标准的通知",
    published=D(2020, 3, 1),
    interpretation_links=(f"{SITE}/zcjd/t33.html",),
)
P_SOURCE_LINK = Doc(
    url=f"{SITE}/zcwj/t4.html",
    title="关于开展农村人居环境整治的实施意见",
    published=D(2020, 2, 1),
)
P_ALONE = Doc(
    url=f"{SITE}/zcwj/t5.html",
    title="关于印发《江滨区营商环境优化方案》的通知",
    published=D(2020, 6, 1),
    number="江滨府办〔2020〕13号",
)
P_OLD = Doc(url=f"{SITE}/zcwj/t6.html", title="关于印发某某办法的通知", published=D(2019, 1, 1))
P_UNDATED = Doc(url=f"{SITE}/zcwj/t7.html", title="关于某某事项的通知")
P_LONG_TITLE = Doc(
    url=f"{SITE}/zcwj/t8.html",
    title="江滨区老旧小区改造工作实施方案",
    published=D(2020, 5, 20),
)

I_TITLE = Doc(url=f"{SITE}/zcjd/t11.html", title="《江滨区促进就业若干措施》政策解读")
I_NUMBER = Doc(
    url=f"{SITE}/zcjd/t12.html",
    title="防汛防旱工作要点解读",
    text="近日，区政府印发了江滨府〔2020〕8号文件，现解读如下……",
)
I_SOURCE = Doc(
    url=f"{SITE}/zcjd/t13.html",
    title="一图读懂农村人居环境整治",
    source_links=(f"{SITE}/zcwj/t4.html",),
)
I_TRAPS = Doc(
    url=f"{SITE}/zcjd/t14.html",
    title="解读：优化营商环境",
    # another issuer's 13号, a part of the title, a link to the policy list page
    text="根据江滨府〔2020〕13号，结合《江滨区营商环境》相关要求……",
    source_links=(f"{SITE}/zcwj/",),
)
I_CONTAINED = Doc(
    url=f"{SITE}/zcjd/t15.html",
    title="图解",
    text="江滨区老旧小区改造工作实施方案出台，一图看懂改造范围。",
)
POLICIES = [P_TITLE, P_NUMBER, P_OWN_LINK, P_SOURCE_LINK, P_ALONE, P_OLD, P_UNDATED, P_LONG_TITLE]
INTERPRETATIONS = [I_TITLE, I_NUMBER, I_SOURCE, I_TRAPS, I_CONTAINED]


def test_each_way_of_matching() -> None:
    got = {
        m.policy: (m.interpretation, m.how)
        for m in match_interpretations(POLICIES, INTERPRETATIONS)
    }
    assert got[P_TITLE.url] == (I_TITLE.url, "title")
    assert got[P_NUMBER.url] == (I_NUMBER.url, "number")
    assert got[P_OWN_LINK.url] == (None, "link")
    assert got[P_SOURCE_LINK.url] == (I_SOURCE.url, "link")
    assert got[P_LONG_TITLE.url] == (I_CONTAINED.url, "title")
    assert P_ALONE.url not in got


def test_only_policies_inside_the_window_are_reported() -> None:
    missing = unmatched_policies(
        POLICIES, INTERPRETATIONS, since=D(2019, 6, 16), until=D(2020, 6, 16)
    )
    assert [p.url for p in missing] == [P_ALONE.url]
    # without a window every unmatched policy counts, undated ones too
    everything = unmatched_policies(POLICIES, INTERPRETATIONS)
    assert [p.url for p in everything] == [P_ALONE.url, P_OLD.url, P_UNDATED.url]
    # a policy published after the window's end is not judged yet
    assert unmatched_policies([P_ALONE], [], until=D(2020, 5, 31)) == []


def test_a_number_cited_without_prefix_matches_only_when_unique() -> None:
    bare = Doc(url=f"{SITE}/zcjd/t20.html", title="解读", text="〔2020〕8号文件明确……")
    assert unmatched_policies([P_NUMBER], [bare]) == []
    other = Doc(url=f"{SITE}/zcwj/t21.html", title="另一个文件", number="江滨府办〔2020〕8号")
    assert [p.url for p in unmatched_policies([P_NUMBER, other], [bare])] == [
        P_NUMBER.url,
        other.url,
    ]


def test_short_titles_must_be_named_in_brackets() -> None:
    short = Doc(url=f"{SITE}/zcwj/t30.html", title="防汛工作方案", published=D(2020, 5, 1))
    says = Doc(url=f"{SITE}/zcjd/t31.html", title="解读", text="今年的防汛工作方案有三大亮点")
    assert unmatched_policies([short], [says]) == [short]
    named = Doc(url=f"{SITE}/zcjd/t32.html", title="《防汛工作方案》解读")
    assert unmatched_policies([short], [named]) == []


# --------------------------------------------------------------------------------------------
# Reading pages
# --------------------------------------------------------------------------------------------

POLICY_PAGE = f"""<html><head>
<meta name="ArticleTitle" content="关于印发《江滨区促进就业若干措施》的通知">
<title>关于印发《江滨区促进就业若干措施》的通知_政策文件_江滨区</title></head><body>
<div class="nav"><a href="/zcjd/">政策解读</a><a href="/zcwj/">政策文件</a></div>
<div class="side"><h3>栏目</h3><a href="{SITE}/zcjd/index.html">政策解读</a></div>
<div class="article"><h1>关于印发《江滨区促进就业若干措施》的通知</h1>
<table class="meta"><tr><td>文号：</td><td>江滨府办〔2020〕12号</td></tr></table>
<div class="content"><p>各镇人民政府、街道办事处，区直各单位：</p><p>现将……印发给你们。</p>
<p><a href="/files/a.pdf">原文下载</a></p></div>
<p>相关解读：<a href="/zcjd/202005/t11.html">《江滨区促进就业若干措施》政策解读</a></p>
<div class="xg"><h4>相关解读</h4>
<ul><li><a href="/zcjd/202005/t12.html">一图读懂</a></li></ul></div>
<div class="xg"><h4>相关新闻</h4>
<ul><li><a href="/zwdt/t99.html">区长调研就业工作</a></li></ul></div>
</div>
<div class="footer"><a href="/zcjd/t0.html">解读</a>版权所有</div></body></html>"""

INTERPRETATION_PAGE = """<html><head><title>政策解读_江滨区</title></head><body>
<div class="article"><h1>《江滨区促进就业若干措施》政策解读</h1>
<div class="content"><p>一、出台背景……根据江滨府办〔2020〕12号……</p></div>
<p>原文链接：<a href="/zcwj/202005/t1.html">关于印发《江滨区促进就业若干措施》的通知</a></p>
<p><a href="/zcwj/202005/t1b.html">点击查看政策原文</a></p>
<p><a href="/zcjd/">返回列表</a></p>
</div></body></html>"""


def test_explicit_links_on_a_policy_page() -> None:
    tree = LexborHTMLParser(POLICY_PAGE)
    interpretations, sources = explicit_links(tree, f"{SITE}/zcwj/202005/t1.html")
    assert interpretations == (f"{SITE}/zcjd/202005/t11.html", f"{SITE}/zcjd/202005/t12.html")
    # the policy's own attachment is a 原文 link: harmless on a policy page
    assert sources == (f"{SITE}/files/a.pdf",)


def test_explicit_links_on_an_interpretation_page() -> None:
    tree = LexborHTMLParser(INTERPRETATION_PAGE)
    interpretations, sources = explicit_links(tree, f"{SITE}/zcjd/202005/t11.html")
    assert interpretations == ()
    assert sources == (f"{SITE}/zcwj/202005/t1.html", f"{SITE}/zcwj/202005/t1b.html")


def test_read_doc() -> None:
    policy = read_doc(LexborHTMLParser(POLICY_PAGE), f"{SITE}/zcwj/202005/t1.html")
    assert policy.title == "关于印发《江滨区促进就业若干措施》的通知"
    assert policy.number == "江滨府办〔2020〕12号"
    assert "现将……印发给你们" in policy.text
    assert "版权所有" not in policy.text
    interp = read_doc(
        LexborHTMLParser(INTERPRETATION_PAGE),
        f"{SITE}/zcjd/202005/t11.html",
        published=D(2020, 5, 12),
    )
    assert interp.title == "《江滨区促进就业若干措施》政策解读"
    assert interp.published == D(2020, 5, 12)
    # matched both ways
    bare_policy = Doc(url=policy.url, title=policy.title, number=policy.number)
    assert unmatched_policies([bare_policy], [interp]) == []
    assert unmatched_policies([policy], []) == []  # its own 相关解读 link


def test_a_policy_page_linking_only_to_the_interpretation_column_is_not_interpreted() -> None:
    page = f"""<html><body><div class="article"><h1>关于某某的通知</h1>
    <p>正文</p><p><a href="{SITE}/zcjd/">政策解读</a></p>
    <p><a href="/zcjd/index_1.html">解读</a></p>
    </div></body></html>"""
    doc = read_doc(LexborHTMLParser(page), f"{SITE}/zcwj/t9.html")
    assert doc.interpretation_links == ()
    assert unmatched_policies([doc], []) == [doc]


HTML = RANDOM_MARKUP


@settings(max_examples=200, deadline=None)
@given(HTML)
def test_any_markup_reads_without_error(html: str) -> None:
    doc = read_doc(LexborHTMLParser(html), f"{SITE}/zcwj/t.html")
    unmatched_policies([doc], [doc])
    extract_doc_number(html)
