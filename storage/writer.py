"""The store's batching writer, one for every backend.

Producers :meth:`~BatchWriter.put` records into a bounded queue (so a slow disk or server slows
the crawl instead of growing memory); one writer task, for the store's life, takes what is queued
in batches and writes each batch in one transaction (:meth:`BatchWriter._write_batch`, the
backend's part). A batch that fails with an error the backend calls transient (SQLite busy or
locked, a PostgreSQL deadlock) is retried for ``busy_timeout`` seconds; any other failure ends
writing: the writer keeps taking what is queued (it is lost) so that no producer ever waits on a
full queue, and the next :meth:`~BatchWriter.put` or :meth:`~BatchWriter.flush` raises one
:class:`~storage.base.StoreError` that says why. A new scan (:meth:`BatchWriter._start_writer`)
starts a new writer.
"""

from __future__ import annotations

import asyncio
import contextlib

from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from storage.base import Record, StoreError

__all__ = ["BatchWriter", "why"]

_STOP = object()


def why(exc: BaseException) -> str:
    """An error's text, never empty (a timeout has none)."""
    text = str(exc).strip()
    if isinstance(exc, TimeoutError):
        return text or "timed out"
    return text or type(exc).__name__


class BatchWriter:
    """A bounded queue of records and the one task that writes them, batch by batch.

    A backend subclasses it and gives :meth:`_write_batch` (one transaction), and may give
    :meth:`_retryable`, :meth:`_open_writer` and :meth:`_close_writer` (a connection of the
    writer's own)."""

    path: str  # what messages name: a file, or a URL without its password
    busy_timeout: float  # how long a batch that fails transiently is retried

    # 1,024 records: with page bodies queued for the resume journal (up to ~50 KB each) the
    # writer's backlog stays within tens of MB; the crawl waits for the disk beyond that
    def __init__(self, *, queue_size: int = 1024, batch_size: int = 2000) -> None:
        self.scan_id: int | None = None
        self.busy_timeout = 60.0
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=queue_size)
        self._batch_size = batch_size
        self._writer: asyncio.Task[None] | None = None
        self._error: BaseException | None = None

    # -- the backend's part ------------------------------------------------------------------

    async def _write_batch(self, batch: list[object]) -> None:
        """Write the records of ``batch`` (futures and the stop signal among them are not
        records) in one transaction; undone whole when it raises."""
        raise NotImplementedError

    def _retryable(self, exc: BaseException) -> bool:
        """Whether a batch that raised ``exc`` was rolled back and can simply be redone."""
        return False

    async def _open_writer(self) -> None:
        """Ready what the writer writes with (raise :class:`StoreError` when it cannot)."""

    async def _close_writer(self) -> None:
        """Give back what :meth:`_open_writer` took."""

    # -- producers ---------------------------------------------------------------------------

    async def put(self, record: Record) -> None:
        """Queue a record for the writer; waits while the queue is full."""
        self._raise_failed()
        await self._queue.put(record)

    async def flush(self) -> None:
        """Wait until everything queued so far is committed."""
        if self._writer is None:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put(done)
        waiter = asyncio.ensure_future(done)
        finished, _ = await asyncio.wait({waiter, self._writer}, return_when="FIRST_COMPLETED")
        if waiter not in finished:
            waiter.cancel()
        self._raise_failed()

    def _raise_failed(self) -> None:
        if self._error is not None:
            raise StoreError(f"{self.path}: writing failed: {why(self._error)}")

    # -- the writer's life -------------------------------------------------------------------

    async def _start_writer(self, scan_id: int) -> None:
        """Write into ``scan_id`` from now on. One writer serves the store's life: a writer
        still running (the daemon's scans, one after another on one store) is flushed first,
        so what was queued stays with its scan; a writer that failed is replaced by a new one
        (on a new connection where the backend has one)."""
        if self._writer is not None and not self._writer.done() and self._error is None:
            with contextlib.suppress(StoreError):
                await self.flush()
            if self._error is None:
                self.scan_id = scan_id
                return
        await self._stop_writer()
        await self._open_writer()
        self.scan_id = scan_id
        self._error = None
        self._writer = asyncio.create_task(self._write_loop(), name="store-writer")

    async def _stop_writer(self) -> None:
        """Let the writer commit what is queued and end; give back what it wrote with."""
        if self._writer is not None and not self._writer.done():
            await self._queue.put(_STOP)
            with contextlib.suppress(Exception):
                await self._writer
        self._writer = None
        await self._close_writer()

    async def _write_loop(self) -> None:
        queue = self._queue
        while True:
            item = await queue.get()
            batch = [item]
            while len(batch) < self._batch_size and not queue.empty():
                batch.append(queue.get_nowait())
            stop = any(x is _STOP for x in batch)
            try:
                await self._write_with_retries(batch)
            except Exception as exc:
                self._error = exc
                _resolve_waiters(batch)
                if not stop:
                    await self._discard_until_stop()
                return
            _resolve_waiters(batch)
            if stop:
                return

    async def _discard_until_stop(self) -> None:
        """After a failed write: keep taking what is queued (it is lost, with a clear error at
        the next put or flush) so that no producer waits on a full queue; until stopped."""
        while True:
            item = await self._queue.get()
            if isinstance(item, asyncio.Future) and not item.done():
                item.set_result(None)
            if item is _STOP:
                return

    async def _write_with_retries(self, batch: list[object]) -> None:
        """One transaction per batch; a transient failure is waited out and redone, not lost."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(self._retryable),
            stop=stop_after_delay(self.busy_timeout),
            wait=wait_exponential(multiplier=0.05, max=2.0),
            reraise=True,
        ):
            with attempt:
                await self._write_batch(batch)


def _resolve_waiters(batch: list[object]) -> None:
    for item in batch:
        if isinstance(item, asyncio.Future) and not item.done():
            item.set_result(None)
