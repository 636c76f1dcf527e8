"""Decoding page bytes the way a browser would, mended for Chinese government sites.

Order: a byte-order mark; the HTTP ``Content-Type`` charset; a ``<meta>`` prescan; detection.
GB2312 and GBK are read as GB18030 (their superset; pages labelled gb2312 routinely use GBK
characters). A declaration is not trusted blindly: a page labelled GB-something (or not labelled)
whose bytes are valid UTF-8 with non-ASCII text is UTF-8 (a page saved as UTF-8 that still says
gb2312 is common), and a page labelled UTF-8 whose bytes are not is detected instead.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "gb_2312-80": "gb18030",
    "x-gb2312": "gb18030",
    "csgb2312": "gb18030",
    "euc-cn": "gb18030",
    "hz-gb-2312": "gb18030",
    "iso-8859-1": "windows-1252",
    "latin1": "windows-1252",
    "latin-1": "windows-1252",
    "ascii": "windows-1252",
    "us-ascii": "windows-1252",
    "big5": "big5hkscs",
    "utf8": "utf-8",
    "unicode": "utf-8",
}
_META = re.compile(
    rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]{2,40})""", re.IGNORECASE
)
_HEADER = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]{2,40})""", re.IGNORECASE)
PRESCAN_BYTES = 4096
# text codecs no browser uses for a page (utf-7 is refused by every browser on purpose)
_NOT_PAGE_CHARSETS = frozenset(
    {"punycode", "idna", "raw-unicode-escape", "unicode-escape", "raw_unicode_escape",
     "unicode_escape", "undefined", "utf-7", "mbcs", "oem", "palmos"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    charset: str  # the codec used, e.g. "gb18030", "utf-8"
    declared: str | None  # what the page or header said, normalised
    source: str  # "bom", "header", "meta", "utf-8 bytes", "detected", "default"


def normalise_charset(label: str | None) -> str | None:
    """A Python codec name for an HTML charset label, or ``None`` if unknown."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    name = _ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_PAGE_CHARSETS:
        return None  # rot13, base64, punycode ...: codecs, but not a page's character set
    codec = info.name
    return "gb18030" if codec in ("gbk", "gb2312") else codec


def charset_from_content_type(value: str | None) -> str | None:
    if not value:
        return None
    m = _HEADER.search(value)
    return m.group(1) if m else None


def prescan_meta(data: bytes) -> str | None:
    m = _META.search(data[:PRESCAN_BYTES])
    if not m:
        return None
    return m.group(1).decode("ascii", "replace")


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _utf8_text(data: bytes) -> str | None:
    """The UTF-8 text when ``data`` is valid UTF-8 with some non-ASCII, else None."""
    if data.isascii():
        return None
    try:
        # not final: a body cut at the byte cap may end inside a character
        head = codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError:
        return None
    return head if len(head) >= len(data) // 4 else None


def decode_html(data: bytes, content_type: str | None = None) -> Decoded:
    """Decode an HTML body; never raises."""
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return Decoded(data[len(bom) :].decode(codec, "replace"), codec, codec, "bom")
    header_label = charset_from_content_type(content_type)
    declared = normalise_charset(header_label)
    source = "header"
    if declared in ("utf-16", "utf-16-le", "utf-16-be"):
        # the header names UTF-16 (a BOM would have won above): "utf-16" alone is little-endian
        codec = "utf-16-le" if declared == "utf-16" else declared
        return Decoded(data.decode(codec, "replace"), codec, declared, source)
    if declared is None:
        meta = normalise_charset(prescan_meta(data))
        if meta is not None:
            declared, source = meta, "meta"
        if declared in ("utf-16-le", "utf-16-be", "utf-16"):
            declared = "utf-8"  # a meta saying utf-16 in an ASCII-compatible body: HTML spec
    if declared is None or declared in ("gb18030", "windows-1252"):
        utf8 = _utf8_text(data)
        if utf8 is not None:
            return Decoded(utf8, "utf-8", declared, "utf-8 bytes")
        if declared is not None:
            return Decoded(data.decode(declared, "replace"), declared, declared, source)
        return _detect(data, None)
    text = _strict(data, declared)
    if text is not None:
        return Decoded(text, declared, declared, source)
    if declared == "utf-8":
        return _detect(data, declared)
    return Decoded(data.decode(declared, "replace"), declared, declared, source)


def _detect(data: bytes, declared: str | None) -> Decoded:
    if data.isascii():
        return Decoded(data.decode("ascii"), "utf-8", declared, "default")
    text = _strict(data, "gb18030")
    if text is not None:
        return Decoded(text, "gb18030", declared, "detected")
    try:
        best = from_bytes(data[:65536]).best()
    except Exception:  # the detector is best effort
        best = None
    if best is not None and best.encoding:
        codec = normalise_charset(best.encoding) or "utf-8"
        return Decoded(data.decode(codec, "replace"), codec, declared, "detected")
    # Chinese government sites: GB18030 is the likeliest reading of undecodable bytes
    return Decoded(data.decode("gb18030", "replace"), "gb18030", declared, "default")
