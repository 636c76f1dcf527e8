"""Parsing a page once with selectolax (lexbor): title, links and their kinds. Pure.

Every page is first checked by :func:`checks.readers.nesting.check_parse_work`: a page whose markup
would hold the parser for long (100,000 nested ``div`` elements) is not parsed, and
:func:`parse_html` and :func:`parse_tree` raise :class:`UnreadablePage` instead. A large
page of the crawl is parsed in a worker thread, within a time limit
(:func:`parse_html_off_loop`), should the estimate miss a slow case.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode

from checks.readers.nesting import UnreadablePage, check_parse_work, surely_cheap
from crawler.net.urls import canonicalize, path_extension

__all__ = [
    "ATTACHMENT_EXTENSIONS",
    "IMAGE_EXTENSIONS",
    "Link",
    "ParsedPage",
    "UnreadablePage",
    "link_kind",
    "parse_html",
    "parse_html_off_loop",
    "parse_tree",
]

PARSE_TIME_LIMIT = 10.0  # seconds a page of the crawl may take to parse (in a worker thread)
IMAGE_EXTENSIONS = frozenset(
    {"jpg", "jpeg", "png", "gif", "bmp", "webp", "svg", "ico", "tif", "tiff", "avif"}
)
ATTACHMENT_EXTENSIONS = frozenset(
    {
        "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "wps", "et", "dps", "ofd",
        "zip", "rar", "7z", "txt", "csv", "rtf", "ceb", "tar", "gz",
    }
)  # fmt: skip
# the tags (and their URL attributes) whose targets are checked
_SELECTOR = (
    "a[href], area[href], img, script[src], link[href], iframe[src], frame[src], "
    "embed[src], source, object[data], meta[http-equiv], base[href]"
)
_SKIP_REL = frozenset({"dns-prefetch", "preconnect", "search", "alternate", "canonical"})
_NAVIGATION_TAGS = frozenset({"a", "area", "iframe", "frame", "meta"})


@dataclass(slots=True)
class Link:
    url: str  # canonical absolute URL
    tag: str


@dataclass(slots=True)
class ParsedPage:
    url: str
    charset: str
    title: str
    links: list[Link] = field(default_factory=list)
    tree: LexborHTMLParser | None = None
    html: str = ""  # the decoded text (script calls such as createPageHTML live there)


def _srcset_urls(value: str) -> list[str]:
    out = []
    for part in value.split(","):
        candidate = part.strip().split(" ", 1)[0].strip()
        if candidate:
            out.append(candidate)
    return out


def _refresh_url(content: str) -> str | None:
    # content="5; url='page.html'"
    _, sep, rest = content.partition(";")
    if not sep:
        return None
    rest = rest.strip()
    if rest[:3].lower() != "url":
        return None
    rest = rest[3:].lstrip()
    if not rest.startswith("="):
        return None
    return rest[1:].strip().strip("'\"") or None


def _raw_targets(node: LexborNode) -> list[str]:
    tag = node.tag
    attrs = node.attributes
    if tag in ("a", "area", "link"):
        if tag == "link":
            rel = (attrs.get("rel") or "").lower().split()
            if any(r in _SKIP_REL for r in rel):
                return []
        href = attrs.get("href")
        return [href] if href else []
    if tag in ("img", "source"):
        out = []
        src = attrs.get("src")
        if src:
            out.append(src)
        srcset = attrs.get("srcset")
        if srcset:
            out.extend(_srcset_urls(srcset))
        return out
    if tag == "object":
        data = attrs.get("data")
        return [data] if data else []
    if tag == "meta":
        if (attrs.get("http-equiv") or "").lower() != "refresh":
            return []
        target = _refresh_url(attrs.get("content") or "")
        return [target] if target else []
    src = attrs.get("src")
    return [src] if src else []


def parse_tree(text: str) -> LexborHTMLParser:
    """The lexbor tree of ``text``; raises :class:`UnreadablePage` for a page whose markup
    would hold the parser for long (:func:`checks.readers.nesting.check_parse_work`)."""
    check_parse_work(text)
    return LexborHTMLParser(text)


async def parse_html_off_loop(
    url: str, text: str, charset: str = "utf-8", *, time_limit: float = PARSE_TIME_LIMIT
) -> ParsedPage:
    """:func:`parse_html` for a page of the crawl. A page with many tags is parsed in a worker
    thread (lexbor releases the GIL, so the event loop and every other site's crawl go on),
    within ``time_limit`` seconds: a page that takes longer (markup the nesting estimate did
    not foresee) is :class:`UnreadablePage` (``parsing too slow``); its thread ends on its
    own."""
    if surely_cheap(text):
        return parse_html(url, text, charset)
    try:
        return await asyncio.wait_for(asyncio.to_thread(parse_html, url, text, charset), time_limit)
    except TimeoutError:
        raise UnreadablePage("parsing too slow", f"more than {time_limit:g} s") from None


def parse_html(url: str, text: str, charset: str = "utf-8") -> ParsedPage:
    """Parse ``text`` (the decoded page at ``url``) and extract its checkable links. Raises
    :class:`UnreadablePage` like :func:`parse_tree`."""
    tree = parse_tree(text)
    title_node = tree.css_first("title")
    title = title_node.text(strip=True) if title_node is not None else ""
    base = url
    links: list[Link] = []
    seen: set[str] = set()
    for node in tree.css(_SELECTOR):
        tag = node.tag or ""
        if tag == "base":
            href = node.attributes.get("href")
            resolved = canonicalize(href, url, charset) if href else None
            if resolved is not None:
                base = resolved
            continue
        for raw in _raw_targets(node):
            target = canonicalize(raw, base, charset)
            if target is None or target in seen:
                continue
            seen.add(target)
            links.append(Link(target, tag))
    return ParsedPage(url=url, charset=charset, title=title, links=links, tree=tree, html=text)


def link_kind(tag: str, url: str, in_scope: bool) -> str:
    """``page``, ``image``, ``attachment``, ``external`` or ``other``."""
    ext = path_extension(url)
    if tag == "img" or ext in IMAGE_EXTENSIONS:
        return "image"
    if ext in ATTACHMENT_EXTENSIONS:
        return "attachment"
    if not in_scope:
        return "external"
    if tag in _NAVIGATION_TAGS:
        return "page"
    return "other"
