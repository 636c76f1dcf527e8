"""广东 gkmlpt: the shell's ``window._CONFIG``, its catalogues and their JSON lists, read as
HTML (see :mod:`checks.readers.jsread`). Pure."""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from checks.readers.scripttext import bracketed

MAX_GROUP_PAGES = 2000  # list pages linked from one gkmlpt catalogue page, at most

_CONFIG = re.compile(r"window\._CONFIG\s*=\s*\{")
_SID = re.compile(r"\bSID\s*:\s*['\"]?([0-9A-Za-z_-]{1,40})")
_TREE = re.compile(r"\bTREE\s*:\s*\[")
_API = re.compile(r"/gkmlpt/api/all/([0-9]{1,12})(?:\?|$)")


def gkmlpt_config(text: str) -> tuple[str, list[dict[str, Any]]] | None:
    """``(SID, TREE)`` of a gkmlpt shell's ``window._CONFIG``, or None."""
    config = _CONFIG.search(text)
    if config is None:
        return None
    block = bracketed(text, config.end() - 1) or text[config.end() : config.end() + 50000]
    sid = _SID.search(block)
    if sid is None:
        return None
    tree: list[dict[str, Any]] = []
    found = _TREE.search(block)
    if found is not None:
        raw = bracketed(block, found.end() - 1)
        try:
            parsed = json.loads(raw) if raw else []
        except ValueError:
            parsed = []
        tree = [n for n in parsed if isinstance(n, dict)] if isinstance(parsed, list) else []
    return sid.group(1), tree


def _leaves(nodes: Sequence[Mapping[str, Any]], depth: int = 0) -> Iterator[Mapping[str, Any]]:
    for node in nodes:
        children = node.get("children")
        if isinstance(children, list) and children and depth < 8:
            yield from _leaves([c for c in children if isinstance(c, dict)], depth + 1)
        else:
            yield node


def gkmlpt_catalogue_html(page_url: str, sid: str, tree: Sequence[Mapping[str, Any]]) -> str:
    """The catalogue a gkmlpt shell shows: a link per leaf catalogue to its list (its API URL,
    the list's only address without the ``#<id>`` fragment the browser shows)."""
    head = page_url.partition("?")[0]
    root = head[: head.find("/gkmlpt/")] if "/gkmlpt/" in head else head.rstrip("/")
    items = []
    for node in _leaves(tree):
        name = str(node.get("name") or "").strip()
        ident = node.get("id")
        if not name or not isinstance(ident, int | str) or not str(ident).isdigit():
            continue
        jump = str(node.get("jump_url") or "").strip()
        href = jump or f"{root}/gkmlpt/api/all/{ident}?page=1&sid={sid}"
        items.append(f'<li><a href="{html.escape(href)}">{html.escape(name)}</a></li>')
    return '<div class="gkml-catalogue"><ul>\n' + "\n".join(items) + "\n</ul></div>"


def is_gkmlpt_api(url: str) -> bool:
    return _API.search(url.partition("#")[0]) is not None


def _day(value: object, tz: dt.tzinfo) -> dt.date | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        seconds = float(value)
        if seconds > 1e11:  # milliseconds
            seconds /= 1000
        try:
            return dt.datetime.fromtimestamp(seconds, tz).date()
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def gkmlpt_list_html(url: str, data: object, tz: dt.tzinfo) -> str | None:
    """A gkmlpt catalogue page (the API's JSON) as the list a browser shows: a row per article
    with its date (epoch seconds read in the config's time zone), and, on the first page, a
    pager linking every other page (``page=N``). None when the JSON is not such an answer."""
    if not isinstance(data, dict) or not isinstance(data.get("articles"), list):
        return None
    articles = [a for a in data["articles"] if isinstance(a, dict)]
    rows = []
    for article in articles:
        title = str(article.get("title") or "").strip()
        link = str(article.get("post_url") or article.get("url") or "").strip()
        day = next(
            (d for key in ("date", "display_publish_time", "created_at")
             if (d := _day(article.get(key), tz)) is not None),
            None,
        )  # fmt: skip
        when = f'<span class="date">{day.isoformat()}</span>' if day else ""
        rows.append(f'<li><a href="{html.escape(link)}">{html.escape(title)}</a>{when}</li>')
    classify = data.get("classify")
    name = classify.get("name") if isinstance(classify, dict) else None
    title = html.escape(str(name or "政府信息公开目录"))
    page = re.search(r"[?&]page=([0-9]{1,6})", url)
    pager = ""
    total = data.get("total")
    if (page is None or page.group(1) == "1") and isinstance(total, int) and articles:
        pages = min(math.ceil(total / len(articles)), MAX_GROUP_PAGES)
        base = re.sub(r"([?&])page=[0-9]{1,6}", r"\1page={}", url) if page else url + "&page={}"
        links = [f'<a href="{html.escape(base.format(n))}">{n}</a>' for n in range(2, pages + 1)]
        if links:
            pager = '<div class="pager">' + " ".join(links) + "</div>"
    body = f'<ul class="gkml-list">\n{chr(10).join(rows)}\n</ul>\n{pager}'
    return (
        f'<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n'
        f"</head>\n<body>\n<h1>{title}</h1>\n{body}\n</body>\n</html>\n"
    )
