"""The report's shape, typed: what :func:`crawler.reports.build_report` makes and every renderer
reads (JSON, CSV, Markdown, HTML, XLSX, the web view, the webhook, the daemon).

These are :class:`~typing.TypedDict` s: at run time a report is the plain dict that
``--format json`` prints (INTERFACE.md), and mypy checks every key a renderer reads against
this one declaration. A key that only some reports carry is ``NotRequired``.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

from storage.base import ColumnRecord as ColumnEntry
from storage.base import CoverageRecord as CoverageEntry
from storage.base import FindingRecord as FindingEntry

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


class IgnoreNote(TypedDict):
    """The ignore that sets a finding aside (``govmon ignore``): the finding's own, or a rule
    matching its URL (:mod:`crawler.reports.ignores`)."""

    id: str  # the finding's identity, or the rule's id ("r3")
    kind: str  # finding | rule
    site: str | None  # a rule of every site: None
    check: str | None  # a rule of every check: None
    url: str | None  # the finding's URL (a rule: None)
    pattern: str | None  # the rule's URL pattern (a finding: None)
    reason: str
    by: str  # who set the reason (govmon ignore --by; the OS user by default)
    since: str  # when it was ignored
    changed: str | None  # when the reason last changed (govmon ignore --update)
    basis: NotRequired[str]  # in a report: which ignore, in words (规则 r3：https://…/*)


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
