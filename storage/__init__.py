"""The store: what a scan writes and what reports read, in SQLite (a file) or PostgreSQL (a
server many workers share). :func:`open_store` opens the one a ``--db`` names."""

from storage.base import (
    BodyRow,
    ColumnRow,
    CoverageRow,
    FindingRow,
    FrontierRow,
    ItemRow,
    Journal,
    LinkRow,
    PageRow,
    Progress,
    Record,
    RefRow,
    SampleRow,
    ScanInfo,
    Store,
    StoredFinding,
    StoreError,
    resumable_alone,
)
from storage.open import is_server_url, open_store

__all__ = [
    "BodyRow",
    "ColumnRow",
    "CoverageRow",
    "FindingRow",
    "FrontierRow",
    "ItemRow",
    "Journal",
    "LinkRow",
    "PageRow",
    "Progress",
    "Record",
    "RefRow",
    "SampleRow",
    "ScanInfo",
    "Store",
    "StoreError",
    "StoredFinding",
    "is_server_url",
    "open_store",
    "resumable_alone",
]
