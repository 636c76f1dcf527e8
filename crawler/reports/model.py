"""The report's shape, typed: what :func:`crawler.reports.build_report` makes and every renderer
reads (JSON, CSV, Markdown, HTML, XLSX, the web view, the webhook, the daemon).

These are :class:`~typing.TypedDict` s: at run time a report is the plain dict that
``--format json`` prints (INTERFACE.md), and mypy checks every key a renderer reads against
this one declaration. A key that only some reports carry is ``NotRequired``.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from crawler.core.coverage import CoverageEntry

__all__ = [
    "AvailabilityCounts",
    "AvailabilityPeriod",
    "ColumnEntry",
    "Comparison",
    "ComparisonAgainst",
    "CoverageEntry",
    "FindingEntry",
    "IgnoreNote",
    "IgnoredEntry",
    "Problem",
    "Report",
    "ScanEntry",
    "SiteEntry",
    "UncheckedEntry",
    "UnitChanges",
    "UnitEntry",
]


class FindingEntry(TypedDict):
    """One finding, as the store keeps it (``findings`` of a report)."""

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


class IgnoreNote(TypedDict):
    """Why a finding is marked a false positive or an accepted exception (``govmon ignore``)."""

    id: str
    site: str
    check: str
    url: str
    reason: str
    since: str  # when it was marked


class IgnoredEntry(FindingEntry):
    ignored: IgnoreNote


class AvailabilityPeriod(TypedDict):
    """The scan's sampling period (:class:`checks.availability.Period`)."""

    since: str
    until: str
    basis: str  # window | scan
    days: float
    min_samples: int
    official_samples: int
    provisional: bool


class ScanEntry(TypedDict):
    id: int
    as_of: str
    started_at: str
    finished_at: str | None
    status: str  # complete | interrupted | running | incomplete
    pages: int
    requests: int
    timezone: NotRequired[str]  # the config's ``[schedule] timezone`` (IANA name)
    availability: NotRequired[AvailabilityPeriod]


class UncheckedEntry(TypedDict):
    reason: str  # a key of crawler.core.coverage.REASONS
    text: str


class AvailabilityCounts(TypedDict):
    samples: int
    failures: int
    judged: bool


class SiteEntry(TypedDict):
    id: str
    name: str
    unit: str
    kind: str | None
    url: str | None
    verdict: str  # qualified | unqualified | unchecked
    vetoes: list[str]
    score: float | None
    deductions: dict[str, float]  # indicator name -> points deducted
    counts: dict[str, int]  # check code -> findings
    coverage: CoverageEntry | None
    unchecked: NotRequired[UncheckedEntry]
    withheld: NotRequired[int]  # a site whose home page never answered: findings not shown
    availability: NotRequired[AvailabilityCounts]


class Problem(TypedDict):
    """A row of the attachment (存在突出问题的栏目及责任单位名单)."""

    id: str
    site: str
    site_name: str
    column: str | None
    check: str
    severity: str
    problem: str  # one Chinese sentence
    url: str


class UnitEntry(TypedDict):
    unit: str
    sites: list[str]
    problem_columns: int
    problems: list[Problem]


class ColumnEntry(TypedDict):
    """A column (栏目) as the scan found it (:class:`storage.base.ColumnRow`)."""

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


class ComparisonAgainst(TypedDict):
    id: int
    as_of: str
    status: str


class UnitChanges(TypedDict):
    new: int
    persisting: int
    resolved: int
    columns_now: int
    columns_before: int


class Comparison(TypedDict):
    against: ComparisonAgainst
    new: list[str]  # finding ids
    persisting: list[str]
    resolved: list[FindingEntry]  # the earlier scan's findings
    not_compared: list[str]  # sites one of the two scans could not judge
    per_unit: dict[str, UnitChanges]


class Report(TypedDict):
    scan: ScanEntry
    sites: list[SiteEntry]
    units: list[UnitEntry]
    columns: list[ColumnEntry]
    findings: list[FindingEntry]
    ignored: list[IgnoredEntry]
    comparison: NotRequired[Comparison]
