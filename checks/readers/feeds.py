"""Feeds (RSS 2.0, RSS 1.0, Atom) and RSSHub's answers, read for the dates of their posts.

A new-media account (政务新媒体: a WeChat 公众号, a Weibo 微博 or Douyin 抖音 account) is judged by
its newest post (:mod:`checks.columns`, ``newmedia.stale``). Its posts come from a feed: one the
account's page offers, or one made by the office's own RSSHub instance from a route such as
``/weibo/user/1195230310``.

Feeds are parsed with ``feedparser``: real feeds are often not well-formed XML (a bare ``&`` in a
title, a GBK feed declared as UTF-8), and feedparser reads them leniently where an XML parser
gives up; it knows RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 and their date elements (``pubDate``,
``dc:date``, ``published``, ``updated``). The body is always handed over as a stream: feedparser
opens a *string* as a URL or a file name. Each entry's date is read from its own text
(:func:`moment`): RFC 822 or ISO 8601, an offset honoured, a time without one taken in the
config's time zone; then converted to that zone, so that the day judged is the day as the
office counts it. A feed-level ``updated`` or ``lastBuildDate`` is not a post and never counts.

:func:`rsshub_answer` tells an RSSHub answer that is a feed from one that is not: RSSHub answers
an error with an HTML page (403 for a wrong access key, 404 for an unknown route, 503 when the
upstream platform failed) or, for a route blocked upstream, sometimes with 200 and an error text.
Such an account was not read, and nothing is said of how often it posts.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import html
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import feedparser

from checks.readers.dates import parse_date

__all__ = ["Feed", "FeedRead", "looks_like_feed", "moment", "read_feed", "rsshub_answer"]

_FEED_HEAD = re.compile(rb"<(rss|feed|rdf:rdf)[\s>]", re.IGNORECASE)
# what may stand before a feed's first element: a BOM, the XML declaration, processing
# instructions (a style sheet), comments, a DOCTYPE and white space
_PROLOGUE = re.compile(
    rb"\A(?:\xef\xbb\xbf|\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*", re.IGNORECASE | re.DOTALL
)
# RSSHub's error page: "Error Message:" then the message in a <code class="... details">
_RSSHUB_MESSAGE = re.compile(
    r'<code[^>]*class="[^"]*details[^"]*"[^>]*>(.*?)</code>', re.IGNORECASE | re.DOTALL
)
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True, slots=True)
class Feed:
    """A parsed feed: its entries' publication times (``None``: an entry without a date)."""

    title: str
    generator: str
    entries: tuple[dt.datetime | None, ...]

    def dates(self) -> list[dt.date]:
        return [m.date() for m in self.entries if m is not None]


@dataclass(frozen=True, slots=True)
class FeedRead:
    """An account's feed as read: the feed, or why it could not be read (``unread``, a Chinese
    sentence; ``status`` the HTTP status when there was one)."""

    feed: Feed | None = None
    unread: str = ""
    status: int | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


def looks_like_feed(body: bytes, content_type: str = "") -> bool:
    """Whether a body is a feed by its type or its first element (not an HTML page)."""
    ct = content_type.lower()
    if "rss" in ct or "atom" in ct or "rdf" in ct:
        return True
    return _FEED_HEAD.match(_PROLOGUE.sub(b"", body[:4096], count=1)) is not None


def moment(text: str, tz: dt.tzinfo) -> dt.datetime | None:
    """A feed's date text as a time in ``tz``: RFC 822 (``Fri, 12 Jun 2020 09:00:00 +0800``,
    RSS) or ISO 8601 (``2020-06-12T09:00:00+08:00``, Atom); a time without an offset is in
    ``tz``. ``None`` when it is neither."""
    value = text.strip()
    if not value:
        return None
    found: dt.datetime | None = None
    try:
        found = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        iso = value[:-1] + "+00:00" if value[-1:] in ("Z", "z") else value
        try:
            found = dt.datetime.fromisoformat(iso)
        except ValueError:
            return None
    if found.tzinfo is None:
        found = found.replace(tzinfo=tz)
    return found.astimezone(tz)


def _entry_moment(entry: Mapping[str, Any], tz: dt.tzinfo) -> dt.datetime | None:
    present = set(entry.keys())  # never asked by name: feedparser maps a missing "updated"
    for key in ("published", "updated", "created"):
        raw = entry[key] if key in present else None
        if isinstance(raw, str) and (found := moment(raw, tz)) is not None:
            return found
        # another written form (2024/01/02 10:00, 2024年1月2日): the day, read as list rows are
        day = parse_date(raw) if isinstance(raw, str) else None
        if day is not None:
            return dt.datetime(day.year, day.month, day.day, tzinfo=tz)
    return None


def read_feed(body: bytes, content_type: str, tz: dt.tzinfo) -> Feed | None:
    """The feed in ``body``, or ``None`` when it is not one (an HTML page, an error text)."""
    parsed = feedparser.parse(
        io.BytesIO(body),  # never the bytes themselves: feedparser opens a string as a path
        response_headers={"content-type": content_type or "application/xml"},
        resolve_relative_uris=False,
        sanitize_html=False,
    )
    if not parsed.get("version"):
        return None  # not RSS, RDF or Atom (feedparser read no feed element)
    info = parsed.get("feed", {})
    return Feed(
        title=str(info.get("title", "")),
        generator=str(info.get("generator", "")),
        entries=tuple(_entry_moment(e, tz) for e in parsed.get("entries", [])),
    )


def _error_text(body: bytes) -> str:
    text = body[:200_000].decode("utf-8", "replace")
    found = _RSSHUB_MESSAGE.search(text)
    if found is not None:
        text = found.group(1)
    elif "<" in text[:200]:
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        text = title.group(1) if title else ""
    return " ".join(html.unescape(_TAG.sub(" ", text)).split())[:200]


_STATUS_WORDS = {
    401: "RSSHub 拒绝访问（访问密钥不对或缺失）",
    403: "RSSHub 拒绝访问（访问密钥不对或缺失）",
    404: "RSSHub 没有这个路由（路由写错或已删除）",
}


def rsshub_answer(
    status: int | None, error: str | None, content_type: str, body: bytes, tz: dt.tzinfo
) -> FeedRead:
    """An RSSHub instance's answer for one route: its feed, or why it is unread."""
    if error is not None or status is None:
        return FeedRead(unread="无法连接 RSSHub", detail={"error": error or ""})
    if status >= 400:
        said = _STATUS_WORDS.get(status, f"RSSHub 报错（HTTP {status}），上游平台可能暂时无法读取")
        return FeedRead(unread=said, status=status, detail={"message": _error_text(body)})
    feed = read_feed(body, content_type, tz) if looks_like_feed(body, content_type) else None
    if feed is None:
        said = "RSSHub 返回的不是订阅源（路由可能被上游平台拦截）"
        return FeedRead(unread=said, status=status, detail={"message": _error_text(body)})
    return judged(feed, status)


def judged(feed: Feed, status: int | None = None) -> FeedRead:
    """A feed that was read, as far as it can be judged: one with no post, or with no post
    whose date could be read, is unread (no verdict on it), never an account without posts."""
    if not feed.entries:
        return FeedRead(unread="订阅源没有任何条目，无从判断更新情况", status=status)
    if not feed.dates():
        return FeedRead(unread="订阅源的条目没有可识别的发布日期，无从判断更新情况", status=status)
    return FeedRead(feed=feed, status=status)
