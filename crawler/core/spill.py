"""What the frontier keeps compact, or on disk, once a crawl outgrows memory.

A scan of an ordinary site never touches the disk here: every structure starts as it always
was and changes only past its limit (:class:`SpillLimits`). Past it, the URL index turns into
compact arrays and the URLs, the host queues' middles and the referrers of pending targets go
to one private SQLite file in a temporary folder (:class:`SpillFile`), deleted when the scan
ends. Only appends and whole batches touch it on the hot path (random lookups in a file larger
than its cache cost ~20 µs each here); it is synchronous, on the event loop's thread: no
journal, no fsync, one connection, nothing shared.

- :class:`crawler.core.urlindex.UrlIndex`: canonical URL -> id, and id -> URL (its own module).
- :class:`SpillQueue`: a FIFO whose middle lives on disk in batches; it pops in push order.
- :class:`PendingRefs`: who links each target not yet judged, in the order they were seen.
- :class:`IdBytes`: one byte per URL id (the targets' states), indexed by ``id - id_base``.
"""

from __future__ import annotations

import marshal
import os
import shutil
import sqlite3
import tempfile
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SpillLimits:
    """Where each structure spills; below them a scan never touches the disk (a site of
    5,000 pages stays under every one)."""

    urls: int = 100_000  # URLs the in-memory index holds (past it: a cache of that size)
    flush: int = 4_096  # new URLs written to disk at a time, once the index has spilled
    queue: int = 4_096  # requests a host queue keeps in memory before it spills
    batch: int = 1_024  # requests written to or read from disk at a time
    refs: int = 200_000  # referrers of pending targets kept in memory
    directory: str | None = None  # where the spill file goes (default: the temp folder)


_SCHEMA = """
CREATE TABLE urls (id INTEGER PRIMARY KEY, url TEXT NOT NULL);
CREATE TABLE batches (id INTEGER PRIMARY KEY, data BLOB NOT NULL);
"""


class SpillFile:
    """A private SQLite file in a folder of its own, created on first use, deleted on close."""

    def __init__(self, directory: str | None = None) -> None:
        self._directory = directory
        self._folder: str | None = None
        self._conn: sqlite3.Connection | None = None
        self._closed = False
        self.used = False  # whether it was ever made (it stays True after close)

    @property
    def opened(self) -> bool:
        return self._conn is not None

    @property
    def conn(self) -> sqlite3.Connection:
        conn = self._conn
        if conn is None:
            conn = self._open()
        return conn

    def _open(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError("the frontier's spill file is closed")
        self._folder = tempfile.mkdtemp(prefix="govmon-spill-", dir=self._directory)
        path = os.path.join(self._folder, "frontier.db")
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("PRAGMA cache_size=-8192")  # 8 MB of pages; the OS caches the rest
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.executescript(_SCHEMA)
        self._conn = conn
        self.used = True
        return conn

    def put_batch(self, items: list[Any]) -> int:
        """Store a batch (marshal-able values); returns its key."""
        cur = self.conn.execute("INSERT INTO batches (data) VALUES (?)", (marshal.dumps(items),))
        key = cur.lastrowid
        assert key is not None
        return key

    def take_batch(self, key: int) -> list[Any]:
        """The batch stored under ``key``, removed from the file."""
        conn = self.conn
        row = conn.execute("SELECT data FROM batches WHERE id = ?", (key,)).fetchone()
        conn.execute("DELETE FROM batches WHERE id = ?", (key,))
        items: list[Any] = marshal.loads(row[0])
        return items

    def close(self) -> None:
        self._closed = True
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


class SpillQueue(Generic[T]):
    """A FIFO queue: ``head`` (memory, popped from), batches on disk, ``tail`` (memory, pushed
    to). Items go to the tail as soon as anything is on disk or the head holds ``cap``; a full
    tail is written as one batch; an empty head is refilled from the oldest batch, or from the
    tail when nothing is on disk. So items pop in the order they were pushed."""

    __slots__ = (
        "_batch",
        "_cap",
        "_decode",
        "_disk",
        "_encode",
        "_head",
        "_size",
        "_spill",
        "_tail",
    )

    def __init__(
        self,
        spill: SpillFile,
        *,
        cap: int = 4_096,
        batch: int = 1_024,
        encode: Callable[[T], Any] | None = None,
        decode: Callable[[Any], T] | None = None,
    ) -> None:
        self._spill = spill
        self._cap = max(1, cap)
        self._batch = max(1, batch)
        self._encode = encode
        self._decode = decode
        self._head: deque[T] = deque()
        self._tail: list[T] = []
        self._disk: deque[int] = deque()  # keys of the batches on disk, oldest first
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def __bool__(self) -> bool:
        return self._size > 0

    @property
    def in_memory(self) -> int:
        """Items held in memory: at most ``max(cap, batch) + batch``."""
        return len(self._head) + len(self._tail)

    def push(self, item: T) -> None:
        self._size += 1
        if not self._tail and not self._disk and len(self._head) < self._cap:
            self._head.append(item)
            return
        tail = self._tail
        tail.append(item)
        if len(tail) >= self._batch:
            encode = self._encode
            data = [encode(x) for x in tail] if encode is not None else tail
            self._disk.append(self._spill.put_batch(data))
            self._tail = []

    def pop(self) -> T:
        """The oldest item (IndexError when empty)."""
        head = self._head
        if not head:
            if self._disk:
                data = self._spill.take_batch(self._disk.popleft())
                decode = self._decode
                head.extend([decode(x) for x in data] if decode is not None else data)
            else:
                head.extend(self._tail)
                self._tail = []
        item = head.popleft()
        self._size -= 1
        return item


Ref = tuple[int, int, str]  # (site index, page id, tag) of one link to a target


class PendingRefs:
    """Who links each target not yet judged: ``target -> [ref, …]`` in the order seen.

    In memory until ``limit`` refs; then the whole dict is written to the spill file as one
    *run* (one marshalled blob: a single insert, with the ref tuples a page shares written
    once) and memory starts again. A flag per target (by ``id - id_base``) says that older refs
    of it are in some run. Most targets are judged fine and their runs are never read; the
    few judged broken are looked up in bulk (:meth:`collect`), one pass over the runs.
    """

    def __init__(self, id_base: int, spill: SpillFile, *, limit: int = 200_000) -> None:
        self._spill = spill
        self._limit = max(1, limit)
        self._base = id_base + 1
        self._mem: dict[int, list[Ref]] = {}
        self._count = 0
        self._flags = bytearray()  # by target: 1 refs in the runs, 2 popped since (stale)
        self._runs: list[int] = []  # keys of the runs in the spill file, oldest first
        self._stale: dict[int, int] = {}  # target added again after a pop -> its first run

    def __len__(self) -> int:
        """Refs held in memory."""
        return self._count

    @property
    def runs(self) -> int:
        return len(self._runs)

    def __contains__(self, target: int) -> bool:
        return target in self._mem or self._flagged(target)

    def start(self, target: int, ref: Ref) -> None:
        """The first ref of a target just found."""
        self.add(target, ref)

    def add(self, target: int, ref: Ref) -> None:
        refs = self._mem.get(target)
        if refs is None:
            i = target - self._base
            if 0 <= i < len(self._flags) and self._flags[i] == 2:
                self._stale[target] = len(self._runs)  # what the runs hold of it is gone
                self._flags[i] = 0
            self._mem[target] = [ref]
        else:
            refs.append(ref)
        self._count += 1
        if self._count >= self._limit:
            self._write()

    def pop(self, target: int) -> tuple[list[Ref], bool]:
        """The refs of ``target`` held in memory, and whether older ones are in the runs
        (:meth:`collect` them); it has none left afterwards."""
        refs = self._mem.pop(target, None)
        if refs is None:
            refs = []
        else:
            self._count -= len(refs)
        spilled = self._flagged(target)
        if spilled:
            self._flags[target - self._base] = 2
        return refs, spilled

    def discard(self, target: int) -> None:
        """Forget the refs of ``target`` (it was judged fine)."""
        self.pop(target)

    def collect(self, targets: Iterable[int]) -> dict[int, list[Ref]]:
        """The refs of ``targets`` in the runs, oldest first (targets popped with ``True``)."""
        wanted = set(targets)
        out: dict[int, list[Ref]] = {}
        if not wanted:
            return out
        conn = self._spill.conn
        stale = self._stale
        for k, key in enumerate(self._runs):
            row = conn.execute("SELECT data FROM batches WHERE id = ?", (key,)).fetchone()
            run: dict[int, list[Ref]] = marshal.loads(row[0])
            if len(wanted) < len(run):
                hits = [t for t in wanted if t in run]
            else:
                hits = [t for t in run if t in wanted]
            for t in hits:
                if stale and k < stale.get(t, 0):
                    continue
                got = out.get(t)
                if got is None:
                    out[t] = run[t]
                else:
                    got.extend(run[t])
        return out

    # -- inside -------------------------------------------------------------------------------

    def _flagged(self, target: int) -> bool:
        i = target - self._base
        flags = self._flags
        return 0 <= i < len(flags) and flags[i] == 1

    def _write(self) -> None:
        mem = self._mem
        kept = {t: r for t, r in mem.items() if t < self._base}  # not ids of this frontier
        run = {t: r for t, r in mem.items() if t >= self._base} if kept else mem
        if run:
            flags, base = self._flags, self._base
            top = max(run) - base + 1
            if top > len(flags):
                flags.extend(bytes(top - len(flags) + max(1024, top >> 3)))
            for t in run:
                flags[t - base] = 1
            cur = self._spill.conn.execute(
                "INSERT INTO batches (data) VALUES (?)", (marshal.dumps(run),)
            )
            assert cur.lastrowid is not None
            self._runs.append(cur.lastrowid)
        self._mem = kept
        self._count = sum(len(r) for r in kept.values())


_UNSET = 255


class IdBytes:
    """One small value (0–254) per URL id, in a bytearray indexed by ``id - id_base`` (ids of a
    site job of a shared scan start at ``k << 32``, so the raw id is never an index)."""

    __slots__ = ("_base", "_bytes", "_other")

    def __init__(self, id_base: int = 0) -> None:
        self._base = id_base + 1
        self._bytes = bytearray()
        self._other: dict[int, int] = {}  # ids outside this frontier's range (never in practice)

    def get(self, url_id: int, default: int | None = None) -> int | None:
        i = url_id - self._base
        if i < 0:
            return self._other.get(url_id, default)
        b = self._bytes
        if i < len(b):
            v = b[i]
            if v != _UNSET:
                return v
        return default

    def __getitem__(self, url_id: int) -> int:
        v = self.get(url_id)
        if v is None:
            raise KeyError(url_id)
        return v

    def __setitem__(self, url_id: int, value: int) -> None:
        i = url_id - self._base
        if i < 0:
            self._other[url_id] = value
            return
        b = self._bytes
        if i >= len(b):
            b.extend(b"\xff" * (i - len(b) + 1 + max(1024, len(b) >> 3)))
        b[i] = value

    def __contains__(self, url_id: int) -> bool:
        return self.get(url_id) is not None
