"""A government website full of traps, served for real on loopback addresses.

`GovSite` runs several aiohttp servers (no mocks) in a background thread with its own event
loop, so that synchronous tests can call `crawler.cli.main([...])` while it serves:

    main    http://127.0.0.1:P   the department site under test (Chinese content, columns, articles)
    ext     http://127.0.0.2:P   an external site whose unknown paths answer 200 "页面不存在" pages
    redir   http://127.0.0.3:P   an external site that redirects unknown paths to its home page
    tls     https://127.0.0.4:P  a certificate from a trustme CA that no client trusts
    closed  http://127.0.0.5:P   a bound port that does not listen: connection refused
    gov2    http://127.0.0.6:P   another government site: hard 404s, a 412 WAF, a challenge page
    dns     http://nosuchhost.invalid   a DNS failure (the crawler fails `.invalid` without lookup)

Only 127.0.0.0/8 is ever served or linked (apart from the `.invalid` name). Every request
served is logged as a `Hit` (host address, method, raw path and query, monotonic start time);
the TLS host logs each connection attempt as method "TLS" with an empty path, since a failed
handshake never becomes a request.

`TARGETS` is the table of every link target on the site with the outcome a correct crawler
reports for it, in the vocabulary of the report JSON (README, "Reading a report").
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import socket
import ssl
import struct
import threading
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, NamedTuple
from urllib.parse import quote, unquote, unquote_to_bytes, urlsplit

import trustme
from aiohttp import web

MAIN_IP = "127.0.0.1"
EXT_IP = "127.0.0.2"
REDIR_IP = "127.0.0.3"
TLS_IP = "127.0.0.4"
CLOSED_IP = "127.0.0.5"
GOV2_IP = "127.0.0.6"
DNS_HOST = "nosuchhost.invalid"

HostKey = Literal["main", "ext", "redir", "tls", "closed", "gov2", "dns", "none"]
HOST_IPS: dict[str, str] = {
    "main": MAIN_IP,
    "ext": EXT_IP,
    "redir": REDIR_IP,
    "tls": TLS_IP,
    "closed": CLOSED_IP,
    "gov2": GOV2_IP,
}

TIMEOUT_SLEEP = 5.0  # the timeout trap's handler sleeps this long (> crawl timeout 2)
SLOW_FINE_SLEEP = 0.5  # slow but fine
RETRY_AFTER = 1  # seconds, the 429 traps' Retry-After
BULK_PAGES = 12  # pages under /bulk/fast/ and /bulk/slow/ (politeness tests)
BULK_SLOW_SLEEP = 0.3  # each /bulk/slow/ page takes this long

SOFT404_TEXT = "抱歉，您访问的页面不存在"

# ---------------------------------------------------------------------------------------------
# The table of targets

Broken = tuple[Literal["broken"], str, str]  # ("broken", detail.kind, detail.reason)
Blocked = tuple[Literal["blocked"], str]  # ("blocked", detail.reason)
Ok = tuple[Literal["ok"]]
Expect = Broken | Blocked | Ok

Fetch = Literal["yes", "maybe", "no", "blind"]
Tag = Literal["a", "img", "srcset", "link", "script"]

#: The pages of the main site that link targets, by key.
PAGES: dict[str, str] = {
    "home": "/",
    "news": "/xwdt/index.html",
    "notice": "/tzgg/index.html",
    "a1": "/xwdt/202006/t20200615_1001.html",
    "a2": "/xwdt/202006/t20200610_1002.html",
    "a3": "/tzgg/202006/t20200601_2001.html",
    "gbk": "/zwgk/gbk.html",
    "utf8": "/zwgk/utf8.html",
    "mislabel_header": "/zwgk/mislabel-header.html",
    "mislabel_bom": "/zwgk/mislabel-bom.html",
    "mini": "/mini/index.html",
}
#: Pages that write main-site hrefs percent-encoded (the others write raw Chinese).
PCT_PAGES = frozenset({"utf8"})
#: Publication dates of the articles (list items and PubDate).
ARTICLE_DATES: dict[str, str] = {"a1": "2020-06-15", "a2": "2020-06-10", "a3": "2020-06-01"}
PAGE_TITLES: dict[str, str] = {
    "home": "测试局门户网站",
    "news": "新闻动态",
    "notice": "通知公告",
    "a1": "测试局召开2020年上半年工作总结会",
    "a2": "测试局开展政府网站自查工作",
    "a3": "关于做好2020年政务公开工作的通知",
    "gbk": "政务公开目录（GBK编码页面）",
    "utf8": "政务公开导航",
    "mislabel_header": "信息公开目录",
    "mislabel_bom": "办事指南汇编",
    "mini": "内部资料索引",
}


@dataclass(frozen=True)
class Target:
    """One link target on the site and what a correct crawler says about it.

    `path` is the path and query as written in the pages (raw Chinese allowed) for http(s)
    hosts, or the whole href for host "none" (mailto:, tel:, javascript:, #fragment).
    `fetch` says what the server log must show: "yes" requested (a failure at least twice),
    "maybe" either way, "no" never, "blind" not observable (DNS failure, refused connection).
    `query_encoding` is how the query's non-ASCII characters go on the wire (the linking
    page's encoding, as a browser does).
    """

    name: str
    host: HostKey
    path: str
    expect: Expect
    linked_from: tuple[str, ...]
    text: str
    tag: Tag = "a"
    fetch: Fetch = "yes"
    query_encoding: str = "utf-8"

    @property
    def outcome(self) -> str:
        return self.expect[0]

    @property
    def kind(self) -> str | None:
        """The expected `detail.kind` of a broken target."""
        match self.expect:
            case ("broken", kind, _):
                return kind
        return None

    @property
    def reason(self) -> str | None:
        """The expected `detail.reason` of a broken or blocked target."""
        match self.expect:
            case ("broken", _, reason) | ("blocked", reason):
                return reason
        return None

    @property
    def on_homepage(self) -> bool:
        return "home" in self.linked_from


def _broken(kind: str, reason: str) -> Broken:
    return ("broken", kind, reason)


def _blocked(reason: str) -> Blocked:
    return ("blocked", reason)


OK: Ok = ("ok",)

TARGETS: tuple[Target, ...] = (
    # --- the site's own structure --------------------------------------------------------
    Target("home", "main", "/", OK, ("news", "notice", "a1", "a2", "a3"), "首页"),
    Target("news", "main", PAGES["news"], OK, ("home", "a1", "a2"), "新闻动态"),
    Target("notice", "main", PAGES["notice"], OK, ("home", "a3"), "通知公告"),
    Target("a1", "main", PAGES["a1"], OK, ("home", "news"), PAGE_TITLES["a1"]),
    Target("a2", "main", PAGES["a2"], OK, ("home", "news"), PAGE_TITLES["a2"]),
    Target("a3", "main", PAGES["a3"], OK, ("home", "notice"), PAGE_TITLES["a3"]),
    Target("css", "main", "/css/main.css", OK, ("home",), "样式", tag="link", fetch="maybe"),
    Target("js", "main", "/js/common.js", OK, ("home",), "脚本", tag="script", fetch="maybe"),
    # --- real breakage -------------------------------------------------------------------
    Target(
        "http404",
        "main",
        "/xxgk/notfound.html",
        _broken("page", "http 404"),
        ("home", "a1"),
        "政府信息公开指南",
    ),
    Target(
        "http410", "main", "/xxgk/removed.html", _broken("page", "http 410"), ("a1",), "机构职能"
    ),
    Target(
        "http500", "main", "/cgi/error500.html", _broken("page", "http 500"), ("a2",), "在线办事"
    ),
    Target(
        "timeout", "main", "/slow/timeout.html", _broken("page", "timeout"), ("a1",), "数据开放"
    ),
    Target(
        "redirect_loop",
        "main",
        "/loop/a.html",
        _broken("page", "redirect loop"),
        ("a2",),
        "领导信箱",
    ),
    Target(
        "redirect_to_404",
        "main",
        "/old/notice.html",
        _broken("page", "http 404"),
        ("a3",),
        "旧版通知公告",
    ),
    Target(
        "missing_img",
        "main",
        "/images/missing.jpg",
        _broken("image", "http 404"),
        ("a1",),
        "会议现场",
        tag="img",
    ),
    Target(
        "missing_srcset",
        "main",
        "/images/banner-2x.png",
        _broken("image", "http 404"),
        ("a2",),
        "宣传横幅",
        tag="srcset",
    ),
    Target(
        "missing_pdf",
        "main",
        "/files/2020-plan.pdf",
        _broken("attachment", "http 404"),
        ("a3",),
        "2020年工作计划（PDF）",
    ),
    Target(
        "missing_docx",
        "main",
        "/files/form.docx",
        _broken("attachment", "http 404"),
        ("home", "a3"),
        "政府信息公开申请表（DOCX）",
    ),
    Target(
        "dns",
        "dns",
        "/x.html",
        _broken("external", "dns"),
        ("a2",),
        "某某市人民政府",
        fetch="blind",
    ),
    Target(
        "refused",
        "closed",
        "/index.html",
        _broken("external", "connect"),
        ("a3",),
        "某某区政务服务网",
        fetch="blind",
    ),
    Target(
        "tls", "tls", "/index.html", _broken("external", "tls"), ("home", "a3"), "某某省政务服务网"
    ),
    Target(
        "external_404",
        "gov2",
        "/dead-link.html",
        _broken("external", "http 404"),
        ("home", "a2"),
        "某某县人民政府",
    ),
    Target(
        "soft404_page",
        "ext",
        "/art/2019/removed.html",
        _broken("external", "soft-404"),
        ("a1",),
        "专题：2019年政务公开",
    ),
    Target(
        "soft404_home_redirect",
        "redir",
        "/zwgk/2019/notice.html",
        _broken("external", "soft-404"),
        ("a2",),
        "某某市政务公开专栏",
    ),
    # --- refusals: inconclusive, never broken ---------------------------------------------
    Target("waf_412", "gov2", "/ruishu.html", _blocked("http 412"), ("a1",), "某某省人民政府"),
    Target(
        "challenge_503",
        "gov2",
        "/challenge.html",
        _blocked("challenge"),
        ("a3",),
        "某某市公共资源交易中心",
    ),
    Target("forbidden", "main", "/hdjl/403.html", _blocked("http 403"), ("home", "a1"), "互动交流"),
    Target("busy_429", "main", "/api/busy.html", _blocked("http 429"), ("a2",), "办件查询"),
    # --- traps that must not be reported --------------------------------------------------
    Target("once_429", "main", "/flaky/429-once.html", OK, ("a1",), "政策解读"),
    Target("once_503", "main", "/flaky/503-once.html", OK, ("a2",), "人事信息"),
    Target("head_405", "main", "/files/guide.pdf", OK, ("a1",), "办事指南（PDF）"),
    Target("head_404", "main", "/files/stats.xls", OK, ("a2",), "办件统计（XLS）"),
    Target("slow_fine", "main", "/slow/fine.html", OK, ("home", "a3"), "规划计划"),
    Target("gbk_page", "main", PAGES["gbk"], OK, ("a2",), PAGE_TITLES["gbk"]),
    Target("utf8_page", "main", PAGES["utf8"], OK, ("a3",), PAGE_TITLES["utf8"]),
    Target(
        "mislabel_header_page",
        "main",
        PAGES["mislabel_header"],
        OK,
        ("a3",),
        PAGE_TITLES["mislabel_header"],
    ),
    Target(
        "mislabel_bom_page", "main", PAGES["mislabel_bom"], OK, ("a3",), PAGE_TITLES["mislabel_bom"]
    ),
    Target("chinese_path", "main", "/新闻/通知.html", OK, ("gbk", "utf8"), "新闻通知"),
    Target(
        "gbk_query", "main", "/search?q=中文", OK, ("gbk",), "站内搜索：中文", query_encoding="gbk"
    ),
    Target("chinese_catalog", "main", "/公开/目录.html", OK, ("mislabel_header",), "公开目录"),
    Target("chinese_guide", "main", "/公开/指南.html", OK, ("mislabel_bom",), "办事指南"),
    Target("logo", "main", "/images/logo.png", OK, ("a2",), "测试局标志", tag="img"),
    Target("external_short", "ext", "/about.html", OK, ("home", "a1"), "合作单位：某某研究院"),
    Target("mailto", "none", "mailto:xxgk@test.gov.cn", OK, ("a1",), "联系我们", fetch="no"),
    Target("tel", "none", "tel:0750-12345678", OK, ("a1",), "咨询电话", fetch="no"),
    Target("javascript", "none", "javascript:void(0)", OK, ("a2",), "打印本页", fetch="no"),
    Target("fragment", "none", "#top", OK, ("a3",), "返回顶部", fetch="no"),
    # robots.txt disallows /private/: never requested while robots = "obey"
    Target(
        "robots_private", "main", "/private/secret.html", OK, ("a3", "mini"), "内部资料", fetch="no"
    ),
)

TARGETS_BY_NAME: dict[str, Target] = {t.name: t for t in TARGETS}
BROKEN_TARGETS: tuple[Target, ...] = tuple(t for t in TARGETS if t.outcome == "broken")
BLOCKED_TARGETS: tuple[Target, ...] = tuple(t for t in TARGETS if t.outcome == "blocked")
OK_TARGETS: tuple[Target, ...] = tuple(t for t in TARGETS if t.outcome == "ok")

# ---------------------------------------------------------------------------------------------
# URL comparison, independent of the crawler's canonical spelling


class UrlKey(NamedTuple):
    scheme: str
    host: str
    port: int
    path: bytes
    query: bytes


def url_key(url: str) -> UrlKey:
    """A comparison key: scheme/host case-folded, default port filled, percent-escapes decoded
    to bytes (so `%e6` == `%E6` == the raw UTF-8 bytes), fragment dropped."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return UrlKey(
        scheme,
        (parts.hostname or "").lower(),
        port,
        unquote_to_bytes(parts.path or "/"),
        unquote_to_bytes(parts.query),
    )


def split_path_qs(path_qs: str) -> tuple[bytes, bytes]:
    """Raw `path?query` from the request line, as decoded bytes."""
    path, _, query = path_qs.partition("?")
    return unquote_to_bytes(path), unquote_to_bytes(query)


def target_wire(target: Target) -> tuple[bytes, bytes]:
    """The path and query bytes a correct client sends for `target`."""
    path, _, query = target.path.partition("?")
    return path.encode("utf-8"), query.encode(target.query_encoding)


# ---------------------------------------------------------------------------------------------
# The server


class Hit(NamedTuple):
    """One request served: host address, method, raw path and query, monotonic start time."""

    host: str
    method: str
    path_qs: str
    t: float


Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _png_1x1() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\xff\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


PNG = _png_1x1()
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)

CHALLENGE_BODY = (
    '<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; '
    'charset=utf-8"><meta http-equiv="Expires" content="0"><script type="text/javascript">'
    "$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=59283;"
    '$_ts.cd="qtqlrrAlEaVtqqAlqqVqraAlrrVErrAlqaVlrqAlqqVEcaQqcGqkqqqhhGLc";'
    "$_ts.lcd=1;</script>"
    '<script type="text/javascript" charset="utf-8" src="/4QbVtADbnLVIc/d.FxJzG50F.dfe1675.js"'
    " r='m'></script></head><body></body></html>"
)

NOT_FOUND_BODY = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>404 Not Found</title></head>'
    "<body><h1>404 Not Found</h1><hr><center>nginx</center></body></html>"
)

SOFT404_BODY = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>提示信息</title></head><body>'
    f'<div class="error"><h2>{SOFT404_TEXT}</h2><p>可能原因：网址有误，或该页面已被删除。</p>'
    '<p><a href="/">返回首页</a></p></div></body></html>'
)


def _html(
    title: str, body: str, *, meta_charset: str | None = "utf-8", head_extra: str = ""
) -> str:
    meta = (
        f'<meta http-equiv="Content-Type" content="text/html; charset={meta_charset}">'
        if meta_charset
        else ""
    )
    return (
        f"<!DOCTYPE html>\n<html><head>{meta}<title>{html.escape(title)}</title>{head_extra}"
        f'</head>\n<body><a name="top" id="top"></a>\n{body}\n'
        '<div class="footer">主办单位：测试局　地址：某某市某某路8号　'
        "ICP备案号：京ICP备00000000号　公网安备 11000000000000号</div></body></html>\n"
    )


def _response(
    status: int = 200,
    body: bytes | str = b"",
    content_type: str = "text/html; charset=utf-8",
    headers: dict[str, str] | None = None,
) -> web.Response:
    raw = body.encode("utf-8") if isinstance(body, str) else body
    all_headers = {"Content-Type": content_type}
    all_headers.update(headers or {})
    return web.Response(status=status, body=raw, headers=all_headers)


def _not_found() -> web.Response:
    return _response(404, NOT_FOUND_BODY)


def _leaf(title: str, text: str) -> web.Response:
    return _response(200, _html(title, f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"))


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }"
    raise TypeError(f"no TOML form for {value!r}")


class GovSite:
    """The trap site. `with GovSite() as site:` starts every host and stops them on exit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: list[Hit] = []
        self._in_flight: dict[str, int] = {}
        self._max_in_flight: dict[str, int] = {}
        self._seen: dict[tuple[str, str], int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runners: list[web.AppRunner] = []
        self._tls_server: asyncio.Server | None = None
        self._closed_sock: socket.socket | None = None
        self._ports: dict[str, int] = {}
        ca = trustme.CA()
        self._tls_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(TLS_IP).configure_cert(self._tls_ctx)

    # --- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> GovSite:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self, timeout: float = 10.0) -> None:
        if self._loop is not None:
            raise RuntimeError("GovSite already started")
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=self._run_loop, name="govsite", daemon=True)
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._start(), loop).result(timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 10.0) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            if thread.is_alive():
                asyncio.run_coroutine_threadsafe(self._stop(), loop).result(timeout)
        finally:
            if thread.is_alive():
                loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            if not thread.is_alive():
                loop.close()
            if self._closed_sock is not None:
                self._closed_sock.close()
                self._closed_sock = None
            self._loop = None
            self._thread = None

    def _run_loop(self) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    async def _start(self) -> None:
        routes: dict[str, Route] = {
            "main": self._main,
            "ext": self._ext,
            "redir": self._redir,
            "gov2": self._gov2,
        }
        for key, route in routes.items():
            ip = HOST_IPS[key]
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self._wrap(ip, route))
            runner = web.AppRunner(
                app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
            )
            await runner.setup()
            self._runners.append(runner)
            site = web.TCPSite(runner, ip, 0)
            await site.start()
            self._ports[key] = int(runner.addresses[-1][1])
        self._tls_server = await asyncio.start_server(self._tls_connection, TLS_IP, 0)
        self._ports["tls"] = int(self._tls_server.sockets[0].getsockname()[1])
        # bound, never listening: the kernel answers SYN with RST (connection refused)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((CLOSED_IP, 0))
        self._closed_sock = sock
        self._ports["closed"] = int(sock.getsockname()[1])

    async def _stop(self) -> None:
        for runner in self._runners:
            async with asyncio.timeout(5):
                await runner.cleanup()
        self._runners.clear()
        if self._tls_server is not None:
            self._tls_server.close()
            self._tls_server = None
        current = asyncio.current_task()
        rest = [t for t in asyncio.all_tasks() if t is not current]
        for task in rest:
            task.cancel()
        if rest:
            await asyncio.wait(rest, timeout=2)

    # --- what tests read ---------------------------------------------------------------------

    def url(self, host: str, path: str = "/") -> str:
        """Absolute URL of `path` (raw, as written) on `host` (a HostKey)."""
        if host == "none":
            return path
        if host == "dns":
            return f"http://{DNS_HOST}{path}"
        scheme = "https" if host == "tls" else "http"
        return f"{scheme}://{HOST_IPS[host]}:{self._ports[host]}{path}"

    @property
    def home(self) -> str:
        return self.url("main", "/")

    def page_url(self, page: str) -> str:
        return self.url("main", PAGES[page])

    def target_url(self, target: Target) -> str:
        """The target's URL, percent-encoded the way a correct client sends it."""
        if target.host == "none":
            return target.path
        path, query = target_wire(target)
        spelled = quote(path, safe="/")
        if query:
            spelled += "?" + quote(query, safe="=&")
        return self.url(target.host, spelled)

    def target_key(self, target: Target) -> UrlKey:
        return url_key(self.target_url(target))

    @property
    def requests(self) -> list[Hit]:
        """A copy of the request log, in arrival order."""
        with self._lock:
            return list(self._hits)

    def requests_for(self, target: Target, hits: Iterable[Hit] | None = None) -> list[Hit]:
        """The logged requests for `target` (for "tls": every connection attempt)."""
        log = self.requests if hits is None else list(hits)
        if target.host == "tls":
            return [h for h in log if h.host == TLS_IP and h.method == "TLS"]
        if target.host not in HOST_IPS:
            return []
        ip = HOST_IPS[target.host]
        wire = target_wire(target)
        return [h for h in log if h.host == ip and split_path_qs(h.path_qs) == wire]

    def max_in_flight(self, host_ip: str) -> int:
        with self._lock:
            return self._max_in_flight.get(host_ip, 0)

    def clear(self) -> None:
        """Forget the log, the in-flight maxima and the once-only traps' state."""
        with self._lock:
            self._hits.clear()
            self._seen.clear()
            self._max_in_flight = dict(self._in_flight)

    def config_toml(self, *, site_url: str | None = None, **crawl_overrides: object) -> str:
        """A govmon config for the main site; `crawl_overrides` replace or add [crawl] keys."""
        crawl: dict[str, object] = {
            "allow_private": True,
            "resolve_only": True,
            "timeout": 2,
            "retries": 1,
            "retry_backoff": 0.1,
            "recheck_delay": 0.2,
            "rate": 0,
            "concurrency": 4,
            "workers": 8,
        }
        crawl.update(crawl_overrides)
        lines = ["[crawl]"]
        lines += [f"{key} = {_toml_value(value)}" for key, value in crawl.items()]
        # the site's /search links are a GBK-query trap for the link check: the search check
        # would submit a query of its own there, so it stays out of these scans
        lines += ["", "[checks]", 'disable = ["site.no_search", "site.search_broken"]']
        lines += [
            "",
            "[[site]]",
            'id = "main"',
            'name = "测试局"',
            'unit = "测试局"',
            'kind = "department"',
            f"url = {_toml_value(site_url or self.home)}",
            f"scope = {_toml_value([self.home])}",
            "",
        ]
        return "\n".join(lines)

    # --- request bookkeeping -----------------------------------------------------------------

    def _record(self, ip: str, method: str, path_qs: str) -> None:
        with self._lock:
            self._hits.append(Hit(ip, method, path_qs, time.monotonic()))

    def _wrap(self, ip: str, route: Route) -> Route:
        async def handle(request: web.Request) -> web.StreamResponse:
            with self._lock:
                self._hits.append(Hit(ip, request.method, request.raw_path, time.monotonic()))
                now = self._in_flight.get(ip, 0) + 1
                self._in_flight[ip] = now
                self._max_in_flight[ip] = max(self._max_in_flight.get(ip, 0), now)
            try:
                return await route(request)
            finally:
                with self._lock:
                    self._in_flight[ip] -= 1

        return handle

    def _first_time(self, ip: str, path: str) -> bool:
        with self._lock:
            n = self._seen.get((ip, path), 0)
            self._seen[(ip, path)] = n + 1
            return n == 0

    # --- page rendering ----------------------------------------------------------------------

    def _href(self, target: Target, page: str) -> str:
        if target.host == "main":
            return quote(target.path, safe="/?=&") if page in PCT_PAGES else target.path
        return self.url(target.host, target.path)

    def _links(self, page: str) -> str:
        items: list[str] = []
        for target in TARGETS:
            if page not in target.linked_from:
                continue
            href = html.escape(self._href(target, page))
            text = html.escape(target.text)
            if target.tag == "img":
                items.append(f'<li><img src="{href}" alt="{text}"></li>')
            elif target.tag == "srcset":
                items.append(
                    f'<li><img src="/images/logo.png" srcset="{href} 2x" alt="{text}"></li>'
                )
            elif target.tag == "link":
                items.append(f'<li><link rel="stylesheet" href="{href}"></li>')
            elif target.tag == "script":
                items.append(f'<li><script src="{href}"></script></li>')
            else:
                date = ARTICLE_DATES.get(target.name)
                suffix = f' <span class="date">{date}</span>' if date else ""
                items.append(f'<li><a href="{href}" title="{text}">{text}</a>{suffix}</li>')
        return '<ul class="links">\n' + "\n".join(items) + "\n</ul>"

    def _page(self, page: str) -> web.Response:
        title = PAGE_TITLES[page]
        links = self._links(page)
        if page == "home":
            body = (
                f'<div class="header"><h1>{title}</h1></div>'
                '<div class="nav">网站首页 | 新闻动态 | 通知公告 | 政务公开 | 互动交流</div>'
                f'<div class="main"><h2>最新信息</h2>{links}</div>'
                '<form action="/search" method="get"><input name="q"><button>搜索</button></form>'
            )
            return _response(200, _html(title, body))
        if page in ARTICLE_DATES:
            date = ARTICLE_DATES[page]
            head = (
                f'<meta name="PubDate" content="{date} 10:20">'
                f'<meta name="ArticleTitle" content="{html.escape(title)}">'
                '<meta name="SiteName" content="测试局">'
            )
            body = (
                f'<div class="article"><h1>{title}</h1><div class="info">发布时间：{date}'
                "　来源：测试局办公室</div><p>为进一步提升政府网站建设管理水平，"
                "根据上级有关要求，现将有关事项通知如下。</p>"
                f"<h3>相关链接</h3>{links}</div>"
            )
            return _response(200, _html(title, body, head_extra=head))
        if page == "gbk":
            body = f"<h1>{title}</h1><p>本页面使用GBK编码，字符集在HTTP响应头中声明。</p>{links}"
            text = _html(title, body, meta_charset=None)
            return _response(200, text.encode("gbk"), "text/html; charset=GBK")
        if page == "mislabel_header":
            # UTF-8 bytes, HTTP header says utf-8, <meta> says gb2312: the header wins
            body = f"<h1>{title}</h1><p>本页面实际为UTF-8编码，但meta标签声明为gb2312。</p>{links}"
            text = _html(title, body, meta_charset="gb2312")
            return _response(200, text.encode("utf-8"), "text/html; charset=utf-8")
        if page == "mislabel_bom":
            # UTF-8 with a BOM, no charset in the header, <meta> says gb2312: the BOM wins
            body = f"<h1>{title}</h1><p>本页面为带BOM的UTF-8编码，meta标签声明为gb2312。</p>{links}"
            text = _html(title, body, meta_charset="gb2312")
            return _response(200, b"\xef\xbb\xbf" + text.encode("utf-8"), "text/html")
        body = f"<h1>{title}</h1>{links}"
        return _response(200, _html(title, body))

    async def _bulk(self, kind: str, rest: str) -> web.Response:
        if rest == "index.html":
            items = "\n".join(
                f'<li><a href="/bulk/{kind}/p{i}.html">第{i}条 信息</a></li>'
                for i in range(BULK_PAGES)
            )
            return _response(200, _html("信息列表", f"<ul>{items}</ul>"))
        if rest.startswith("p") and rest.endswith(".html") and rest[1:-5].isdigit():
            number = int(rest[1:-5])
            if number < BULK_PAGES:
                if kind == "slow":
                    await asyncio.sleep(BULK_SLOW_SLEEP)
                return _leaf(f"第{number}条", "内容。")
        return _not_found()

    # --- the hosts ---------------------------------------------------------------------------

    async def _main(self, request: web.Request) -> web.StreamResponse:
        raw_path, _, raw_query = request.raw_path.partition("?")
        try:
            path = unquote(raw_path, errors="strict")
        except UnicodeDecodeError:
            return _not_found()
        method = request.method
        if method not in ("GET", "HEAD"):
            return _response(405, "Method Not Allowed", "text/plain", {"Allow": "GET, HEAD"})
        for key, page_path in PAGES.items():
            if path == page_path:
                return self._page(key)
        match path:
            case "/robots.txt":
                return _response(200, "User-agent: *\nDisallow: /private/\n", "text/plain")
            case "/xxgk/removed.html":
                return _response(410, "<html><body><h1>410 Gone</h1></body></html>")
            case "/cgi/error500.html":
                return _response(
                    500, "<html><body><h1>500 Internal Server Error</h1></body></html>"
                )
            case "/slow/timeout.html":
                await asyncio.sleep(TIMEOUT_SLEEP)
                return _leaf("数据开放", "终于加载完成。")
            case "/slow/fine.html":
                await asyncio.sleep(SLOW_FINE_SLEEP)
                return _leaf("规划计划", "测试局2020年工作规划。")
            case "/loop/a.html":
                return _response(302, "", headers={"Location": "/loop/b.html"})
            case "/loop/b.html":
                return _response(302, "", headers={"Location": "/loop/a.html"})
            case "/old/notice.html":
                return _response(301, "", headers={"Location": "/new/notice-gone.html"})
            case "/images/logo.png":
                return _response(200, PNG, "image/png")
            case "/css/main.css":
                return _response(200, "body{font-family:SimSun}", "text/css")
            case "/js/common.js":
                return _response(200, "function print_page(){window.print();}", "text/javascript")
            case "/hdjl/403.html":
                return _response(403, "<html><body><h1>403 Forbidden</h1></body></html>")
            case "/api/busy.html":
                headers = {"Retry-After": str(RETRY_AFTER)}
                return _response(429, "<h1>429 Too Many Requests</h1>", headers=headers)
            case "/flaky/429-once.html":
                if self._first_time(MAIN_IP, path):
                    headers = {"Retry-After": str(RETRY_AFTER)}
                    return _response(429, "<h1>429 Too Many Requests</h1>", headers=headers)
                return _leaf("政策解读", "关于2020年工作要点的解读。")
            case "/flaky/503-once.html":
                if self._first_time(MAIN_IP, path):
                    return _response(503, "<h1>503 Service Temporarily Unavailable</h1>")
                return _leaf("人事信息", "2020年公开招聘工作人员公告。")
            case "/files/guide.pdf":
                if method == "HEAD":
                    return _response(405, "", "text/html", {"Allow": "GET"})
                return _response(200, PDF, "application/pdf")
            case "/files/stats.xls":
                if method == "HEAD":
                    return _not_found()
                return _response(200, XLS, "application/vnd.ms-excel")
            case "/新闻/通知.html":
                return _leaf("新闻通知", "中文路径页面，内容正常。")
            case "/公开/目录.html":
                return _leaf("公开目录", "信息公开目录，内容正常。")
            case "/公开/指南.html":
                return _leaf("办事指南", "办事指南，内容正常。")
            case "/search":
                # 200 only for the GBK bytes of 中文, as a browser sends them from a GBK page
                if unquote_to_bytes(raw_query) == b"q=" + "中文".encode("gbk"):
                    return _leaf("搜索结果", "共找到3条与“中文”相关的结果。")
                return _not_found()
        for kind in ("fast", "slow"):
            if path.startswith(f"/bulk/{kind}/"):
                return await self._bulk(kind, path.removeprefix(f"/bulk/{kind}/"))
        return _not_found()

    async def _ext(self, request: web.Request) -> web.StreamResponse:
        """Known pages are real; every unknown path answers 200 with a "not found" page."""
        match request.path:
            case "/":
                body = (
                    "<h1>某某研究院</h1><p>某某研究院是从事公共管理与政策研究的事业单位。</p>"
                    '<ul><li><a href="/about.html">关于我们</a></li></ul>'
                )
                return _response(200, _html("某某研究院", body))
            case "/about.html":
                return _leaf("关于我们", "某某研究院成立于1998年。电话：0750-1234567")
        return _response(200, SOFT404_BODY)

    async def _redir(self, request: web.Request) -> web.StreamResponse:
        """The home page is real; every other path redirects to it."""
        if request.path == "/":
            body = (
                "<h1>某某市人民政府门户网站</h1><p>欢迎访问某某市人民政府门户网站。</p>"
                "<ul><li>市政府常务会议召开 2020-06-12</li><li>全市安全生产工作会议 "
                "2020-06-08</li></ul>"
            )
            return _response(200, _html("某某市人民政府门户网站", body))
        return _response(302, "", headers={"Location": self.url("redir", "/")})

    async def _gov2(self, request: web.Request) -> web.StreamResponse:
        """An honest server (hard 404s) behind a 瑞数-style anti-bot front end on two paths."""
        match request.path:
            case "/":
                return _leaf("某某县人民政府", "欢迎访问某某县人民政府门户网站。")
            case "/ruishu.html":
                return _response(412, CHALLENGE_BODY)
            case "/challenge.html":
                return _response(503, CHALLENGE_BODY)
        return _not_found()

    async def _tls_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """TLS by hand, so that each attempt is logged even when the handshake fails; a client
        that accepts the certificate anyway gets a 200 page (so it must not call it broken)."""
        self._record(TLS_IP, "TLS", "")
        try:
            async with asyncio.timeout(5):
                await writer.start_tls(self._tls_ctx)
                head = await reader.readuntil(b"\r\n\r\n")
                request_line = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
                if len(request_line) >= 2:
                    self._record(TLS_IP, request_line[0], request_line[1])
                body = _html("某某省政务服务网", "<p>欢迎。</p>").encode("utf-8")
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                    b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body
                )
                await writer.drain()
        except (OSError, ssl.SSLError, EOFError, TimeoutError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1):
                    await writer.wait_closed()
