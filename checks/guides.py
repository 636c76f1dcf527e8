"""Service guides (办事指南): which of the 10 key elements a guide lacks. Pure.

The national indicators name 10 elements: 事项名称、设定依据、申请条件、办理材料、办理地点、
办理机构、收费标准、办理时间、联系电话、办理流程. Guides write them under many names, found
here as labels in tables, definition lists, headings over paragraphs (``一、申请条件``) or
``label：value`` lines (:data:`SYNONYMS`).

Decisions:

* **办理时间** is satisfied by office hours (办理时间、受理时间、办公时间、工作时间、窗口办理时间)
  *or* by the time limit (办理时限、承诺时限、法定时限、承诺办结时限、办结时限): inspectors read the
  element as "when will it be handled", and a guide that states either tells the applicant; a
  guide is not reported for lacking one while it gives the other. :func:`read_guide` says which
  label was found, so a stricter reader can tell them apart.
* **联系电话** is satisfied by any telephone line of the guide: 联系电话、咨询电话、咨询方式、
  联系方式、监督电话、投诉电话 ....
* **事项名称** may also come from the page's own title when it names a guide (``X办事指南``).
* An element present but empty, or only 无 / 暂无 / 空 / - / 待定, counts as missing; except
  **收费标准**, where 不收费 / 免费 / 无 are the answer and count as present.

:func:`guide_missing` returns the missing elements in the official order; a guide missing
:data:`INCOMPLETE_THRESHOLD` (4) or more is incomplete (:func:`is_incomplete`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from selectolax.lexbor import LexborHTMLParser, LexborNode

from checks.readers.text import LabelTable, page_lines, scan_labels, table_header_pairs

ELEMENTS: Final = (
    "事项名称", "设定依据", "申请条件", "办理材料", "办理地点",
    "办理机构", "收费标准", "办理时间", "联系电话", "办理流程",
)  # fmt: skip
INCOMPLETE_THRESHOLD: Final = 4

SYNONYMS: Final[Mapping[str, tuple[str, ...]]] = {
    "事项名称": (
        "事项名称", "服务事项名称", "审批事项名称", "许可事项名称", "行政许可事项名称",
        "事项全称", "事项名", "服务名称", "业务名称", "项目名称",
    ),
    "设定依据": (
        "设定依据", "法定依据", "实施依据", "办理依据", "法律依据", "政策依据", "受理依据",
        "审批依据", "许可依据", "法律法规依据", "依据",
    ),
    "申请条件": (
        "申请条件", "受理条件", "办理条件", "申办条件", "申报条件", "准入条件", "许可条件",
        "申请人条件", "受理标准", "申请资格",
    ),
    "办理材料": (
        "办理材料", "申请材料", "申报材料", "所需材料", "提交材料", "申请材料目录", "材料清单",
        "需提交材料", "需提交的材料", "应提交材料", "应提交的材料", "办事材料", "办理所需材料",
        "申请所需材料", "所需资料", "申请资料", "提交资料",
    ),
    "办理地点": (
        "办理地点", "受理地点", "办公地点", "办理地址", "受理地址", "窗口地址", "服务地点",
        "办事地点", "办理窗口", "受理窗口", "地点", "地址",
    ),
    "办理机构": (
        "办理机构", "受理机构", "实施机构", "实施主体", "办理部门", "受理部门", "实施部门",
        "审批机构", "审批部门", "决定机构", "责任部门", "主管部门", "办理单位", "受理单位",
        "承办机构", "权力部门",
    ),
    "收费标准": (
        "收费标准", "收费依据及标准", "收费标准及依据", "收费依据", "是否收费", "收费情况",
        "收费项目", "收费",
    ),
    "办理时间": (
        "办理时间", "受理时间", "办公时间", "工作时间", "窗口办理时间", "服务时间", "办理时限",
        "承诺时限", "法定时限", "承诺办结时限", "法定办结时限", "办结时限", "审批时限",
        "承诺期限", "法定期限",
    ),
    "联系电话": (
        "联系电话", "咨询电话", "咨询方式", "咨询途径", "联系方式", "监督电话", "投诉电话",
        "监督投诉电话", "咨询投诉电话", "监督投诉方式", "服务电话", "办公电话", "电话",
    ),
    "办理流程": (
        "办理流程", "办事流程", "办理程序", "审批流程", "受理流程", "工作流程", "办理步骤",
        "申请流程", "办理环节", "流程图", "流程", "程序",
    ),
}  # fmt: skip

_LABELS: Final = LabelTable(
    {word: element for element, words in SYNONYMS.items() for word in words}, min_bare=4
)
# ``*+`` (possessive): a run of fillers is never given back, so a long one that is not a
# placeholder fails in one pass (backtracking made 40,000 dashes and an x cost seconds)
_EMPTY = re.compile(
    r"^[\s:：\-—/、。.…（）()]*+(?:无|暂无|空|待定|暂缺|略|null|none|n/?a)?[\s\-—/、。.…（）()]*+$",
    re.I,
)
_FEE_WORDS = ("不收费", "免费", "无", "零", "0")
_NOT_NAMES = frozenset({"办事", "服务", "办理", "事项", "网上办事", "政务服务", "便民服务"})
_GUIDE_TITLE = re.compile(r"^(.{2,60}?)(?:的)?(?:办事指南|服务指南|办理指南|事项指南|指南)$")


@dataclass(frozen=True, slots=True)
class GuideElement:
    element: str  # one of ELEMENTS
    label: str  # the words it was found under
    value: str  # its text, lines joined by "\n" ("" when empty)
    present: bool  # has the content the element needs


def _present(element: str, value: str) -> bool:
    text = value.strip()
    if element == "收费标准":
        return bool(text.strip(" :：-—/"))
    return bool(text) and _EMPTY.match(text) is None


def _title_name(tree: LexborHTMLParser | LexborNode) -> str | None:
    candidates: list[str] = []
    meta = tree.css_first('meta[name="ArticleTitle"]')
    if meta is not None:
        candidates.append(meta.attributes.get("content") or "")
    for selector in ("h1", "h2", "title"):
        node = tree.css_first(selector)
        if node is not None:
            candidates.append(re.split(r"[_|]", node.text(strip=True))[0])
    for candidate in candidates:
        match = _GUIDE_TITLE.match(candidate.strip())
        if match and match.group(1) not in _NOT_NAMES:
            return match.group(1)
    return None


def read_guide(tree_or_text: LexborHTMLParser | LexborNode | str) -> dict[str, GuideElement]:
    """The elements found in a guide, by element; an element found twice keeps its best value."""
    if isinstance(tree_or_text, str):
        lines = [ln.strip() for ln in tree_or_text.splitlines() if ln.strip()]
        found = scan_labels(lines, _LABELS)
    else:
        lines = page_lines(tree_or_text)
        found = table_header_pairs(tree_or_text, _LABELS) + scan_labels(lines, _LABELS)
    out: dict[str, GuideElement] = {}
    for item in found:
        value = item.text
        element = GuideElement(item.key, item.label, value, _present(item.key, value))
        current = out.get(item.key)
        if current is None or (element.present and not current.present):
            out[item.key] = element
    if not isinstance(tree_or_text, str) and not out.get("事项名称", _ABSENT).present:
        name = _title_name(tree_or_text)
        if name:
            out["事项名称"] = GuideElement("事项名称", "标题", name, True)
    return out


_ABSENT: Final = GuideElement("", "", "", False)


def guide_missing(tree_or_text: LexborHTMLParser | LexborNode | str) -> list[str]:
    """The key elements a guide lacks (absent, empty or 无), in the official order."""
    found = read_guide(tree_or_text)
    return [e for e in ELEMENTS if not found.get(e, _ABSENT).present]


def is_incomplete(
    missing: list[str] | tuple[str, ...], threshold: int = INCOMPLETE_THRESHOLD
) -> bool:
    """Whether a guide missing ``missing`` is incomplete: ``threshold`` (4) or more missing."""
    return len(missing) >= threshold
