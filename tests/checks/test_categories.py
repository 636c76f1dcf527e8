"""Column names → INTERFACE categories (`checks.categories`), on names real sites use."""

from __future__ import annotations

import pytest

from checks.categories import CATEGORY_NAMES, classify_column, is_column_name
from crawler.config import CATEGORIES

# (name as sites write it, category); grouped by the rule that reads them
NAMES: tuple[tuple[str, str], ...] = (
    # 动态、要闻: the two-week rule
    ("工作动态", "news"),
    ("部门动态", "news"),
    ("镇街动态", "news"),
    ("乡镇动态", "news"),
    ("政务动态", "news"),
    ("图片新闻", "news"),
    ("新闻动态", "news"),
    ("政务要闻", "news"),
    ("要闻", "news"),
    # 通知公告 and 政策文件: six months when top-level
    ("通知公告", "notice"),
    ("公示公告", "notice"),
    ("公告公示", "notice"),
    ("政策文件", "policy"),
    ("规范性文件", "policy"),
    ("政府文件", "policy"),
    ("政策法规", "policy"),
    # interpretations are not policy documents, though they name 政策
    ("政策解读", "interpretation"),
    ("图解政策", "interpretation"),
    ("政策文件解读", "interpretation"),
    ("解读回应", "interpretation"),
    # 人事 and 规划计划: a year; 人事任免 is personnel, not a notice, even as 人事任免通知
    ("人事任免", "personnel"),
    ("人事信息", "personnel"),
    ("人事任免通知", "personnel"),
    ("招录招聘", "personnel"),
    ("规划计划", "planning"),
    ("计划总结", "planning"),
    ("发展规划", "planning"),
    # the FAQ base (a local rule: monthly)
    ("常见问题", "faq"),
    ("答问知识库", "faq"),
    ("热点问答", "faq"),
    ("政策问答", "faq"),
    # interaction: consultation, surveys, interviews are three different indicators
    ("政务咨询", "consultation"),
    ("领导信箱", "consultation"),
    ("咨询投诉", "consultation"),
    ("在线咨询", "consultation"),
    ("互动交流", "consultation"),
    ("调查征集", "survey"),
    ("意见征集", "survey"),
    ("征求意见", "survey"),
    ("在线访谈", "interview"),
    # services and their statistics
    ("办事指南", "service"),
    ("服务指南", "service"),
    ("办事统计", "stats"),
    ("办件统计", "stats"),
    # pages that are not columns of any rule
    ("机构概况", "other"),
    ("机构职能", "other"),
    ("领导之窗", "other"),
    ("专题专栏", "other"),
    ("政府信息公开指南", "other"),
    ("网站地图", "other"),
    ("联系我们", "other"),
    ("首页", "other"),
)

NOT_COLUMN_NAMES: tuple[str, ...] = (
    # article titles that name a category but are far too long for a navigation label
    "关于印发《江滨区2020年政务公开工作要点》的通知",
    "江滨区人民政府关于张三等同志职务任免的通知",
    "关于开展2020年度人事信息统计工作的通知",
    "一图读懂江滨区政策解读工作实施意见",
    "江滨区召开2020年第二季度工作动态分析会",
    "江滨区2020年政府信息公开工作年度报告",
    # navigation that names no category
    "机构概况",
    "首页",
    "更多>>",
    "更多",
    "网站地图",
    # too short to be a name
    "动",
    "",
)


@pytest.mark.parametrize(("name", "category"), NAMES, ids=[n for n, _ in NAMES])
def test_classify_column(name: str, category: str) -> None:
    assert classify_column(name) == category


@pytest.mark.parametrize(("name", "category"), [n for n in NAMES if n[1] != "other"])
def test_named_columns_are_column_names(name: str, category: str) -> None:
    assert is_column_name(name), f"{name} ({category}) is a column name"


@pytest.mark.parametrize("text", NOT_COLUMN_NAMES)
def test_not_column_names(text: str) -> None:
    assert not is_column_name(text)


def test_spaces_inside_a_name_do_not_matter() -> None:
    # navigation labels are often spaced out to line up: "工 作 动 态", "通知　公告"
    assert classify_column("工 作 动 态") == "news"
    assert classify_column("通知\u3000公告") == "notice"
    assert is_column_name(" 人 事 信 息 ")
    assert classify_column("政策\n解读") == "interpretation"


def test_length_limit_counts_characters_without_spaces() -> None:
    twelve = "江滨区发展和改革工作动态"  # 12 characters: still a label
    assert len(twelve) == 12
    assert is_column_name(twelve)
    thirteen = "江滨区发展和改革局工作动态"  # 13: a title
    assert not is_column_name(thirteen)
    assert classify_column(thirteen) == "news"  # classified all the same


def test_every_category_is_an_interface_category() -> None:
    found = {category for _, category in NAMES}
    assert found == set(CATEGORIES), set(CATEGORIES) ^ found
    assert set(CATEGORY_NAMES) == set(CATEGORIES)
    # each category's own Chinese name classifies as that category
    for category, label in CATEGORY_NAMES.items():
        if category != "other":
            assert classify_column(label) == category, label
