"""Recording: every exchange of a scan written to a gzip-compressed WARC file.

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
type :data:`~crawler.recordings.model.FAILURE_TYPE`, holds the method, the fetcher's reason and
its detail as JSON, so that ``govmon replay`` can fail it the same way (other tools skip such
records).
"""

from __future__ import annotations

import datetime as dt
import errno
import io
import os
import threading
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import structlog
from warcio.statusandheaders import StatusAndHeaders  # type: ignore[import-untyped]
from warcio.warcwriter import WARCWriter  # type: ignore[import-untyped]

from crawler import __version__
from crawler.net.fetcher import Exchange, Failure
from crawler.recordings.framing import GZIP_MAGIC, looks_like_archive
from crawler.recordings.model import (
    FAILURE_TYPE,
    WarcError,
    bodyless,
    failure_json,
    honest_headers,
)

log = structlog.get_logger("govmon.warc")

SOFTWARE: Final = f"govmon/{__version__}"


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
            data = failure_json(
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
            bodyless=bodyless(exchange.method, exchange.status),
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
        if not head.startswith(GZIP_MAGIC) or not looks_like_archive(head):
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
