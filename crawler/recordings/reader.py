"""Recordings read back: WARC and ARC files of govmon and of other tools.

:func:`read_exchanges` reads such files as :class:`~crawler.recordings.model.RecordedResponse`
values: chunked bodies de-chunked, gzip/deflate bodies decoded, the headers made honest the same
way as a recording writes them. Damaged files are read as far as they go, with a warning: a gzip
file that is not one member per record is read again as a single stream; a record cut short ends
the file (in a gzip file it is dropped, in an uncompressed one its response is kept, marked
truncated); a record that cannot be parsed ends it too. Only a file that is not a WARC or ARC
file at all (its first line is neither ``WARC/1.x`` nor an ARC header line) or cannot be opened
raises :class:`~crawler.recordings.model.WarcError`. :func:`index_records` reads the same, with
the failures, as places (file and offset) rather than bodies, and :func:`read_response_at` reads
one place again.

Every layout is read on demand. A record of a plain file, or of a gzip file of one member per
record, is read again by seeking to its offset. A gzip file compressed as one stream is entered
again through the checkpoints of its :class:`~crawler.recordings.stream.StreamIndex`. Memory stays
that of one record (at most :data:`~crawler.recordings.framing.MAX_BLOCK`), however many records
the file holds.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.recordings.framing import blocks_of, frame, short
from crawler.recordings.model import RecordedFailure, RecordedResponse, WarcError, body_digest
from crawler.recordings.parsing import (
    ParsedRequest,
    ParsedResponse,
    parse_failure,
    parse_request,
    parse_response,
)
from crawler.recordings.stream import Inflated, StreamIndex


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
                block = next(frame(fh, seekable=True), None)
            else:
                inflated = Inflated(fh, stream.start_for(offset))
                inflated.skip_to(offset)
                block = next(frame(inflated), None)
    except Exception as exc:  # warcio raises many kinds on malformed input
        raise WarcError(f"{place}: no record at offset {offset}: {short(exc)}") from exc
    parsed = None
    if block is not None and block.rec_type in ("response", "resource"):
        parsed = parse_response(block, str(place))
    if parsed is None:
        raise WarcError(f"{place}: no response record at offset {offset} (file changed?)")
    return parsed.finish(ParsedRequest(parsed.url, method.upper(), []))


_Item = tuple["ParsedResponse", "ParsedRequest | None"] | RecordedFailure


def _read_file(path: Path, *, bodies: bool = True) -> Iterator[_Item]:
    """The responses of ``path`` (each with its request, when the file has it) and the recorded
    failures, in file order; without ``bodies``, a response that can be read again at its
    offset comes without its body (an index holds no more than a record at a time)."""
    source = str(path)
    pending: tuple[ParsedResponse, str, tuple[str, ...]] | None = None  # response, its id, links
    previous: tuple[ParsedRequest, str, tuple[str, ...]] | None = None  # request, its id, links
    for block in blocks_of(path):
        kind = block.rec_type
        record_id = str(block.warc.get_header("WARC-Record-ID") or "")
        links = _concurrent(block.warc)
        if kind == "request":
            request = parse_request(block)
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
            failure = parse_failure(block, source)
            if failure is not None:
                yield failure
            continue
        if kind not in ("response", "resource"):
            continue  # warcinfo, revisit, conversion ...
        if pending is not None:
            yield pending[0], None
            pending = None
        parsed = parse_response(block, source)
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


def _concurrent(warc: Any) -> tuple[str, ...]:
    return tuple(str(value) for name, value in warc.headers if name.lower() == "warc-concurrent-to")


def _paired(
    response: ParsedResponse,
    response_id: str,
    response_links: tuple[str, ...],
    request: ParsedRequest,
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
