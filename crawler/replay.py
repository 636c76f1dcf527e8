"""``govmon replay``: recorded responses served on loopback, as a proxy target or directly.

A request is looked up by its method and URL: the scheme is ``X-Forwarded-Proto`` when present
(the fetcher asks for an https URL over plain HTTP with that header when it goes through
``--proxy``), else the scheme of an absolute-form target, else ``http``; the host is the one of an
absolute-form target (``GET http://host/path``, as a client talking to a proxy sends it), else
the ``Host`` header; path and query are taken as sent, byte for byte, and both sides are compared
in canonical form (:func:`crawler.urls.canonicalize`). A HEAD is answered from a recorded GET
(headers only) when no HEAD was recorded, and a GET from a recorded HEAD (headers, empty body);
redirects are replayed as recorded; the last recording of a URL wins. Anything not recorded
gets a 404 with ``X-Govmon-Replay: miss``; a recorded response carries ``X-Govmon-Replay: hit``
(or ``from-get`` / ``from-head``), so a recorded 404 and a miss are told apart.

The recorded responses are held in memory (the last one per method and URL).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO

from aiohttp import web
from multidict import CIMultiDict

from crawler.urls import canonicalize
from crawler.warc import RecordedResponse, read_exchanges

REPLAY_HEADER = "X-Govmon-Replay"
DEFAULT_LISTEN = "127.0.0.1:8090"
# hop-by-hop headers, and the length (the server frames the body it sends itself)
_NOT_REPLAYED = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "proxy-authenticate",
        "proxy-authorization",
        "content-length",
    }
)
# what aiohttp adds to a response on its own unless the recording has it
_DEFAULTED = ("Content-Type", "Server", "Date")

Key = tuple[str, str]  # (method, canonical URL)


@dataclass(slots=True)
class ReplayIndex:
    """The recorded responses by method and canonical URL; the last recording wins."""

    responses: dict[Key, RecordedResponse] = field(default_factory=dict)
    files: int = 0
    records: int = 0
    hits: int = 0
    misses: int = 0

    @classmethod
    def load(cls, paths: Iterable[str | os.PathLike[str]]) -> ReplayIndex:
        """Read every file (raises :class:`crawler.warc.WarcError` for one that is not a
        WARC/ARC file)."""
        index = cls()
        for path in paths:
            index.files += 1
            for response in read_exchanges([path]):
                index.add(response)
        return index

    def add(self, response: RecordedResponse) -> None:
        self.records += 1
        self.responses[(response.method, _key_url(response.url))] = response

    def lookup(self, method: str, url: str) -> tuple[RecordedResponse, str] | None:
        """The response for ``method url`` and how it answers: ``hit``, ``from-get`` (a HEAD
        answered from a GET) or ``from-head`` (a GET answered from a HEAD)."""
        key_url = _key_url(url)
        found = self.responses.get((method, key_url))
        if found is not None:
            return found, "hit"
        if method == "HEAD":
            found = self.responses.get(("GET", key_url))
            if found is not None:
                return found, "from-get"
        elif method == "GET":
            found = self.responses.get(("HEAD", key_url))
            if found is not None:
                return found, "from-head"
        return None


INDEX: web.AppKey[ReplayIndex] = web.AppKey("govmon_replay_index", ReplayIndex)


def _key_url(url: str) -> str:
    return canonicalize(url) or url


class _Replayed(web.Response):
    """A replayed response; ``unrecorded``: the headers aiohttp adds by default that the
    recording did not have (removed again before the head is sent)."""

    unrecorded: tuple[str, ...] = ()


def make_app(paths: Iterable[str | os.PathLike[str]]) -> web.Application:
    """An application serving the responses recorded in ``paths`` (WARC or ARC files).

    Raises :class:`crawler.warc.WarcError` for a file that cannot be read at all.
    """
    index = ReplayIndex.load(paths)
    app = web.Application(middlewares=[_replay])
    app[INDEX] = index
    app.on_response_prepare.append(_drop_unrecorded)
    return app


def request_url(request: web.BaseRequest) -> str:
    """The URL a request asks for, as the recording names it."""
    target = request.raw_path
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",", 1)[0].strip().lower()
    scheme, sep, rest = target.partition("://")
    if sep and scheme.lower() in ("http", "https") and "/" not in scheme:
        cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
        host, path = rest[:cut], rest[cut:]
        scheme = forwarded or scheme.lower()
    else:
        host, path, scheme = request.headers.get("Host", ""), target, forwarded
    if not path.startswith("/"):
        path = "/" + path
    if scheme not in ("http", "https"):
        scheme = "http"
    return f"{scheme}://{host}{path}"


@web.middleware
async def _replay(request: web.Request, handler: object) -> web.StreamResponse:
    """Answers every request from the index (before and instead of any route)."""
    index = request.app[INDEX]
    url = request_url(request)
    found = index.lookup(request.method, url)
    if found is None:
        index.misses += 1
        return web.Response(
            status=404,
            text=f"govmon replay: not recorded: {request.method} {url}\n",
            headers={REPLAY_HEADER: "miss"},
        )
    index.hits += 1
    recorded, how = found
    return _respond(recorded, how, request.method)


def _respond(recorded: RecordedResponse, how: str, method: str) -> web.Response:
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in recorded.headers:
        if name.lower() in _NOT_REPLAYED or "\r" in value or "\n" in value:
            continue
        headers.add(name, _wire(value))
    headers[REPLAY_HEADER] = how
    body = recorded.body
    if how == "from-head":
        body = b""
    elif method == "HEAD" and how == "hit":
        declared = recorded.header("Content-Length")
        if declared is not None and declared.strip().isdigit():
            headers["Content-Length"] = declared.strip()
    response = _Replayed(
        status=recorded.status,
        reason=recorded.reason or None,
        headers=headers,
        body=body,
    )
    response.unrecorded = tuple(name for name in _DEFAULTED if name not in headers)
    return response


def _wire(value: str) -> str:
    """A recorded header value (latin-1 of the bytes sent) as aiohttp will write it (UTF-8)."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


async def _drop_unrecorded(request: web.Request, response: web.StreamResponse) -> None:
    if isinstance(response, _Replayed):
        for name in response.unrecorded:
            response.headers.popall(name, None)


def parse_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6; a bare ``PORT`` or ``:PORT`` means loopback)."""
    text = listen.strip()
    host, port_text = "127.0.0.1", text
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or text[end + 1 : end + 2] != ":":
            raise ValueError(f"bad --listen {listen!r}: expected [ADDRESS]:PORT")
        host, port_text = text[1:end], text[end + 2 :]
    elif ":" in text:
        head, _, port_text = text.rpartition(":")
        host = head or host
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"bad --listen {listen!r}: expected HOST:PORT")
    return host, int(port_text)


async def run_replay(
    paths: Iterable[str | os.PathLike[str]],
    listen: str = DEFAULT_LISTEN,
    *,
    out: TextIO | None = None,
) -> None:
    """Serve the recordings on ``listen`` (loopback by default) until cancelled; prints the
    address it serves (the actual port when ``listen`` asks for port 0)."""
    stream = out if out is not None else sys.stdout
    host, port = parse_listen(listen)
    app = make_app(paths)
    index = app[INDEX]
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0]
        shown = f"[{bound[0]}]" if ":" in str(bound[0]) else str(bound[0])
        address = f"http://{shown}:{bound[1]}"
        print(
            f"govmon replay: {len(index.responses)} recorded responses from {index.files} "
            f"file(s), serving on {address} (govmon scan CONFIG --proxy {address})",
            file=stream,
            flush=True,
        )
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        print(
            f"govmon replay: stopped; {index.hits} served, {index.misses} not recorded",
            file=stream,
            flush=True,
        )
