"""Column (栏目) categories from their names, the way inspectors read them. Pure.

Names on real sites vary (工作动态, 部门动态, 镇街动态, 乡镇动态, 图片新闻, 要闻, 政务要闻 ...); the
table below maps keywords to the INTERFACE categories, most specific first, so that 政策解读 is an
interpretation column and not a policy one, and 人事任免 is personnel and not a notice.
"""

from __future__ import annotations

import re

# (category, keywords): checked in this order; the first keyword found in the name wins
_TABLE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("interpretation", ("政策解读", "解读", "图解", "解答政策")),
    ("faq", ("常见问题", "热点问答", "答问", "问答", "知识库", "政策问答")),
    ("consultation", ("咨询", "留言", "信箱", "来信", "诉求", "网民", "12345", "互动交流")),
    ("survey", ("调查", "征集", "征求意见", "意见征集")),
    ("interview", ("访谈", "在线直播")),
    ("stats", ("办事统计", "办件统计", "统计数据", "数据发布", "统计信息", "统计")),
    ("service", ("办事指南", "服务指南", "办事服务", "办事", "服务事项", "网上办")),
    ("personnel", ("人事", "任免", "招录", "招聘", "公务员")),
    ("planning", ("规划", "计划", "总结", "工作报告")),
    ("policy", ("政策文件", "规范性文件", "政府文件", "政策法规", "文件", "法规", "政策")),
    ("notice", ("通知公告", "公示公告", "公告公示", "通知", "公告", "公示", "通告")),
    ("news", ("动态", "要闻", "新闻", "资讯", "头条", "时讯", "快讯", "工作信息", "简报")),
)
_SPACES = re.compile(r"\s+")

CATEGORY_NAMES = {
    "news": "动态要闻",
    "notice": "通知公告",
    "policy": "政策文件",
    "interpretation": "政策解读",
    "personnel": "人事信息",
    "planning": "规划计划",
    "faq": "答问知识库",
    "consultation": "政务咨询",
    "survey": "调查征集",
    "interview": "在线访谈",
    "service": "办事指南",
    "stats": "办事统计",
    "other": "其他",
}


# digits (any script's) with the punctuation of numbers and pagers: 12345, [2], 1/20, 第2页 is not
_NUMBER = re.compile(r"[\d\s.,:/()（）\[\]【】#-]+")


def classify_column(name: str) -> str:
    """The INTERFACE category of a column called ``name`` (``other`` when nothing matches)."""
    text = _SPACES.sub("", name)
    for category, keywords in _TABLE:
        if any(k in text for k in keywords):
            return category
    return "other"


def is_column_name(text: str) -> bool:
    """Whether a link text looks like a column name: short, naming a known category, and not
    a bare number (a pager's ``12345`` is not the 12345 hotline column; ``12345热线`` is)."""
    compact = _SPACES.sub("", text)
    if _NUMBER.fullmatch(compact):
        return False
    return 2 <= len(compact) <= 12 and classify_column(compact) != "other"
