"""Re-entering a gzip file compressed as one stream: :class:`StreamIndex`.

Such a file cannot be entered in the middle: while it is read once, the state of the
decompressor is kept every :data:`CHECKPOINT_EVERY` bytes of output (:class:`StreamIndex`, at
most :data:`MAX_CHECKPOINTS` of them, ~40 KB each), and a record is read again by decompressing
from the nearest checkpoint before it (:class:`Inflated`).
"""

from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass
from typing import Any, Final

from crawler.recordings.model import WarcError

CHECKPOINT_EVERY: Final = 16 * 1024 * 1024  # bytes of a one-stream gzip file between checkpoints
MAX_CHECKPOINTS: Final = 256  # past this, every other one goes (and the spacing doubles)
_INFLATE_CHUNK: Final = 1024 * 1024  # what one call may inflate (a gzip bomb stays capped)


@dataclass(frozen=True, slots=True)
class Checkpoint:
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
        self.checkpoints: list[Checkpoint] = []
        self.every = CHECKPOINT_EVERY
        self._lock = threading.Lock()

    def add(self, checkpoint: Checkpoint) -> None:
        with self._lock:
            last = self.checkpoints[-1].output if self.checkpoints else 0
            if checkpoint.output - last < self.every:
                return
            self.checkpoints.append(checkpoint)
            if len(self.checkpoints) > MAX_CHECKPOINTS:
                self.checkpoints = self.checkpoints[1::2]
                self.every *= 2

    def start_for(self, offset: int) -> Checkpoint | None:
        """The last checkpoint at or before ``offset`` (``None``: the file's start)."""
        with self._lock:
            found = None
            for checkpoint in self.checkpoints:
                if checkpoint.output > offset:
                    break
                found = checkpoint
            return found


class Inflated:
    """The decompressed bytes of a gzip file (its members one after the other), as a stream
    for warcio: from the start, or from a checkpoint; ``index`` gets checkpoints on the way.
    A stream cut short or damaged raises ``EOFError`` where it ends (as :mod:`gzip` does)."""

    def __init__(self, fh: Any, start: Checkpoint | None, index: StreamIndex | None = None) -> None:
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
                self._index.add(Checkpoint(self._output, self._fh.tell(), self._pending, d.copy()))
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
