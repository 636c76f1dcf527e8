"""URL canonicalisation and scope: pure functions, on the crawler's hot path.

One resource has one canonical string, so that de-duplication is a set lookup:

* scheme and host lower-cased, an internationalised host in its IDNA (punycode) form, a trailing
  dot dropped, the default port removed, the fragment removed;
* dot segments removed, ``\\`` read as ``/`` (as browsers do for http), an empty path made ``/``;
* the path in UTF-8 percent-encoding with upper-case hex: a raw Chinese path and its
  percent-encoded twin give the same string, and escapes of unreserved characters are decoded;
* the query kept byte for byte: existing escapes are not decoded (a GBK-encoded ``%D6%D0`` stays
  GBK), and raw non-ASCII characters are encoded in the *page's* encoding, as a browser does when
  it follows a link on a GBK page.

Only ``http`` and ``https`` URLs are returned; ``mailto:``, ``tel:``, ``javascript:``, ``data:``
and unparseable input give ``None``.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import urljoin

_SCHEMES = ("http", "https")
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# characters left as they are in a path (RFC 3986 pchar plus "/")
_PATH_SAFE = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/"
)
_QUERY_SAFE = _PATH_SAFE | frozenset("?")
_USERINFO_SAFE = _PATH_SAFE - frozenset("/@")
_CLEAN_PATH = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]*\Z")
_CLEAN_QUERY = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*\Z")
_HEX = "0123456789ABCDEF"
_HOST = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?\Z|\[[0-9a-f:.]+\]\Z")
_PCT = re.compile(r"%([0-9A-Fa-f]{2})")
_TAB_NL = str.maketrans("", "", "\t\n\r")
_SKIP_PREFIXES = ("mailto:", "tel:", "javascript:", "data:", "sms:", "about:", "#", "callto:")


def _encode_chars(text: str, safe: frozenset[str], encoding: str) -> str:
    """Percent-encode every character of ``text`` not in ``safe``; keep valid escapes."""
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "%":
            if i + 2 < n and _is_hex(text[i + 1 : i + 3]):
                out.append("%" + text[i + 1 : i + 3].upper())
                i += 3
                continue
            out.append("%25")
        elif ch in safe:
            out.append(ch)
        else:
            try:
                data = ch.encode(encoding)
            except (UnicodeEncodeError, LookupError):
                # browsers send an unencodable character as a numeric character reference
                data = ch.encode(encoding, "xmlcharrefreplace") if _codec_ok(encoding) else b""
                if not data:
                    data = ch.encode("utf-8", "surrogatepass")
            out.append("".join("%" + _HEX[b >> 4] + _HEX[b & 15] for b in data))
        i += 1
    return "".join(out)


def _is_hex(pair: str) -> bool:
    return len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair)


@lru_cache(maxsize=64)
def _codec_ok(encoding: str) -> bool:
    try:
        "".encode(encoding)
    except LookupError:
        return False
    return True


def _decode_unreserved(match: re.Match[str]) -> str:
    value = int(match.group(1), 16)
    if value in _UNRESERVED:
        return chr(value)
    return "%" + match.group(1).upper()


def _remove_dot_segments(path: str) -> str:
    if "/." not in path:
        return path
    segments = path.split("/")
    if not any(s in (".", "..") for s in segments):
        return path
    out: list[str] = []
    for seg in segments[1:]:
        if seg == "..":
            if out:
                out.pop()
        elif seg != ".":
            out.append(seg)
    if segments[-1] in (".", ".."):
        out.append("")
    return "/" + "/".join(out)


_SESSION_PARAM = re.compile(r";(jsessionid|phpsessid|sid|sessionid)=[^/?;]*", re.IGNORECASE)
_SESSION_QUERY = re.compile(
    r"^(jsessionid|phpsessid|aspsessionid[a-z]*|sessionid|cfid|cftoken)=", re.IGNORECASE
)


def _strip_session(path: str, query: str | None) -> tuple[str, str | None]:
    """Session ids make every link a new URL (a crawler trap): ``;jsessionid=`` path
    parameters and session query keys are dropped."""
    if ";" in path:
        path = _SESSION_PARAM.sub("", path)
    if query and "=" in query:
        kept = [p for p in query.split("&") if not _SESSION_QUERY.match(p)]
        query = "&".join(kept)
    return path, query


def _normalise_path(path: str) -> str:
    if not path:
        return "/"
    if "\\" in path:
        path = path.replace("\\", "/")
    if not path.startswith("/"):
        path = "/" + path
    path = _remove_dot_segments(path)
    if _CLEAN_PATH.match(path):
        return path
    if "%" in path:
        path = _PCT.sub(_decode_unreserved, path)
        if _CLEAN_PATH.match(path):
            return path
    return _encode_chars(path, _PATH_SAFE, "utf-8")


def _normalise_query(query: str, encoding: str) -> str:
    if _CLEAN_QUERY.match(query) and "%" not in query:
        return query
    return _encode_chars(query, _QUERY_SAFE, encoding)


@lru_cache(maxsize=4096)
def _normalise_host(netloc: str, scheme: str) -> str | None:
    userinfo = ""
    if "@" in netloc:
        userinfo, _, netloc = netloc.rpartition("@")
        userinfo = _encode_chars(userinfo, _USERINFO_SAFE, "utf-8") + "@"
    host, port = netloc, ""
    if netloc.startswith("["):
        end = netloc.find("]")
        if end < 0:
            return None
        host, rest = netloc[: end + 1], netloc[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                return None
            port = rest[1:]
    elif ":" in netloc:
        host, _, port = netloc.rpartition(":")
    if port:
        if not port.isdigit() or int(port) > 65535:
            return None
        port = str(int(port))
        if port == _DEFAULT_PORTS[scheme]:
            port = ""
    host = host.rstrip(".").lower()
    if not host:
        return None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if not _HOST.match(host):
        return None
    return userinfo + host + (":" + port if port else "")


def canonicalize(href: str, base: str | None = None, encoding: str = "utf-8") -> str | None:
    """The canonical absolute http(s) URL of ``href`` read on a page at ``base``.

    ``encoding`` is the page's character encoding; it is used only for raw non-ASCII
    characters in the query, as browsers do.
    """
    text = href.strip(" \t\n\r\f\v\x00")
    if "\t" in text or "\n" in text or "\r" in text:
        text = text.translate(_TAB_NL)
    if not text:
        return None
    lowered = text[:11].lower()
    if lowered.startswith(_SKIP_PREFIXES):
        return None
    if "\\" in text:
        # only the part before the query is a path; a backslash there is a slash
        head, sep, tail = text.partition("?")
        text = head.replace("\\", "/") + sep + tail
    if base is not None and not lowered.startswith(("http://", "https://")):
        joined = _join(base, text)
        if joined is None:
            return None
        text = joined
    return _canonical_absolute(text, encoding)


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def _join(base: str, href: str) -> str | None:
    """``href`` resolved against ``base``: a fast path for the usual relative forms, with
    :func:`urllib.parse.urljoin` for the rest. Dot segments are removed later."""
    if _SCHEME.match(href) is None and base.startswith(("http://", "https://")):
        if href.startswith("//"):
            return base[: base.find(":") + 1] + href
        slash = base.find("/", base.find("//") + 2)
        root = base if slash < 0 else base[:slash]
        if href.startswith("/"):
            return root + href
        path = "/" if slash < 0 else base[slash:]
        path = path.split("#", 1)[0]
        if href.startswith("?"):
            return root + path.split("?", 1)[0] + href
        if href.startswith("#"):
            return root + path
        folder = path.split("?", 1)[0]
        return root + folder[: folder.rfind("/") + 1] + href
    try:
        return urljoin(base, href)
    except ValueError:
        return None


def _canonical_absolute(text: str, encoding: str) -> str | None:
    colon = text.find(":")
    if colon <= 0:
        return None
    scheme = text[:colon].lower()
    if scheme not in _SCHEMES:
        return None
    rest = text[colon + 1 :]
    if not rest.startswith("//"):
        return None
    rest = rest[2:]
    hash_at = rest.find("#")
    if hash_at >= 0:
        rest = rest[:hash_at]
    end = len(rest)
    for sep in "/?":
        pos = rest.find(sep)
        if 0 <= pos < end:
            end = pos
    netloc, tail = rest[:end], rest[end:]
    host = _normalise_host(netloc, scheme)
    if host is None:
        return None
    path, qmark, query = tail.partition("?")
    if ";" in path or "sess" in query.lower() or "cf" in query.lower():
        path, stripped = _strip_session(path, query)
        query = stripped or ""
        if not query:
            qmark = ""
    path = _normalise_path(path)
    if qmark:
        return f"{scheme}://{host}{path}?{_normalise_query(query, encoding)}"
    return f"{scheme}://{host}{path}"


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a canonical URL: the politeness key."""
    slash = url.find("/", url.find("//") + 2)
    return url if slash < 0 else url[:slash]


def hostname(url: str) -> str:
    """The host name (no port, no brackets) of a canonical URL."""
    netloc = origin(url).split("//", 1)[1]
    netloc = netloc.rpartition("@")[2]
    if netloc.startswith("["):
        return netloc[1 : netloc.find("]")]
    return netloc.rpartition(":")[0] if ":" in netloc else netloc


def in_scope(url: str, prefixes: tuple[str, ...]) -> bool:
    """Whether a canonical URL lies under one of the canonical ``prefixes``."""
    for prefix in prefixes:
        if url.startswith(prefix):
            return True
        # "http://h/fgj" is the channel "http://h/fgj/" itself
        if prefix.endswith("/") and url == prefix[:-1]:
            return True
    return False


def is_ip_literal(host: str) -> bool:
    """Whether ``host`` (as :func:`hostname` gives it) is an IP address, not a name."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def path_extension(url: str) -> str:
    """The lower-case extension of the last path segment (``pdf``), or ``""``."""
    start = url.find("/", url.find("//") + 2)
    if start < 0:
        return ""
    end = len(url)
    q = url.find("?", start)
    if q >= 0:
        end = q
    segment = url[url.rfind("/", start, end) + 1 : end]
    dot = segment.rfind(".")
    if dot < 0:
        return ""
    return segment[dot + 1 :].lower()
