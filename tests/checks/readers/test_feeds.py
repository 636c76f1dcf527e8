"""Feeds read for their posts' dates, in the config's time zone; RSSHub's answers told apart."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from checks.readers.feeds import looks_like_feed, moment, read_feed, rsshub_answer

TZ = ZoneInfo("Asia/Shanghai")

RSS2 = b"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>T</title>
<lastBuildDate>Tue, 30 Jun 2020 00:00:00 GMT</lastBuildDate><generator>RSSHub</generator>
<item><title>A & B</title><pubDate>Mon, 01 Jun 2020 16:30:00 GMT</pubDate></item>
<item><title>undated</title></item>
<item><title>offset</title><pubDate>Fri, 29 May 2020 23:30:00 +0800</pubDate></item>
</channel></rss>"""
ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>A</title><updated>2020-06-30T10:00:00Z</updated>
<entry><title>p</title><published>2020-04-01T23:00:00Z</published>
<updated>2020-06-20T10:00:00+08:00</updated></entry>
<entry><title>u</title><updated>2020-05-01T10:00:00</updated></entry></feed>"""
RDF = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="x"><title>R</title></channel>
<item rdf:about="y"><title>i</title><dc:date>2020-06-10T08:00:00+08:00</dc:date></item></rdf:RDF>"""


def test_rss_dates_are_days_in_the_config_zone_and_broken_xml_is_read() -> None:
    feed = read_feed(RSS2, "application/rss+xml", TZ)
    assert feed is not None
    assert feed.generator == "RSSHub"
    assert len(feed.entries) == 3
    assert feed.entries[1] is None
    # 16:30 GMT is 00:30 the next day in Beijing; an offset is honoured
    assert feed.dates() == [dt.date(2020, 6, 2), dt.date(2020, 5, 29)]
    utc = read_feed(RSS2, "application/rss+xml", dt.UTC)
    assert utc is not None
    assert utc.dates()[0] == dt.date(2020, 6, 1)


def test_atom_entries_published_first_and_the_feed_updated_is_no_post() -> None:
    feed = read_feed(ATOM, "application/atom+xml", TZ)
    assert feed is not None
    # published wins over updated; a time without an offset is in the config's zone
    assert feed.entries == (
        dt.datetime(2020, 4, 2, 7, 0, tzinfo=TZ),
        dt.datetime(2020, 5, 1, 10, 0, tzinfo=TZ),
    )


def test_rss1_dc_date() -> None:
    feed = read_feed(RDF, "", TZ)
    assert feed is not None
    assert feed.dates() == [dt.date(2020, 6, 10)]


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><head><title>RSSHub</title></head><body>error</body></html>",
        b"Error: Cookie expired",
        b"",
    ],
)
def test_what_is_not_a_feed(body: bytes) -> None:
    assert read_feed(body, "text/html", TZ) is None
    assert not looks_like_feed(body, "text/html")


def test_a_body_naming_a_file_is_not_opened(tmp_path: Path) -> None:
    """feedparser opens a string (or bytes) naming a file: the body is never handed over so."""
    local = tmp_path / "local.xml"
    local.write_bytes(RSS2)
    assert read_feed(str(local).encode(), "application/xml", TZ) is None


def test_moment_forms() -> None:
    assert moment("Fri, 12 Jun 2020 01:00:00 GMT", TZ) == dt.datetime(2020, 6, 12, 9, tzinfo=TZ)
    assert moment("2020-06-12T01:00:00Z", TZ) == dt.datetime(2020, 6, 12, 9, tzinfo=TZ)
    assert moment("2020-06-12 09:00:00", TZ) == dt.datetime(2020, 6, 12, 9, tzinfo=TZ)
    assert moment("昨天", TZ) is None
    assert moment("", TZ) is None


def test_rsshub_answers() -> None:
    page = (
        b'<html><body><code class="mt-2 block details">RejectError: Authentication failed.</code>'
    )
    denied = rsshub_answer(403, None, "text/html", page, TZ)
    assert denied.feed is None
    assert "访问密钥" in denied.unread
    assert denied.detail["message"] == "RejectError: Authentication failed."
    assert "路由" in rsshub_answer(404, None, "text/html", page, TZ).unread
    quoted = page.replace(b"RejectError", b"FetchError: [GET] &quot;https://x/&quot;")
    assert (
        rsshub_answer(503, None, "text/html", quoted, TZ)
        .detail["message"]
        .startswith('FetchError: [GET] "https://x/"')
    )
    failed = rsshub_answer(503, None, "text/html", page, TZ)
    assert "503" in failed.unread
    assert failed.status == 503
    assert rsshub_answer(None, "connect", "", b"", TZ).unread == "无法连接 RSSHub"
    blocked = rsshub_answer(200, None, "text/plain", "Error: 微博 Cookie 已过期".encode(), TZ)
    assert blocked.feed is None
    assert blocked.detail["message"] == "Error: 微博 Cookie 已过期"
    empty = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>'
    assert "没有任何条目" in rsshub_answer(200, None, "application/xml", empty, TZ).unread
    ok = rsshub_answer(200, None, "application/xml", RSS2, TZ)
    assert ok.feed is not None
    assert not ok.unread


def _rss(*items: str) -> bytes:
    body = "".join(f"<item><title>t</title>{i}</item>" for i in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel>{body}</channel></rss>'.encode()


def test_written_dates_are_read_as_list_rows_are_never_invented() -> None:
    """Date forms that are neither RFC 822 nor ISO are read by the project's date reader (the
    day as written), never by a guess that turns 2024/01/02 into a December day."""
    for text in ("2024/01/02 10:00:00", "2024年1月2日", "2024.01.02"):
        feed = read_feed(_rss(f"<pubDate>{text}</pubDate>"), "application/rss+xml", TZ)
        assert feed is not None
        assert feed.dates() == [dt.date(2024, 1, 2)], text


def test_a_feed_whose_posts_have_no_readable_date_is_unread() -> None:
    body = _rss("<pubDate>三天前</pubDate>", "")
    read = rsshub_answer(200, None, "application/xml", body, TZ)
    assert read.feed is None
    assert "没有可识别的发布日期" in read.unread


def test_html_inside_a_post_does_not_make_a_feed_a_page() -> None:
    body = _rss("<description><![CDATA[<html><body>正文</body></html>]]></description>"
                "<pubDate>Fri, 12 Jun 2020 09:00:00 +0800</pubDate>")  # fmt: skip
    assert looks_like_feed(body)
    read = rsshub_answer(200, None, "application/xml", body, TZ)
    assert read.feed is not None
    assert read.feed.dates() == [dt.date(2020, 6, 12)]
