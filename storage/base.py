"""The store's small interface: what a scan writes and what reports read.

SQLite (:mod:`storage.sqlite`) is the embedded default, PostgreSQL (:mod:`storage.postgres`) the
store many workers share; both are :class:`storage.sqlbase.SQLStore`. Writes go through
:meth:`Store.put`, which blocks when the writer is behind (so a slow disk slows the crawl instead
of growing memory); every batch is one transaction, committed as the scan goes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypedDict


class StoreError(Exception):
    """The store cannot be opened or written (locked, read-only, full disk, newer schema)."""


class NotInStore(StoreError):
    """What was asked for is not there: no such store, no such scan (a user's mistake)."""


class IgnoreError(StoreError):
    """An ignore that cannot be changed as asked (``govmon ignore``): no such finding or rule,
    or one already ignored with another reason. ``existing`` is the ignore already there, if
    any."""

    def __init__(self, message: str, existing: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.existing = existing


class FindingRecord(TypedDict):
    """One finding as the store gives it back (:meth:`Store.findings`), and as a report lists
    it (``findings``)."""

    id: str  # its stable identity: the same problem has the same id in every scan
    check: str
    severity: str  # veto | deduction | warning | info
    site: str
    unit: str
    column: str | None
    url: str  # the subject
    page: str | None  # where it was seen
    detail: dict[str, Any]
    observed_at: str | None


class ColumnRecord(TypedDict):
    """A column (栏目) as the store gives it back (:meth:`Store.columns`; written as a
    :class:`ColumnRow`)."""

    site: str
    url: str
    name: str
    category: str
    unit: str
    top_level: bool
    configured: bool
    parent: str | None
    items: int
    dated_items: int
    newest: str | None
    pages: int
    is_list: bool
    why: str


class CoverageRecord(TypedDict):
    """How much of a site the scan read (:meth:`Store.coverage`; judged by
    :mod:`crawler.core.coverage`)."""

    pages_found: int
    pages_read: int
    pages_failed: int
    pages_blocked: int
    columns_found: int
    columns_read: int
    columns_failed: int
    columns_unreadable: int
    home: str | None  # read | unreachable | blocked | robots | pending
    done: bool


@dataclass(frozen=True, slots=True)
class PageRow:
    url_id: int
    site: str
    url: str
    final_url: str
    status: int | None
    error: str | None
    content_type: str
    charset: str | None
    title: str | None
    depth: int
    bytes: int
    elapsed_ms: int
    fetched_at: str


@dataclass(frozen=True, slots=True)
class LinkRow:
    url_id: int
    url: str
    outcome: str  # ok | broken | blocked | skipped
    reason: str
    status: int | None
    final_url: str
    method: str
    attempts: int
    checked_at: str


@dataclass(frozen=True, slots=True)
class RefRow:
    target_id: int
    page_id: int
    site: str
    tag: str


class StoredFinding(Protocol):
    """What the store reads of a finding (:class:`checks.base.Finding` is one; the store
    knows no check)."""

    @property
    def check(self) -> str: ...

    @property
    def site(self) -> str: ...

    @property
    def unit(self) -> str: ...

    @property
    def url(self) -> str: ...

    @property
    def page(self) -> str | None: ...

    @property
    def column(self) -> str | None: ...

    @property
    def severity(self) -> str: ...

    @property
    def identity(self) -> str:
        """Stable across scans: the key of the finding in a scan."""
        ...

    def detail_json(self) -> str:
        """The finding's detail as JSON text."""
        ...


@dataclass(frozen=True, slots=True)
class FindingRow:
    finding: StoredFinding
    observed_at: str


@dataclass(frozen=True, slots=True)
class ColumnRow:
    """A column (栏目) of a site as the scan found it."""

    site: str
    url: str
    name: str
    category: str
    unit: str
    top_level: bool
    configured: bool
    parent: str | None
    items: int
    dated_items: int
    newest: str | None  # YYYY-MM-DD
    pages: int  # list pages read (pagination included)
    is_list: bool
    why: str


@dataclass(frozen=True, slots=True)
class ItemRow:
    """An item a column listed at a scan."""

    site: str
    column_url: str
    url: str
    title: str
    date: str | None  # YYYY-MM-DD


@dataclass(frozen=True, slots=True)
class FrontierRow:
    """A request the scan queued (the frontier lives in the store, so a scan can resume)."""

    url_id: int
    url: str
    kind: int
    site: int
    depth: int
    link_kind: str
    follow: bool


@dataclass(frozen=True, slots=True)
class BodyRow:
    """A fetched page's body (compressed in the store), so a resumed scan need not fetch it."""

    url_id: int
    content_type: str
    redirects: list[str]
    body: bytes


@dataclass(slots=True)
class Journal:
    """What an interrupted scan had done (see ``SQLiteStore.journal``)."""

    frontier: list[FrontierRow] = field(default_factory=list)
    # url id -> (final_url, status, error, content_type, redirects, body)
    pages: dict[int, tuple[str, int | None, str | None, str, list[str], bytes]] = field(
        default_factory=dict
    )
    # url id -> (outcome, reason, status, final_url, method, attempts)
    links: dict[int, tuple[str, str, int | None, str, str, int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SampleRow:
    """One availability sample of a site's home page (the 15 s rule)."""

    site: str
    url: str
    at: str  # ISO 8601 time with offset, when the request started
    ok: bool
    status: int | None = None
    total_ms: int | None = None
    dns_ms: int | None = None
    connect_ms: int | None = None
    tls_ms: int | None = None
    first_byte_ms: int | None = None
    failed_at: str | None = None  # dns | connect | tls | first byte | body | status
    error: str | None = None


@dataclass(frozen=True, slots=True)
class CoverageRow:
    """How much of one site a scan (or a site job of a shared scan) covered, written when its
    part ends: whether the site was finished, pages and columns found and read, and what the home
    page answered (see :mod:`crawler.core.coverage`). One row per site; a later row replaces it."""

    site: str
    coverage: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Progress:
    pages: int
    requests: int


Record = (
    PageRow
    | LinkRow
    | RefRow
    | FindingRow
    | ColumnRow
    | ItemRow
    | FrontierRow
    | BodyRow
    | CoverageRow
    | Progress
)


@dataclass(frozen=True, slots=True)
class ScanInfo:
    id: int
    config_path: str
    as_of: str
    started_at: str
    finished_at: str | None
    status: str
    pages: int
    requests: int
    sites: list[dict[str, Any]]
    settings: dict[str, Any] = field(default_factory=dict)


def resumable_alone(info: ScanInfo) -> bool:
    """Whether one process can resume ``info``: not a scan shared out to queue workers
    (``settings.queued``) or to several processes (``settings.processes`` > 1), whose parts
    have no journal of their own."""
    try:
        processes = int(info.settings.get("processes", 1))
    except (TypeError, ValueError):
        processes = 1
    return not info.settings.get("queued") and processes <= 1


class Store(Protocol):
    async def begin_scan(
        self,
        *,
        config_path: str,
        config_digest: str,
        as_of: str,
        sites: list[dict[str, Any]],
        settings: dict[str, Any] | None = None,
    ) -> int: ...

    async def put(self, record: Record) -> None: ...

    async def flush(self) -> None: ...

    async def finish_scan(self, status: str, pages: int, requests: int) -> None: ...

    async def close(self) -> None: ...

    async def scan_info(self, ref: str | int = "latest") -> ScanInfo: ...

    async def findings(self, scan_id: int) -> list[FindingRecord]: ...

    async def page_urls(self, scan_id: int, url_ids: Sequence[int]) -> dict[int, str]: ...

    async def columns(self, scan_id: int) -> list[ColumnRecord]: ...

    async def coverage(self, scan_id: int) -> dict[str, CoverageRecord]:
        """Site id -> the :class:`CoverageRow` written for it in ``scan_id`` (none for a scan
        made before govmon kept coverage)."""
        ...

    async def scans(self) -> list[ScanInfo]: ...

    async def ignore(
        self, identity: str, reason: str, *, by: str = "", update: bool = False
    ) -> dict[str, Any]:
        """Set the finding ``identity`` aside (a false positive or an accepted exception), or
        with ``update`` change the reason of one set aside; the ignore as stored (with
        ``change``: ``added``, ``updated`` or ``none``)."""
        ...

    async def ignore_rule(
        self,
        pattern: str,
        reason: str,
        *,
        check: str | None = None,
        site: str | None = None,
        by: str = "",
        update: bool = False,
    ) -> dict[str, Any]:
        """A rule that sets aside every finding whose URL matches ``pattern`` (of ``check``,
        of ``site``: every one when None); with ``update``, change the reason of the rule
        already there. As :meth:`ignore`."""
        ...

    async def ignore_rules(self) -> list[dict[str, Any]]:
        """Every rule, oldest first (ids ``r1``, ``r2``, …)."""
        ...

    async def unignore_rule(self, rule: int, *, by: str = "", reason: str = "") -> bool:
        """Delete rule ``r<rule>``; whether there was one."""
        ...

    async def ignore_log(self) -> list[dict[str, Any]]:
        """Every change of the ignores, oldest first: who, when, what and why."""
        ...

    async def identities(self, prefix: str, *, ignored: bool = False) -> list[dict[str, Any]]:
        """The finding identities (with check, site and URL) that start with ``prefix``, in
        any scan (``ignored``: among the ignored ones); at most 11."""
        ...

    async def withdraw_findings(
        self, scan_id: int, check: str, site: str, urls: Sequence[str]
    ) -> int:
        """Delete ``check`` findings of ``site`` about ``urls`` from a scan (a shared scan's
        reconciliation of its parts); how many went."""
        ...

    async def unignore(self, identity: str, *, by: str = "", reason: str = "") -> bool: ...

    async def ignores(self) -> dict[str, dict[str, Any]]: ...

    async def add_samples(self, samples: Sequence[SampleRow]) -> None: ...

    async def resumable(self, config_digest: str) -> ScanInfo | None: ...

    async def reopen_scan(self, scan_id: int) -> None: ...

    async def join_scan(self, scan_id: int) -> None:
        """Write into ``scan_id`` as it is, status untouched (a site job of a queued scan)."""
        ...

    async def journal(self, scan_id: int) -> Journal: ...

    async def items(self, scan_id: int, site: str | None = None) -> list[ItemRow]: ...

    async def site_sizes(self, scan_id: int) -> dict[str, int]: ...

    async def add_target(self, scan_id: int, url: str, title: str, final_host: str) -> None: ...

    async def previous_target(self, before_scan: int, url: str) -> tuple[str, str] | None: ...

    async def samples(
        self, site: str | None = None, since: str | None = None, until: str | None = None
    ) -> list[SampleRow]: ...

    # -- read-only queries of the web view (issue 18) ------------------------------------------

    async def scan_activity(self, scan_id: int) -> str | None:
        """When the scan last wrote a page or a link (ISO), or ``None``."""
        ...

    async def sample_days(
        self, site: str | None = None, since: str | None = None
    ) -> list[dict[str, Any]]:
        """Availability samples counted per day: day, samples, ok, avg_ms, max_ms."""
        ...
