"""A list page's other pages: pager links, and the pages a ``createPageHTML`` call generates.
Pure."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from checks.readers.listrows import (
    MAX_ANCHORS,
    MAX_PAGES,
    collapse,
    elements,
    node_id,
    page_base,
    same_page_key,
)
from crawler.net.urls import canonicalize

# words that mark a pager (and the links beside them are its pages)
PAGER_MARKS = (
    "下一页", "下页", "尾页", "末页", "最后一页", "后页", "上一页", "上页", "前页",
    "next", "last", "prev", "previous", ">", ">>", "»", "<", "<<", "«",
)  # fmt: skip
# words for pager links that are not enough to mark one (a site's 首页 is its home page)
PAGER_OTHER = ("首页", "第一页", "first")
_PAGE_PARAM = re.compile(
    r"(?:^|[?&;])(?:pageno|page|pageindex|pagenum|pagenumber|curpage|currentpage|cur_page|"
    r"page_no|pn|pagecurrent|pageid|p_no)=[0-9]{1,6}(?:[&;#]|$)",
    re.IGNORECASE,
)
_CALL = re.compile(r"createPage(?:HTML|Html|html)?\s*\(", re.IGNORECASE)
_ARG = re.compile(
    r"""\s*(?:"([^"\n]{0,80})"|'([^'\n]{0,80})'|([-+]?[0-9]{1,7})|([A-Za-z_$][\w$.]{0,60}))\s*"""
)
_EXTENSIONS = frozenset({"html", "htm", "shtml", "jhtml", "xhtml", "jsp", "php", "asp", "aspx"})
_SCRIPT_WINDOW = 400  # characters after "createPageHTML(" read for its arguments
_VAR_WINDOW = 200_000  # characters of the page searched for a variable's value


# ``name = 12`` / ``name: "12"``: a numeric variable a createPageHTML call may pass
_ASSIGNMENT = re.compile(
    r"(?<![\w$.])([A-Za-z_$][\w$.]{0,60})\s*[:=]\s*['\"]?([0-9]{1,7})(?![0-9.])"
)


def _variables(html_text: str) -> dict[str, int]:
    """Every numeric variable assigned in the first ``_VAR_WINDOW`` characters, by name (the
    first assignment wins): one pass over the page, however many calls ask for one."""
    found: dict[str, int] = {}
    for match in _ASSIGNMENT.finditer(html_text, 0, _VAR_WINDOW):
        found.setdefault(match.group(1), int(match.group(2)))
    return found


def _script_pages(html_text: str, base: str) -> list[str]:
    """``createPageHTML(total, current, "index", "html")`` and its variants → the other pages."""
    variables: dict[str, int] | None = None  # read once, when a call first names one
    for call in _CALL.finditer(html_text, 0, _VAR_WINDOW):
        head = html_text[call.start() - 9 : call.start()] if call.start() >= 9 else ""
        if "function" in head:
            continue  # the definition, not a call
        args = _arguments(html_text[call.end() : call.end() + _SCRIPT_WINDOW])
        numbers: list[int] = []
        strings: list[str] = []
        unresolved = False
        for kind, value in args:
            if kind == "number":
                numbers.append(int(value))
            elif kind == "string":
                strings.append(value)
            else:
                if variables is None:
                    variables = _variables(html_text)
                resolved = variables.get(value)
                if resolved is None:
                    unresolved = True
                    break
                numbers.append(resolved)
        if unresolved or not numbers:
            continue
        ext_at = next(
            (i for i, s in enumerate(strings) if s.lower().lstrip(".") in _EXTENSIONS), None
        )
        if ext_at is None:
            prefix, ext = "index", "html"
        else:
            ext = strings[ext_at].lstrip(".")
            prefix = strings[ext_at - 1] if ext_at >= 1 else "index"
        # the first number is the page count. The page itself is left out by the caller, by URL
        # (variants count the current page from 0 or from 1): a column's folder is its page 0.
        total = numbers[0]
        out: list[str] = []
        for index in range(1 if base.endswith("/") else 0, min(total, MAX_PAGES)):
            name = f"{prefix}.{ext}" if index == 0 else f"{prefix}_{index}.{ext}"
            url = canonicalize(name, base)
            if url is not None:
                out.append(url)
        return out
    return []


def _arguments(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text) and len(out) < 10:
        match = _ARG.match(text, pos)
        if match is None:
            return out
        double, single, number, name = match.groups()
        if double is not None or single is not None:
            out.append(("string", double if double is not None else single or ""))
        elif number is not None:
            out.append(("number", number))
        elif name is not None:
            out.append(("name", name))
        pos = match.end()
        if pos >= len(text) or text[pos] != ",":
            return out
        pos += 1
    return out


def _pager_word(text: str, words: tuple[str, ...] = PAGER_MARKS) -> bool:
    lowered = text.strip().lower()
    return bool(lowered) and any(
        lowered == w or (len(w) > 1 and lowered.startswith(w) and len(lowered) <= len(w) + 5)
        for w in words
    )


def _directory(url: str) -> str:
    head = url.partition("?")[0]
    return head[: head.rfind("/") + 1]


def pagination(tree: LexborHTMLParser, base_url: str, html_text: str) -> list[str]:
    """The other pages of the list at ``base_url``, absolute and canonical, in page order.

    Read from a TRS ``createPageHTML(...)`` call (``index_1.html`` … ``index_{n-1}.html``, and
    variants such as ``createPageHTML('page_div', 5, 1, 'index', 'htm', 20)`` or variables as
    arguments), then from the links of the page: 下一页 / 上一页 / 尾页 / page numbers (and any
    link beside them), and links to the same path with a ``pageNo=`` / ``page=`` /
    ``pageIndex=`` query. Links to other hosts and to this page itself are left out. Never
    raises.
    """
    try:
        return _pagination(tree, base_url, html_text)
    except Exception:  # a pure reader on every page: odd markup gives no pages, not a crash
        return []


def _pagination(tree: LexborHTMLParser, base_url: str, html_text: str) -> list[str]:
    base = page_base(tree, base_url, "utf-8")
    here = same_page_key(canonicalize(base_url) or base_url)
    host = urlsplit(base).hostname or ""
    base_path = base.partition("?")[0]
    found: list[str] = []
    seen: set[str] = {here}

    def add(url: str) -> None:
        key = same_page_key(url)
        if key not in seen and (urlsplit(url).hostname or "") == host:
            seen.add(key)
            found.append(url)

    for page in _script_pages(html_text, base):
        add(page)
    body = tree.body
    if body is None:
        return found
    anchors: list[tuple[LexborNode, str, str]] = []
    pager_parents: set[int] = set()
    for count, node in enumerate(body.css("a")):
        if count >= MAX_ANCHORS:
            break
        text = collapse(node.text(deep=True, separator="", strip=True))
        title = node.attributes.get("title") or ""
        href = node.attributes.get("href") or ""
        target = canonicalize(href, base) if href else None
        if _pager_word(text) or _pager_word(title):
            parent = node.parent
            if parent is not None:
                pager_parents.add(node_id(parent))
                if parent.parent is not None and len(elements(parent)) <= 2:
                    pager_parents.add(node_id(parent.parent))
        if target is not None:
            anchors.append((node, target, text))
    for node, url, text in anchors:
        parent = node.parent
        in_pager = parent is not None and (
            node_id(parent) in pager_parents
            or (parent.parent is not None and node_id(parent.parent) in pager_parents)
        )
        number = text.strip("[]() ")
        numeric = number.isdigit() and len(number) <= 5
        title = node.attributes.get("title") or ""
        words = (*PAGER_MARKS, *PAGER_OTHER)
        query = url.partition("?")[2]
        pager_link = in_pager and (numeric or _pager_word(text, words) or _pager_word(title, words))
        page_query = bool(query and _PAGE_PARAM.search("?" + query)) and (
            url.partition("?")[0] == base_path or _directory(url) == _directory(base)
        )
        if pager_link or page_query or (numeric and _directory(url) == _directory(base)):
            add(url)
    return found
