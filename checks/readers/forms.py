"""A site's search (站内搜索) as a home page shows it: found and made into a request. Pure.

:func:`find_search` reads a page and returns, best first:

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
  the request in a way it cannot read);
* ``None``: no search at all.

:func:`build_request` gives ``(method, url, body)`` for one query: the query and the form's
other fields URL-encoded in the form's charset, in the query string (GET, replacing the
action's own query, as browsers do) or in the body (POST, to be sent with
``Content-Type: application/x-www-form-urlencoded``, :data:`FORM_CONTENT_TYPE`).

The results are read and judged in :mod:`checks.search`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl, quote_plus

from selectolax.lexbor import LexborHTMLParser, LexborNode

from checks.readers.encoding import normalise_charset
from crawler.net.urls import canonicalize, hostname

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


# --------------------------------------------------------------------------------------------
# Finding the search on a page
# --------------------------------------------------------------------------------------------


def attribute(node: LexborNode, name: str) -> str:
    """The value of attribute ``name`` of ``node``, stripped (empty when absent)."""
    return (node.attributes.get(name) or "").strip()


def collapse(text: str) -> str:
    """``text`` with every run of whitespace one space, stripped."""
    return " ".join(text.split())


def _input_type(node: LexborNode) -> str:
    tag = node.tag or ""
    if tag == "button":
        return (attribute(node, "type") or "submit").lower()
    if tag in ("select", "textarea"):
        return tag
    return attribute(node, "type").lower()


def _base_url(tree: LexborHTMLParser, page_url: str, charset: str) -> str:
    base = tree.css_first("base[href]")
    if base is not None:
        resolved = canonicalize(attribute(base, "href"), page_url, charset)
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
    for label in re.split(r"[\s,]+", attribute(form, "accept-charset")):
        codec = _text_codec(label)
        if codec is not None:
            return codec
    return _text_codec(page_charset) or "utf-8"


def _words_of(node: LexborNode) -> str:
    """The words that describe a control: its placeholder, value, title, label and alt."""
    parts = [
        attribute(node, name)
        for name in ("placeholder", "value", "title", "aria-label", "alt", "onfocus")
    ]
    if node.tag == "button":
        parts.append(node.text(deep=True))
    for img in node.css("img"):
        parts.extend((attribute(img, "alt"), attribute(img, "title")))
    return " ".join(p for p in parts if p)


def _is_search_input(node: LexborNode) -> bool:
    name = attribute(node, "name")
    words = _words_of(node)
    if _NOT_SEARCH.search(words):
        return False
    if name.lower() in _SEARCH_NAMES:
        return True
    marks = " ".join((name, attribute(node, "id"), attribute(node, "class")))
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
    described = " ".join(_words_of(n) + " " + attribute(n, "name") for n in texts)
    if _NOT_SEARCH.search(described):
        return None
    query = next((n for n in texts if attribute(n, "name").lower() in _SEARCH_NAMES), None)
    if query is not None:
        score += 3
    else:
        query = next((n for n in texts if _is_search_input(n)), None)
        if query is not None:
            score += 2
    if query is None:
        query = texts[0]
    if not attribute(query, "name"):
        return None  # nothing would be submitted
    action_raw = attribute(form, "action")
    charset = _form_charset(form, page_charset)
    action = canonicalize(action_raw, base, charset) if action_raw else page_url
    if action is None:
        return None
    if _SEARCH_ACTION.search(action_raw):
        score += 2
    marks = " ".join((attribute(form, "id"), attribute(form, "class"), attribute(form, "name")))
    if any(_SEARCH_CONTAINER.search(token) for token in marks.split()):
        score += 2
    buttons = [n for n in controls if _input_type(n) in _SUBMIT_TYPES | {"button"}]
    words = " ".join(_words_of(n) for n in (query, *buttons))
    words += " " + collapse(form.text(deep=True))[:200]
    if _SEARCH_WORDS.search(words):
        score += 2
    if score < 2:
        return None
    hidden: dict[str, str] = {}
    position = 0
    submitter_done = False
    for node in controls:
        name = attribute(node, "name")
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
    method = "POST" if attribute(form, "method").lower() == "post" else "GET"
    found = SearchForm(
        action=action,
        method=method,
        field=attribute(query, "name"),
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
    return value if value is not None else collapse(chosen.text(deep=True))


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
        sources.extend(attribute(node, name) for name in ("onclick", "onkeydown", "onkeypress"))
        sources.append(attribute(node, "href"))
    field_name = attribute(box, "name") or attribute(box, "id")
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
    text = collapse(node.text(deep=True))
    if text:
        return text
    title = attribute(node, "title")
    if title:
        return title
    img = node.css_first("img")
    if img is None:
        return ""
    return attribute(img, "alt") or attribute(img, "title")


def _search_link(
    tree: LexborHTMLParser, base: str, page_url: str, charset: str
) -> SearchLink | None:
    for node in tree.css("a[href]"):
        url = canonicalize(attribute(node, "href"), base, charset)
        if url is None or url == page_url:
            continue
        host = hostname(url)
        if any(host == h or host.endswith("." + h) for h in _WEB_SEARCH_HOSTS):
            continue
        label = _link_label(node)
        compact = "".join(label.split())
        if _LINK_LABEL.match(compact):
            return SearchLink(url, label, page_url)
        marks = " ".join((attribute(node, "class"), attribute(node, "id")))
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
        name = attribute(boxes[0], "name") or attribute(boxes[0], "id")
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
