"""Link extraction: every tag that carries a target, nothing that is not a link."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from checks.readers.extract import link_kind, parse_html

PAGE = """<html><head><title> 通知公告 </title>
<link rel="stylesheet" href="/css/main.css"><link rel="dns-prefetch" href="//cdn.test">
<link rel="icon" href="favicon.ico"><script src="js/app.js"></script>
<meta http-equiv="refresh" content="300; url='/index.html'">
</head><body>
<a href="./202006/t20200615_1.html">文章</a><a href="./202006/t20200615_1.html#p2">同一篇</a>
<a href="mailto:ban@x.test">信箱</a><a href="tel:0750-1234567">电话</a>
<a href="javascript:void(0)">空</a><a href="#top">顶部</a><a>无</a>
<area href="/map.html">
<img src="../images/a.png" srcset="../images/a@2x.png 2x, ../images/a@3x.png 3x">
<picture><source srcset="/img/b.webp"></picture>
<iframe src="https://video.test/embed"></iframe><embed src="/flash/x.swf">
<object data="/doc/x.pdf"></object>
<a href="/files/附件.DOCX">附件</a>
</body></html>"""


def test_extracts_every_kind_of_link_once() -> None:
    page = parse_html("http://h.test/col/tzgg/index.html", PAGE)
    assert page.title == "通知公告"
    got = {(link.url, link.tag) for link in page.links}
    base = "http://h.test"
    assert got == {
        (f"{base}/css/main.css", "link"),
        (f"{base}/col/tzgg/favicon.ico", "link"),
        (f"{base}/col/tzgg/js/app.js", "script"),
        (f"{base}/index.html", "meta"),
        (f"{base}/col/tzgg/202006/t20200615_1.html", "a"),
        (f"{base}/map.html", "area"),
        (f"{base}/col/images/a.png", "img"),
        (f"{base}/col/images/a@2x.png", "img"),
        (f"{base}/col/images/a@3x.png", "img"),
        (f"{base}/img/b.webp", "source"),
        ("https://video.test/embed", "iframe"),
        (f"{base}/flash/x.swf", "embed"),
        (f"{base}/doc/x.pdf", "object"),
        (f"{base}/files/%E9%99%84%E4%BB%B6.DOCX", "a"),
    }


def test_base_href_is_honoured() -> None:
    page = parse_html(
        "http://h.test/a/b.html",
        '<head><base href="http://h.test/root/"></head><a href="x.html">x</a>',
    )
    assert [link.url for link in page.links] == ["http://h.test/root/x.html"]


def test_gbk_page_query_encoding() -> None:
    page = parse_html("http://h.test/", '<a href="s.jsp?q=中文">s</a>', "gb18030")
    assert page.links[0].url == "http://h.test/s.jsp?q=%D6%D0%CE%C4"


def test_link_kinds() -> None:
    assert link_kind("img", "http://x.test/a", in_scope=False) == "image"
    assert link_kind("a", "http://h.test/a.JPG", in_scope=True) == "image"
    assert link_kind("a", "http://other.test/a.pdf", in_scope=False) == "attachment"
    for ext in ("doc", "docx", "xls", "xlsx", "wps", "ofd", "zip", "rar"):
        assert link_kind("a", f"http://h.test/f.{ext}", in_scope=True) == "attachment"
    assert link_kind("a", "http://other.test/", in_scope=False) == "external"
    assert link_kind("a", "http://h.test/x.html", in_scope=True) == "page"
    assert link_kind("script", "http://h.test/x.js", in_scope=True) == "other"


@given(st.text(max_size=400))
def test_any_text_parses(text: str) -> None:
    page = parse_html("http://h.test/", text)
    assert all(link.url.startswith(("http://", "https://")) for link in page.links)
