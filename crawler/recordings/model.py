"""The exchange model of a recording: what a recorded response or failure is, as read back.

:class:`RecordedResponse` is a response as a client would have read it (body decoded, headers
made honest about that body by :func:`honest_headers`); :class:`RecordedFailure` a request that
got no usable response. Both the writer (:mod:`crawler.recordings.writer`) and the reader
(:mod:`crawler.recordings.reader`) speak in these terms.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

TRUNCATED_HEADER: Final = "X-Govmon-Truncated"
# the block of a ``metadata`` record noting a request that failed (dns, connect, timeout ...)
FAILURE_TYPE: Final = "application/vnd.govmon.failure+json"

# codings the fetcher (aiohttp) removes from a body; any other coding stays on body and header
_DECODED_CODINGS: Final = frozenset({"gzip", "x-gzip", "deflate", "br", "zstd"})

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
        return failure_json(
            self.method, self.error, self.detail, self.status, self.content_type, self.retry_after
        )


def failure_json(
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


def bodyless(method: str, status: int) -> bool:
    return method.upper() == "HEAD" or status in (204, 304) or 100 <= status < 200


def body_digest(body: bytes) -> str:
    """What tells two requests to one URL apart by their bodies (two POSTs of different forms
    to ``dataproxy.jsp``): empty for no body."""
    return hashlib.sha1(body).hexdigest()[:16] if body else ""
