"""Site-wide search (站内搜索): read its results and judge it. Pure.

The 2019 self-checks ask three things of a site's search: that there is one, that it finds a
recent item by its exact title, and that it shows its results by category (信息公开 / 政策文件 /
办事服务 ... tabs or facets). The crawler answers them in three steps; the network requests are
the caller's.

1. :func:`checks.readers.forms.find_search` reads a home page and returns, best first:

   * a :class:`SearchForm`: a ``<form>`` with a text input that reads as a search (its name:
     ``q`` / ``keyword`` / ``searchword`` / ``query`` ...; its form's action, id or class; a
     搜索 / 检索 button or placeholder), with its action URL, method (GET or POST), query field,
     the fields a browser submits with it (hidden inputs, selected options, checked boxes) and the
     charset to encode the query in (the form's ``accept-charset``, else the page's: GBK sites
     expect GBK bytes). A search box driven by a script (``location.href = '/search?q=' +
     encodeURIComponent(...)``) gives a form too when the script's URL can be read;
   * a :class:`SearchLink`: the page has no search box but a link to a search page (搜索,
     站内搜索, a magnifier icon pointing at ``/search/``). That is *not* "no search": the caller
     fetches :attr:`SearchLink.url` and calls :func:`find_search` again on that page;
   * a :class:`SearchBox`: a search box the crawler can see but cannot submit (a script builds
     the request in a way it cannot read). The site has a search: no finding;
   * ``None``: no search at all, ``site.no_search``.

2. :func:`checks.readers.forms.build_request` gives ``(method, url, body)`` for one query:
   the query and the form's other fields URL-encoded in the form's charset, in the query
   string (GET, replacing the action's own query, as browsers do) or in the body (POST, to be
   sent with ``Content-Type: application/x-www-form-urlencoded``).
   :func:`pick_query` chooses the item to search for: a recent one with an untruncated title.

3. :func:`read_results` (and its short form :func:`judge_results`) reads the results page:
   whether the exact title is among the result links (whitespace, punctuation and width
   normalised; a title cut with an ellipsis matches its beginning; links in navigation, headers,
   footers and "hot searches" boxes do not count) and whether results are grouped by category
   (a row of sibling tabs or facets naming categories, with 全部 / counts / a tab-like class or a
   分类 label, outside the site's navigation). :func:`judge_search` turns the whole into
   ``site.no_search`` or ``site.search_broken`` (one finding per site: ``detail.problems`` lists
   ``not_found`` and ``no_categories``).

Not judged (no finding, rather than a false one): a search page whose form is built by a script,
results rendered by a script (no result links and no "nothing found" message), a submission that
an anti-bot front end refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from selectolax.lexbor import LexborHTMLParser, LexborNode

from checks.catalogue import Judgement
from checks.readers.forms import Found, SearchForm, SearchLink, attribute, collapse
from checks.readers.listing import Item
from checks.readers.text import comparable, is_chrome_element, page_lines

NO_SEARCH: Final = "site.no_search"
SEARCH_BROKEN: Final = "site.search_broken"

NOT_FOUND: Final = "not_found"
NO_CATEGORIES: Final = "no_categories"

_ELLIPSIS = re.compile(r"(\.{2,}|…+|。{3})$")


def pick_query(
    items: Iterable[Item], as_of: dt.date, *, lag_days: int = 2, max_age_days: int = 90
) -> Item | None:
    """The item to search for: the newest one dated at least ``lag_days`` before ``as_of``
    (search indexes lag behind publication) and at most ``max_age_days``, whose title is whole
    (no ellipsis) and 8 to 60 characters long; failing that, the newest such title of any date
    up to ``as_of``."""
    usable = [
        i
        for i in items
        if i.date is not None
        and i.date <= as_of
        and not _ELLIPSIS.search(i.title.strip())
        and 8 <= len(comparable(i.title)) <= 60
    ]
    usable.sort(key=lambda i: (i.date or dt.date.min, len(i.title)), reverse=True)
    for item in usable:
        assert item.date is not None
        age = (as_of - item.date).days
        if lag_days <= age <= max_age_days:
            return item
    return usable[0] if usable else None


# --------------------------------------------------------------------------------------------
# Reading results
# --------------------------------------------------------------------------------------------

# class or id words (their beginnings) of side boxes: hot searches, rankings, related items
_SIDE_MARKS: Final = (
    "hot", "rank", "relate", "tuijian", "recommend", "rmss", "rdss", "paihang", "xgxx", "rmxx",
)  # fmt: skip
_TOKENS = re.compile(r"[\s_\-]+")
_SIDE_TITLES = re.compile(r"热门|热词|热点|热搜|排行|推荐|相关链接|友情链接")
_NO_RESULTS = re.compile(
    r"没有找到|未找到|找不到|无相关(结果|信息|内容|记录|文章)|暂无(相关)?(结果|数据|信息|记录|内容)"
    r"|没有(搜索|检索|查询)到|(共|找到|检索到|搜索到)[^0-9\n]{0,8}0\s*(条|个|篇|项)"
    r"|结果数?\s*[:：为]?\s*0\s*(条|个|篇|项)|no results",
    re.IGNORECASE,
)
_CATEGORY_WORDS: Final = frozenset(
    {
        "全部", "全部结果", "综合", "全站", "网站", "信息公开", "政府信息公开", "政务公开",
        "政策文件", "政策法规", "文件", "政策", "政策解读", "解读", "办事服务", "办事", "服务",
        "办事指南",
        "新闻", "新闻动态", "动态", "要闻", "工作动态", "互动交流", "互动", "留言", "咨询", "图片",
        "视频", "音视频", "附件", "文档", "栏目", "机构", "领导", "通知公告", "公告", "数据",
        "问答", "专题", "政务服务", "公开", "网页", "其他", "文章", "资讯", "规划计划", "人事",
    }
)  # fmt: skip
_ALL_WORDS: Final = frozenset({"全部", "全部结果", "综合", "全站", "所有"})
_COUNT = re.compile(r"[（(\[]\s*\d+\s*[)）\]]|\d+\s*条$|\s\d+$")
_TAB_MARKS = re.compile(
    r"tab|facet|filter|categ|classif|fenlei|fl_|leibie|type|channel|lanmu|group|kind|sort",
    re.IGNORECASE,
)
_CATEGORY_LABEL = re.compile(r"分类|类别|筛选|结果分布|按栏目|信息类型|范围")


@dataclass(frozen=True, slots=True)
class ResultsReading:
    """What a results page shows for one query."""

    found: bool
    by_category: bool
    matched: str | None = None  # the result link's text that matched
    result_links: int = 0  # links outside the page's furniture that read as results
    no_results: bool = False  # the page says it found nothing
    categories: tuple[str, ...] = ()  # the tab or facet labels seen

    @property
    def readable(self) -> bool:
        """Whether the page shows results or says there are none (not a script shell)."""
        return self.result_links > 0 or self.no_results


def _in_furniture(node: LexborNode) -> bool:
    current: LexborNode | None = node
    depth = 0
    while current is not None and current.tag not in ("body", "html") and depth < 14:
        if is_chrome_element(current):
            return True
        marks = " ".join((attribute(current, "class"), attribute(current, "id"))).lower()
        if marks.strip() and any(t.startswith(_SIDE_MARKS) for t in _TOKENS.split(marks) if t):
            return True
        if depth < 4:
            heading = current.prev
            while heading is not None and not heading.is_element_node:
                heading = heading.prev
            if heading is not None:
                text = collapse(heading.text(deep=True))
                if 0 < len(text) <= 12 and _SIDE_TITLES.search(text):
                    return True
        current = current.parent
        depth += 1
    return False


def _link_matches(label: str, wanted: str) -> bool:
    if not label or not wanted:
        return False
    if label == wanted:
        return True
    # "【通知公告】title", "title - site name"
    return len(wanted) >= 6 and wanted in label and len(label) - len(wanted) <= 20


def _truncated_match(raw: str, wanted: str) -> bool:
    stripped = raw.strip()
    if not _ELLIPSIS.search(stripped):
        return False
    head = comparable(_ELLIPSIS.sub("", stripped))
    return len(head) >= 8 and wanted.startswith(head)


def _category_label(text: str) -> str:
    return comparable(_COUNT.sub("", text.strip()))


def _categories(tree: LexborHTMLParser) -> tuple[str, ...]:
    body = tree.body
    if body is None:
        return ()
    seen: set[int] = set()
    for node in body.css("a, li, span, button, dd, td, div, label"):
        parent = node.parent
        if parent is None or parent.mem_id in seen:
            continue
        seen.add(parent.mem_id)
        kids = [k for k in parent.iter() if k.is_element_node]
        if len(kids) < 2 or len(kids) > 30:
            continue
        raw = [collapse(k.text(deep=True)) for k in kids]
        labels = [_category_label(t) for t in raw]
        named = [lab for lab in labels if lab in _CATEGORY_WORDS]
        if len(set(named)) < 2:
            continue
        if _in_furniture(parent):
            continue
        has_all = any(lab in _ALL_WORDS for lab in labels)
        counted = any(_COUNT.search(t) for t in raw if _category_label(t) in _CATEGORY_WORDS)
        marks = " ".join(
            attribute(n, a)
            for n in (parent, parent.parent)
            if n is not None
            for a in ("class", "id")
        )
        own_text = "".join(
            (c.text_content or "") for c in parent.iter(include_text=True) if c.tag == "-text"
        )
        previous = parent.prev
        while previous is not None and not previous.is_element_node:
            previous = previous.prev
        before = collapse(previous.text(deep=True))[:20] if previous is not None else ""
        labelled = bool(
            _CATEGORY_LABEL.search(own_text)
            or _CATEGORY_LABEL.search(before)
            or any(
                _CATEGORY_LABEL.search(t)
                for t, lab in zip(raw, labels, strict=True)
                if lab not in _CATEGORY_WORDS and len(t) <= 8
            )
        )
        if has_all or counted or labelled or _TAB_MARKS.search(marks):
            return tuple(dict.fromkeys(named))
    return ()


def read_results(tree: LexborHTMLParser, title: str) -> ResultsReading:
    """Read a results page for the exact ``title`` searched and for category tabs."""
    wanted = comparable(title)
    matched: str | None = None
    count = 0
    for node in tree.css("a[href]"):
        label = collapse(node.text(deep=True))
        long_title = attribute(node, "title")
        key = comparable(label)
        if len(key) < 6 and len(comparable(long_title)) < 6:
            continue
        if _in_furniture(node):
            continue
        count += 1
        if matched is None and (
            _link_matches(key, wanted)
            or _link_matches(comparable(long_title), wanted)
            or _truncated_match(label, wanted)
        ):
            matched = label or long_title
    text = "\n".join(page_lines(tree, max_chars=50_000))
    no_results = _NO_RESULTS.search(text) is not None
    categories = _categories(tree)
    return ResultsReading(
        found=matched is not None and not (no_results and count <= 1),
        by_category=bool(categories),
        matched=matched,
        result_links=count,
        no_results=no_results,
        categories=categories,
    )


def judge_results(results_html_tree: LexborHTMLParser, title: str) -> tuple[bool, bool]:
    """``(found, by_category)``: whether the results show ``title`` and group by category."""
    reading = read_results(results_html_tree, title)
    return reading.found, reading.by_category


# --------------------------------------------------------------------------------------------
# Judging
# --------------------------------------------------------------------------------------------


def judge_search(
    home_url: str,
    found: Found | None,
    *,
    via: SearchLink | None = None,
    query: str | None = None,
    item_url: str | None = None,
    request: tuple[str, str, bytes | None] | None = None,
    results: ResultsReading | None = None,
    failure: str | None = None,
    require_categories: bool = True,
) -> Judgement | None:
    """The site's search finding, if any (the subject is the home page).

    ``found`` is what :func:`find_search` gave on the home page, or, when that was a
    :class:`SearchLink`, on the page it leads to (``via`` is then the link). ``failure`` is why
    the submission failed (``http 500``, ``timeout`` ...; an anti-bot refusal is no failure:
    pass nothing); ``results`` the reading of the results page for ``query``.
    """
    base: dict[str, Any] = {"home": home_url}
    if via is not None:
        base["search_page"] = via.url
    if found is None:
        if via is not None:
            return None  # a link to a search page the crawler cannot read: not "no search"
        return Judgement(
            NO_SEARCH, {**base, "reason": "no search form, search box or link to a search page"}
        )
    if not isinstance(found, SearchForm):
        return None
    base["form"] = {"action": found.action, "method": found.method, "field": found.field}
    if request is not None:
        base["request"] = {"method": request[0], "url": request[1]}
    base["query"] = query
    base["item"] = item_url
    if failure is not None:
        return Judgement(SEARCH_BROKEN, {**base, "problems": ["failed"], "reason": failure})
    if results is None or not results.readable:
        return None
    problems: list[str] = []
    if not results.found:
        problems.append(NOT_FOUND)
    if require_categories and not results.by_category:
        problems.append(NO_CATEGORIES)
    if not problems:
        return None
    detail = {
        **base,
        "problems": problems,
        "result_links": results.result_links,
        "no_results": results.no_results,
        "categories": list(results.categories),
    }
    return Judgement(SEARCH_BROKEN, detail)
