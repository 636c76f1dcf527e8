"""Site-wide search (站内搜索): find it on a home page, submit it, read its results. Pure.

The 2019 self-checks ask three things of a site's search: that there is one, that it finds a
recent item by its exact title, and that it shows its results by category (信息公开 / 政策文件 /
办事服务 ... tabs or facets). The crawler answers them in three steps; the network requests are
the caller's.

1. :func:`find_search` reads a home page and returns, best first:

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

2. :func:`build_request` gives ``(method, url, body)`` for one query: the query and the form's
   other fields URL-encoded in the form's charset, in the query string (GET, replacing the
   action's own query, as browsers do) or in the body (POST, to be sent with
   ``Content-Type: application/x-www-form-urlencoded``, :data:`FORM_CONTENT_TYPE`).
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

import dataclasses
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl, quote_plus

from selectolax.lexbor import LexborHTMLParser, LexborNode

from checks.base import Judgement
from checks.readers.encoding import normalise_charset
from checks.readers.listing import Item
from checks.readers.text import is_chrome_element, page_lines
from crawler.net.urls import canonicalize, hostname

NO_SEARCH: Final = "site.no_search"
SEARCH_BROKEN: Final = "site.search_broken"
FORM_CONTENT_TYPE: Final = "application/x-www-form-urlencoded"

NOT_FOUND: Final = "not_found"
NO_CATEGORIES: Final = "no_categories"

# input names that search engines of government CMSs use (TRS, Hanweb, Jcms, Baidu site search)
_SEARCH_NAMES: Final = frozenset(
    {
        "q", "query", "keyword", "keywords", "searchword", "searchwords", "searchkey",
        "searchkeyword", "searchtext", "search", "kw", "key", "wd", "word", "sw", "searchvalue",
        "qt", "s", "text", "sword", "skey", "searchstr", "keys", "kwd",
    }
)  # fmt: skip
_SEARCH_ATTR = re.compile(r"search|sousuo|keyword|query|jiansuo|sswd|ssk", re.IGNORECASE)
_SEARCH_ACTION = re.compile(
    r"search|sousuo|jsearch|was5|/so[/.?]|/s\.[a-z]+|/igs/|fulltext|jiansuo|retrieval"
    r"|zhannei|/ss[/.]",
    re.IGNORECASE,
)
_SEARCH_CONTAINER = re.compile(r"search|sousuo|ss_?box|jiansuo|^ss$|^so$", re.IGNORECASE)
_SEARCH_WORDS = re.compile(r"搜\s*索|检\s*索|搜一搜|关键[字词]|输入.{0,6}(搜|查)|search", re.I)
_NOT_SEARCH = re.compile(r"查询码|验证码|密码|身份证|手机号|用户名|登录|信件编号|受理编号|邮箱")
_LINK_LABEL = re.compile(r"^(站内|全站|网站|高级|全文|信息)?(搜索|检索|搜)(一下)?$")
_WEB_SEARCH_HOSTS: Final = ("baidu.com", "bing.com", "so.com", "sogou.com", "google.com")
_TEXT_TYPES: Final = frozenset({"", "text", "search"})
_SUBMIT_TYPES: Final = frozenset({"submit", "image"})
# location.href = "/search?x=1&searchword=" + encodeURIComponent(value)
_SCRIPT_TEMPLATE = re.compile(
    r"""(?P<q>['"])(?P<url>[^'"\s<>]{0,300}?)\?(?P<params>[^'"\s<>]{0,300}?&)?"""
    r"""(?P<field>[A-Za-z_][\w.\-]{0,40})=(?P=q)\s*\+\s*(?P<fn>encodeURIComponent|encodeURI|escape)?""",
)
MAX_SCRIPT_CHARS: Final = 200_000


@dataclass(frozen=True, slots=True)
class SearchForm:
    """A search that can be submitted."""

    action: str  # canonical absolute URL
    method: str  # GET or POST
    field: str  # the query's input name
    hidden: dict[str, str] = dataclasses.field(
        default_factory=dict
    )  # the other fields, in page order
    charset: str = "utf-8"  # the query's encoding (a Python codec name)
    page: str = ""  # where it was found
    field_position: int = 0  # where the query stands among the fields
    source: str = "form"  # "form", or "script" for a script-built request


@dataclass(frozen=True, slots=True)
class SearchLink:
    """A link to a search page (the page itself has no search box)."""

    url: str
    text: str
    page: str = ""


@dataclass(frozen=True, slots=True)
class SearchBox:
    """A search box that cannot be submitted by the crawler (a script builds the request)."""

    page: str
    field: str
    reason: str


Found = SearchForm | SearchLink | SearchBox


def comparable(text: str) -> str:
    """``text`` for comparison: NFKC width folding, lower case, only letters and digits kept."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(c for c in folded if unicodedata.category(c)[:1] in ("L", "N"))


# --------------------------------------------------------------------------------------------
# Finding the search on a page
# --------------------------------------------------------------------------------------------


def _attr(node: LexborNode, name: str) -> str:
    return (node.attributes.get(name) or "").strip()


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _input_type(node: LexborNode) -> str:
    tag = node.tag or ""
    if tag == "button":
        return (_attr(node, "type") or "submit").lower()
    if tag in ("select", "textarea"):
        return tag
    return _attr(node, "type").lower()


def _base_url(tree: LexborHTMLParser, page_url: str, charset: str) -> str:
    base = tree.css_first("base[href]")
    if base is not None:
        resolved = canonicalize(_attr(base, "href"), page_url, charset)
        if resolved is not None:
            return resolved
    return page_url


def _text_codec(label: str) -> str | None:
    """The codec of a charset label if it encodes text (not ``rot13``, ``base64`` ...)."""
    codec = normalise_charset(label)
    if codec is None or codec.startswith("utf-16"):
        return None
    try:
        "a".encode(codec)
    except (LookupError, ValueError):
        return None
    return codec


def _form_charset(form: LexborNode, page_charset: str) -> str:
    for label in re.split(r"[\s,]+", _attr(form, "accept-charset")):
        codec = _text_codec(label)
        if codec is not None:
            return codec
    return _text_codec(page_charset) or "utf-8"


def _words_of(node: LexborNode) -> str:
    """The words that describe a control: its placeholder, value, title, label and alt."""
    parts = [
        _attr(node, name)
        for name in ("placeholder", "value", "title", "aria-label", "alt", "onfocus")
    ]
    if node.tag == "button":
        parts.append(node.text(deep=True))
    for img in node.css("img"):
        parts.extend((_attr(img, "alt"), _attr(img, "title")))
    return " ".join(p for p in parts if p)


def _is_search_input(node: LexborNode) -> bool:
    name = _attr(node, "name")
    words = _words_of(node)
    if _NOT_SEARCH.search(words):
        return False
    if name.lower() in _SEARCH_NAMES:
        return True
    marks = " ".join((name, _attr(node, "id"), _attr(node, "class")))
    return bool(_SEARCH_ATTR.search(marks)) or bool(_SEARCH_WORDS.search(words))


@dataclass(slots=True)
class _Candidate:
    score: int
    form: SearchForm


def _read_form(form: LexborNode, base: str, page_url: str, page_charset: str) -> _Candidate | None:
    controls = form.css("input, select, textarea, button")
    texts: list[LexborNode] = []
    score = 0
    for node in controls:
        kind = _input_type(node)
        if kind in ("password", "file", "textarea"):
            return None  # a login, upload or message form
        if node.tag == "input" and kind in _TEXT_TYPES:
            texts.append(node)
    if not texts or len(texts) > 3:
        return None
    described = " ".join(_words_of(n) + " " + _attr(n, "name") for n in texts)
    if _NOT_SEARCH.search(described):
        return None
    query = next((n for n in texts if _attr(n, "name").lower() in _SEARCH_NAMES), None)
    if query is not None:
        score += 3
    else:
        query = next((n for n in texts if _is_search_input(n)), None)
        if query is not None:
            score += 2
    if query is None:
        query = texts[0]
    if not _attr(query, "name"):
        return None  # nothing would be submitted
    action_raw = _attr(form, "action")
    charset = _form_charset(form, page_charset)
    action = canonicalize(action_raw, base, charset) if action_raw else page_url
    if action is None:
        return None
    if _SEARCH_ACTION.search(action_raw):
        score += 2
    marks = " ".join((_attr(form, "id"), _attr(form, "class"), _attr(form, "name")))
    if any(_SEARCH_CONTAINER.search(token) for token in marks.split()):
        score += 2
    buttons = [n for n in controls if _input_type(n) in _SUBMIT_TYPES | {"button"}]
    words = " ".join(_words_of(n) for n in (query, *buttons))
    words += " " + _collapse(form.text(deep=True))[:200]
    if _SEARCH_WORDS.search(words):
        score += 2
    if score < 2:
        return None
    hidden: dict[str, str] = {}
    position = 0
    submitter_done = False
    for node in controls:
        name = _attr(node, "name")
        if not name or "disabled" in node.attributes:
            continue
        kind = _input_type(node)
        if node.mem_id == query.mem_id:
            position = len(hidden)
            continue
        if kind == "hidden":
            hidden[name] = node.attributes.get("value") or ""
        elif kind in ("checkbox", "radio"):
            if "checked" in node.attributes and name not in hidden:
                hidden[name] = node.attributes.get("value") or "on"
        elif kind == "select":
            hidden[name] = _selected_value(node)
        elif kind == "submit" and not submitter_done:
            # pressing Enter submits with the form's first submit button
            hidden[name] = node.attributes.get("value") or ""
            submitter_done = True
        elif kind in _TEXT_TYPES and node.tag == "input":
            hidden[name] = node.attributes.get("value") or ""
    method = "POST" if _attr(form, "method").lower() == "post" else "GET"
    found = SearchForm(
        action=action,
        method=method,
        field=_attr(query, "name"),
        hidden=hidden,
        charset=charset,
        page=page_url,
        field_position=position,
    )
    return _Candidate(score, found)


def _selected_value(select: LexborNode) -> str:
    options = select.css("option")
    chosen = next((o for o in options if "selected" in o.attributes), None)
    if chosen is None and options:
        chosen = options[0]
    if chosen is None:
        return ""
    value = chosen.attributes.get("value")
    return value if value is not None else _collapse(chosen.text(deep=True))


def _script_form(
    tree: LexborHTMLParser, box: LexborNode, base: str, page_url: str, charset: str
) -> SearchForm | None:
    """A form read from the script that submits a box outside any ``<form>``."""
    sources: list[str] = []
    total = 0
    for node in tree.css("script"):
        if node.attributes.get("src"):
            continue
        text = node.text(deep=True)
        total += len(text)
        if total > MAX_SCRIPT_CHARS:
            break
        sources.append(text)
    for node in tree.css("[onclick], [onkeydown], [onkeypress], a[href^='javascript']"):
        sources.extend(_attr(node, name) for name in ("onclick", "onkeydown", "onkeypress"))
        sources.append(_attr(node, "href"))
    field_name = _attr(box, "name") or _attr(box, "id")
    best: SearchForm | None = None
    for source in sources:
        for match in _SCRIPT_TEMPLATE.finditer(source):
            url, params, name = (
                match.group("url"),
                match.group("params") or "",
                match.group("field"),
            )
            searchy = (
                name.lower() in _SEARCH_NAMES
                or _SEARCH_ATTR.search(name) is not None
                or _SEARCH_ACTION.search(url) is not None
            )
            if not searchy or not url:
                continue
            action = canonicalize(url, base, charset)
            if action is None:
                continue
            hidden = dict(parse_qsl(params.rstrip("&"), keep_blank_values=True))
            codec = "utf-8" if match.group("fn") else charset
            form = SearchForm(
                action=action,
                method="GET",
                field=name,
                hidden=hidden,
                charset=codec,
                page=page_url,
                field_position=len(hidden),
                source="script",
            )
            if name == field_name:
                return form
            best = best or form
    return best


def _link_label(node: LexborNode) -> str:
    text = _collapse(node.text(deep=True))
    if text:
        return text
    title = _attr(node, "title")
    if title:
        return title
    img = node.css_first("img")
    if img is None:
        return ""
    return _attr(img, "alt") or _attr(img, "title")


def _search_link(
    tree: LexborHTMLParser, base: str, page_url: str, charset: str
) -> SearchLink | None:
    for node in tree.css("a[href]"):
        url = canonicalize(_attr(node, "href"), base, charset)
        if url is None or url == page_url:
            continue
        host = hostname(url)
        if any(host == h or host.endswith("." + h) for h in _WEB_SEARCH_HOSTS):
            continue
        label = _link_label(node)
        compact = "".join(label.split())
        if _LINK_LABEL.match(compact):
            return SearchLink(url, label, page_url)
        marks = " ".join((_attr(node, "class"), _attr(node, "id")))
        short = not compact or len(compact) <= 2
        if (
            short
            and _SEARCH_ACTION.search(url.split("//", 1)[-1])
            and (_SEARCH_CONTAINER.search(marks) or not compact)
        ):
            return SearchLink(url, label, page_url)
    return None


def find_search(tree: LexborHTMLParser, page_url: str, charset: str = "utf-8") -> Found | None:
    """The site-wide search on a page: a form, a link to a search page, a box, or ``None``."""
    base = _base_url(tree, page_url, charset)
    best: _Candidate | None = None
    for form in tree.css("form"):
        candidate = _read_form(form, base, page_url, charset)
        if candidate is not None and (best is None or candidate.score > best.score):
            best = candidate
    if best is not None:
        return best.form
    # no form reads as a search: a box outside any form (or inside a page-wide ASP.NET form)
    boxes = [n for n in tree.css("input") if _input_type(n) in _TEXT_TYPES and _is_search_input(n)]
    for box in boxes:
        scripted = _script_form(tree, box, base, page_url, charset)
        if scripted is not None:
            return scripted
    link = _search_link(tree, base, page_url, charset)
    if link is not None:
        return link
    if boxes:
        name = _attr(boxes[0], "name") or _attr(boxes[0], "id")
        return SearchBox(page_url, name, "a search box outside any form, submitted by a script")
    return None


# --------------------------------------------------------------------------------------------
# Submitting
# --------------------------------------------------------------------------------------------


def _encode(value: str, charset: str) -> str:
    # unencodable characters go as &#NNNN; (what browsers send), then percent-encoded
    return quote_plus(value, safe="*", encoding=charset, errors="xmlcharrefreplace")


def build_request(form: SearchForm, query: str) -> tuple[str, str, bytes | None]:
    """``(method, url, body)`` to search ``form`` for ``query``; ``body`` is ``None`` for GET.

    A POST body is to be sent as :data:`FORM_CONTENT_TYPE`.
    """
    pairs = list(form.hidden.items())
    pairs.insert(min(form.field_position, len(pairs)), (form.field, query))
    encoded = "&".join(f"{_encode(k, form.charset)}={_encode(v, form.charset)}" for k, v in pairs)
    if form.method == "POST":
        return "POST", form.action, encoded.encode("ascii")
    bare = form.action.split("#", 1)[0].split("?", 1)[0]
    return "GET", f"{bare}?{encoded}", None


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
        marks = " ".join((_attr(current, "class"), _attr(current, "id"))).lower()
        if marks.strip() and any(t.startswith(_SIDE_MARKS) for t in _TOKENS.split(marks) if t):
            return True
        if depth < 4:
            heading = current.prev
            while heading is not None and not heading.is_element_node:
                heading = heading.prev
            if heading is not None:
                text = _collapse(heading.text(deep=True))
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
        raw = [_collapse(k.text(deep=True)) for k in kids]
        labels = [_category_label(t) for t in raw]
        named = [lab for lab in labels if lab in _CATEGORY_WORDS]
        if len(set(named)) < 2:
            continue
        if _in_furniture(parent):
            continue
        has_all = any(lab in _ALL_WORDS for lab in labels)
        counted = any(_COUNT.search(t) for t in raw if _category_label(t) in _CATEGORY_WORDS)
        marks = " ".join(
            _attr(n, a) for n in (parent, parent.parent) if n is not None for a in ("class", "id")
        )
        own_text = "".join(
            (c.text_content or "") for c in parent.iter(include_text=True) if c.tag == "-text"
        )
        previous = parent.prev
        while previous is not None and not previous.is_element_node:
            previous = previous.prev
        before = _collapse(previous.text(deep=True))[:20] if previous is not None else ""
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
        label = _collapse(node.text(deep=True))
        long_title = _attr(node, "title")
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


def describe_found(found: Found | None) -> Mapping[str, Any]:
    """A small JSON-able account of what :func:`find_search` found (for logs and details)."""
    if found is None:
        return {"kind": None}
    if isinstance(found, SearchForm):
        return {"kind": "form", "action": found.action, "method": found.method,
                "field": found.field, "charset": found.charset, "source": found.source}  # fmt: skip
    if isinstance(found, SearchLink):
        return {"kind": "link", "url": found.url, "text": found.text}
    return {"kind": "box", "field": found.field, "reason": found.reason}
