"""``govmon replay``: recorded responses served on loopback, as a proxy target or directly.

A request is looked up by its method and URL: the scheme is ``X-Forwarded-Proto`` when present
(the fetcher asks for an https URL over plain HTTP with that header when it goes through
``--proxy``), else the scheme of an absolute-form target, else ``http``; the host is the one of an
absolute-form target (``GET http://host/path``, as a client talking to a proxy sends it), else
the ``Host`` header; path and query are taken as sent, byte for byte, and both sides are compared
in canonical form (:func:`crawler.net.urls.canonicalize`). A HEAD is answered from a recorded GET
(headers only) when no HEAD was recorded, and a GET from a recorded HEAD (headers, empty body);
redirects are replayed as recorded; the last recording of a URL wins. Anything not recorded
gets a 404 with ``X-Govmon-Replay: miss``; a recorded response carries ``X-Govmon-Replay: hit``
(or ``from-get`` / ``from-head``), so a recorded 404 and a miss are told apart.

A recorded failure (the request got no response: ``dns``, ``connect``, ``tls``, ``timeout`` ...)
is answered ``502`` with ``X-Govmon-Replay: failed`` and the failure as JSON in
``X-Govmon-Failure``; govmon's fetcher, through ``--proxy``, then fails the request with the
recorded reason and detail, so that a replayed scan finds what the recording scan found.

``govmon replay`` listens on loopback unless it is given a token (``--token-file`` or
``GOVMON_TOKEN``, at least 16 characters, like ``govmon serve``); with a token, every request
must carry it: as the password of ``Proxy-Authorization: Basic`` (``scan --proxy
http://govmon:TOKEN@HOST:PORT``) or as ``Authorization: Bearer TOKEN``; others get a 407.

Only an index is held in memory: for each method and URL, the file and offset of its last
response record, read again (and decoded) when asked for, in every layout of file (a gzip file
compressed as one stream through the checkpoints of
:class:`crawler.recordings.stream.StreamIndex`); the
failures are kept in memory (they have no body).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import signal
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO

from aiohttp import web
from multidict import CIMultiDict

from crawler.net.fetcher import FAILURE_HEADER, REPLAY_FAILED
from crawler.net.fetcher import REPLAY_HEADER as _REPLAY_HEADER
from crawler.net.serving import ServeError, check_listen, token_matches
from crawler.net.urls import canonicalize
from crawler.recordings.model import RecordedFailure, RecordedResponse, WarcError, body_digest
from crawler.recordings.reader import Located, index_records, read_response_at

REPLAY_HEADER = _REPLAY_HEADER  # X-Govmon-Replay: miss, hit, from-get, from-head, failed, error
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
# what the index holds for a key: where its response is, the response itself, or a failure
Entry = Located | RecordedResponse | RecordedFailure


@dataclass(slots=True)
class ReplayIndex:
    """The recordings by method and canonical URL; the last recording wins."""

    responses: dict[Key, Entry] = field(default_factory=dict)
    # requests with a body (POSTs) also by their body: one URL, several forms (dataproxy.jsp)
    by_body: dict[tuple[str, str, str], Entry] = field(default_factory=dict)
    files: int = 0
    records: int = 0
    hits: int = 0
    misses: int = 0
    failures: int = 0  # recorded failures answered (counted in ``hits`` too)

    @classmethod
    def load(cls, paths: Iterable[str | os.PathLike[str]]) -> ReplayIndex:
        """Index every file (raises :class:`crawler.recordings.model.WarcError` for one that is
        not a WARC/ARC file)."""
        index = cls()
        for path in paths:
            index.files += 1
            for entry in index_records([path]):
                index.add(entry)
        return index

    def add(self, entry: Entry) -> None:
        self.records += 1
        key = (entry.method, _key_url(entry.url))
        self.responses[key] = entry
        digest = entry.request_digest if isinstance(entry, Located | RecordedResponse) else ""
        if digest:
            self.by_body[(*key, digest)] = entry

    @property
    def recorded_failures(self) -> int:
        """How many of the keys answer with a recorded failure."""
        return sum(isinstance(e, RecordedFailure) for e in self.responses.values())

    def lookup(self, method: str, url: str, body: bytes = b"") -> tuple[Entry, str] | None:
        """The entry for ``method url`` and how it answers: ``hit``, ``from-get`` (a HEAD
        answered from a GET) or ``from-head`` (a GET answered from a HEAD). A request with a
        ``body`` gets the response recorded for that body, else the last one for the URL."""
        key_url = _key_url(url)
        if body:
            found = self.by_body.get((method, key_url, body_digest(body)))
            if found is not None:
                return found, "hit"
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
TOKEN: web.AppKey[str] = web.AppKey("govmon_replay_token", str)


def _key_url(url: str) -> str:
    return canonicalize(url) or url


class _Replayed(web.Response):
    """A replayed response; ``unrecorded``: the headers aiohttp adds by default that the
    recording did not have (removed again before the head is sent)."""

    unrecorded: tuple[str, ...] = ()


def make_app(
    paths: Iterable[str | os.PathLike[str]], *, token: str | None = None
) -> web.Application:
    """An application serving the responses recorded in ``paths`` (WARC or ARC files); with
    ``token``, only to requests that carry it.

    Raises :class:`crawler.recordings.model.WarcError` for a file that cannot be read at all.
    """
    index = ReplayIndex.load(paths)
    app = web.Application(middlewares=[_replay])
    app[INDEX] = index
    if token is not None:
        app[TOKEN] = token
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
    expected = request.app.get(TOKEN)
    if expected is not None and not token_matches(_given_token(request), expected):
        return web.Response(
            status=407,
            text="govmon replay: a token is required (scan --proxy http://govmon:TOKEN@HOST:PORT)\n",
            headers={"Proxy-Authenticate": 'Basic realm="govmon replay"'},
        )
    index = request.app[INDEX]
    url = request_url(request)
    body = await request.read() if request.can_read_body else b""
    found = index.lookup(request.method, url, body)
    if found is None:
        index.misses += 1
        return web.Response(
            status=404,
            text=f"govmon replay: not recorded: {request.method} {url}\n",
            headers={REPLAY_HEADER: "miss"},
        )
    entry, how = found
    if isinstance(entry, RecordedFailure):
        index.hits += 1
        index.failures += 1
        return _fail(entry, request.method, url)
    if isinstance(entry, Located):
        try:
            entry = await asyncio.to_thread(
                read_response_at, entry.path, entry.offset, entry.method, entry.stream
            )
        except WarcError as exc:
            return web.Response(
                status=500,
                text=f"govmon replay: cannot read the recording: {exc}\n",
                headers={REPLAY_HEADER: "error"},
            )
    index.hits += 1
    return _respond(entry, how, request.method)


def _given_token(request: web.BaseRequest) -> str | None:
    """The token a request carries: the password of ``Proxy-Authorization: Basic``, or
    ``Authorization: Bearer``."""
    scheme, _, value = request.headers.get("Proxy-Authorization", "").partition(" ")
    if scheme.lower() == "basic" and value.strip():
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
            return None
        return decoded.partition(":")[2]
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _fail(failure: RecordedFailure, method: str, url: str) -> web.Response:
    """The answer to a request whose recording is a failure: 502, and the failure in
    ``X-Govmon-Failure`` for govmon's fetcher (:class:`crawler.net.fetcher.ReplayedFailure`)."""
    return web.Response(
        status=502,
        text=f"govmon replay: recorded failure: {method} {url}: {failure.error}"
        f" ({failure.detail})\n",
        headers={REPLAY_HEADER: REPLAY_FAILED, FAILURE_HEADER: failure.to_json()},
    )


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
    token: str | None = None,
) -> None:
    """Serve the recordings on ``listen`` (loopback by default) until cancelled or sent
    SIGTERM (which stops it as gracefully as SIGINT does: the summary is printed, and it
    returns); prints the address it serves (the actual port when ``listen`` asks for port 0).
    Raises ``ValueError`` for a bad ``listen``, or a non-loopback one without a ``token`` of
    16 characters or more (as ``govmon serve`` does)."""
    stream = out if out is not None else sys.stdout
    host, port = parse_listen(listen)
    try:
        await check_listen(host, token, "govmon replay")
    except ServeError as exc:
        raise ValueError(str(exc)) from None
    app = make_app(paths, token=token)
    index = app[INDEX]
    runner = web.AppRunner(app, access_log=None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = False
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGTERM, stop.set)  # only in the main thread, on Unix
        handled = True
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0]
        shown = f"[{bound[0]}]" if ":" in str(bound[0]) else str(bound[0])
        address = f"http://{shown}:{bound[1]}"
        proxy = address if token is None else f"http://govmon:TOKEN@{shown}:{bound[1]}"
        failures = index.recorded_failures
        print(
            f"govmon replay: {len(index.responses) - failures} recorded responses"
            + (f" and {failures} recorded failures" if failures else "")
            + f" from {index.files} file(s), serving on {address}"
            f" (govmon scan CONFIG --proxy {proxy})",
            file=stream,
            flush=True,
        )
        await stop.wait()
    finally:
        if handled:
            loop.remove_signal_handler(signal.SIGTERM)
        await runner.cleanup()
        also = f"; {index.failures} of them recorded failures" if index.failures else ""
        print(
            f"govmon replay: stopped; {index.hits} served, {index.misses} not recorded{also}",
            file=stream,
            flush=True,
        )
