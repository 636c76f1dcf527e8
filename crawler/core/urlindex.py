"""The frontier's URL index: canonical URL -> id, and id -> URL; a dict up to its limit, compact
arrays over the spill file (:class:`crawler.core.spill.SpillFile`) past it."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Sequence

from crawler.core.spill import SpillFile

# Rows per statement for `IN (...)` lookups: well under SQLite's bound-parameter limit.
_CHUNK = 500


def _second_hash(url: str) -> int:
    """A second 32-bit hash of ``url``, independent of ``hash(url)`` (another message for the
    same keyed SipHash)."""
    return hash(url + "\x00") & 0xFFFFFFFF


_LOW32 = 0xFFFFFFFF


class UrlIndex:
    """Canonical URL -> id (ids ``id_base + 1, id_base + 2, ...``) and id -> URL.

    Up to ``limit`` URLs: a dict, exactly as before. Past it the index turns compact: an
    open-addressing table (``array('I')`` of slots holding ``offset + 1``, linear probing from
    ``hash(url)``, load ≤ 0.6) over one dense ``array('Q')`` by offset (``id - id_base - 1``)
    of 64-bit keys: the low 32 bits of ``hash(url)`` and an independent 32-bit second hash;
    about 16 bytes a URL instead of ~170. A slot matches only when the whole key matches, so
    URLs that share a table hash (or a probe run) keep their own ids; two URLs would be merged
    only if both hashes collided (64 bits: about 10⁻¹¹ over a crawl of 4 M URLs). The URLs
    themselves go to the spill file (in id order, ``flush`` at a time) for :meth:`url_of`,
    which only findings ask.
    """

    def __init__(
        self,
        id_base: int,
        spill: SpillFile,
        *,
        limit: int = 100_000,
        flush: int = 4_096,
        hasher: Callable[[str], int] = hash,
        hasher2: Callable[[str], int] = _second_hash,
    ) -> None:
        self._spill = spill
        self._limit = max(1, limit)
        self._flush_every = max(1, flush)
        self._h1 = hasher
        self._h2 = hasher2
        self._base = id_base
        self._ids: dict[str, int] | None = {}  # the dict while it is used
        self._last = id_base
        self._flushed = id_base  # URLs of ids up to this one are on disk
        self._recent: list[str | None] = []  # URLs of ids _flushed + 1 … _last
        self._keys = array("Q")  # by offset: (second hash << 32) | low 32 bits of hash(url)
        self._gaps: set[int] = set()  # offsets of ids without a URL (a resumed scan's)
        self._slots = array("I")  # offset + 1, or 0 (empty)
        self._mask = 0
        self._count = 0

    def __len__(self) -> int:
        """Distinct URLs known."""
        return self._count

    @property
    def compact(self) -> bool:
        return self._ids is None

    def _key(self, url: str) -> tuple[int, int]:
        a = self._h1(url)
        return a, ((self._h2(url) & _LOW32) << 32) | (a & _LOW32)

    def get(self, url: str) -> tuple[int, bool]:
        """The id of ``url`` and whether it is new."""
        return self.get_many((url,))[0]

    def get_many(self, urls: Sequence[str]) -> list[tuple[int, bool]]:
        """:meth:`get` for each URL in turn (a URL twice in ``urls`` is new only the first
        time)."""
        out: list[tuple[int, bool]] = []
        ids = self._ids
        if ids is not None:
            for url in urls:
                known = ids.get(url)
                if known is None:
                    self._last += 1
                    ids[url] = known = self._last
                    self._recent.append(url)
                    self._count += 1
                    out.append((known, True))
                else:
                    out.append((known, False))
            if len(ids) >= self._limit:
                self._go_compact()
            return out
        self._reserve(len(urls))
        h1, h2 = self._h1, self._h2
        slots, keys, mask = self._slots, self._keys, self._mask
        recent = self._recent
        first = self._base + 1
        for url in urls:
            a = h1(url)
            key = ((h2(url) & _LOW32) << 32) | (a & _LOW32)
            i = a & mask
            while True:
                s = slots[i]
                if s == 0:
                    off = len(keys)
                    keys.append(key)
                    slots[i] = off + 1
                    recent.append(url)
                    out.append((first + off, True))
                    break
                if keys[s - 1] == key:
                    out.append((first + s - 1, False))
                    break
                i = (i + 1) & mask
        added = len(keys) - (self._last - self._base)
        if added:
            self._last += added
            self._count += added
            if len(recent) >= self._flush_every:
                self._flush()
        return out

    def known(self, url: str) -> int | None:
        ids = self._ids
        if ids is not None:
            return ids.get(url)
        off = self._find(url)
        return None if off < 0 else self._base + 1 + off

    def restore(self, url: str, url_id: int) -> None:
        """Give ``url`` the id it had before (``scan --resume``: ids come in ascending order,
        with gaps where an id was given to a URL the journal did not keep)."""
        if self.known(url) is not None:
            return
        off = url_id - self._base - 1
        if url_id > self._last:
            gap = url_id - self._last - 1
            self._recent.extend([None] * gap)
            self._recent.append(url)
            if self._ids is None:
                self._gaps.update(range(len(self._keys), off))
                self._keys.extend(array("Q", bytes(8 * (gap + 1))))
            self._last = url_id
        elif url_id > self._flushed:
            self._recent[url_id - self._flushed - 1] = url
        else:
            self._spill.conn.execute(
                "INSERT OR REPLACE INTO urls (id, url) VALUES (?,?)", (url_id, url)
            )
        self._count += 1
        ids = self._ids
        if ids is not None:
            ids[url] = url_id
            if len(ids) >= self._limit:
                self._go_compact()
            return
        self._gaps.discard(off)
        self._reserve(1)
        a, key = self._key(url)
        self._keys[off] = key
        self._place(off, a)
        if len(self._recent) >= self._flush_every:
            self._flush()

    def url_of(self, url_id: int) -> str | None:
        return self.urls_of((url_id,)).get(url_id)

    def urls_of(self, url_ids: Iterable[int]) -> dict[int, str]:
        """The URLs of the ids that have one."""
        out: dict[int, str] = {}
        on_disk: list[int] = []
        flushed, recent, base = self._flushed, self._recent, self._base
        for url_id in url_ids:
            if url_id > flushed:
                i = url_id - flushed - 1
                url = recent[i] if i < len(recent) else None
                if url is not None:
                    out[url_id] = url
            elif url_id > base:
                on_disk.append(url_id)
        if on_disk and self._spill.opened:
            conn = self._spill.conn
            for start in range(0, len(on_disk), _CHUNK):
                chunk = on_disk[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                for url_id, url in conn.execute(
                    f"SELECT id, url FROM urls WHERE id IN ({marks})", chunk
                ):
                    out[url_id] = url
        return out

    # -- inside -------------------------------------------------------------------------------

    def _go_compact(self) -> None:
        """From the dict to the table: hash every URL, write every URL to disk."""
        keys, gaps = self._keys, self._gaps
        for url in self._recent:
            if url is None:
                gaps.add(len(keys))
                keys.append(0)
            else:
                keys.append(self._key(url)[1])
        self._ids = None
        self._rebuild(len(keys))
        self._flush()

    def _reserve(self, more: int) -> None:
        if (len(self._keys) + more) * 5 > len(self._slots) * 3:
            self._rebuild(len(self._keys) + more)

    def _rebuild(self, entries: int) -> None:
        """A table for ``entries`` (the home slot of a key is its low bits: hash(url)'s)."""
        size = 1024
        while entries * 5 > size * 3:
            size *= 2
        self._slots = slots = array("I", bytes(4 * size))
        self._mask = mask = size - 1
        gaps = self._gaps
        for off, key in enumerate(self._keys):
            if gaps and off in gaps:
                continue
            i = key & mask
            while slots[i] != 0:
                i = (i + 1) & mask
            slots[i] = off + 1

    def _place(self, off: int, a: int) -> None:
        slots, mask = self._slots, self._mask
        i = a & mask
        while slots[i] != 0:
            i = (i + 1) & mask
        slots[i] = off + 1

    def _find(self, url: str) -> int:
        """The offset of ``url`` in the table, or -1."""
        a, key = self._key(url)
        slots, keys, mask = self._slots, self._keys, self._mask
        i = a & mask
        while True:
            s = slots[i]
            if s == 0:
                return -1
            if keys[s - 1] == key:
                return s - 1
            i = (i + 1) & mask

    def _flush(self) -> None:
        """Write the URLs not yet on disk (ids only grow: appends at the end of the table)."""
        if self._recent:
            first = self._flushed + 1
            rows = [(first + i, u) for i, u in enumerate(self._recent) if u is not None]
            self._spill.conn.executemany("INSERT INTO urls (id, url) VALUES (?,?)", rows)
        self._flushed = self._last
        self._recent = []
