"""Recordings: every exchange of a scan written to a WARC file, and WARC/ARC files read back.

:class:`WarcRecorder` is the fetcher's :class:`~crawler.net.fetcher.Recorder` for ``scan --record``
and ``govmon record``. Each exchange becomes a ``request`` record and a ``response`` record
(``WARC-Concurrent-To`` the request), after a ``warcinfo`` record naming govmon and its
version; each record is one gzip member, written and flushed as a whole, so a scan killed at any
moment leaves a file that reads up to the last complete record. The fetcher hands over bodies
already decoded and perhaps cut at its cap, so the recorded headers say so honestly:
``Content-Encoding`` (of a coding the fetcher removed) and ``Transfer-Encoding`` are dropped,
``Content-Length`` is the length of the body recorded, and a cut body carries
``X-Govmon-Truncated: true`` (and the record ``WARC-Truncated: length``). Header values are
written byte for byte as the server sent them. A request that got no usable response (``dns``,
``connect``, ``tls``, ``timeout`` ...) becomes a ``metadata`` record for its URL whose block, of
type :data:`FAILURE_TYPE`, holds the method, the fetcher's reason and its detail as JSON, so
that ``govmon replay`` can fail it the same way (other tools skip such records).

:func:`read_exchanges` reads such files, and WARC and ARC files of other tools, as
:class:`RecordedResponse` values: chunked bodies de-chunked, gzip/deflate bodies decoded, the
headers made honest the same way. Damaged files are read as far as they go, with a warning: a
gzip file that is not one member per record is read again as a single stream; a record cut short
ends the file (in a gzip file it is dropped, in an uncompressed one its response is kept, marked
truncated); a record that cannot be parsed ends it too. Only a file that is not a WARC or ARC
file at all (its first line is neither ``WARC/1.x`` nor an ARC header line) or cannot be opened
raises :class:`WarcError`. :func:`index_records` reads the same, with the failures, as places
(file and offset) rather than bodies, and :func:`read_response_at` reads one place again.

Every layout is read on demand. A record of a plain file, or of a gzip file of one member per
record, is read again by seeking to its offset. A gzip file compressed as one stream cannot be
entered in the middle: while it is indexed, the state of the decompressor is kept every
:data:`CHECKPOINT_EVERY` bytes of output (:class:`StreamIndex`, at most
:data:`MAX_CHECKPOINTS` of them, ~40 KB each), and a record is read again by decompressing from
the nearest checkpoint before it. Memory stays that of one record (at most :data:`MAX_BLOCK`),
however many records the file holds.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import io
import json
import os
import threading
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import structlog
from warcio.archiveiterator import ArchiveIterator  # type: ignore[import-untyped]
from warcio.statusandheaders import StatusAndHeaders  # type: ignore[import-untyped]
from warcio.warcwriter import WARCWriter  # type: ignore[import-untyped]

from crawler import __version__
from crawler.net.fetcher import Exchange, Failure
from crawler.net.urls import canonicalize

log = structlog.get_logger("govmon.warc")

SOFTWARE: Final = f"govmon/{__version__}"
TRUNCATED_HEADER: Final = "X-Govmon-Truncated"
# the block of a ``metadata`` record noting a request that failed (dns, connect, timeout ...)
FAILURE_TYPE: Final = "application/vnd.govmon.failure+json"
MAX_BLOCK: Final = 64 * 1024 * 1024  # what is read of one record of a foreign file
CHECKPOINT_EVERY: Final = 16 * 1024 * 1024  # bytes of a one-stream gzip file between checkpoints
MAX_CHECKPOINTS: Final = 256  # past this, every other one goes (and the spacing doubles)
_INFLATE_CHUNK: Final = 1024 * 1024  # what one call may inflate (a gzip bomb stays capped)
# codings the fetcher (aiohttp) removes from a body; any other coding stays on body and header
_DECODED_CODINGS: Final = frozenset({"gzip", "x-gzip", "deflate", "br", "zstd"})
_GZIP_MAGIC: Final = b"\x1f\x8b"

Headers = tuple[tuple[str, str], ...]


class WarcError(Exception):
    """A file that cannot be read as a WARC/ARC file at all, or a recording that failed."""


@dataclass(frozen=True, slots=True)
class RecordedResponse:
    """One recorded response, as a client would have read it.

    ``url`` is the canonical target URL. ``headers`` are latin-1 strings of the bytes the server
    sent, made honest about the body held here: no ``Transfer-Encoding``, no ``Content-Encoding``
    of a removed coding, ``Content-Length`` the length of ``body`` (a response to HEAD, or a 204
    or 304, keeps the length the server declared), ``X-Govmon-Truncated: true`` when the body is
    incomplete. ``body`` is the entity body, decoded. ``method`` is the request's, ``GET`` when the
    file holds no request record for it.
    """

    method: str
    url: str
    status: int
    reason: str
    headers: Headers
    body: bytes
    truncated: bool
    at: dt.datetime | None
    request_headers: Headers = ()
    source: str = ""
    request_digest: str = ""  # of the request's body (a POST's form), see :func:`body_digest`

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), if any."""
        lower = name.lower()
        for key, value in self.headers:
            if key.lower() == lower:
                return value
        return None


@dataclass(frozen=True, slots=True)
class RecordedFailure:
    """One recorded failure: ``method url`` got no usable response, for ``error`` (the
    fetcher's reason: ``dns``, ``connect``, ``tls``, ``timeout`` ...) with ``detail``;
    ``status``, ``content_type`` and ``retry_after`` are what the fetch had reached (see
    :class:`crawler.net.fetcher.Failure`). ``url`` is canonical."""

    method: str
    url: str
    error: str
    detail: str
    status: int | None
    content_type: str
    retry_after: str | None
    at: dt.datetime | None
    source: str = ""

    def to_json(self) -> str:
        """The failure as JSON (ASCII), as a recording holds it and ``govmon replay`` answers
        it (:data:`crawler.net.fetcher.FAILURE_HEADER`)."""
        return _failure_json(
            self.method, self.error, self.detail, self.status, self.content_type, self.retry_after
        )


def _failure_json(
    method: str,
    error: str,
    detail: str,
    status: int | None,
    content_type: str,
    retry_after: str | None,
) -> str:
    data = {
        "method": method,
        "error": error,
        "detail": detail,
        "status": status,
        "content_type": content_type,
        "retry_after": retry_after,
    }
    return json.dumps(data)


# -- writing ---------------------------------------------------------------------------------


class _WireHeaders(StatusAndHeaders):  # type: ignore[misc]  # warcio is untyped
    """HTTP headers written byte for byte: warcio percent-encodes non-ASCII values, but a
    recording must keep the bytes the server sent (latin-1 strings, as the fetcher gives them)."""

    def compute_headers_buffer(self, header_filter: object = None) -> None:
        lines = [_header_bytes(f"{self.protocol} {self.statusline}".rstrip())]
        lines.extend(_header_bytes(f"{name}: {value}") for name, value in self.headers)
        self.headers_buff = b"\r\n".join(lines) + b"\r\n\r\n"


def _header_bytes(text: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:  # not from the wire (latin-1 of bytes): send it as UTF-8
        return text.encode("utf-8", "surrogateescape")


class _Sink:
    """Where warcio writes one record; the recorder takes the bytes and compresses them."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        return None

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def honest_headers(
    headers: Sequence[tuple[str, str]],
    *,
    body_length: int,
    truncated: bool,
    bodyless: bool,
    decoded: bool = True,
    dechunked: bool = True,
) -> list[tuple[str, str]]:
    """``headers`` rewritten to describe a body that is decoded, de-chunked and perhaps cut.

    ``bodyless``: the response has no body by nature (HEAD, 204, 304, 1xx): its declared
    ``Content-Length`` stays unless a coding was removed (it then described the coded form).
    ``decoded``/``dechunked``: whether a ``Content-Encoding``/``Transfer-Encoding`` was removed
    from the body (a coding that was not removed stays named).
    """
    out: list[tuple[str, str]] = []
    removed_coding = False
    declared: str | None = None
    for name, value in headers:
        lower = name.lower()
        if lower == "content-encoding" and decoded:
            coding = value.strip().lower()
            if coding in _DECODED_CODINGS or coding in ("", "identity"):
                removed_coding = removed_coding or coding not in ("", "identity")
                continue
        elif lower == "transfer-encoding" and dechunked:
            continue
        elif lower == "content-length":
            if declared is None:
                declared = value
            continue
        elif lower == TRUNCATED_HEADER.lower():
            continue
        out.append((name, value))
    if not bodyless:
        out.append(("Content-Length", str(body_length)))
    elif declared is not None and not removed_coding:
        out.append(("Content-Length", declared))
    if truncated:
        out.append((TRUNCATED_HEADER, "true"))
    return out


def _bodyless(method: str, status: int) -> bool:
    return method.upper() == "HEAD" or status in (204, 304) or 100 <= status < 200


def warc_date(at: dt.datetime) -> str:
    """``at`` as a WARC-Date (UTC, microseconds)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _request_target(url: str) -> str:
    """The origin-form request target (path and query) of an absolute URL."""
    rest = url.split("://", 1)[-1]
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=-1)
    if cut < 0:
        return "/"
    target = rest[cut:].split("#", 1)[0]
    return target if target.startswith("/") else "/" + target


class WarcRecorder:
    """Writes every exchange to a gzip-compressed WARC file (one gzip member per record).

    Thread-safe. Each exchange is written and flushed to the operating system as a whole before
    :meth:`record` returns (no fsync per record: a killed process loses nothing, a power cut may;
    :meth:`close` fsyncs). ``append``: continue an existing recording (``scan --resume``),
    cutting off a record a killed process left half-written. ``info``: more ``warcinfo`` fields.
    ``compress_level``: zlib's; 3 costs about 70 µs less per 9 KB page than 6, for ~10 % more.
    A write failure (disk full) stops the recording without disturbing the scan; :meth:`close`
    then raises :class:`WarcError`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        append: bool = False,
        compress_level: int = 3,
        warc_version: str = "1.1",
        info: Mapping[str, str] | None = None,
    ) -> None:
        self.path = Path(path)
        self.records = 0  # exchanges written
        self.failures = 0  # failed requests written
        self.error: OSError | None = None
        self._level = compress_level
        self._lock = threading.Lock()
        self._closed = False
        self._sink = _Sink()
        self._writer: Any = WARCWriter(self._sink, gzip=False, warc_version=warc_version)
        try:
            # unbuffered: every record goes to the operating system in one write
            if append and self.path.exists():
                _cut_partial_tail(self.path)
                self._fh: io.RawIOBase = io.FileIO(self.path, "ab")
            else:
                self._fh = io.FileIO(self.path, "wb")
        except OSError as exc:
            raise WarcError(f"{self.path}: cannot write the recording: {exc.strerror}") from exc
        fields = {
            "software": SOFTWARE,
            "format": f"WARC File Format {warc_version.removeprefix('WARC/')}",
            "description": "a govmon scan: every request and response",
        }
        fields.update(info or {})
        record = self._writer.create_warcinfo_record(self.path.name, fields)
        self._write(self._serialize(record))

    def record(self, exchange: Exchange) -> None:
        """Append one exchange: a request record, then its response record."""
        with self._lock:
            if self._closed or self.error is not None:
                return
            date = warc_date(exchange.at)
            request = self._request_record(exchange, date)
            request_id = request.rec_headers.get_header("WARC-Record-ID")
            response = self._response_record(exchange, date, request_id)
            # the request first: a file cut between the two holds no response without its method
            data = self._serialize(request) + self._serialize(response)
            self._write(data)
            if self.error is None:
                self.records += 1

    def record_failure(self, failure: Failure) -> None:
        """Append one failed request: a ``metadata`` record for its URL whose block
        (:data:`FAILURE_TYPE`) holds the method, the reason and its detail, so that a replay
        can fail the same way."""
        with self._lock:
            if self._closed or self.error is not None:
                return
            data = _failure_json(
                failure.method.upper(),
                failure.error,
                failure.detail,
                failure.status,
                failure.content_type,
                failure.retry_after,
            ).encode("ascii")
            record = self._writer.create_warc_record(
                failure.url,
                "metadata",
                payload=io.BytesIO(data),
                length=len(data),
                warc_content_type=FAILURE_TYPE,
                warc_headers_dict={"WARC-Date": warc_date(failure.at)},
            )
            self._write(self._serialize(record))
            if self.error is None:
                self.failures += 1

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                os.fsync(self._fh.fileno())
            except OSError as exc:
                if self.error is None and exc.errno != errno.EINVAL:  # EINVAL: not a file
                    self.error = exc
            finally:
                self._fh.close()
        if self.error is not None:
            raise WarcError(
                f"{self.path}: the recording stopped after {self.records} exchanges: {self.error}"
            )

    def __enter__(self) -> WarcRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals (under the lock) --

    def _response_record(self, exchange: Exchange, date: str, request_id: str) -> Any:
        headers = honest_headers(
            exchange.response_headers,
            body_length=len(exchange.body),
            truncated=exchange.truncated,
            bodyless=_bodyless(exchange.method, exchange.status),
        )
        status = f"{exchange.status} {exchange.reason}".rstrip()
        warc_headers = {"WARC-Date": date, "WARC-Concurrent-To": request_id}
        if exchange.truncated:
            warc_headers["WARC-Truncated"] = "length"
        return self._writer.create_warc_record(
            exchange.url,
            "response",
            payload=io.BytesIO(exchange.body),
            length=len(exchange.body),
            warc_headers_dict=warc_headers,
            http_headers=_WireHeaders(status, headers, protocol="HTTP/1.1"),
        )

    def _request_record(self, exchange: Exchange, date: str) -> Any:
        line = f"{_request_target(exchange.url)} HTTP/1.1"
        headers = _WireHeaders(line, list(exchange.request_headers), protocol=exchange.method)
        return self._writer.create_warc_record(
            exchange.url,
            "request",
            payload=io.BytesIO(exchange.request_body),
            length=len(exchange.request_body),
            warc_headers_dict={"WARC-Date": date},
            http_headers=headers,
        )

    def _serialize(self, record: Any) -> bytes:
        self._writer.write_record(record)
        raw = self._sink.take()
        compressor = zlib.compressobj(self._level, zlib.DEFLATED, 31)  # one gzip member
        return compressor.compress(raw) + compressor.flush()

    def _write(self, data: bytes) -> None:
        try:
            view = memoryview(data)
            while view:
                written = self._fh.write(view)
                if not written:
                    raise OSError(errno.EIO, "the file took no bytes")
                view = view[written:]
        except OSError as exc:
            self.error = exc
            log.error("recording stopped", path=str(self.path), error=str(exc))


def _cut_partial_tail(path: Path) -> None:
    """Truncate a recording after its last complete gzip member (what a killed writer left
    half-written); refuse a file that is not a gzip-compressed WARC or is damaged before its end.
    """
    with path.open("r+b") as fh:
        head = fh.read(65536)
        if not head:
            return
        if not head.startswith(_GZIP_MAGIC) or not _looks_like_archive(head):
            raise WarcError(f"{path}: not a gzip-compressed WARC file; not appending to it")
        fh.seek(0)
        end = position = 0
        decompressor = zlib.decompressobj(31)
        while chunk := fh.read(1 << 20):
            while chunk:
                try:
                    decompressor.decompress(chunk)
                except zlib.error as exc:
                    raise WarcError(
                        f"{path}: damaged at byte {position}; not appending to it ({exc})"
                    ) from exc
                if not decompressor.eof:
                    position += len(chunk)
                    break
                position += len(chunk) - len(decompressor.unused_data)
                end = position
                chunk = decompressor.unused_data
                decompressor = zlib.decompressobj(31)
        if end < position:
            log.warning("recording: cutting a half-written record", path=str(path), at=end)
            fh.truncate(end)


# -- reading ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Block:
    """One record as framed by warcio: its type, WARC headers, and block bytes."""

    rec_type: str
    warc: Any  # warcio StatusAndHeaders of the WARC (or ARC-converted) header
    data: bytes
    complete: bool  # false: the file ends inside the record
    capped: bool = False  # only the first MAX_BLOCK bytes were read
    offset: int | None = None  # where the record begins in its file, when it can be read there
    stream: StreamIndex | None = None  # set: ``offset`` is in the decompressed stream


@dataclass(slots=True)
class _Http:
    """A parsed HTTP message head and its raw body."""

    first: tuple[str, ...]
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def read_exchanges(
    paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str],
) -> Iterator[RecordedResponse]:
    """The responses recorded in WARC/ARC files (gzip-compressed or not), file after file,
    in file order.

    Raises :class:`WarcError` for a file that cannot be opened or is not a WARC/ARC file at all
    (nothing in it parses); a damaged file yields what precedes the damage, with a warning.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    for path in paths:
        for item in _read_file(Path(path)):
            if isinstance(item, tuple):
                yield item[0].finish(item[1])


@dataclass(frozen=True, slots=True)
class Located:
    """Where a recorded response is: :func:`read_response_at` reads it again from there."""

    path: str
    offset: int
    method: str
    url: str
    stream: StreamIndex | None = None  # a gzip file of one stream: ``offset`` is in its output
    request_digest: str = ""


def body_digest(body: bytes) -> str:
    """What tells two requests to one URL apart by their bodies (two POSTs of different forms
    to ``dataproxy.jsp``): empty for no body."""
    return hashlib.sha1(body).hexdigest()[:16] if body else ""


def index_records(
    paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str],
) -> Iterator[Located | RecordedResponse | RecordedFailure]:
    """What :func:`read_exchanges` reads, and the recorded failures, in file order, without
    holding on to bodies: a response comes as its :class:`Located` place (in every layout; in
    a gzip file compressed as one stream, a place in its output, read again through its
    :class:`StreamIndex`). :func:`read_response_at` on a place gives what
    :func:`read_exchanges` gives for it, byte for byte (except ``request_headers`` and
    ``request_digest``: the request is not read there).

    Raises :class:`WarcError` like :func:`read_exchanges`.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    for path in paths:
        source = Path(path)
        for item in _read_file(source, bodies=False):
            if not isinstance(item, tuple):
                yield item
                continue
            response, request = item
            if response.offset is None:
                yield response.finish(request)
            else:
                method = request.method if request is not None else "GET"
                digest = body_digest(request.body) if request is not None else ""
                yield Located(
                    str(source), response.offset, method, response.url, response.stream, digest
                )


def read_response_at(
    path: str | os.PathLike[str],
    offset: int,
    method: str = "GET",
    stream: StreamIndex | None = None,
) -> RecordedResponse:
    """The response recorded at ``offset`` of ``path`` (a :class:`Located` place, with its
    ``stream`` for a gzip file of one stream), as the answer to ``method``. Raises
    :class:`WarcError` when there is no such record any more."""
    place = Path(path)
    try:
        fh = place.open("rb")
    except OSError as exc:
        raise WarcError(f"{place}: cannot open: {exc.strerror or exc}") from exc
    try:
        with fh:
            if stream is None:
                fh.seek(offset)
                block = next(_frame(fh, seekable=True), None)
            else:
                inflated = _Inflated(fh, stream.start_for(offset))
                inflated.skip_to(offset)
                block = next(_frame(inflated), None)
    except Exception as exc:  # warcio raises many kinds on malformed input
        raise WarcError(f"{place}: no record at offset {offset}: {_short(exc)}") from exc
    parsed = None
    if block is not None and block.rec_type in ("response", "resource"):
        parsed = _parse_response(block, str(place))
    if parsed is None:
        raise WarcError(f"{place}: no response record at offset {offset} (file changed?)")
    return parsed.finish(_Request(parsed.url, method.upper(), []))


_Item = tuple["_Response", "_Request | None"] | RecordedFailure


def _read_file(path: Path, *, bodies: bool = True) -> Iterator[_Item]:
    """The responses of ``path`` (each with its request, when the file has it) and the recorded
    failures, in file order; without ``bodies``, a response that can be read again at its
    offset comes without its body (an index holds no more than a record at a time)."""
    source = str(path)
    pending: tuple[_Response, str, tuple[str, ...]] | None = None  # response, its id, links
    previous: tuple[_Request, str, tuple[str, ...]] | None = None  # request, its id, links
    for block in _blocks_of(path):
        kind = block.rec_type
        record_id = str(block.warc.get_header("WARC-Record-ID") or "")
        links = _concurrent(block.warc)
        if kind == "request":
            request = _parse_request(block)
            if request is None:
                continue
            if pending is not None:
                response, response_id, response_links = pending
                pending = None
                if _paired(response, response_id, response_links, request, record_id, links):
                    yield response, request
                    continue
                yield response, None
            previous = (request, record_id, links)
            continue
        if kind == "metadata":
            failure = _parse_failure(block, source)
            if failure is not None:
                yield failure
            continue
        if kind not in ("response", "resource"):
            continue  # warcinfo, revisit, conversion ...
        if pending is not None:
            yield pending[0], None
            pending = None
        parsed = _parse_response(block, source)
        if parsed is None:
            previous = None
            continue
        if not bodies and parsed.offset is not None:
            parsed.body = b""
        if previous is not None and _paired(parsed, record_id, links, *previous):
            yield parsed, previous[0]
        else:
            pending = (parsed, record_id, links)
        previous = None
    if pending is not None:
        yield pending[0], None


@dataclass(slots=True)
class _Request:
    url: str
    method: str
    headers: list[tuple[str, str]]
    body: bytes = b""


@dataclass(slots=True)
class _Response:
    """A parsed response record, finished into a :class:`RecordedResponse` once its request
    (and so its method) is known."""

    url: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    truncated: bool
    at: dt.datetime | None
    source: str
    decoded: bool = True
    dechunked: bool = True
    offset: int | None = None  # of its record in the file (None: cannot be read there again)
    stream: StreamIndex | None = None  # set: ``offset`` is in the file's decompressed stream

    def finish(self, request: _Request | None) -> RecordedResponse:
        method = request.method if request is not None else "GET"
        head = method == "HEAD"
        body = b"" if head else self.body
        truncated = self.truncated and not head
        headers = honest_headers(
            self.headers,
            body_length=len(body),
            truncated=truncated,
            bodyless=_bodyless(method, self.status),
            decoded=self.decoded,
            dechunked=self.dechunked,
        )
        return RecordedResponse(
            method=method,
            url=self.url,
            status=self.status,
            reason=self.reason,
            headers=tuple(headers),
            body=body,
            truncated=truncated,
            at=self.at,
            request_headers=tuple(request.headers) if request is not None else (),
            request_digest=body_digest(request.body) if request is not None else "",
            source=self.source,
        )


def _concurrent(warc: Any) -> tuple[str, ...]:
    return tuple(str(value) for name, value in warc.headers if name.lower() == "warc-concurrent-to")


def _paired(
    response: _Response,
    response_id: str,
    response_links: tuple[str, ...],
    request: _Request,
    request_id: str,
    request_links: tuple[str, ...],
) -> bool:
    """Whether a request record belongs to a response record next to it."""
    if (response_id and response_id in request_links) or (
        request_id and request_id in response_links
    ):
        return True
    if response_links or request_links:
        return False
    return request.url == response.url


def _canonical(uri: str) -> str:
    return canonicalize(uri) or uri


def _parse_date(text: object) -> dt.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        at = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def _parse_response(block: _Block, source: str) -> _Response | None:
    uri = str(block.warc.get_header("WARC-Target-URI") or "")
    if not uri.lower().startswith(("http://", "https://")):
        return None  # dns:, file:, metadata: ...
    url = _canonical(uri)
    at = _parse_date(block.warc.get_header("WARC-Date"))
    cut = block.capped or not block.complete or bool(block.warc.get_header("WARC-Truncated"))
    if block.rec_type == "resource":  # the content itself, no HTTP head: served as a 200
        content_type = str(block.warc.get_header("Content-Type") or "application/octet-stream")
        return _Response(
            url,
            200,
            "OK",
            [("Content-Type", content_type)],
            block.data,
            cut,
            at,
            source,
            offset=block.offset,
            stream=block.stream,
        )
    message = _parse_http(block.data, block.complete)
    if message is None or len(message.first) < 2 or not message.first[0].startswith("HTTP/"):
        return None
    try:
        status = int(message.first[1])
    except ValueError:
        return None
    if not 100 <= status <= 999:
        return None
    reason = message.first[2] if len(message.first) > 2 else ""
    body, dechunked, decoded, complete = _decode_body(message.headers, message.body)
    truncated = cut or not complete or _has_truncated_header(message.headers)
    return _Response(
        url,
        status,
        reason,
        message.headers,
        body,
        truncated,
        at,
        source,
        decoded,
        dechunked,
        block.offset,
        block.stream,
    )


def _parse_failure(block: _Block, source: str) -> RecordedFailure | None:
    """A ``metadata`` record of :data:`FAILURE_TYPE` (``None`` for any other metadata)."""
    content_type = str(block.warc.get_header("Content-Type") or "")
    if content_type.split(";", 1)[0].strip().lower() != FAILURE_TYPE:
        return None
    uri = str(block.warc.get_header("WARC-Target-URI") or "")
    if not uri.lower().startswith(("http://", "https://")) or not block.complete:
        return None
    try:
        data = json.loads(block.data)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("error"), str):
        return None
    status = data.get("status")
    retry_after = data.get("retry_after")
    return RecordedFailure(
        method=str(data.get("method") or "GET").upper(),
        url=_canonical(uri),
        error=data["error"],
        detail=str(data.get("detail") or ""),
        status=status if isinstance(status, int) and not isinstance(status, bool) else None,
        content_type=str(data.get("content_type") or ""),
        retry_after=retry_after if isinstance(retry_after, str) else None,
        at=_parse_date(block.warc.get_header("WARC-Date")),
        source=source,
    )


def _has_truncated_header(headers: list[tuple[str, str]]) -> bool:
    return any(k.lower() == TRUNCATED_HEADER.lower() for k, _ in headers)


def _parse_request(block: _Block) -> _Request | None:
    message = _parse_http(block.data, True)
    if message is None or not message.first or not message.first[0]:
        return None
    uri = str(block.warc.get_header("WARC-Target-URI") or "")
    headers = [(k, _utf8_or_latin1(v)) for k, v in message.headers]
    return _Request(_canonical(uri), message.first[0].upper(), headers, message.body)


def _utf8_or_latin1(value: str) -> str:
    raw = value.encode("latin-1")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return value


def _parse_http(data: bytes, complete: bool) -> _Http | None:
    """Split an HTTP message into first line, headers (latin-1) and body; ``None`` when the
    head is cut off."""
    ends = [(i, n) for i, n in ((data.find(b"\r\n\r\n"), 4), (data.find(b"\n\n"), 2)) if i >= 0]
    if ends:
        index, size = min(ends)
        head, body = data[:index], data[index + size :]
    elif complete:
        head, body = data, b""
    else:
        return None
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    first = tuple(lines[0].decode("latin-1").strip().split(None, 2))
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        text = line.decode("latin-1")
        if text[:1] in (" ", "\t") and headers:  # obsolete line folding
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {text.strip()}")
            continue
        name, sep, value = text.partition(":")
        if sep and name.strip():
            headers.append((name.strip(), value.strip()))
    return _Http(first, headers, body)


def _decode_body(headers: list[tuple[str, str]], body: bytes) -> tuple[bytes, bool, bool, bool]:
    """The entity body: de-chunked and decoded where the headers say so.

    Returns ``(body, dechunked, decoded, complete)``; a coding that fails to decode is left on
    the body (``decoded`` false, so its header stays); ``complete`` is false when the chunks or
    the compressed stream end early.
    """
    complete = True
    transfer = ",".join(v for k, v in headers if k.lower() == "transfer-encoding").lower()
    dechunked = "chunked" not in transfer
    if not dechunked:
        result = _dechunk(body)
        if result is not None:
            body, complete = result
            dechunked = True
    codings = [v.strip().lower() for k, v in headers if k.lower() == "content-encoding"]
    coding = codings[-1] if codings else ""
    decoded = True
    if coding in ("gzip", "x-gzip", "deflate"):
        inflated = _inflate(body, coding)
        if inflated is None:
            decoded = False
        else:
            body, finished = inflated
            complete = complete and finished
    elif coding and coding != "identity":
        decoded = False  # br, zstd, compress ...: kept as it is, and named
    return body, dechunked, decoded, complete


def _dechunk(data: bytes) -> tuple[bytes, bool] | None:
    """De-chunk ``data``; ``None`` if it does not start as chunked data. A damaged chunk stream
    keeps what was read, then the rest as it is (servers that say chunked and are not)."""
    out: list[bytes] = []
    pos = 0
    while True:
        eol = data.find(b"\n", pos)
        if eol < 0:
            if not out:
                return None
            return b"".join(out) + data[pos:], False
        size_text = data[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            if not out:
                return None
            return b"".join(out) + data[pos:], True
        if size == 0:
            return b"".join(out), True
        start = eol + 1
        chunk = data[start : start + size]
        out.append(chunk)
        if len(chunk) < size:
            return b"".join(out), False
        pos = start + size
        if data[pos : pos + 2] == b"\r\n":
            pos += 2
        elif data[pos : pos + 1] == b"\n":
            pos += 1


def _inflate(data: bytes, coding: str) -> tuple[bytes, bool] | None:
    """Decompress a gzip or deflate body: ``(body, finished)``, ``None`` if it is not."""
    modes = (47,) if coding != "deflate" else (15, -15)  # 47: gzip or zlib header
    for wbits in modes:
        decompressor = zlib.decompressobj(wbits)
        try:
            body = decompressor.decompress(data) + decompressor.flush()
        except zlib.error:
            continue
        return body, decompressor.eof
    return None


def _blocks_of(path: Path) -> Iterator[_Block]:
    """The records of ``path``, read as far as they can be."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise WarcError(f"{path}: cannot open: {exc.strerror or exc}") from exc
    with fh:
        start = fh.read(65536)
        fh.seek(0)
        compressed = start.startswith(_GZIP_MAGIC)
        if not _looks_like_archive(start):
            raise WarcError(f"{path}: not a WARC or ARC file (it begins {_first_line(start)!r})")
        done = 0
        problem = ""
        ends: list[int] = []
        try:
            for block in _frame(fh, ends, seekable=True):
                if not block.complete and compressed:
                    problem = f"record {done + 1} is cut short"
                    break  # perhaps a gzip that is not one member per record: read it whole
                yield block
                done += 1
                if not block.complete:
                    _warn_stop(path, done, "the last record is cut short (file truncated?)")
                    return
        except Exception as exc:  # warcio raises many kinds on malformed input
            problem = _short(exc)
        if not problem:
            fh.seek(ends[-1] if ends else 0)
            if not fh.read(65536).strip(b"\r\n"):
                return
            problem = f"bytes after record {done} that are not a record (file truncated?)"
        if not compressed:
            _warn_stop(path, done, problem)
            return
    yield from _blocks_as_stream(path, done, problem)


def _blocks_as_stream(path: Path, skip: int, problem: str) -> Iterator[_Block]:
    """Second reading of a damaged gzip file: decompressed as one stream (which reads a file
    compressed as a whole rather than per record), after the ``skip`` records already read.
    Each block's offset is in the decompressed stream, which its :class:`StreamIndex` can
    enter again."""
    index = 0
    stream = StreamIndex()
    try:
        with path.open("rb") as fh:
            inflated = _Inflated(fh, None, stream)
            for block in _frame(inflated, seekable=True):
                index += 1
                if index <= skip:
                    continue
                block.stream = stream
                yield block
                if not block.complete:
                    _warn_stop(path, index, "the last record is cut short (file truncated?)")
                    return
    except Exception as exc:  # a truncated gzip stream, or warcio on malformed input
        _warn_stop(path, max(index - 1, skip), _short(exc))
        return
    log.warning(
        "recording read as a single gzip stream",
        path=str(path),
        records=index,
        reason=problem,
    )


@dataclass(frozen=True, slots=True)
class _Checkpoint:
    """Where inflating a one-stream gzip file can start again: the decompressor's state after
    ``output`` bytes, the file position of the input that follows, and the input the
    decompressor had not taken yet."""

    output: int
    position: int
    pending: bytes
    decompressor: Any  # zlib.Decompress (copied again for each use)


class StreamIndex:
    """Checkpoints of a gzip file compressed as one stream (or any layout read as a stream),
    taken while it is read once: a place in its output can be reached again by inflating from
    the nearest one before it, at most :data:`CHECKPOINT_EVERY` bytes (doubled each time the
    count passes :data:`MAX_CHECKPOINTS`)."""

    def __init__(self) -> None:
        self.checkpoints: list[_Checkpoint] = []
        self.every = CHECKPOINT_EVERY
        self._lock = threading.Lock()

    def add(self, checkpoint: _Checkpoint) -> None:
        with self._lock:
            last = self.checkpoints[-1].output if self.checkpoints else 0
            if checkpoint.output - last < self.every:
                return
            self.checkpoints.append(checkpoint)
            if len(self.checkpoints) > MAX_CHECKPOINTS:
                self.checkpoints = self.checkpoints[1::2]
                self.every *= 2

    def start_for(self, offset: int) -> _Checkpoint | None:
        """The last checkpoint at or before ``offset`` (``None``: the file's start)."""
        with self._lock:
            found = None
            for checkpoint in self.checkpoints:
                if checkpoint.output > offset:
                    break
                found = checkpoint
            return found


class _Inflated:
    """The decompressed bytes of a gzip file (its members one after the other), as a stream
    for warcio: from the start, or from a checkpoint; ``index`` gets checkpoints on the way.
    A stream cut short or damaged raises ``EOFError`` where it ends (as :mod:`gzip` does)."""

    def __init__(
        self, fh: Any, start: _Checkpoint | None, index: StreamIndex | None = None
    ) -> None:
        self._fh = fh
        self._index = index
        if start is None:
            fh.seek(0)
            self._decompressor: Any = zlib.decompressobj(31)
            self._pending = b""
            self._output = 0
        else:
            fh.seek(start.position)
            self._decompressor = start.decompressor.copy()
            self._pending = start.pending
            self._output = start.output
        self._buffer = b""  # the piece being read, from ``_at``
        self._at = 0
        self._told = self._output  # the position in the output of what ``read`` gives next
        self._done = False
        self._started = start is not None  # inside a member (a checkpoint always is)

    def tell(self) -> int:
        return self._told

    def _inflate(self) -> bytes:
        """The next piece of output (``b""`` at the end of the stream)."""
        while not self._done:
            d = self._decompressor
            if d.eof:  # the next member, if any (anything else ends the stream)
                self._pending = d.unused_data + self._pending
                self._decompressor = d = zlib.decompressobj(31)
                self._started = False
            data = self._pending or self._fh.read(65536)
            if not data:
                self._done = True
                if self._started:  # the file ends inside a member: cut short
                    raise EOFError("the compressed stream ends before its end marker")
                break
            self._started = True
            try:
                out = d.decompress(data, _INFLATE_CHUNK)
            except zlib.error as exc:  # damaged from here on (what precedes it is read)
                self._done = True
                raise EOFError(f"damaged compressed stream: {exc}") from None
            self._pending = d.unconsumed_tail
            self._output += len(out)
            if self._index is not None and out and not d.eof:
                self._index.add(_Checkpoint(self._output, self._fh.tell(), self._pending, d.copy()))
            if out:
                return bytes(out)
        return b""

    def read(self, size: int = -1) -> bytes:
        parts: list[bytes] = []
        want = size
        while want != 0:
            if self._at >= len(self._buffer):
                self._buffer, self._at = self._inflate(), 0
                if not self._buffer:
                    break
            left = len(self._buffer) - self._at
            take = left if want < 0 else min(want, left)
            parts.append(self._buffer[self._at : self._at + take])
            self._at += take
            if want > 0:
                want -= take
        data = b"".join(parts)
        self._told += len(data)
        return data

    def skip_to(self, offset: int) -> None:
        """Read and drop everything before ``offset`` of the output."""
        while self._told < offset:
            if not self.read(min(offset - self._told, _INFLATE_CHUNK)):
                raise WarcError(f"the stream ends before offset {offset}")


def _frame(
    stream: Any, ends: list[int] | None = None, *, seekable: bool = False
) -> Iterator[_Block]:
    """The records of ``stream``; ``ends`` gets the offset after each record read;
    ``seekable``: the stream is the file itself, so each block gets its record's offset."""
    iterator = ArchiveIterator(stream, no_record_parse=True, arc2warc=True)
    for record in iterator:
        length = None if record.length is None else int(record.length)
        data = bytes(record.raw_stream.read(MAX_BLOCK))
        capped = length is not None and length > MAX_BLOCK == len(data)
        complete = length is not None and (len(data) >= length or capped)
        # reads the rest of the record: in a gzip file, its whole member
        start = int(iterator.get_record_offset())
        end = start + int(iterator.get_record_length())
        decompressor = getattr(getattr(iterator, "reader", None), "decompressor", None)
        if decompressor is not None and not getattr(decompressor, "eof", True):
            complete = False  # the gzip member ends early: even the WARC header may be cut
        if ends is not None:
            ends.append(end)
        offset = start if seekable else None
        yield _Block(str(record.rec_type), record.rec_headers, data, complete, capped, offset)


def _first_line(start: bytes) -> bytes | None:
    """The first non-blank line of a file's first bytes, decompressed if gzip (``None``: a
    gzip whose first member is damaged)."""
    if start.startswith(_GZIP_MAGIC):
        try:
            start = zlib.decompressobj(31).decompress(start)
        except zlib.error:
            return None
    return start.lstrip(b"\r\n").split(b"\n", 1)[0][:200]


def _looks_like_archive(start: bytes) -> bool:
    """Whether a file beginning with ``start`` may be a WARC (``WARC/1.x``) or ARC file (a
    header line ``URL IP DATE TYPE LENGTH``): empty, or a damaged gzip, counts as one."""
    line = _first_line(start)
    if line is None or (start and _GZIP_MAGIC.startswith(start)):
        return True
    line = line.rstrip(b"\r")
    if not line.strip() or line.startswith(b"WARC/"):
        return True
    parts = line.rsplit(b" ", 4)
    return (
        len(parts) == 5
        and (b"://" in parts[0] or parts[0].startswith((b"filedesc:", b"dns:")))
        and parts[2].isdigit()
        and 8 <= len(parts[2]) <= 14
        and parts[4].lstrip(b"-").isdigit()
    )


def _warn_stop(path: Path, records: int, reason: str) -> None:
    log.warning(
        "recording damaged: read up to here", path=str(path), records=records, reason=reason
    )


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:300]
