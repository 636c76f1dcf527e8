"""A page's readable text, labels, and the typo and sensitive lexicons: hits with suggestion
and context, and the traps: names, footers and navigation, protected words, allow lists,
enforcement news."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from selectolax.lexbor import LexborHTMLParser

from checks.lexicon import SENSITIVE, TYPO, Lexicon, looks_like_name, shipped_lexicon
from checks.readers.text import LabelTable, is_chrome_line, page_lines, scan_labels
from checks.readers.wordlists import (
    LexiconError,
    TypoEntry,
    parse_typo_lexicon,
    parse_word_list,
    shipped_sensitive,
    shipped_typos,
)
from tests.support.realdata import manifest, needs_realdata
from tests.support.strategies import RANDOM_MARKUP

ARTICLE = """<!DOCTYPE html><html><head><title>不忘出心_江滨区</title>
<script>var s = "不忘出心";</script><style>.a{color:red}</style></head><body>
<div class="topbar"><a href="/">江滨区人民政府</a> 通迅录</div>
<div id="header"><img src="/logo.png" alt="江滨区"></div>
<nav><a href="/">首页</a><a href="/zwdt/">通迅员之窗</a></nav>
<div class="position">当前位置：首页 &gt; 工作动态</div>
<div class="article">
  <h1>区委理论学习中心组学习十九大四中全会精神</h1>
  <div class="info">发布时间：2020-06-15　来源：区委办</div>
  <div class="content">
    <p>会议强调，要坚持不忘出心、牢记使命，认真惯彻落实上级决策布署。</p>
    <p>刘松驰同志主持会议。会议指出，个别单位纪律松驰，要引起重视。</p>
    <p>交通迅速发展，通迅员队伍不断壮大。</p>
  </div>
</div>
<div class="footer">
  <p>主办单位：江滨区人民政府办公室　通迅地址：江滨路1号</p>
  <p>某ICP备00000000号　某公网安备 00000000000000号</p>
  <p>版权所有 © 江滨区人民政府 网站标识码0000000000 不忘出心</p>
</div>
</body></html>"""


# --------------------------------------------------------------------------------------------
# Page text
# --------------------------------------------------------------------------------------------


def test_page_lines_skip_chrome_scripts_and_footer_lines() -> None:
    lines = page_lines(LexborHTMLParser(ARTICLE))
    assert lines[0] == "区委理论学习中心组学习十九大四中全会精神"
    assert "发布时间：2020-06-15　来源：区委办".replace("　", " ") in lines
    text = "\n".join(lines)
    for absent in ("首页", "通迅录", "通迅员之窗", "当前位置", "ICP", "版权所有", "var s", "color"):
        assert absent not in text
    assert "刘松驰同志主持会议。会议指出，个别单位纪律松驰，要引起重视。" in lines


def test_page_lines_with_chrome() -> None:
    text = "\n".join(page_lines(LexborHTMLParser(ARTICLE), skip_chrome=False))
    assert "通迅录" in text
    assert "某ICP备00000000号" in text
    assert "var s" not in text


def test_inline_elements_join_but_numbers_stay_apart() -> None:
    html = """<div><p><b>不忘</b>初心</p><p><span>2020-05-08</span><span>2020-05-15</span></p>
    <p><span>答复时间：</span>2020-05-07</p><table><tr><td>答复单位</td><td>区城管局</td></tr>
    </table><p>第一行<br>第二行</p><div hidden>看不见</div></div>"""
    assert page_lines(LexborHTMLParser(html)) == [
        "不忘初心",
        "2020-05-08 2020-05-15",
        "答复时间：2020-05-07",
        "答复单位",
        "区城管局",
        "第一行",
        "第二行",
    ]


def test_article_header_is_content_but_a_site_header_is_chrome() -> None:
    html = """<body><header><p>江滨区人民政府</p></header><article><header><h1>标题一</h1>
    </header><p>正文</p></article><div class="article-header">标题二</div></body>"""
    assert page_lines(LexborHTMLParser(html)) == ["标题一", "正文", "标题二"]


@pytest.mark.parametrize(
    ("line", "chrome"),
    [
        ("粤ICP备12345678号-1", True),
        ("粤公网安备 44070302000123号", True),
        ("版权所有：江滨区人民政府", True),
        ("Copyright 2020 江滨区", True),
        ("网站标识码：4407030001", True),
        ("技术支持：某某公司", True),
        ("当前位置：首页 > 通知公告", True),
        ("承办单位：区城管局", False),  # a message's replying unit, not a footer by itself
        ("联系电话：0123-88880000", False),
        ("会议强调，要坚持不忘初心", False),
    ],
)
def test_chrome_lines(line: str, chrome: bool) -> None:
    assert is_chrome_line(line) is chrome


TABLE = LabelTable(
    {"答复时间": "replied", "答复单位": "unit", "答复内容": "reply", "状态": "status", "留言人": ""}
)


def test_scan_labels_in_every_form() -> None:
    lines = [
        "答复时间：2020-05-07",  # same line
        "答复单位",  # alone: the value is on the next line
        "区城管局",
        "【答复内容】",  # a bracketed heading over paragraphs
        "您好！",
        "已安排维修。",
        "留言人：网友",  # a recognised label that is not read ends the value before it
        "状态：已回复 答复时间：2020-05-08",  # several pairs on one line
        "三、答复单位：区住建局",  # numbered
        "答复时间2020-05-09",  # four-character label run into its value
        "状态良好",  # a two-character label needs a separator
    ]
    got = [(f.key, f.label, f.lines) for f in scan_labels(lines, TABLE)]
    assert got == [
        ("replied", "答复时间", ("2020-05-07",)),
        ("unit", "答复单位", ("区城管局",)),
        ("reply", "答复内容", ("您好！", "已安排维修。")),
        ("status", "状态", ("已回复",)),
        ("replied", "答复时间", ("2020-05-08",)),
        ("unit", "答复单位", ("区住建局",)),
        ("replied", "答复时间", ("2020-05-09",)),
    ]


def test_an_empty_value_stays_empty() -> None:
    got = scan_labels(["答复时间", "答复内容", "您好"], TABLE)
    assert [(f.key, f.first) for f in got] == [("replied", ""), ("reply", "您好")]


# --------------------------------------------------------------------------------------------
# Lexicons
# --------------------------------------------------------------------------------------------


def test_shipped_lexicons_are_sizeable_and_well_formed() -> None:
    typos = shipped_typos()
    words = shipped_sensitive()
    assert len(typos) >= 60
    assert len(words) >= 30
    wrongs = [t.wrong for t in typos]
    assert len(wrongs) == len(set(wrongs))
    assert len(words) == len(set(words))
    for entry in typos:
        assert entry.wrong != entry.right
        assert len(entry.wrong) >= 2
    lexicon = shipped_lexicon()
    assert lexicon.typo_count == len(typos)
    assert lexicon.sensitive_count == len(words)


def test_correct_text_has_no_typos() -> None:
    """Every suggestion, and every protected word, is correct text: none may be flagged."""
    typos = shipped_typos()
    correct = (
        "。".join(t.right for t in typos) + "。" + "。".join(p for t in typos for p in t.protected)
    )
    assert shipped_lexicon().scan_text(correct) == []


def test_official_prose_has_no_typos() -> None:
    prose = (
        "坚持以习近平新时代中国特色社会主义思想为指导，全面贯彻党的十九大和十九届二中、三中、"
        "四中、五中全会精神，不忘初心、牢记使命，践行社会主义核心价值观，统筹推进疫情防控和经济"
        "社会发展工作，坚决打赢脱贫攻坚战，推动粤港澳大湾区建设，优化营商环境，深化供给侧结构性"
        "改革，供给测算显示产能充足。中华人民共和国第十三届全国人民代表大会第三次会议，人大常委会"
        "审议通过。纪律检查委员会、人民检察院按照部署开展工作。画像征集活动、好像征求意见。"
        "交通迅速发展，习惯彻夜加班，全国藉此机会，轻松驰骋。"
    )
    assert shipped_lexicon().scan_text(prose) == []


def test_typos_in_the_article_body_with_suggestion_and_context() -> None:
    hits = shipped_lexicon().scan_page(LexborHTMLParser(ARTICLE))
    got = [(h.kind, h.text, h.suggestion) for h in hits]
    assert got == [
        (TYPO, "十九大四中全会", "十九届四中全会"),
        (TYPO, "不忘出心", "不忘初心"),
        (TYPO, "惯彻", "贯彻"),
        (TYPO, "决策布署", "决策部署"),
        (TYPO, "松驰", "松弛"),  # 纪律松驰, not 刘松驰同志
        (TYPO, "通迅", "通讯"),  # 通迅员, not 交通迅速
    ]
    first = hits[1]
    assert first.code == "content.typo"
    text = "\n".join(page_lines(LexborHTMLParser(ARTICLE)))
    at = text.index("不忘出心")
    assert first.start == at
    assert first.context == " ".join(text[at - 20 : at + 4 + 20].split())
    assert first.detail() == {
        "text": "不忘出心",
        "suggestion": "不忘初心",
        "context": first.context,
    }


@pytest.mark.parametrize(
    "text",
    [
        "刘松驰同志主持会议。",
        "出席会议的有：王松驰、李寒喧、张气慨。",
        "联系人：欧阳松驰，电话：0123-1234567",
        "区长陈追朔强调",
        "请李迁徒先生到场",
    ],
)
def test_names_are_not_typos(text: str) -> None:
    assert shipped_lexicon().scan_text(text) == []


@pytest.mark.parametrize(
    "text",
    ["个别单位纪律松驰。", "管理松驰的问题", "寒喧几句后", "候鸟迁徒季节", "追朔历史"],
)
def test_the_same_words_outside_names_are_typos(text: str) -> None:
    assert [h.kind for h in shipped_lexicon().scan_text(text)] == [TYPO]


def test_looks_like_name() -> None:
    text = "出席：王松驰、张三。纪律松驰。"
    assert looks_like_name(text, text.index("松驰"), text.index("松驰") + 2)
    later = text.rindex("松驰")
    assert not looks_like_name(text, later, later + 2)


def test_protected_words_and_the_allow_list() -> None:
    lexicon = Lexicon(shipped_typos(), allow=["松驰科技", "不忘出心茶馆"])
    assert lexicon.scan_text("松驰科技有限公司中标。不忘出心茶馆开业。") == []
    assert [h.text for h in lexicon.scan_text("这像征着新的开始，好像征求过意见")] == ["像征"]


def test_sensitive_phrases_and_enforcement_news() -> None:
    lexicon = shipped_lexicon()
    spam = "欢迎访问网络赌场，真人百家乐，注册送彩金！日本av在线"
    hits = lexicon.scan_text(spam)
    assert [(h.kind, h.text) for h in hits] == [
        (SENSITIVE, "网络赌场"),
        (SENSITIVE, "真人百家乐"),  # not also 百家乐 inside it
        (SENSITIVE, "注册送彩金"),
        (SENSITIVE, "日本av"),
    ]
    assert hits[0].code == "content.sensitive"
    assert hits[0].suggestion is None
    news = "我区开展严厉打击网络赌场专项行动。公安机关破获一起六合彩案件。"
    assert lexicon.scan_text(news) == []
    assert len(lexicon.scan_text(news, enforcement_context=True)) == 2
    # enforcement words in another sentence do not cover planted text
    mixed = "严厉打击网络赌场。欢迎来到网络赌场！"
    assert [h.start for h in lexicon.scan_text(mixed)] == [mixed.rindex("网络赌场")]


def test_a_hit_inside_a_longer_hit_of_its_kind_is_left_out() -> None:
    lexicon = Lexicon(
        [TypoEntry("一代一路", "一带一路"), TypoEntry("一代一路倡议", "一带一路倡议")]
    )
    assert [h.text for h in lexicon.scan_text("推进一代一路倡议")] == ["一代一路倡议"]
    assert [h.text for h in lexicon.scan_text("推进一代一路建设")] == ["一代一路"]


def test_user_lexicons_merge_with_the_shipped_ones(tmp_path: Path) -> None:
    typos = tmp_path / "typos.tsv"
    typos.write_text(
        "# 本单位补充\n倡仪\t倡议\n松驰\t松弛（请改）\n迁移户口  迁移户籍\n", encoding="utf-8"
    )
    words = tmp_path / "words.txt"
    words.write_text("\ufeff# 补充\n赌博游戏\n", encoding="utf-8")
    allow = tmp_path / "allow.txt"
    allow.write_text("发出倡仪书\n", encoding="utf-8")
    lexicon = Lexicon.load(typo_files=[typos], sensitive_files=[words], allow_files=[allow])
    assert lexicon.typo_count == len(shipped_typos()) + 2  # 松驰 replaced, two added
    text = "发出倡仪。李倡仪同志。纪律松驰。开设赌博游戏。发出倡仪书。"
    got = [(h.text, h.suggestion) for h in lexicon.scan_text(text)]
    assert got == [("倡仪", "倡议"), ("松驰", "松弛（请改）"), ("赌博游戏", None)]
    alone = Lexicon.load(typo_files=[typos], shipped=False)
    assert alone.typo_count == 3
    assert alone.sensitive_count == 0


def test_bad_lexicon_files_say_where(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match=r"x\.tsv:2"):
        parse_typo_lexicon("好\t对\n只有一列\n", "x.tsv")
    with pytest.raises(LexiconError, match="its own suggestion"):
        parse_typo_lexicon("对\t对\n")
    with pytest.raises(LexiconError, match="must contain"):
        parse_typo_lexicon("通迅\t通讯\t交通快速\n")
    with pytest.raises(LexiconError, match="one word"):
        parse_word_list("赌\t博\n")
    with pytest.raises(LexiconError, match="cannot read"):
        Lexicon.load(typo_files=[tmp_path / "missing.tsv"])


def test_empty_lexicon_and_text() -> None:
    assert Lexicon().scan_text("不忘出心") == []
    assert shipped_lexicon().scan_text("") == []


def test_matching_is_fast() -> None:
    lexicon = shipped_lexicon()
    text = ("会议强调，要坚持不忘初心、牢记使命，认真贯彻落实上级决策部署。" * 20 + "\n") * 500
    started = time.perf_counter()
    assert lexicon.scan_text(text) == []
    assert time.perf_counter() - started < 2.0


@needs_realdata
def test_real_pages_give_only_real_typos() -> None:
    """97 real Chinese pages (news, blogs, government pages): every hit is a genuine error."""
    hits: set[tuple[str, str]] = set()
    for real in manifest():
        encoding = "utf-8" if real.actual_encoding == "utf-8" else "gb18030"
        tree = LexborHTMLParser(real.path.read_bytes().decode(encoding, "replace"))
        for hit in shipped_lexicon().scan_page(tree):
            hits.add((real.path.stem[:8], hit.text))
    assert hits == {
        ("6650f72a", "消声匿迹"),  # 销声匿迹
        ("6650f72a", "走头无路"),  # 走投无路
        ("caee0a34", "渲泄"),  # 宣泄
    }


HTML = RANDOM_MARKUP


@settings(max_examples=200, deadline=None)
@given(HTML)
def test_any_markup_reads_without_error(html: str) -> None:
    tree = LexborHTMLParser(html)
    for hit in shipped_lexicon().scan_page(tree):
        assert hit.text == "不忘出心"
    scan_labels(page_lines(tree, skip_chrome=False), TABLE)
