"""The store a ``--db`` names: a file path (SQLite) or a ``postgresql://`` URL (PostgreSQL)."""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING, Any

from storage.base import Store, StoreError
from storage.dburl import masked
from storage.sqlite import ReadOnlyStore, SQLiteStore

if TYPE_CHECKING:
    from storage.postgres import PostgresStore

# the PostgreSQL backend is imported by name when a postgresql:// URL is opened, so that a scan
# into a SQLite file does not load psycopg and its pool (10 MB of peak memory)
POSTGRES_BACKEND = "storage.postgres"

__all__ = ["is_server_url", "open_store"]

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


async def open_store(db: str, *, create: bool = True, read_only: bool = False, **kw: Any) -> Store:
    """Open (and create or migrate) the store ``db`` names.

    ``postgresql://`` and ``postgres://`` URLs open a :class:`storage.postgres.PostgresStore`
    (``?schema=NAME`` picks the PostgreSQL schema); anything else without a ``scheme://`` is a
    path to a :class:`storage.sqlite.SQLiteStore`. ``read_only`` (the web view) neither creates
    nor migrates nor writes, and wants a store of this govmon's schema version (for SQLite:
    :class:`storage.sqlite.ReadOnlyStore`). ``kw`` goes to the store's ``open``.
    """
    scheme = _SCHEME.match(db)
    if scheme is None:
        if read_only:
            return await ReadOnlyStore.open(db, create=False, **kw)
        return await SQLiteStore.open(db, create=create, **kw)
    if scheme.group(1).lower() in ("postgresql", "postgres"):
        backend: type[PostgresStore] = importlib.import_module(POSTGRES_BACKEND).PostgresStore
        return await backend.open(db, create=create, read_only=read_only, **kw)
    raise StoreError(
        f"{_shown(db)}: unknown kind of store {scheme.group(1)!r}: --db takes a file path"
        " (SQLite) or a postgresql:// URL"
    )


def is_server_url(db: str) -> bool:
    """Whether ``db`` names a server store (``postgresql://``) rather than a SQLite file."""
    scheme = _SCHEME.match(db)
    return scheme is not None and scheme.group(1).lower() in ("postgresql", "postgres")


def _shown(db: str) -> str:
    """``db`` without a password, for messages."""
    return masked(db)
