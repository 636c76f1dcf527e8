"""Decoding in browser order, mended for mislabelled Chinese pages; real pages when present."""

from __future__ import annotations

import html

from hypothesis import given
from hypothesis import strategies as st

from checks.readers.encoding import decode_html, normalise_charset
from checks.readers.extract import parse_html
from tests.support.realdata import manifest, needs_realdata

TEXT = "江门市蓬江区人民政府办公室关于印发《通知》的通知：镕、堃、喆等字"


def page(charset_meta: str | None, body: str) -> str:
    meta = f'<meta charset="{charset_meta}">' if charset_meta else ""
    return f"<html><head>{meta}<title>标题</title></head><body>{body}</body></html>"


def test_gb2312_label_reads_as_gb18030() -> None:
    # 镕 and 堃 are not in GB2312: pages labelled gb2312 use GBK characters all the time
    data = page("gb2312", TEXT).encode("gb18030")
    d = decode_html(data)
    assert d.charset == "gb18030"
    assert d.source == "meta"
    assert TEXT in d.text


def test_header_wins_over_meta() -> None:
    data = page("utf-8", TEXT).encode("gbk")
    d = decode_html(data, "text/html; charset=GBK")
    assert (d.charset, d.source) == ("gb18030", "header")
    assert TEXT in d.text


def test_utf8_bytes_labelled_gb2312_are_utf8() -> None:
    data = page("gb2312", TEXT).encode("utf-8")
    d = decode_html(data, "text/html; charset=gb2312")
    assert d.charset == "utf-8"
    assert d.source == "utf-8 bytes"
    assert TEXT in d.text


def test_gbk_bytes_labelled_utf8_are_detected() -> None:
    data = page("utf-8", TEXT * 3).encode("gbk")
    d = decode_html(data)
    assert d.charset == "gb18030"
    assert d.source == "detected"
    assert TEXT in d.text


def test_bom_wins() -> None:
    data = b"\xef\xbb\xbf" + page("gbk", TEXT).encode("utf-8")
    d = decode_html(data, "text/html; charset=gbk")
    assert (d.charset, d.source) == ("utf-8", "bom")


def test_unlabelled_gbk_and_unknown_labels() -> None:
    d = decode_html(page(None, TEXT).encode("gb18030"))
    assert d.charset == "gb18030"
    assert TEXT in d.text
    assert normalise_charset("x-unknown-thing") is None
    assert normalise_charset("GB_2312-80") == "gb18030"
    assert normalise_charset("ISO-8859-1") == "cp1252"


def test_utf8_cut_inside_a_character_is_still_utf8() -> None:
    data = page("gb2312", TEXT * 20).encode("utf-8")[:-20]
    data = data[: len(data) - 1]
    d = decode_html(data)
    assert d.charset == "utf-8"


@given(
    st.binary(max_size=300),
    st.sampled_from(
        [None, "text/html; charset=gbk", "text/html; charset=utf-8", "x; charset=bogus"]
    ),
)
def test_never_raises(data: bytes, content_type: str | None) -> None:
    d = decode_html(data, content_type)
    assert isinstance(d.text, str)


@needs_realdata
def test_real_pages_decode_to_their_encoding_and_title() -> None:
    checked = wrong = 0
    problems = []
    for p in manifest():
        if not p.path.name.endswith(".html") or p.actual_encoding not in ("utf-8", "gb18030"):
            continue
        data = p.path.read_bytes()
        if b"<head" not in data[:20000].lower():
            continue  # a stored fragment, not a page
        d = decode_html(data)
        checked += 1
        parsed = parse_html("http://example.test/", d.text, d.charset)
        # the manifest is a TSV that doubles quotes; compare without white space
        expected = "".join(html.unescape(p.title.replace('""', '"').strip('"')).split())
        if d.charset != p.actual_encoding or expected not in "".join(parsed.title.split()):
            wrong += 1
            problems.append((p.path.name, d.charset, p.actual_encoding, parsed.title[:30]))
    assert checked >= 75
    assert wrong == 0, problems


def test_codecs_that_are_not_charsets_are_ignored() -> None:
    for label in ("rot13", "base64", "zlib", "hex", "uu"):
        assert normalise_charset(label) is None
        d = decode_html(f'<meta charset="{label}"><p>中文</p>'.encode())
        assert d.charset == "utf-8"
        d = decode_html(b"<p>x</p>", f"text/html; charset={label}")
        assert "x" in d.text
