"""Hostile web servers on loopback, for the hardening suite (tests/crawler/core/test_hostile.py).

`HostileServer` is a hand-written HTTP/1.1 server on raw asyncio streams (aiohttp's own server
is too well behaved to drip, lie about lengths, break chunked encoding or reset a connection
mid-body). It runs in a background thread with its own event loop, so that a synchronous test can
call `crawler.cli.main(["scan", ...])` while it serves. Two listeners on 127.0.0.1:

    web     every case's small, normal site under `/<case>/`, and the hostile targets it links
    silent  accepts connections and never answers
    private 127.0.0.2: an address inside the network that no configured site uses; a correct
            crawler (allow_private = false) never connects to it, however it is led there

Every case is a normal small site (`NORMAL_PAGES`, a 404 `missing.html`) whose pages link its
hostile targets, so a test can assert both "the hostile target got a sensible finding" and "the
rest of the site was still checked". `CASES` names the cases; `HostileServer.config_toml(case)`
writes the crawl config of one case.

Everything is bounded: no handler lives longer than `HANDLER_SECONDS`, huge bodies are produced
lazily (only as fast as the client reads, never held in memory: a 1 GiB body and a gzip bomb that
expands to `BOMB_BYTES` cost the server a few kilobytes), and each request's bytes on the wire are
logged as a `Served` record, so a test can prove how much of a body the crawler really read.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import random
import socket
import struct
import threading
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

HOST = "127.0.0.1"
PRIVATE_HOST = "127.0.0.2"  # "inside the network": no configured site lives here
HANDLER_SECONDS = 30.0  # no connection is served longer than this
IDLE_SECONDS = 5.0  # a keep-alive connection waits this long for its next request
HEAD_LIMIT = 65536  # bytes of a request head at most

MIB = 1 << 20
GIB = 1 << 30
BIG_BYTES = GIB  # the huge body's Content-Length
BOMB_BYTES = 4 * GIB  # what the gzip bomb expands to
BOMB_SEGMENT = MIB  # the bomb is compressed (lazily) one segment of spaces at a time
MILLION = 1_000_000  # links on the million-links page
DRIP_LENGTH = 4096  # the drip's Content-Length (one byte a second: it would take over an hour)
REDIRECT_CHAIN = 50
SLOW_HOP = 0.4  # seconds each hop of the slow redirect chain takes (timeout 1 s: 3 hops fit)
CALENDAR_START = "2020-06-15"
AS_OF = "2020-06-20"  # the scans' monitoring time point: the normal pages are fresh
SESSION_CHAIN = 6  # the session-id site: c1 -> c2 -> ... -> c6
SESSION_NAV = 4  # ... and n1..n4 linked from every page

#: The normal pages of every case's site (path below `/<case>/`) and their titles.
NORMAL_PAGES: dict[str, str] = {
    "": "测试局首页",
    "news.html": "新闻动态",
    "news/1.html": "测试局召开工作会议",
    "about.html": "机构概况",
}
MISSING = "missing.html"  # linked from every home page; answers 404

#: Charset labels served with invalid bytes; each page links `cs/<variant>-<label>-ok.html`.
CHARSETS: tuple[str, ...] = (
    "utf-8",
    "gbk",
    "gb2312",
    "gb18030",
    "big5",
    "shift_jis",
    "euc-jp",
    "euc-kr",
    "iso-8859-1",
    "windows-1252",
    "koi8-r",
    "utf-16",
    "utf-16le",
    "utf-16be",
    "x-no-such-charset",
    "",
    # Python codecs that are not web charsets: a page must not be able to pick them
    "rot13",
    "base64",
    "punycode",
    "idna",
)
#: Byte sequences invalid in (nearly) every multi-byte charset: lone continuation bytes, a
#: truncated UTF-8 sequence, an overlong form, a UTF-8 surrogate, 0xFF, a GBK lead with no trail.
INVALID_BYTES = (
    b"\x80\x81\xfe\xff\xc3\x28\xa0\xa1\xe2\x82\x28\xf0\x28\x8c\xbc\xed\xa0\x80\xc0\xaf"
    b"\xf8\x88\x80\x80\x80\x81\x20\xff\xfe\x00\x00\x8e\x8f\xa1"
)

#: The cases: a name each, in the order the suite runs them.
CASES: tuple[str, ...] = (
    "plain",  # the control: the normal site alone
    "drip",
    "endless",
    "big",
    "big_attachment",
    "gzip_bomb",
    "gzip_bomb_attachment",
    "bad_gzip",
    "broken_chunked",
    "reset",
    "short_body",
    "endless_headers",
    "many_headers",
    "redirects",
    "slow_redirects",
    "calendar",
    "session",
    "deep",
    "million",
    "malformed",
    "charsets",
    "binary",
    "silent",
    "redirect_private",
)

#: [crawl] settings of every case; `CASE_CRAWL` overrides some per case.
BASE_CRAWL: dict[str, object] = {
    "allow_private": True,
    "resolve_only": True,
    "timeout": 1.0,
    "retries": 0,
    "retry_backoff": 0.1,
    "recheck_delay": 0.1,
    "rate": 0,
    "concurrency": 4,
    "workers": 8,
    "max_body": 256 * 1024,
    "max_pages": 40,
    "max_depth": 4,
    "max_redirects": 10,
}
CASE_CRAWL: dict[str, dict[str, object]] = {
    "session": {"max_pages": 30, "max_depth": 8},
    "million": {"max_body": 64 * 1024},
    "calendar": {"max_pages": 30},
    "charsets": {"max_pages": 120},
    # the private-address rule on: 127.0.0.1 is a configured site's host (allowed), and
    # 127.0.0.2 is not; names are resolved for real ("localhost" from the hosts file)
    "redirect_private": {"allow_private": False, "resolve_only": False},
}


def crawl_settings(case: str) -> dict[str, object]:
    settings = dict(BASE_CRAWL)
    settings.update(CASE_CRAWL.get(case, {}))
    return settings


# ---------------------------------------------------------------------------------------------
# what the server saw


@dataclass(slots=True)
class Served:
    """One request (or, for the silent listener, one connection) and what was sent back."""

    listener: str  # "web" or "silent"
    method: str
    target: str  # the raw request target: path and query
    started: float  # time.monotonic()
    ended: float | None = None
    sent: int = 0  # bytes written to the socket for this request (head and body)
    status: int | None = None
    how: str = ""  # "done", "client gone", "reset", "cut", "timeout", "closed", "server error: ..."

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def case(self) -> str:
        return self.path.split("/")[1] if self.path.count("/") >= 1 else ""

    @property
    def duration(self) -> float:
        return (self.ended if self.ended is not None else time.monotonic()) - self.started


class ClientGone(Exception):
    """The client closed the connection (or reset it) while we wrote."""


class _Out:
    """Writes a response, counting bytes; only as fast as the client reads."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, record: Served
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.record = record

    async def pause(self, seconds: float) -> None:
        """Wait ``seconds``; raise :class:`ClientGone` as soon as the client closes."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                async with asyncio.timeout(left):
                    data = await self.reader.read(4096)
            except TimeoutError:
                return
            except (ConnectionError, OSError) as exc:
                raise ClientGone from exc
            if not data:
                raise ClientGone

    async def send(self, data: bytes) -> None:
        if self.writer.is_closing():
            raise ClientGone
        try:
            self.writer.write(data)
            await self.writer.drain()
        except (ConnectionError, OSError) as exc:
            raise ClientGone from exc
        self.record.sent += len(data)

    async def head(
        self, status: int, headers: Iterable[tuple[str, str]], *, reason: str = "X"
    ) -> None:
        self.record.status = status
        lines = [f"HTTP/1.1 {status} {reason}"]
        lines += [f"{k}: {v}" for k, v in headers]
        await self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    async def chunk(self, data: bytes) -> None:
        if data:
            await self.send(b"%x\r\n%b\r\n" % (len(data), data))


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    target: str
    headers: dict[str, str]

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query)


#: A handler writes the whole response; it returns whether the connection may be reused.
Handler = Callable[[Request, _Out], Awaitable[bool]]


def html_page(title: str, body: str, *, charset: str = "utf-8") -> str:
    return (
        f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>{title}</title></head>'
        f"<body><h1>{title}</h1>{body}</body></html>"
    )


def _links(hrefs: Iterable[str]) -> str:
    return "<ul>" + "".join(f'<li><a href="{h}">{h}</a></li>' for h in hrefs) + "</ul>"


# ---------------------------------------------------------------------------------------------
# the gzip bomb, produced lazily


async def gzip_bomb(prefix: bytes, total: int) -> AsyncIterator[bytes]:
    """A gzip stream of ``prefix`` followed by spaces, ``total`` bytes once decompressed.

    Produced one compressed segment at a time (each ~1 KB for a MiB of spaces), so that the
    server never holds more than a segment; a client that reads it all gets a valid stream.
    """
    # gzip header: magic, deflate, no flags, no mtime, max compression, unknown OS
    yield b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    crc = zlib.crc32(prefix)
    yield compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    spaces = b" " * BOMB_SEGMENT
    left = total - len(prefix)
    while left > 0:
        piece = spaces if left >= BOMB_SEGMENT else spaces[:left]
        left -= len(piece)
        crc = zlib.crc32(piece, crc)
        yield compressor.compress(piece) + compressor.flush(zlib.Z_FULL_FLUSH)
        await asyncio.sleep(0)
    yield compressor.flush() + struct.pack("<II", crc & 0xFFFFFFFF, total & 0xFFFFFFFF)


def charset_page(case: str, variant: str, label: str) -> bytes:
    """A page labelled ``label`` (in the header: variant "h", or a <meta>: variant "m"),
    with invalid bytes in its title, its text and its very end, and one link to follow."""
    ok = f"/{case}/cs/{variant}-{label or 'none'}-ok.html"
    meta = f'<meta charset="{label}">' if variant == "m" and label else ""
    head = f"<!DOCTYPE html><html><head>{meta}<title>"
    middle = f'</title></head><body><p>编码测试</p><a href="{ok}">下一页</a><p>'
    tail = "</p></body></html>"
    if label.startswith("utf-16"):
        codec = {"utf-16": "utf-16-le", "utf-16le": "utf-16-le", "utf-16be": "utf-16-be"}[label]
        lone = b"\x00\xd8" if codec.endswith("le") else b"\xd8\x00"  # a lone high surrogate
        # a BOM, except where the header names the byte order (a browser needs one or the
        # other: without a BOM, a <meta> cannot even be found in UTF-16 bytes)
        bom = b"" if variant == "h" and label != "utf-16" else "\ufeff".encode(codec)
        return (
            bom
            + head.encode(codec)
            + lone
            + middle.encode(codec)
            + lone * 3
            + tail.encode(codec)
            + b"\x00"  # an odd trailing byte
        )
    try:
        middle_bytes = middle.encode(label or "utf-8")
    except (LookupError, UnicodeError):  # not a codec, or cannot encode (idna: labels)
        middle_bytes = middle.encode("utf-8")
    return (
        head.encode("ascii")
        + INVALID_BYTES
        + middle_bytes
        + INVALID_BYTES * 20
        + tail.encode("ascii")
        + b"\xe4\xb8"  # a truncated multi-byte character at the very end
    )


def charset_pages(case: str) -> list[tuple[str, str]]:
    """``(path, label)`` of every charset page of ``case``."""
    out = []
    for label in CHARSETS:
        for variant in ("h", "m"):
            out.append((f"/{case}/cs/{variant}-{label or 'none'}.html", label))
    return out


def malformed_page(case: str) -> bytes:
    """Broken markup a browser still reads; the four `mal/N.html` links are real links."""
    nested = "<div><span><table><tr><td>" * 4000  # 100k bytes of ever-deeper nesting
    parts = [
        "<html><head><title>畸形页面</title><meta charset=utf-8><meta charset=gbk>",
        "<body><p>发布时间：2020-13-45 9999年99月99日 0000-00-00",
        f'<a href="/{case}/mal/1.html">one',  # never closed
        "<table><tr><td><b><i><u></table></b></i>",  # misnested
        f"<a href=/{case}/mal/2.html>two</a>",  # unquoted
        '<a href="http://[::1">bad ipv6</a><a href="http://%zz/">bad host</a>',
        '<a href="http://a b/">space</a><a href="http://127.0.0.1:99999/">bad port</a>',
        '<a href="//">empty</a><a href="http://">empty host</a><a href="">empty</a>',
        '<a href="javascript:alert(1)">js</a><img src="data:image/png;base64,AAAA">',
        '<meta http-equiv="refresh" content="0;url="><meta http-equiv="refresh" content="x">',
        '<a title="' + "长" * 30000 + '">long attribute</a>',
        "\x00\x01\x02\x0b\x0c\x7f</a></a></a></div></div></body></body>",
        f"<a href='/{case}/mal/3.html'>three</a>",
        nested,
        f'<a href="/{case}/mal/4.html">four</a>',
        "<!-- a comment that never ends <a href='/nowhere.html'>",
    ]
    return "".join(parts).encode("utf-8")


def binary_body(size: int = 200_000) -> bytes:
    """Seeded random bytes that start like a PNG and hold NULs: served as text/html."""
    rng = random.Random(20200615)
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + rng.randbytes(size)


# ---------------------------------------------------------------------------------------------
# the server


class HostileServer:
    """Every hostile case on loopback. ``with HostileServer() as server:`` runs it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._log: list[Served] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self.port = 0
        self.silent_port = 0
        self.private_port = 0

    # --- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> HostileServer:
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
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="hostile", daemon=True)
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
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            if not thread.is_alive():
                loop.close()
            self._loop = None
            self._thread = None

    async def _start(self) -> None:
        web = await asyncio.start_server(self._web_connection, HOST, 0, limit=HEAD_LIMIT)
        silent = await asyncio.start_server(self._silent_connection, HOST, 0)
        private = await asyncio.start_server(self._private_connection, PRIVATE_HOST, 0)
        self._servers = [web, silent, private]
        self.port = int(web.sockets[0].getsockname()[1])
        self.silent_port = int(silent.sockets[0].getsockname()[1])
        self.private_port = int(private.sockets[0].getsockname()[1])

    async def _stop(self) -> None:
        for server in self._servers:
            server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        for server in self._servers:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await server.wait_closed()
        self._servers = []

    # --- what tests read ---------------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    @property
    def silent_url(self) -> str:
        return f"http://{HOST}:{self.silent_port}/zwfw/index.html"

    def site_url(self, case: str) -> str:
        return self.url(f"/{case}/")

    def log(self) -> list[Served]:
        """A copy of every request served so far."""
        with self._lock:
            return list(self._log)

    def served(self, case: str, since: int = 0) -> list[Served]:
        """Requests of ``case`` (the web listener) among the log entries from ``since`` on."""
        return [s for s in self.log()[since:] if s.listener == "web" and s.case == case]

    def silent_connections(self, since: int = 0) -> list[Served]:
        return [s for s in self.log()[since:] if s.listener == "silent"]

    def private_connections(self, since: int = 0) -> list[Served]:
        return [s for s in self.log()[since:] if s.listener == "private"]

    def private_urls(self) -> dict[str, str]:
        """Ways to name the private listener, by the name of the redirect that leads there."""
        port = self.private_port
        return {
            "go-literal.html": f"http://{PRIVATE_HOST}:{port}/latest/meta-data/",
            "go-mapped.html": f"http://[::ffff:{PRIVATE_HOST}]:{port}/mapped",
            "go-localhost.html": f"http://localhost:{port}/admin",
        }

    def config_toml(self, case: str) -> str:
        lines = [f"as_of = {AS_OF}", "", "[crawl]"]
        for key, value in crawl_settings(case).items():
            text = ("true" if value else "false") if isinstance(value, bool) else repr(value)
            lines.append(f"{key} = {text}")
        site = self.site_url(case)
        lines += [
            "",
            "[[site]]",
            f'id = "{case.replace("_", "-")}"',
            f'name = "恶意服务器测试：{case}"',
            'unit = "测试局"',
            f'url = "{site}"',
            f'scope = ["{site}"]',
            "",
        ]
        return "\n".join(lines)

    # --- connections -------------------------------------------------------------------------

    def _track(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _new_record(self, listener: str, method: str, target: str) -> Served:
        record = Served(listener, method, target, time.monotonic())
        with self._lock:
            self._log.append(record)
        return record

    async def _silent_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Accept and never answer; hold the connection until the client gives up."""
        self._track()
        record = self._new_record("silent", "", "")
        try:
            async with asyncio.timeout(HANDLER_SECONDS):
                while data := await reader.read(4096):  # discarded: only EOF matters
                    if not record.method:
                        record.method, _, rest = data.decode("latin-1").partition(" ")
                        record.target = rest.partition(" ")[0]
            record.how = "closed"
        except TimeoutError:
            record.how = "timeout"
        except (ConnectionError, OSError):
            record.how = "reset"
        finally:
            record.ended = time.monotonic()
            writer.close()

    async def _private_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Log the connection (it should never come), answer 200 with a "secret"."""
        self._track()
        record = self._new_record("private", "", "")
        try:
            async with asyncio.timeout(IDLE_SECONDS):
                head = await reader.readuntil(b"\r\n\r\n")
            request = _parse_head(head)
            if request is not None:
                record.method, record.target = request.method, request.target
            body = b"<html><title>secret</title><body>instance credentials</body></html>"
            await _Out(reader, writer, record).send(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
                b"Content-Length: %d\r\n\r\n%b" % (len(body), body)
            )
            record.how = "done"
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ClientGone):
            record.how = "closed"
        except (ConnectionError, OSError):
            record.how = "reset"
        finally:
            record.ended = time.monotonic()
            writer.close()

    async def _web_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._track()
        try:
            while True:
                try:
                    async with asyncio.timeout(IDLE_SECONDS):
                        head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
                    return
                except (ConnectionError, OSError):
                    return
                request = _parse_head(head)
                if request is None:
                    return
                record = self._new_record("web", request.method, request.target)
                out = _Out(reader, writer, record)
                keep = False
                try:
                    async with asyncio.timeout(HANDLER_SECONDS):
                        keep = await self._route(request, out)
                    record.how = record.how or "done"
                except ClientGone:
                    record.how = "client gone"
                except TimeoutError:
                    record.how = "timeout"
                except Exception as exc:  # a bug of this test server, not of the crawler
                    record.how = f"server error: {exc!r}"
                    return
                finally:
                    record.ended = time.monotonic()
                if not keep or record.how != "done":
                    return
        finally:
            if not writer.is_closing():
                writer.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1):
                    await writer.wait_closed()

    # --- routing -----------------------------------------------------------------------------

    async def _route(self, req: Request, out: _Out) -> bool:
        path = req.path
        if path == "/robots.txt" or path.startswith("/govmon-404-probe"):
            return await _simple(req, out, 404, "text/plain", b"not found")
        case, _, rest = path.lstrip("/").partition("/")
        if case not in CASES:
            return await _simple(req, out, 404, "text/html", b"<h1>404</h1>")
        if ";jsessionid=" in rest:
            rest = rest.split(";", 1)[0]
        if rest in NORMAL_PAGES:
            return await self._normal(req, out, case, rest)
        if rest == MISSING:
            return await _simple(req, out, 404, "text/html", b"<h1>404 Not Found</h1>")
        handler = getattr(self, f"_case_{case}", None)
        if handler is None:
            return await _simple(req, out, 404, "text/html", b"<h1>404</h1>")
        keep: bool = await handler(req, out, case, rest)
        return keep

    async def _normal(self, req: Request, out: _Out, case: str, rest: str) -> bool:
        title = NORMAL_PAGES[rest]
        hrefs: list[str]
        if rest == "":
            hrefs = [f"/{case}/news.html", f"/{case}/about.html", f"/{case}/{MISSING}"]
            hrefs += self.hostile_links(case)
        elif rest == "news.html":
            hrefs = [f"/{case}/news/1.html", f"/{case}/"]
        else:
            hrefs = [f"/{case}/"]
        if case == "session":
            hrefs = [_with_session(h) for h in hrefs]
        body = _links(hrefs) + '<p class="date">发布时间：2020-06-15</p>'
        return await _simple(req, out, 200, "text/html; charset=utf-8", html_page(title, body))

    def hostile_links(self, case: str) -> list[str]:
        """The hostile targets the home page of ``case`` links."""
        p = f"/{case}/"
        links: dict[str, list[str]] = {
            "plain": [],
            "drip": [p + "drip.html"],
            "endless": [p + "endless.html"],
            "big": [p + "big.html"],
            "big_attachment": [p + "big.pdf"],
            "gzip_bomb": [p + "bomb.html"],
            "gzip_bomb_attachment": [p + "bomb.doc"],
            "bad_gzip": [p + "badgzip.html"],
            "broken_chunked": [p + "chunked.html"],
            "reset": [p + "reset.html"],
            "short_body": [p + "short.html"],
            "endless_headers": [p + "headers.html"],
            "many_headers": [p + "headers.html"],
            "redirects": [p + "r/0.html"],
            "slow_redirects": [p + "r/0.html"],
            "calendar": [p + f"cal/?date={CALENDAR_START}"],
            "session": [p + "c/1.html", p + "n/1.html", p + "n/2.html"],
            "deep": [p + "deep/"],
            "million": [p + "million.html"],
            "malformed": [p + "malformed.html"],
            "charsets": [path for path, _ in charset_pages(case)],
            "binary": [p + "binary.html"],
            "silent": [self.silent_url],
            "redirect_private": [p + name for name in self.private_urls()]
            + [self.private_urls()["go-literal.html"].replace("/latest/", "/direct/")],
        }
        return links[case]

    # --- the cases ---------------------------------------------------------------------------

    async def _case_redirect_private(self, req: Request, out: _Out, case: str, rest: str) -> bool:
        """A compromised site: links that redirect into the network."""
        target = self.private_urls().get(rest)
        if target is None:
            return await _not_found(req, out)
        await out.head(302, [("Location", target), ("Content-Length", "0")])
        return True

    async def _case_drip(self, req: Request, out: _Out, case: str, rest: str) -> bool:
        if rest != "drip.html":
            return await _not_found(req, out)
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "4096")]
        await out.head(200, headers)
        if req.method == "HEAD":
            return False
        body = html_page("滴", "<p>" + "滴" * DRIP_LENGTH + "</p>").encode("utf-8")[:DRIP_LENGTH]
        for byte in body:
            await out.send(bytes([byte]))
            await out.pause(1.0)
        return False

    async def _case_endless(self, req: Request, out: _Out, case: str, rest: str) -> bool:
        if rest == "after-endless.html":
            return await _leaf(req, out, "无尽页面之后")
        if rest != "endless.html":
            return await _not_found(req, out)
        await out.head(200, [("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")])
        if req.method == "HEAD":
            return False
        first = f'<html><head><title>无尽</title></head><body><a href="/{case}/after-endless.html">'
        await out.chunk((first + "后面</a>").encode("utf-8"))
        filler = ("<p>没有尽头的页面。</p>\n" * 400).encode("utf-8")
        while True:  # bounded by HANDLER_SECONDS and by the client going away
            await out.chunk(filler)

    async def _case_big(self, req: Request, out: _Out, case: str, rest: str) -> bool:
        if rest == "after-big.html":
            return await _leaf(req, out, "大页面之后")
        if rest != "big.html":
            return await _not_found(req, out)
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(GIB))]
        await out.head(200, headers)
        if req.method == "HEAD":
            return True
        first = (
            f'<html><head><title>一个G的页面</title></head><body><a href="/{case}/after-big.html">'
            "后面</a>"
        ).encode()
        await _stream_length(out, first, BIG_BYTES)
        return False

    async def _case_big_attachment(self, req: Request, out: _Out, case: str, rest: str) -> bool:
        if rest != "big.pdf":
            return await _not_found(req, out)
        if req.method == "HEAD":  # refuse HEAD: the crawler must GET, and read only a prefix
            return await _simple(req, out, 405, "text/plain", b"HEAD not allowed")
        headers = [("Content-Type", "application/pdf"), ("Content-Length", str(GIB))]
        await out.head(200, headers)
        await _stream_length(out, b"%PDF-1.4\n", BIG_BYTES)
        return False

    async def _bomb(self, req: Request, out: _Out, prefix: bytes, content_type: str) -> bool:
        headers = [
            ("Content-Type", content_type),
            ("Content-Encoding", "gzip"),
            ("Transfer-Encoding", "chunked"),
        ]
        await out.head(200, headers)
        if req.method == "HEAD":
            return False
        async for piece in gzip_bomb(prefix, BOMB_BYTES):
            await out.chunk(piece)
        await out.send(b"0\r\n\r\n")
        return False

    async def _case_gzip_bomb(self, req: Request, out: _Out, case: str, rest: str) -> bool:
        if rest == "after-bomb.html":
            return await _leaf(req, out, "炸弹之后")
        if rest != "bomb.html":
            return await _not_found(req, out)
        prefix = (
            f'<html><head><title>压缩炸弹</title></head><body><a href="/{case}/after-bomb.html">'
            "后面</a>"
        ).encode()
        return await self._bomb(req, out, prefix, "text/html; charset=utf-8")

    async def _case_gzip_bomb_attachment(
        self, req: Request, out: _Out, case: str, rest: str
    ) -> bool:
        if rest != "bomb.doc":
            return await _not_found(req, out)
        if req.method == "HEAD":
            return await _simple(req, out, 405, "text/plain", b"HEAD not allowed")
        return await self._bomb(req, out, b"\xd0\xcf\x11\xe0", "application/msword")

    async def _case_bad_gzip(self, req: Request, out: _Out, case: str, rest: str) -> bool:
        if rest != "badgzip.html":
            return await _not_found(req, out)
        # a gzip header, then a deflate block of the reserved type 11: "invalid block type"
        body = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + b"\xff" * 256
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Encoding", "gzip"),
            ("Content-Length", str(len(body))),
        ]
        await out.head(200, headers)
        if req.method != "HEAD":
            await out.send(body)
        return False

    async def _case_broken_chunked(self, req: Request, out: _Out, case: str, rest: str) -> bool:
        if rest != "chunked.html":
            return await _not_found(req, out)
        await out.head(200, [("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")])
        if req.method == "HEAD":
            return False
        await out.chunk(b"<html><head><title>chunked</title></head><body><p>first chunk</p>")
        await out.send(b"zz; not a size\r\n<p>garbage</p>\r\n-5\r\n\r\n")
        await asyncio.sleep(0.2)
        return False

    async def _case_reset(self, req: Request, out: _Out, case: str, rest: str) -> bool:
        if rest != "reset.html":
            return await _not_found(req, out)
        await out.head(200, [("Content-Type", "text/html"), ("Content-Length", "100000")])
        if req.method == "HEAD":
            return False
        await out.send(html_page("重置", "<p>" + "x" * 8000).encode()[:8000])
        await asyncio.sleep(0.1)
        _reset(out.writer)
        out.record.how = "reset"
        return False

    async def _case_short_body(self, req: Request, out: _Out, case: str, rest: str) -> bool:
        if rest != "short.html":
            return await _not_found(req, out)
        await out.head(200, [("Content-Type", "text/html"), ("Content-Length", "50000")])
        if req.method == "HEAD":
            return False
        await out.send(html_page("短", "<p>只有一点</p>").encode())
        out.record.how = "cut"
        return False  # the connection closes 49 KB early

    async def _case_endless_headers(self, req: Request, out: _Out, case: str, rest: str) -> bool:
        """One header line that never ends."""
        if rest != "headers.html":
            return await _not_found(req, out)
        out.record.status = 200
        await out.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Endless: ")
        while True:
            await out.send(b"a" * 65536)

    async def _case_many_headers(self, req: Request, out: _Out, case: str, rest: str) -> bool:
        """Short header lines that never stop coming."""
        if rest != "headers.html":
            return await _not_found(req, out)
        out.record.status = 200
        await out.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n")
        n = 0
        while True:
            block = b"".join(b"X-H%d: v\r\n" % (n + i) for i in range(1000))
            n += 1000
            await out.send(block)

    async def _case_redirects(self, req: Request, out: _Out, case: str, rest: str) -> bool:
        if not (rest.startswith("r/") and rest.endswith(".html") and rest[2:-5].isdigit()):
            return await _not_found(req, out)
        n = int(rest[2:-5])
        if n >= REDIRECT_CHAIN:
            return await _leaf(req, out, "终点")
        headers = [("Location", f"/{case}/r/{n + 1}.html"), ("Content-Length", "0")]
        await out.head(302, headers)
        return True

    async def _case_slow_redirects(self, req: Request, out: _Out, case: str, rest: str) -> bool:
        """The chain of 50 again, each hop answered after `SLOW_HOP` seconds."""
        await out.pause(SLOW_HOP)
        return await self._case_redirects(req, out, case, rest)

    async def _case_calendar(self, req: Request, out: _Out, case: str, rest: str) -> bool:
        """An endless calendar: every day links the day, month and year before and after."""

        if rest != "cal/":
            return await _not_found(req, out)
        try:
            day = dt.date.fromisoformat(req.query.get("date", [CALENDAR_START])[0])
        except ValueError:
            return await _not_found(req, out)
        steps = (1, -1, 30, -30, 365, -365)
        hrefs = []
        for step in steps:
            other = day + dt.timedelta(days=step)
            hrefs.append(f"/{case}/cal/?date={other.isoformat()}")
        body = f"<p>{day.isoformat()} 日程</p>" + _links(hrefs)
        return await _simple(req, out, 200, "text/html", html_page(f"日历 {day}", body))

    async def _case_session(self, req: Request, out: _Out, case: str, rest: str) -> bool:
        """Every link carries a fresh session id: `;jsessionid=` in paths."""
        page = rest.split(";", 1)[0]
        kind, _, name = page.partition("/")
        if kind not in ("c", "n") or not name.endswith(".html") or not name[:-5].isdigit():
            return await _not_found(req, out)
        n = int(name[:-5])
        if not (1 <= n <= (SESSION_CHAIN if kind == "c" else SESSION_NAV)):
            return await _not_found(req, out)
        hrefs = [f"/{case}/"] + [f"/{case}/n/{i}.html" for i in range(1, SESSION_NAV + 1)]
        if kind == "c" and n < SESSION_CHAIN:
            hrefs.append(f"/{case}/c/{n + 1}.html")
        body = _links(_with_session(h) for h in hrefs)
        return await _simple(req, out, 200, "text/html", html_page(f"{kind}{n}", body))

    async def _case_deep(self, req: Request, out: _Out, case: str, rest: str) -> bool:
        """/deep/ links a/, which links a/, ... for ever (a relative link on every level)."""
        if not rest.startswith("deep/") or rest.replace("a/", "") != "deep/":
            return await _not_found(req, out)
        body = '<a href="a/">更深一层</a><a href="./">本层</a><a href="../">上一层</a>'
        return await _simple(req, out, 200, "text/html", html_page(f"层 {len(rest)}", body))

    async def _case_million(self, req: Request, out: _Out, case: str, rest: str) -> bool:
        if rest.startswith("m/"):
            return await _leaf(req, out, "条目")
        if rest != "million.html":
            return await _not_found(req, out)
        await out.head(200, [("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")])
        if req.method == "HEAD":
            return False
        await out.chunk(b"<html><head><title>million</title></head><body><ul>")
        block: list[bytes] = []
        for i in range(MILLION):
            block.append(b'<li><a href="/%b/m/%d.html">%d</a></li>' % (case.encode(), i, i))
            if len(block) == 500:
                await out.chunk(b"".join(block))
                block.clear()
        await out.chunk(b"".join(block) + b"</ul></body></html>")
        await out.send(b"0\r\n\r\n")
        return False

    async def _case_malformed(self, req: Request, out: _Out, case: str, rest: str) -> bool:
        if rest.startswith("mal/"):
            return await _leaf(req, out, "畸形之后")
        if rest != "malformed.html":
            return await _not_found(req, out)
        return await _simple(req, out, 200, "text/html; charset=utf-8", malformed_page(case))

    async def _case_charsets(self, req: Request, out: _Out, case: str, rest: str) -> bool:
        if rest.startswith("cs/") and rest.endswith("-ok.html"):
            return await _leaf(req, out, "编码之后")
        for path, label in charset_pages(case):
            if req.path == path:
                variant = rest[3]
                content_type = "text/html"
                if variant == "h" and label:
                    content_type += f"; charset={label}"
                return await _simple(
                    req, out, 200, content_type, charset_page(case, variant, label)
                )
        return await _not_found(req, out)

    async def _case_binary(self, req: Request, out: _Out, case: str, rest: str) -> bool:
        if rest != "binary.html":
            return await _not_found(req, out)
        return await _simple(req, out, 200, "text/html; charset=utf-8", binary_body())


# ---------------------------------------------------------------------------------------------
# helpers


def _parse_head(head: bytes) -> Request | None:
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes everything
        return None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return Request(parts[0], parts[1], headers)


def _with_session(href: str) -> str:
    """``href`` with a fresh session id, as a servlet container writes it."""
    token = hashlib.md5(str(time.monotonic_ns()).encode() + random.randbytes(8)).hexdigest()
    path, sep, query = href.partition("?")
    return f"{path};jsessionid={token.upper()}{sep}{query}"


async def _simple(
    req: Request, out: _Out, status: int, content_type: str, body: bytes | str
) -> bool:
    data = body.encode("utf-8") if isinstance(body, str) else body
    headers = [("Content-Type", content_type), ("Content-Length", str(len(data)))]
    await out.head(status, headers)
    if req.method != "HEAD":
        await out.send(data)
    return True


async def _leaf(req: Request, out: _Out, title: str) -> bool:
    body = html_page(title, "<p>普通页面，内容正常。</p>")
    return await _simple(req, out, 200, "text/html; charset=utf-8", body)


async def _not_found(req: Request, out: _Out) -> bool:
    return await _simple(req, out, 404, "text/html", b"<h1>404 Not Found</h1>")


async def _stream_length(out: _Out, first: bytes, length: int) -> None:
    """``first``, then filler up to ``length`` bytes, written as the client reads."""
    await out.send(first)
    left = length - len(first)
    filler = b"<p>" + b"x" * 65525 + b"</p>\n"
    while left > 0:
        piece = filler if left >= len(filler) else filler[:left]
        await out.send(piece)
        left -= len(piece)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST instead of FIN (SO_LINGER 0)."""
    sock = writer.transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
