"""The store's tables as the writers see them, and a batch of records grouped into their rows.

Each table the writers insert into is described once (:class:`Table`: its columns, its key and
what a row with a key already present does); a backend renders the statement in its own SQL
(``INSERT OR REPLACE`` in SQLite, ``ON CONFLICT … DO UPDATE`` in PostgreSQL). :func:`group`
turns a batch of records into rows per table, the same for every backend: a backend converts
only what its driver cannot take (:meth:`storage.sqlbase.SQLStore._row`).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from storage.base import (
    BodyRow,
    ColumnRow,
    CoverageRow,
    FindingRow,
    FrontierRow,
    ItemRow,
    LinkRow,
    PageRow,
    Progress,
    RefRow,
    SampleRow,
)

__all__ = [
    "IGNORES",
    "IGNORE_LOG",
    "IGNORE_RULES",
    "SAMPLES",
    "TARGETS",
    "WRITE_ORDER",
    "Grouped",
    "Table",
    "group",
    "sample_row",
]

Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Table:
    """A table rows are inserted into. ``conflict`` is what a row whose ``key`` is already
    there does: ``fail``; ``ignore`` (the first one stays); ``replace`` (the new one stays);
    ``update`` (the row stays, with the ``update`` columns of the new one)."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...] = ()
    conflict: Literal["fail", "ignore", "replace", "update"] = "fail"
    update: tuple[str, ...] = ()

    @property
    def marks(self) -> str:
        return ",".join("?" * len(self.columns))

    @property
    def into(self) -> str:
        """``name (column, …) VALUES (?, …)``."""
        return f"{self.name} ({', '.join(self.columns)}) VALUES ({self.marks})"

    def upsert(self, columns: Iterable[str]) -> str:
        """The ``ON CONFLICT`` clause that sets ``columns`` from the new row (both SQLs)."""
        sets = ", ".join(f"{c} = excluded.{c}" for c in columns)
        return f" ON CONFLICT ({', '.join(self.key)}) DO UPDATE SET {sets}"


FRONTIER = Table(
    "frontier",
    ("scan_id", "url_id", "url", "kind", "site", "depth", "link_kind", "follow"),
    ("scan_id", "url_id"),
    "ignore",
)
PAGES = Table(
    "pages",
    ("scan_id", "url_id", "site", "url", "final_url", "status", "error", "content_type",
     "charset", "title", "depth", "bytes", "elapsed_ms", "fetched_at"),
    ("scan_id", "url_id"),
    "replace",
)  # fmt: skip
BODIES = Table(
    "bodies",
    ("scan_id", "url_id", "content_type", "redirects", "body"),
    ("scan_id", "url_id"),
    "replace",
)
LINKS = Table(
    "links",
    ("scan_id", "url_id", "url", "outcome", "reason", "status", "final_url", "method",
     "attempts", "checked_at"),
    ("scan_id", "url_id"),
    "replace",
)  # fmt: skip
REFS = Table(
    "refs",
    ("scan_id", "target_id", "page_id", "site", "tag"),
    ("scan_id", "target_id", "site", "page_id"),
    "ignore",
)
FINDINGS = Table(
    "findings",
    ("scan_id", "identity", "check_code", "severity", "site", "unit", "column_name", "url",
     "page", "detail", "observed_at"),
    ("scan_id", "identity"),
    "update",
    ("page", "detail", "severity"),  # a finding keeps when it was first seen
)  # fmt: skip
COLUMNS = Table(
    "columns",
    ("scan_id", "site", "url", "name", "category", "unit", "top_level", "configured", "parent",
     "items", "dated_items", "newest", "pages", "is_list", "why"),
    ("scan_id", "site", "url"),
    "replace",
)  # fmt: skip
ITEMS = Table(
    "items",
    ("scan_id", "site", "column_url", "url", "title", "date"),
    ("scan_id", "site", "column_url", "url"),
    "replace",
)
COVERAGE = Table("coverage", ("scan_id", "site", "detail"), ("scan_id", "site"), "replace")
# the tables the writer fills, in the order it fills them
WRITE_ORDER = (FRONTIER, PAGES, BODIES, LINKS, REFS, FINDINGS, COLUMNS, ITEMS, COVERAGE)

# written outside the writer, one call at a time
TARGETS = Table("targets", ("scan_id", "url", "title", "final_host"), ("scan_id", "url"), "replace")
IGNORES = Table(
    "ignores", ("identity", "site", "check_code", "url", "reason", "created_at", "author")
)
# check_code and site are '' for a rule of every check or every site
IGNORE_RULES = Table(
    "ignore_rules", ("pattern", "check_code", "site", "reason", "created_at", "author")
)
IGNORE_LOG = Table(
    "ignore_log", ("at", "author", "action", "target", "subject", "reason", "previous")
)
SAMPLES = Table(
    "samples",
    ("site", "url", "at", "ok", "status", "total_ms", "dns_ms", "connect_ms", "tls_ms",
     "first_byte_ms", "failed_at", "error"),
)  # fmt: skip


def _page(r: PageRow, scan: int | None) -> Row:
    return (scan, r.url_id, r.site, r.url, r.final_url, r.status, r.error, r.content_type,
            r.charset, r.title, r.depth, r.bytes, r.elapsed_ms, r.fetched_at)  # fmt: skip


def _link(r: LinkRow, scan: int | None) -> Row:
    return (scan, r.url_id, r.url, r.outcome, r.reason, r.status, r.final_url, r.method,
            r.attempts, r.checked_at)  # fmt: skip


def _ref(r: RefRow, scan: int | None) -> Row:
    return (scan, r.target_id, r.page_id, r.site, r.tag)


def _finding(r: FindingRow, scan: int | None) -> Row:
    f = r.finding
    return (scan, f.identity, f.check, f.severity, f.site, f.unit, f.column, f.url, f.page,
            f.detail_json(), r.observed_at)  # fmt: skip


def _column(r: ColumnRow, scan: int | None) -> Row:
    return (scan, r.site, r.url, r.name, r.category, r.unit, r.top_level, r.configured,
            r.parent, r.items, r.dated_items, r.newest, r.pages, r.is_list, r.why)  # fmt: skip


def _item(r: ItemRow, scan: int | None) -> Row:
    return (scan, r.site, r.column_url, r.url, r.title, r.date)


def _frontier(r: FrontierRow, scan: int | None) -> Row:
    return (scan, r.url_id, r.url, r.kind, r.site, r.depth, r.link_kind, r.follow)


def _body(r: BodyRow, scan: int | None) -> Row:
    return (scan, r.url_id, r.content_type, json.dumps(r.redirects), zlib.compress(r.body, 1))


def _coverage(r: CoverageRow, scan: int | None) -> Row:
    return (scan, r.site, json.dumps(r.coverage, sort_keys=True))


_ROWS: dict[type, tuple[Table, Callable[[Any, int | None], Row]]] = {
    PageRow: (PAGES, _page),
    LinkRow: (LINKS, _link),
    RefRow: (REFS, _ref),
    FindingRow: (FINDINGS, _finding),
    ColumnRow: (COLUMNS, _column),
    ItemRow: (ITEMS, _item),
    FrontierRow: (FRONTIER, _frontier),
    BodyRow: (BODIES, _body),
    CoverageRow: (COVERAGE, _coverage),
}


def sample_row(s: SampleRow) -> Row:
    return (s.site, s.url, s.at, s.ok, s.status, s.total_ms, s.dns_ms, s.connect_ms, s.tls_ms,
            s.first_byte_ms, s.failed_at, s.error)  # fmt: skip


@dataclass(slots=True)
class Grouped:
    """A batch's rows per table, in :data:`WRITE_ORDER`, and its last progress."""

    tables: list[tuple[Table, list[Row]]]
    progress: Progress | None

    def __bool__(self) -> bool:
        return bool(self.tables) or self.progress is not None


def group(batch: Iterable[object], scan: int | None, convert: Callable[[Row], Row]) -> Grouped:
    """The rows of ``batch``'s records for scan ``scan``, each passed through ``convert`` (what
    a backend's driver needs); what is not a record (the writer's futures) is left out."""
    rows: dict[Table, list[Row]] = {}
    progress: Progress | None = None
    for item in batch:
        kind = _ROWS.get(type(item))
        if kind is not None:
            table, make = kind
            rows.setdefault(table, []).append(convert(make(item, scan)))
        elif isinstance(item, Progress):
            progress = item
    return Grouped([(t, rows[t]) for t in WRITE_ORDER if t in rows], progress)
