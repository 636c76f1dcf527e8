"""URL canonicalisation: examples that pin the rules, and properties over arbitrary input."""

from __future__ import annotations

from urllib.parse import quote, urljoin

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from crawler.net.urls import canonicalize, hostname, in_scope, origin, path_extension


@pytest.mark.parametrize(
    ("href", "base", "expected"),
    [
        ("HTTP://WWW.Example.GOV.cn:80/a", None, "http://www.example.gov.cn/a"),
        ("https://example.gov.cn:443/", None, "https://example.gov.cn/"),
        ("https://example.gov.cn:8443/", None, "https://example.gov.cn:8443/"),
        ("http://example.gov.cn", None, "http://example.gov.cn/"),
        ("http://example.gov.cn./x#frag", None, "http://example.gov.cn/x"),
        ("../b/./c.html", "http://h.cn/a/x/y.html", "http://h.cn/a/b/c.html"),
        ("../../../../c.html", "http://h.cn/a/y.html", "http://h.cn/c.html"),
        ("./202006/t20200615_1.html", "http://h.cn/col/index.html",
         "http://h.cn/col/202006/t20200615_1.html"),
        ("?pageNo=2", "http://h.cn/list.jsp?channelId=12", "http://h.cn/list.jsp?pageNo=2"),
        ("//cdn.h.cn/x.png", "https://h.cn/", "https://cdn.h.cn/x.png"),
        ("..\\img\\a.gif", "http://h.cn/a/b.html", "http://h.cn/img/a.gif"),
        ("/%7Euser/%41", None, None),  # relative without a base: not a URL
        ("http://h.cn/%7Euser/%41%2f", None, "http://h.cn/~user/A%2F"),
        ("http://h.cn/a b.html", None, "http://h.cn/a%20b.html"),
        ("http://h.cn/100%.html", None, "http://h.cn/100%25.html"),
        (" \n http://h.cn/x\t.html ", None, "http://h.cn/x.html"),
        ("http://政府.cn/", None, "http://xn--mxtq1m.cn/"),
        ("http://user@h.cn/", None, "http://user@h.cn/"),
        ("http://[::1]:8080/x", None, "http://[::1]:8080/x"),
    ],
)  # fmt: skip
def test_canonical_examples(href: str, base: str | None, expected: str | None) -> None:
    assert canonicalize(href, base) == expected


@pytest.mark.parametrize(
    "href",
    ["mailto:x@h.cn", "tel:12345", "javascript:void(0)", "JavaScript:alert(1)", "#top", "",
     "data:image/png;base64,AA==", "ftp://h.cn/x", "http://h.cn:99999/", "http:///x",
     "http://h.cn:abc/"],
)  # fmt: skip
def test_not_checkable(href: str) -> None:
    assert canonicalize(href, "http://h.cn/a.html") is None


def test_raw_chinese_path_and_its_percent_encoded_twin_are_one_url() -> None:
    raw = canonicalize("/新闻/通知.html", "http://h.cn/")
    encoded = canonicalize("/%E6%96%B0%E9%97%BB/%E9%80%9A%E7%9F%A5.html", "http://h.cn/")
    lower = canonicalize("/%e6%96%b0%e9%97%bb/%e9%80%9a%e7%9f%a5.html", "http://h.cn/")
    assert raw == encoded == lower == "http://h.cn/%E6%96%B0%E9%97%BB/%E9%80%9A%E7%9F%A5.html"


def test_gbk_query_kept_byte_for_byte() -> None:
    # a link on a GBK page already encoded in GBK: not re-read as UTF-8
    assert (
        canonicalize("search?q=%D6%D0%CE%C4", "http://h.cn/") == "http://h.cn/search?q=%D6%D0%CE%C4"
    )
    # a raw Chinese query on a GBK page is sent in GBK, as browsers do
    assert canonicalize("search?q=中文", "http://h.cn/", "gb18030") == (
        "http://h.cn/search?q=%D6%D0%CE%C4"
    )
    # and in UTF-8 on a UTF-8 page
    assert (
        canonicalize("search?q=中文", "http://h.cn/") == "http://h.cn/search?q=%E4%B8%AD%E6%96%87"
    )
    # the path is always UTF-8, whatever the page's encoding
    assert canonicalize("/中.html", "http://h.cn/", "gb18030") == "http://h.cn/%E4%B8%AD.html"


def test_helpers() -> None:
    url = "https://h.cn:8443/a/b.PDF?x=1"
    assert origin(url) == "https://h.cn:8443"
    assert hostname(url) == "h.cn"
    assert hostname("http://[::1]:80/") == "::1"
    assert path_extension(url) == "pdf"
    assert path_extension("http://h.cn/dir.d/") == ""
    assert in_scope("http://h.cn/fgj/x.html", ("http://h.cn/fgj/",))
    assert in_scope("http://h.cn/fgj", ("http://h.cn/fgj/",))
    assert not in_scope("http://h.cn/fgjx/", ("http://h.cn/fgj/",))


_segment = st.lists(
    st.sampled_from([*"abc.-_~%/中文é ?#&=\\", "..", "./", "%41", "%e4%b8%ad", "%D6%D0"]),
    max_size=12,
).map("".join)


@given(path=_segment, base_path=_segment)
@example(path="%", base_path="")
@example(path="..%2e/", base_path="a/")
def test_canonical_form_is_a_fixed_point(path: str, base_path: str) -> None:
    base = canonicalize("http://h.cn/" + base_path)
    assert base is not None
    once = canonicalize(path, base)
    if once is None:
        return
    assert once.isascii()
    assert " " not in once
    assert "#" not in once
    assert canonicalize(once) == once
    assert canonicalize(once, "http://other.cn/") == once


@given(st.text(max_size=60))
def test_never_raises_on_any_text(text: str) -> None:
    for base in (None, "http://h.cn/a/b.html"):
        result = canonicalize(text, base)
        assert result is None or result.startswith(("http://", "https://"))


@given(
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12)
    .map(str.strip)
    .filter(lambda s: "\\" not in s and not s.startswith("/"))
)
def test_raw_and_encoded_paths_agree(name: str) -> None:
    # "%" is left out: a raw "%00" in a path is already an escape (as browsers read it), so its
    # encoded twin "%2500" names another resource
    plain = name.replace("?", "").replace("#", "").replace("%", "")
    raw = canonicalize("/" + plain, "http://h.cn/")
    enc = canonicalize("/" + quote(plain, safe="/!$&'()*+,;=:@~"), "http://h.cn/")
    assert raw == enc


_rel_part = st.sampled_from(
    ["a", "b.html", "..", ".", "", "?x=1", "#f", "/", "//h2.cn/", "中", "%41", "x?y=中#z"]
)


@given(
    href=st.lists(_rel_part, min_size=1, max_size=6).map("".join).filter(str.strip),
    base_path=st.lists(st.sampled_from(["d/", "e.html", "?q=1", "f/g/", "中/"]), max_size=4).map(
        "".join
    ),
)
def test_fast_join_agrees_with_urljoin(href: str, base_path: str) -> None:
    """The fast join matches urljoin, except where urljoin drops empty segments ("a//b"),
    which browsers keep (and so does govmon)."""

    assume("//" not in href.split("?", maxsplit=1)[0][1:])
    assume(not href.lstrip().startswith("#"))  # a same-page anchor is not a link to check
    assume(not href.startswith("//") or href[2:3] not in ("", "/", "?", "#"))  # no host
    base = canonicalize("http://h.cn/" + base_path)
    assert base is not None
    expected = canonicalize(urljoin(base, href))
    assert canonicalize(href, base) == expected
