"""Service guides: the 10 key elements found by heading or label with their synonyms; empty or
无 counts as missing, except for the fee (不收费 / 无 is the answer)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from selectolax.lexbor import LexborHTMLParser

from checks.guides import ELEMENTS, SYNONYMS, guide_missing, is_incomplete, read_guide
from tests.support.paths import DEMO_SITE
from tests.support.strategies import RANDOM_MARKUP

DEMO = DEMO_SITE / "town.district.test" / "bszn"


def page(body: str, title: str = "办事指南") -> LexborHTMLParser:
    return LexborHTMLParser(
        f"""<html><head><title>{title}_江滨区</title></head><body>
<div class="nav"><a href="/">首页</a><a href="/bszn/">办事指南</a></div>
<div class="article">{body}</div>
<div class="footer"><p>主办单位：江滨区人民政府</p><p>联系电话：0123-88880000</p>
<p>地址：江滨区江滨路1号</p><p>某ICP备00000000号</p></div></body></html>"""
    )


def test_the_demo_guide_is_complete() -> None:
    html = next(DEMO.glob("*/t*.html")).read_text(encoding="utf-8")
    assert guide_missing(LexborHTMLParser(html)) == []


HEADINGS_WITH_SYNONYMS = """
<h1>城乡居民养老保险参保登记</h1>
<h3>一、服务事项名称</h3><p>城乡居民养老保险参保登记</p>
<h3>二、法定依据</h3><p>《中华人民共和国社会保险法》第二十条</p>
<h3>三、受理条件</h3><p>年满16周岁，不符合职工基本养老保险参保条件的城乡居民。</p>
<h3>四、申请材料</h3><ol><li>居民身份证原件；</li><li>户口簿原件。</li></ol>
<h3>五、受理地点</h3><p>各镇（街道）便民服务中心</p>
<h3>六、实施机构</h3><p>区社会保险基金管理局</p>
<h3>七、收费依据及标准</h3><p>不收费</p>
<h3>八、承诺时限</h3><p>即办</p>
<h3>九、咨询电话</h3><p>0123-12345678</p>
<h3>十、办事流程</h3><p>申请—受理—审核—办结</p>
"""

LINES_WITH_OTHER_SYNONYMS = """
<div class="guide">
<p>事项名称：残疾人两项补贴申领</p>
<p>实施依据：《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》</p>
<p>申办条件：持有第二代残疾人证的困难残疾人、重度残疾人。</p>
<p>所需材料：申请表、残疾人证、身份证。</p>
<p>办公地点：区民政局一楼窗口</p>
<p>受理部门：区民政局</p>
<p>是否收费：否</p>
<p>办理时限：20个工作日</p>
<p>监督电话：12345</p>
<p>办理程序：个人申请、镇街审核、区级审定</p>
</div>
"""

DEFINITION_LIST = """
<dl>
<dt>事项名称</dt><dd>临时救助申请</dd>
<dt>设定依据</dt><dd>《社会救助暂行办法》</dd>
<dt>申请条件</dt><dd>因突发事件导致基本生活暂时出现严重困难的家庭。</dd>
<dt>申报材料</dt><dd>申请书、身份证明。</dd>
<dt>办理地址</dt><dd>各镇（街道）社会事务办</dd>
<dt>办理部门</dt><dd>区民政局</dd>
<dt>收费标准</dt><dd>免费</dd>
<dt>受理时间</dt><dd>工作日 8:30-12:00</dd>
<dt>联系方式</dt><dd>0123-22223333</dd>
<dt>流程图</dt><dd><img src="lct.png" alt="流程图">见附件</dd>
</dl>
"""


@pytest.mark.parametrize(
    "body",
    [HEADINGS_WITH_SYNONYMS, LINES_WITH_OTHER_SYNONYMS, DEFINITION_LIST],
    ids=["headings", "lines", "dl"],
)
def test_synonyms_for_every_element(body: str) -> None:
    assert guide_missing(page(body)) == []


def test_which_label_satisfied_each_element() -> None:
    found = read_guide(page(LINES_WITH_OTHER_SYNONYMS))
    assert found["设定依据"].label == "实施依据"
    assert found["办理材料"].label == "所需材料"
    # decision: a time limit satisfies 办理时间 (and office hours do too)
    assert found["办理时间"].label == "办理时限"
    assert found["办理时间"].value == "20个工作日"
    assert found["联系电话"].label == "监督电话"
    assert read_guide(page(DEFINITION_LIST))["办理时间"].label == "受理时间"


def test_empty_and_placeholder_elements_are_missing() -> None:
    body = """<table>
    <tr><th>事项名称</th><td>门牌号码编制</td></tr>
    <tr><th>设定依据</th><td>无</td></tr>
    <tr><th>申请条件</th><td></td></tr>
    <tr><th>办理材料</th><td>暂无</td></tr>
    <tr><th>办理地点</th><td>—</td></tr>
    <tr><th>办理机构</th><td>区民政局</td></tr>
    <tr><th>收费标准</th><td>无</td></tr>
    <tr><th>办理时间</th><td>工作日</td></tr>
    <tr><th>办理流程</th><td>申请、审核、发证</td></tr>
    </table>"""
    missing = guide_missing(page(body))
    # 联系电话 is absent: the footer's number is the site's, not the guide's
    assert missing == ["设定依据", "申请条件", "办理材料", "办理地点", "联系电话"]
    assert is_incomplete(missing)


def test_three_missing_is_not_incomplete() -> None:
    text = """事项名称：户外广告设置审批
    设定依据：《城市市容和环境卫生管理条例》
    申请条件：无特殊要求
    办理材料：申请表
    办理地点：区政务服务中心
    办理机构：区城管局
    收费标准：不收费"""
    missing = guide_missing(text)
    assert missing == ["办理时间", "联系电话", "办理流程"]
    assert not is_incomplete(missing)
    assert is_incomplete([*missing, "办理地点"])


def test_fee_answers_count_as_present() -> None:
    for answer in ("不收费", "免费", "无", "按国家标准收取"):
        assert "收费标准" not in guide_missing(f"收费标准：{answer}")
    assert "收费标准" in guide_missing("收费标准：")


def test_the_name_can_come_from_the_page_title() -> None:
    body = "<h1>农村建房审批办事指南</h1>" + LINES_WITH_OTHER_SYNONYMS.replace(
        "<p>事项名称：残疾人两项补贴申领</p>", ""
    )
    found = read_guide(page(body))
    assert found["事项名称"].value == "农村建房审批"
    assert guide_missing(page(body)) == []
    # a page title that is not a guide's says nothing
    plain = "<h1>关于农村建房的通知</h1>" + LINES_WITH_OTHER_SYNONYMS.replace(
        "<p>事项名称：残疾人两项补贴申领</p>", ""
    )
    assert guide_missing(page(plain)) == ["事项名称"]


def test_words_inside_content_are_not_labels() -> None:
    text = """设定依据：
    依据《中华人民共和国土地管理法》第六十二条
    流程简便，地点就近"""
    found = read_guide(text)
    assert set(found) == {"设定依据"}
    assert "第六十二条" in found["设定依据"].value


def test_a_blank_guide_misses_everything() -> None:
    assert guide_missing(page("<p>页面建设中</p>")) == list(ELEMENTS)
    assert guide_missing("") == list(ELEMENTS)


def test_every_element_has_synonyms_and_no_synonym_is_shared() -> None:
    assert set(SYNONYMS) == set(ELEMENTS)
    seen: dict[str, str] = {}
    for element, words in SYNONYMS.items():
        assert element in words
        for word in words:
            assert word not in seen, (word, seen.get(word), element)
            seen[word] = element


HTML = RANDOM_MARKUP


@settings(max_examples=200, deadline=None)
@given(HTML)
def test_any_markup_reads_without_error(html: str) -> None:
    missing = guide_missing(LexborHTMLParser(html))
    assert set(missing) <= set(ELEMENTS)
    assert guide_missing(html) == [e for e in ELEMENTS if e in guide_missing(html)]
