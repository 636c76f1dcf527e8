"""The HTTP messages inside records: request and response heads parsed, bodies de-chunked and
decoded, failures read from their ``metadata`` records.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from dataclasses import dataclass, field

from crawler.net.urls import canonicalize
from crawler.recordings.framing import Block
from crawler.recordings.model import (
    FAILURE_TYPE,
    TRUNCATED_HEADER,
    RecordedFailure,
    RecordedResponse,
    body_digest,
    bodyless,
    honest_headers,
)
from crawler.recordings.stream import StreamIndex


@dataclass(slots=True)
class _Http:
    """A parsed HTTP message head and its raw body."""

    first: tuple[str, ...]
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


@dataclass(slots=True)
class ParsedRequest:
    url: str
    method: str
    headers: list[tuple[str, str]]
    body: bytes = b""


@dataclass(slots=True)
class ParsedResponse:
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

    def finish(self, request: ParsedRequest | None) -> RecordedResponse:
        method = request.method if request is not None else "GET"
        head = method == "HEAD"
        body = b"" if head else self.body
        truncated = self.truncated and not head
        headers = honest_headers(
            self.headers,
            body_length=len(body),
            truncated=truncated,
            bodyless=bodyless(method, self.status),
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


def parse_response(block: Block, source: str) -> ParsedResponse | None:
    uri = str(block.warc.get_header("WARC-Target-URI") or "")
    if not uri.lower().startswith(("http://", "https://")):
        return None  # dns:, file:, metadata: ...
    url = _canonical(uri)
    at = _parse_date(block.warc.get_header("WARC-Date"))
    cut = block.capped or not block.complete or bool(block.warc.get_header("WARC-Truncated"))
    if block.rec_type == "resource":  # the content itself, no HTTP head: served as a 200
        content_type = str(block.warc.get_header("Content-Type") or "application/octet-stream")
        return ParsedResponse(
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
    return ParsedResponse(
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


def parse_failure(block: Block, source: str) -> RecordedFailure | None:
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


def parse_request(block: Block) -> ParsedRequest | None:
    message = _parse_http(block.data, True)
    if message is None or not message.first or not message.first[0]:
        return None
    uri = str(block.warc.get_header("WARC-Target-URI") or "")
    headers = [(k, _utf8_or_latin1(v)) for k, v in message.headers]
    return ParsedRequest(_canonical(uri), message.first[0].upper(), headers, message.body)


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
