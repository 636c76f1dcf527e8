"""The records of a WARC or ARC file, as framed by warcio, read as far as they go.

:func:`blocks_of` reads a file record by record (each record's offset kept, so that it can be
read there again); a gzip file that is not one member per record is read again as a single
stream (offsets then in its output, through a :class:`~crawler.recordings.stream.StreamIndex`).
A damaged file ends where the damage begins, with a warning; only a file that is not a WARC or
ARC file at all (:func:`looks_like_archive`) or cannot be opened raises
:class:`~crawler.recordings.model.WarcError`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import structlog
from warcio.archiveiterator import ArchiveIterator  # type: ignore[import-untyped]

from crawler.recordings.model import WarcError
from crawler.recordings.stream import Inflated, StreamIndex

log = structlog.get_logger("govmon.warc")

MAX_BLOCK: Final = 64 * 1024 * 1024  # what is read of one record of a foreign file
GZIP_MAGIC: Final = b"\x1f\x8b"


@dataclass(slots=True)
class Block:
    """One record as framed by warcio: its type, WARC headers, and block bytes."""

    rec_type: str
    warc: Any  # warcio StatusAndHeaders of the WARC (or ARC-converted) header
    data: bytes
    complete: bool  # false: the file ends inside the record
    capped: bool = False  # only the first MAX_BLOCK bytes were read
    offset: int | None = None  # where the record begins in its file, when it can be read there
    stream: StreamIndex | None = None  # set: ``offset`` is in the decompressed stream


def blocks_of(path: Path) -> Iterator[Block]:
    """The records of ``path``, read as far as they can be."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise WarcError(f"{path}: cannot open: {exc.strerror or exc}") from exc
    with fh:
        start = fh.read(65536)
        fh.seek(0)
        compressed = start.startswith(GZIP_MAGIC)
        if not looks_like_archive(start):
            raise WarcError(f"{path}: not a WARC or ARC file (it begins {_first_line(start)!r})")
        done = 0
        problem = ""
        ends: list[int] = []
        try:
            for block in frame(fh, ends, seekable=True):
                if not block.complete and compressed:
                    problem = f"record {done + 1} is cut short"
                    break  # perhaps a gzip that is not one member per record: read it whole
                yield block
                done += 1
                if not block.complete:
                    _warn_stop(path, done, "the last record is cut short (file truncated?)")
                    return
        except Exception as exc:  # warcio raises many kinds on malformed input
            problem = short(exc)
        if not problem:
            fh.seek(ends[-1] if ends else 0)
            if not fh.read(65536).strip(b"\r\n"):
                return
            problem = f"bytes after record {done} that are not a record (file truncated?)"
        if not compressed:
            _warn_stop(path, done, problem)
            return
    yield from _blocks_as_stream(path, done, problem)


def _blocks_as_stream(path: Path, skip: int, problem: str) -> Iterator[Block]:
    """Second reading of a damaged gzip file: decompressed as one stream (which reads a file
    compressed as a whole rather than per record), after the ``skip`` records already read.
    Each block's offset is in the decompressed stream, which its :class:`StreamIndex` can
    enter again."""
    index = 0
    stream = StreamIndex()
    try:
        with path.open("rb") as fh:
            inflated = Inflated(fh, None, stream)
            for block in frame(inflated, seekable=True):
                index += 1
                if index <= skip:
                    continue
                block.stream = stream
                yield block
                if not block.complete:
                    _warn_stop(path, index, "the last record is cut short (file truncated?)")
                    return
    except Exception as exc:  # a truncated gzip stream, or warcio on malformed input
        _warn_stop(path, max(index - 1, skip), short(exc))
        return
    log.warning(
        "recording read as a single gzip stream",
        path=str(path),
        records=index,
        reason=problem,
    )


def frame(stream: Any, ends: list[int] | None = None, *, seekable: bool = False) -> Iterator[Block]:
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
        yield Block(str(record.rec_type), record.rec_headers, data, complete, capped, offset)


def _first_line(start: bytes) -> bytes | None:
    """The first non-blank line of a file's first bytes, decompressed if gzip (``None``: a
    gzip whose first member is damaged)."""
    if start.startswith(GZIP_MAGIC):
        try:
            start = zlib.decompressobj(31).decompress(start)
        except zlib.error:
            return None
    return start.lstrip(b"\r\n").split(b"\n", 1)[0][:200]


def looks_like_archive(start: bytes) -> bool:
    """Whether a file beginning with ``start`` may be a WARC (``WARC/1.x``) or ARC file (a
    header line ``URL IP DATE TYPE LENGTH``): empty, or a damaged gzip, counts as one."""
    line = _first_line(start)
    if line is None or (start and GZIP_MAGIC.startswith(start)):
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


def short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:300]
