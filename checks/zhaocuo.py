"""The "我为政府网站找错" entry on a home page (``site.no_zhaocuo``). Pure.

Every government website must carry, on its home page, the entry to the national error-report
service (我为政府网站找错). :func:`find_zhaocuo` accepts, in this order:

* a link whose text, ``title`` or image ``alt`` names it: 我为政府网站找错 anywhere in a label of
  at most :data:`MAX_LABEL` characters, or a short label with 找错 in it (网站找错, 我要找错);
* a link to the service: the national platform's hosts (:data:`SERVICE_HOSTS`, e.g.
  ``zfwzgl.www.gov.cn``), a ``/zhaocuo/`` path or an ``/exposure/jiucuo`` page, or a ``sitecode=`` /
  ``site_code=`` query on a link that shows an image or no text (the icon link);
* the standard widget: the national ``jiucuo.js`` script (``<script id="_jiucuo_" sitecode=...>``),
  or an image named ``jiucuo`` / ``zhaocuo`` inside a link or with a click handler.

Not an entry: the words in running text (an article that mentions the service), or in a long
link label (a news headline about a 找错 campaign: ``关于开展“我为政府网站找错”活动的通知``);
寻找错误 in a headline is not 找错 either. Entries written into the page by a script other than
the national widget are not seen; a home page that puts its footer in a frame can be read
frame by frame (:func:`frame_urls`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from checks.catalogue import Judgement
from crawler.net.urls import canonicalize, hostname

NO_ZHAOCUO: Final = "site.no_zhaocuo"
FULL_NAME: Final = "我为政府网站找错"
MAX_LABEL: Final = 12  # characters (spaces removed) of a label that may name the entry
SERVICE_HOSTS: Final = ("zfwzgl.www.gov.cn", "zfwzzc.www.gov.cn", "pucha.kaipuyun.cn")
_SHORT = re.compile(r"找错")
_NOT_ENTRY = re.compile(r"寻找错|找错误|查找错")
_PATH = re.compile(r"/zhaocuo(/|\.|$)|/exposure/jiucuo", re.IGNORECASE)
_IMAGE = re.compile(r"jiucuo|zhaocuo", re.IGNORECASE)
_SITECODE = frozenset({"sitecode", "site_code"})


@dataclass(frozen=True, slots=True)
class ZhaocuoEntry:
    """Where the entry was found: ``how`` is ``text``, ``title``, ``alt``, ``url`` or ``widget``."""

    how: str
    text: str
    url: str | None  # the link's target (canonical), when there is one
    page: str


def _compact(text: str) -> str:
    return "".join(text.split())


def _names_entry(label: str) -> bool:
    compact = _compact(label)
    if not compact or len(compact) > MAX_LABEL:
        return False
    if FULL_NAME in compact:
        return True
    return bool(_SHORT.search(compact)) and not _NOT_ENTRY.search(compact)


def _service_url(url: str, shows_text: bool) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if any(host == h or host.endswith("." + h) for h in SERVICE_HOSTS):
        return True
    if _PATH.search(parts.path):
        return True
    keys = {k.lower() for k, _ in parse_qsl(parts.query, keep_blank_values=True)}
    return bool(keys & _SITECODE) and not shows_text


def _images(node: LexborNode) -> list[LexborNode]:
    return list(node.css("img"))


def find_zhaocuo(
    tree: LexborHTMLParser, page_url: str, charset: str = "utf-8"
) -> ZhaocuoEntry | None:
    """The 找错 entry on a page, or ``None``."""
    for node in tree.css("a, area"):
        attrs = node.attributes
        href = (attrs.get("href") or "").strip()
        url = canonicalize(href, page_url, charset) if href else None
        text = " ".join(node.text(deep=True).split())
        if _names_entry(text):
            return ZhaocuoEntry("text", text, url, page_url)
        title = (attrs.get("title") or "").strip()
        if _names_entry(title):
            return ZhaocuoEntry("title", title, url, page_url)
        images = _images(node)
        for img in images:
            alt = (img.attributes.get("alt") or img.attributes.get("title") or "").strip()
            if _names_entry(alt):
                return ZhaocuoEntry("alt", alt, url, page_url)
        if url is not None and _service_url(url, shows_text=bool(text) and not images):
            return ZhaocuoEntry("url", text or title, url, page_url)
        for img in images:
            if _IMAGE.search(img.attributes.get("src") or ""):
                return ZhaocuoEntry("widget", img.attributes.get("src") or "", url, page_url)
    for script in tree.css("script"):
        attrs = script.attributes
        src = attrs.get("src") or ""
        if (attrs.get("id") or "").strip("_").lower() == "jiucuo" or "jiucuo" in src.lower():
            return ZhaocuoEntry("widget", src or "script#_jiucuo_", None, page_url)
    for img in tree.css("img[onclick]"):
        if _IMAGE.search(img.attributes.get("src") or ""):
            return ZhaocuoEntry("widget", img.attributes.get("src") or "", None, page_url)
    return None


def frame_urls(tree: LexborHTMLParser, page_url: str, charset: str = "utf-8") -> list[str]:
    """The same-host frames and iframes of a page (a footer kept in a frame holds the entry)."""
    host = hostname(page_url)
    out: list[str] = []
    for node in tree.css("iframe[src], frame[src]"):
        url = canonicalize(node.attributes.get("src") or "", page_url, charset)
        if url is not None and hostname(url) == host and url not in out:
            out.append(url)
    return out


def judge_zhaocuo(
    home_url: str, entries: Iterable[ZhaocuoEntry | None], *, looked_on: Iterable[str] = ()
) -> Judgement | None:
    """``site.no_zhaocuo`` unless one of ``entries`` (the home page's, its frames') is found."""
    if any(e is not None for e in entries):
        return None
    pages = list(dict.fromkeys([home_url, *looked_on]))
    return Judgement(
        NO_ZHAOCUO,
        {"home": home_url, "pages": pages, "reason": f"no “{FULL_NAME}” entry on the home page"},
    )
