"""Fuzzing the readers of untrusted input: no exception escapes except the documented ones.

What a crawled site (or a config file, or a WARC file) controls is thrown at each reader:

* `crawler.net.urls.canonicalize`: any href, base and page encoding; `None` or a canonical http(s)
  URL: ASCII, no fragment, no white space, and its own canonical form.
* `checks.readers.encoding.decode_html`: any bytes and Content-Type; a text and a real codec. A page
  in a charset its header names reads back exactly.
* `checks.readers.dates.parse_date` / `find_dates`: any text, context year and monitoring date.
* `checks.readers.extract.parse_html`, `checks.readers.listing.extract_items` / `pagination`:
  random markup
  made of what list pages are made of. `extract_items` and `pagination` catch everything
  themselves (a reader on every page must not stop the scan), so the test also asserts that the
  safety net was not needed: a swallowed exception is a bug as much as an escaped one.
* `crawler.config.parse_config`: valid configs mutated at random paths with random TOML values;
  only `ConfigError` may escape, and what it accepts is sane.
* `crawler.recordings.read_exchanges` (when the module exists): valid WARC files, plain
  and gzip,
  cut and corrupted at random; only `WarcError` may escape.

The suite runs a fixed, derandomised set of examples (well under 20 s); set
`GOVMON_FUZZ_EXAMPLES=N` to run N random examples per target instead (a longer run).
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import gzip
import importlib
import io
import math
import os
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from checks.readers import listing
from checks.readers.dates import MAX_YEAR, MIN_YEAR, find_dates, parse_date
from checks.readers.encoding import decode_html
from checks.readers.extract import parse_html
from crawler.config import ConfigError, parse_config
from crawler.net.urls import canonicalize
from tests.support.strategies import MARKUP_FRAGMENTS

_LONG = os.environ.get("GOVMON_FUZZ_EXAMPLES")


def fuzz(examples: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Settings of one fuzz target: ``examples`` derandomised examples in the suite, or
    ``GOVMON_FUZZ_EXAMPLES`` random ones."""
    return settings(
        max_examples=int(_LONG) if _LONG else examples,
        derandomize=not _LONG,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# ---------------------------------------------------------------------------------------------
# strategies: what a hostile page is made of

URL_PIECES = st.sampled_from(
    [
        "http://", "https://", "HTTP://", "//", "/", "./", "../", "..", ".", "?", "#", "&", "=",
        ";jsessionid=AB12", "%", "%2", "%2F", "%zz", "%E4%B8%AD", "%D6%D0", "中文", "新闻/通知",
        "www.gov.cn", "WWW.Example.GOV.cn.", "127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "[",
        "]", ":", ":80", ":443", ":99999", ":-1", ":0x50", "@", "user:pw@", "\\", "\t", "\n",
        " ", "\x00", "javascript:", "mailto:", "data:", "ftp://", "xn--fiqs8s", "例子.中国",
        "a", "index.html", "t20200615_1.html", "?q=中文&page=2", "\u3000", "\ufeff",
        "ａ", "．．", "／", "\u202e", "%00", "%%", "?#", "#?", "http:\\\\a", "http:/a", "http:a",
    ]
)  # fmt: skip
HREFS = st.one_of(
    st.lists(URL_PIECES, max_size=12).map("".join),
    st.text(max_size=60),
)
BASES = st.one_of(
    st.sampled_from(
        [
            "http://www.gov.cn/zwgk/index.html",
            "https://例子.中国/a/b/c?x=1#f",
            "http://127.0.0.1:8080",
            "http://[::1]:80/",
            "http://h/?",
        ]
    ),
    st.lists(URL_PIECES, max_size=8).map(lambda parts: "http://h/" + "".join(parts)),
    st.text(max_size=30),
)
#: Where a page was fetched: the engine hands the readers canonical URLs only.
PAGE_URLS = st.one_of(
    st.sampled_from(
        ["http://www.gov.cn/zwgk/index.html", "https://xn--fsqu00a.xn--fiqs8s/a/b?x=1"]
    ),
    st.lists(URL_PIECES, max_size=8).map(lambda parts: canonicalize("http://h/" + "".join(parts))),
).filter(lambda url: url is not None)
ENCODINGS = st.sampled_from(["utf-8", "gbk", "gb18030", "big5", "latin-1", "no-such-codec", ""])

CHARSET_LABELS = st.sampled_from(
    [
        "utf-8", "UTF8", "gbk", "GB2312", "gb18030", "big5", "shift_jis", "euc-kr", "utf-16",
        "utf-16le", "utf-16be", "iso-8859-1", "windows-1252", "x-user-defined", "no-such",
        "\"utf-8\"", "'gbk'", "", " ", "utf-7", "hz", "rot13", "base64", "zlib", "idna",
        "punycode", "unicode_escape", "mbcs", "cp65001", "utf-32",
    ]
)  # fmt: skip
CONTENT_TYPES = st.one_of(
    st.none(),
    CHARSET_LABELS.map(lambda label: f"text/html; charset={label}"),
    st.text(max_size=40),
)
BYTE_PIECES = st.sampled_from(
    [
        b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"<meta charset=", b"gbk>", b"utf-16>",
        b'<meta http-equiv="Content-Type" content="text/html; charset=', b'big5">', b"\x00",
        b"\x80", b"\xff", b"\xd6\xd0", b"\xe4\xb8\xad", b"\xe4\xb8", b"\x81\x30\x81\x30",
        b"<html>", b"<title>", "标题".encode("gbk"), "标题".encode(), b"\r\n", b" ",
    ]
)  # fmt: skip
BODIES = st.one_of(
    st.binary(max_size=400),
    st.lists(BYTE_PIECES, max_size=20).map(b"".join),
    st.lists(st.one_of(BYTE_PIECES, st.binary(max_size=8)), max_size=20).map(b"".join),
)

DATE_PIECES = st.sampled_from(
    [
        "2020-06-15", "2020/6/5", "2020.06.15", "20200615", "2020061510203", "2020年6月15日",
        "二〇二〇年六月十五日", "二零二零年十二月三十一日", "06-15", "[06-15]", "6月15日",
        "(2020-06-15)", "【2020-06-15】", "２０２０－０６－１５", "2020-02-30", "2019-02-29",
        "2020-13-01", "0000-00-00", "9999-12-31", "1989-12-31", "2101-01-01", "06/15/2020",
        "15/06/2020", "2020-06-15T10:20:30+00:00", "2022-02-06T20:48:06Z", "发布时间：",
        "日期：", "年", "月", "日", "-", "/", ".", " ", "\u3000", "十", "〇", "卅", "廿", "1",
        "12", "31", "99",
    ]
)  # fmt: skip
DATE_TEXT = st.one_of(st.lists(DATE_PIECES, max_size=12).map("".join), st.text(max_size=80))
AS_OF = st.one_of(st.none(), st.dates())
CONTEXT_YEAR = st.one_of(st.none(), st.integers(-10, 10_000))


def _tag(name: str, attrs: str = "") -> st.SearchStrategy[str]:
    return st.just(f"<{name}{attrs}>")


HTML_PIECES = st.one_of(
    MARKUP_FRAGMENTS,
    DATE_PIECES,
    st.sampled_from(
        [
            "<ul>", "</ul>", "<li>", "</li>", "<ol>", "<p>", "</p>", "<h2>", "</h2>",
            "<div class=\"list\">", "<div id=\"page\">", "<span class=\"date\">", "</span>",
            "<a href=\"index_1.html\">下一页</a>", "<a href=\"?pageNo=3\">3</a>", "上一页",
            "尾页", "<a href=\"index_9.html\">尾页</a>", "共5页", "第1页",
            "<script>createPageHTML(5, 0, \"index\", \"html\");</script>",
            "<script>createPageHTML('page_div', 9, 1, 'index', 'htm', 20);</script>",
            "<script>var countPage = 3;createPageHTML(countPage, 0, 'index', 'shtml');</script>",
            "<script>createPageHTML(99999999999, 0, 'index', 'html');</script>",
            "<script>createPageHTML(-1, 0, '', '');</script>", "<script>createPageHTML(",
            "<base href=\"http://other.test/x/\">", "<base href=\"javascript:0\">", "暂无信息",
            "<table>", "<tr>", "<td>", "</tr>", "</table>", "<!--", "-->", "<![CDATA[", "]]>",
            "<title>", "</title>", "&nbsp;", "&#0;", "&#x110000;", "&amp;", "\x00", "<<", ">",
            "<a title=\"很长的标题很长的标题很长的标题很长的标题\" href=\"t1.html\">很长的…</a>",
        ]
    ),
    HREFS.map(lambda href: f'<a href="{href}">'),
    st.text(max_size=12),
)  # fmt: skip
RANDOM_HTML = st.lists(HTML_PIECES, max_size=80).map("".join)


# ---------------------------------------------------------------------------------------------
# URLs


@fuzz(1200)
@given(href=HREFS, base=st.one_of(st.none(), BASES), encoding=ENCODINGS)
@example(href="http://[::1", base=None, encoding="utf-8")
@example(href="//\x00", base="http://h/", encoding="no-such-codec")
@example(href="?q=😀", base="http://h/a", encoding="gbk")
@example(href="http://例子.中国:80/中文?中=文#x", base=None, encoding="gb18030")
@example(href="..\\..\\a", base="http://h/x/y/z", encoding="utf-8")
@example(href="http://用户 名@h/", base=None, encoding="utf-8")
def test_canonicalize(href: str, base: str | None, encoding: str) -> None:
    url = canonicalize(href, base, encoding)
    if url is None:
        return
    assert url.startswith(("http://", "https://")), url
    assert url.isascii(), url  # IDNA host, percent-encoded path, query and user info
    assert "#" not in url, url
    assert not any(ch in url for ch in " \t\r\n\x00"), url
    # a canonical URL is its own canonical form: de-duplication depends on it
    assert canonicalize(url) == url, (href, base, url)
    assert canonicalize(url, base, encoding) == url, (href, base, url)


# ---------------------------------------------------------------------------------------------
# charsets


@fuzz(800)
@given(data=BODIES, content_type=CONTENT_TYPES)
@example(data=b"\xff\xfe\x00", content_type="text/html; charset=utf-16")
@example(data=b"<meta charset=utf-16>\x80", content_type=None)
@example(data=b"abc", content_type="text/html; charset=rot13")
@example(data=b"abc", content_type="text/html; charset=base64")
@example(data=b"\x81\x30", content_type="text/html; charset=x-user-defined")
def test_decode_html(data: bytes, content_type: str | None) -> None:
    decoded = decode_html(data, content_type)
    assert isinstance(decoded.text, str)
    assert codecs.lookup(decoded.charset).name  # a real codec, usable to encode the query
    # a text codec: it can encode a link's query (rot13, base64, zlib are not charsets)
    "中文 ascii".encode(decoded.charset, "xmlcharrefreplace")


READABLE = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=60
)


@fuzz(300)
@given(
    text=READABLE,
    codec=st.sampled_from(["utf-8", "big5", "shift_jis", "euc-kr", "utf-16-le", "utf-16-be"]),
)
@example(text="链接", codec="utf-16-le")
def test_decode_html_reads_a_labelled_page_back(text: str, codec: str) -> None:
    """A page whose header names its charset (and whose bytes are valid in it) reads back
    exactly, as a browser reads it (WHATWG: the transport-layer label is used as given)."""
    page = f'<html><title>{text}</title><a href="/x.html">x</a></html>'
    try:
        data = page.encode(codec)
    except UnicodeEncodeError:
        return
    if data.decode(codec) != page:  # the codec's own asymmetry (shift_jis reads ¥ back as \\)
        return
    label = {"utf-16-le": "UTF-16LE", "utf-16-be": "UTF-16BE"}.get(codec, codec)
    decoded = decode_html(data, f"text/html; charset={label}")
    assert decoded.text == page, (codec, decoded.charset, decoded.text[:80])


# ---------------------------------------------------------------------------------------------
# dates


@fuzz(1200)
@given(text=DATE_TEXT, context_year=CONTEXT_YEAR, as_of=AS_OF)
@example(text="06-15", context_year=None, as_of=dt.date.max)
@example(text="02-29", context_year=None, as_of=dt.date.min)
@example(text="[06-15]", context_year=10_000, as_of=None)
@example(text="二〇二〇年二月三十日", context_year=None, as_of=None)
def test_parse_date(text: str, context_year: int | None, as_of: dt.date | None) -> None:
    found = parse_date(text, context_year=context_year, as_of=as_of)
    if found is not None:
        assert MIN_YEAR <= found.year <= MAX_YEAR, found


@fuzz(800)
@given(text=DATE_TEXT, yearless=st.booleans(), context_year=CONTEXT_YEAR, as_of=AS_OF)
@example(text="06-15 06-16", yearless=True, context_year=None, as_of=dt.date.max)
def test_find_dates(
    text: str, yearless: bool, context_year: int | None, as_of: dt.date | None
) -> None:
    for day, (start, end) in find_dates(
        text, yearless=yearless, context_year=context_year, as_of=as_of
    ):
        assert MIN_YEAR <= day.year <= MAX_YEAR, day
        assert 0 <= start < end <= len(text), (start, end, len(text))


# ---------------------------------------------------------------------------------------------
# pages: links, list items, pagination

_SAFETY_NET = "could not read the page"


@fuzz(400)
@given(html=RANDOM_HTML, base=PAGE_URLS, encoding=ENCODINGS)
@example(
    html="<div>" * 5000 + '<a href="a.html">x</a>' + "2020-06-15", base="http://h/", encoding=""
)
@example(html="<base href='http://[::1'><a href=x>x</a>", base="http://h/", encoding="utf-8")
def test_parse_html(html: str, base: str, encoding: str) -> None:
    page = parse_html(base, html, encoding or "utf-8")
    assert isinstance(page.title, str)
    for link in page.links:
        assert link.url.startswith(("http://", "https://")), link
        assert canonicalize(link.url) == link.url, link


@fuzz(400)
@given(html=RANDOM_HTML, base=PAGE_URLS, encoding=ENCODINGS, as_of=AS_OF)
@example(
    html="<ul>" + "<li><a href='t.html'>标题</a>[06-15]</li>" * 3 + "</ul>",
    base="http://h/",
    encoding="utf-8",
    as_of=dt.date.max,
)
@example(
    html="<ul><li><a href='t.html'>标题</a>02-29</li></ul>",
    base="http://h/",
    encoding="",
    as_of=None,
)
def test_extract_items(html: str, base: str, encoding: str, as_of: dt.date | None) -> None:
    reading = listing.extract_items(LexborHTMLParser(html), base, encoding, as_of=as_of)
    assert not reading.why.startswith(_SAFETY_NET), f"the reader crashed inside: {reading.why}"
    for item in [*reading.items, *reading.extra]:
        assert isinstance(item.title, str)
        assert item.url.startswith(("http://", "https://")), item
        if item.date is not None:
            assert MIN_YEAR <= item.date.year <= MAX_YEAR, item


@fuzz(400)
@given(html=RANDOM_HTML, base=PAGE_URLS)
@example(html="<script>createPageHTML(99999999999, 0, 'index', 'html');</script>", base="http://h/")
@example(html="<script>createPageHTML(1e9, 0, 'i', 'h')</script>", base="http://h/l/")
def test_pagination(html: str, base: str) -> None:
    tree = LexborHTMLParser(html)
    pages = listing.pagination(tree, base, html)
    assert len(pages) == len(set(pages))
    assert all(p.startswith(("http://", "https://")) for p in pages), pages
    inner = getattr(listing, "_pagination", None)
    if inner is not None:  # the safety net of `pagination` must not be what saved it
        assert inner(tree, base, html) == pages


# ---------------------------------------------------------------------------------------------
# config


def _valid_config() -> dict[str, Any]:
    return {
        "as_of": dt.date(2020, 6, 16),
        "timezone": "Asia/Shanghai",
        "crawl": {
            "rate": 2.0,
            "timeout": 15,
            "max_body": 5_000_000,
            "resolve": {"www.gov.test": "127.0.0.1:8080"},
        },
        "rules": {"news_max_age_days": 14},
        "checks": {"disable": ["content"]},
        "content": {"allow": ["某某"]},
        "scoring": {},
        "site": [
            {
                "id": "fgj",
                "name": "发改局",
                "url": "http://www.gov.test/fgj/",
                "scope": ["http://www.gov.test/fgj/"],
                "column": [{"name": "工作动态", "url": "http://www.gov.test/fgj/gzdt/"}],
                "newmedia": [{"name": "公众号", "url": "http://www.gov.test/wx/"}],
            }
        ],
    }


TOML_SCALARS = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        [
            "", "\x00", "../../etc/passwd", "a" * 300, "Asia/Shanghai", "UTC", "obey", "news",
            "http://h/", "ftp://h/", "http://[::1", "127.0.0.1:0", "[::1]:99999", "[::1]x",
            "::1", "1.2.3.4:65536", "2020-06-16", "2020-06-16T00:00:00", "content", "link.",
        ]
    ),
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([0, -1, 1, 1023, 1024, 2**31, 2**64]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(timezones=st.none() | st.timezones()),
    st.times(),
)  # fmt: skip
TOML_VALUES = st.recursive(
    TOML_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=10), inner, max_size=4),
    ),
    max_leaves=12,
)
CONFIG_KEYS = st.sampled_from(
    [
        "as_of", "timezone", "crawl", "rules", "checks", "content", "scoring", "site", "rate",
        "concurrency", "timeout", "max_pages", "max_depth", "robots", "user_agent",
        "allow_private", "workers", "retries", "retry_backoff", "recheck_delay", "max_body",
        "max_redirects", "resolve", "resolve_only", "disable", "typo_lexicon",
        "sensitive_lexicon", "allow_lexicon", "allow", "id", "name", "unit", "kind", "url",
        "scope", "column", "newmedia", "category", "top_level", "simple", "selectors",
        "news_max_age_days", "reply_count_from", "www.gov.test", "unknown",
    ]
)  # fmt: skip


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid config with a few random edits: a key set, replaced or deleted anywhere."""
    config = _valid_config()
    for _ in range(draw(st.integers(1, 4))):
        node: Any = config
        for _depth in range(draw(st.integers(0, 4))):
            if isinstance(node, dict) and node:
                key = draw(st.sampled_from(sorted(node)))
                if isinstance(node[key], dict | list) and node[key]:
                    node = node[key]
                    continue
            elif isinstance(node, list) and node:
                child = node[draw(st.integers(0, len(node) - 1))]
                if isinstance(child, dict | list) and child:
                    node = child
                    continue
            break
        action = draw(st.sampled_from(["set", "delete"]))
        if isinstance(node, dict):
            key = draw(st.one_of(CONFIG_KEYS, st.sampled_from(sorted(node) or ["x"])))
            if action == "delete":
                node.pop(key, None)
            else:
                node[key] = draw(TOML_VALUES)
        elif isinstance(node, list):
            if action == "delete" and node:
                node.pop()
            else:
                node.append(draw(TOML_VALUES))
    return config


@fuzz(600)
@given(data=configs())
@example(data={"site": [{"id": "a", "url": "http://h/"}], "timezone": "\x00"})
@example(data={"site": [{"id": "a", "url": "http://h/"}], "timezone": "a" * 5000})
@example(data={"site": [{"id": "a", "url": "http://h/"}], "content": {"typo_lexicon": "\x00"}})
@example(data={"site": [{"id": "a", "url": "http://h/"}], "content": {"typo_lexicon": "a" * 5000}})
@example(data={"site": [{"id": "a", "url": "http://h/"}], "crawl": {"resolve": {"h": "[::1]:0"}}})
@example(data={"site": [{"id": "a", "url": "http://h/"}], "crawl": {"timeout": float("nan")}})
@example(data={"site": [{"id": "a", "url": "http://h/"}], "crawl": {"recheck_delay": math.inf}})
def test_parse_config(data: dict[str, Any]) -> None:
    try:
        config = parse_config(data, "fuzz.toml")
    except ConfigError as exc:
        error: ConfigError | None = exc
    else:
        error = None
    if error is not None:  # the message names the file, then the key
        assert str(error).startswith("fuzz.toml"), str(error)
        return
    crawl = config.crawl
    # `nan` and `inf` are valid TOML floats: an infinite timeout or re-check delay is a scan
    # that never ends, and NaN passes every `<` test
    for name in ("timeout", "rate", "retry_backoff", "recheck_delay"):
        value = getattr(crawl, name)
        assert math.isfinite(value), (name, value)
    assert crawl.timeout > 0, crawl.timeout
    assert crawl.rate >= 0, crawl.rate
    assert all(math.isfinite(v) for v in config.scoring.values()), config.scoring
    assert crawl.max_body >= 1024
    for host, (address, port) in crawl.resolve.items():
        assert host, (host, address)
        assert address, (host, address)
        assert port is None or 0 < port < 65536, (host, port)
    for site in config.sites:
        assert canonicalize(site.url) == site.url
        assert all(canonicalize(prefix) == prefix for prefix in site.scope)


# ---------------------------------------------------------------------------------------------
# WARC files


def _warc_module() -> ModuleType:
    try:
        return importlib.import_module("crawler.recordings")
    except ImportError:
        pytest.skip("crawler.recordings (the WARC reader) does not exist yet")


def _record(kind: str, uri: str, block: bytes, extra: str = "") -> bytes:
    record_id = zlib.crc32(f"{kind} {uri}".encode())
    head = (
        f"WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Record-ID: <urn:uuid:{record_id}>\r\n"
        f"WARC-Date: 2020-06-15T08:00:00Z\r\nWARC-Target-URI: {uri}\r\n{extra}"
        f"Content-Type: application/http; msgtype={kind}\r\nContent-Length: {len(block)}\r\n\r\n"
    )
    return head.encode("utf-8") + block + b"\r\n\r\n"


def sample_records() -> list[bytes]:
    """A small valid WARC: warcinfo, request/response pairs, chunked and gzip bodies. The same
    bytes on every call (gzip's ``mtime=0``: with the clock in the inner gzip header, the outer
    members' compressed length changed from one second to the next, and hypothesis saw a
    strategy that drew differently for the same choices)."""
    info = (
        b"WARC/1.0\r\nWARC-Type: warcinfo\r\nWARC-Record-ID: <urn:uuid:0>\r\n"
        b"WARC-Date: 2020-06-15T08:00:00Z\r\nContent-Type: application/warc-fields\r\n"
        b"Content-Length: 16\r\n\r\nsoftware: fuzz\r\n\r\n\r\n"
    )
    page = "<html><title>测试</title><a href='/a.html'>链接</a></html>".encode()
    zipped = gzip.compress(page, mtime=0)
    records = [info]
    for n, (headers, body) in enumerate(
        [
            (f"Content-Type: text/html; charset=utf-8\r\nContent-Length: {len(page)}", page),
            (
                "Content-Type: text/html\r\nTransfer-Encoding: chunked",
                b"%x\r\n%b\r\n0\r\n\r\n" % (len(page), page),
            ),
            (f"Content-Encoding: gzip\r\nContent-Length: {len(zipped)}", zipped),
            ("Location: /b.html\r\nContent-Length: 0", b""),
        ]
    ):
        uri = f"http://www.gov.test/{n}.html"
        request = f"GET /{n}.html HTTP/1.1\r\nHost: www.gov.test\r\n\r\n".encode()
        status = b"HTTP/1.1 302 Found" if n == 3 else b"HTTP/1.1 200 OK"
        response = status + b"\r\n" + headers.encode() + b"\r\n\r\n" + body
        records.append(_record("request", uri, request))
        records.append(_record("response", uri, response, f"WARC-Concurrent-To: <urn:{n}>\r\n"))
    return records


def _gzip_members(records: list[bytes]) -> bytes:
    return b"".join(gzip.compress(r, mtime=0) for r in records)


@st.composite
def warc_files(draw: st.DrawFn) -> bytes:
    records = sample_records()
    data = _gzip_members(records) if draw(st.booleans()) else b"".join(records)
    for _ in range(draw(st.integers(0, 4))):
        how = draw(st.sampled_from(["cut", "flip", "insert", "delete", "random"]))
        if how == "random":
            return draw(st.binary(max_size=300))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if how == "cut":
            data = data[:at]
        elif how == "flip":
            data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
        elif how == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
        else:
            data = data[:at] + data[at + draw(st.integers(1, 64)) :]
    return data


@contextlib.contextmanager
def _file(data: bytes, suffix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="govmon-fuzz-") as folder:
        path = Path(folder) / f"fuzz{suffix}"
        path.write_bytes(data)
        yield path


def test_sample_warc_is_read() -> None:
    """The unmutated sample reads as its four responses (guards the fuzz target's seed)."""
    warc = _warc_module()
    for data in (b"".join(sample_records()), _gzip_members(sample_records())):
        with _file(data, ".warc") as path:
            responses = list(warc.read_exchanges(path))
        assert [r.status for r in responses] == [200, 200, 200, 302]
        assert responses[0].body == responses[1].body == responses[2].body
        assert "测试".encode() in responses[0].body


@fuzz(400)
@given(data=warc_files(), suffix=st.sampled_from([".warc", ".warc.gz", ".arc"]))
def test_read_warc(data: bytes, suffix: str) -> None:
    warc = _warc_module()
    with _file(data, suffix) as path:
        try:
            for response in warc.read_exchanges(path):
                assert isinstance(response.body, bytes)
                assert isinstance(response.status, int)
        except warc.WarcError:
            pass


def test_read_warc_stream_of_garbage_is_an_error() -> None:
    warc = _warc_module()
    with _file(io.BytesIO(b"\x00" * 100).read(), ".warc") as path, pytest.raises(warc.WarcError):
        list(warc.read_exchanges(path))
