"""The part of the store a backend gives: how it runs a statement (see :mod:`storage.sqlbase`).

:class:`SQLBackend` is the batching writer plus the hooks every SQL method of the store runs
through. SQLite (:mod:`storage.sqlite`) runs the statements as they are written, with ``?``
placeholders; PostgreSQL (:mod:`storage.postgres`) numbers the placeholders first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from typing import Any

from storage.rows import Row, Table
from storage.writer import BatchWriter

__all__ = ["SQLBackend", "now_iso"]


def now_iso() -> str:
    """Now, in the machine's time zone, to the second (when a row was written)."""
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")


class SQLBackend(BatchWriter):
    """The batching writer and the hooks a backend gives the store's SQL."""

    # -- the backend's part ------------------------------------------------------------------

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> AsyncIterator[Sequence[Any]]:
        """The rows of a query (a failure is a :class:`StoreError`: cannot read)."""
        raise NotImplementedError

    async def _execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Run and commit one statement; the rows it changed (a failure: cannot write)."""
        raise NotImplementedError

    async def _executemany(self, statements: list[tuple[str, list[Row]]], writer: bool) -> None:
        """Run each statement for each of its rows, all in one transaction, undone when one
        fails. The writer's batches (``writer``) raise the driver's own errors, for the
        writer's retries; any other call raises a :class:`StoreError` (cannot write)."""
        raise NotImplementedError

    async def _insert_id(self, sql: str, args: Sequence[Any]) -> int:
        """Run and commit an ``INSERT`` into a table with an ``id`` key; the new row's id."""
        raise NotImplementedError

    def _insert(self, table: Table) -> str:
        """The statement that inserts a row into ``table`` as its ``conflict`` says."""
        raise NotImplementedError

    def _row(self, values: Row) -> Row:
        """A row (or a statement's arguments) as the driver takes it."""
        return values

    async def _close_quietly(self) -> None:
        """Close the connections; never raises."""
        raise NotImplementedError

    async def _fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Sequence[Any]]:
        return [row async for row in self._rows(sql, args)]
