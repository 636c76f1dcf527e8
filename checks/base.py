"""What every check shares: the :class:`Finding` value, severities, and the check protocol.

A finding has an *identity* (check, site and subject) that stays the same across scans, so a
problem can be followed from one quarter to the next and marked as handled.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from checks import catalogue

if TYPE_CHECKING:
    from checks.ipv6 import Ipv6Probe
    from checks.readers.extract import ParsedPage
    from checks.readers.scripted import ScriptNote
    from crawler.config.model import Config, Site
    from crawler.net.fetcher import FetchResult
    from storage.base import ColumnRow, ItemRow

# code -> severity: the catalogue's (checks/catalogue.py), plug-ins' codes included
SEVERITIES: Mapping[str, str] = catalogue.SEVERITIES


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    site: str
    unit: str
    url: str  # the subject
    page: str | None = None  # where it was seen
    column: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    severity: str = ""

    def __post_init__(self) -> None:
        if not self.severity:
            object.__setattr__(self, "severity", catalogue.severity_of(self.check))

    @property
    def identity(self) -> str:
        """Stable across scans: the same check, site and subject."""
        raw = f"{self.check}\x1f{self.site}\x1f{self.column or ''}\x1f{self.url}"
        return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:16]

    def detail_json(self) -> str:
        return json.dumps(self.detail, ensure_ascii=False, sort_keys=True)


def _ignore(url: str) -> None:
    """The default of :attr:`PageView.follow` outside a scan."""


@dataclass(frozen=True, slots=True)
class ScanContext:
    """What every check is created with: the validated config and the monitoring time point."""

    config: Config
    as_of: dt.datetime

    @property
    def as_of_date(self) -> dt.date:
        """The day of the monitoring time point, in the config's time zone."""
        return self.as_of.astimezone(self.config.tz).date()


@dataclass(frozen=True, slots=True)
class PageView:
    """An in-scope page as the checks see it: fetched, decoded and parsed once."""

    url: str
    final_url: str
    status: int
    depth: int
    is_home: bool
    parsed: ParsedPage
    follow: Callable[[str], None] = _ignore  # ask the crawler to read this URL too (pagination)
    script: ScriptNote | None = None  # built by script: how it was read, or why it could not be


@runtime_checkable
class WantsBrowserView(Protocol):
    """A check that names the pages it must see as a browser shows them: such a page, when it
    is built by script and no static reader covers it, is rendered (``[crawl] render``)."""

    def wants_browser_view(self, site: Site, url: str) -> bool: ...


class PageCheck(Protocol):
    """A pluggable check over each parsed in-scope page, with a site-level finish.

    Built-in checks and third-party ones (a factory ``f(context) -> PageCheck`` registered under
    the ``govmon.checks`` entry-point group) run alike. A check that raises becomes a
    ``check.error`` finding about the check; it never stops the scan.
    """

    codes: tuple[str, ...]

    def on_page(self, site: Site, page: PageView) -> Iterable[Finding]: ...

    def finish(self, site: Site) -> Iterable[Finding]: ...


class SiteTools(Protocol):
    """What a site-level check may use after the crawl: requests within the host's politeness
    (and the private-address rule), and the store's memory of earlier scans."""

    async def fetch(
        self, url: str, *, method: str = "GET", data: bytes | None = None,
        content_type: str | None = None, max_body: int = 262144,
    ) -> FetchResult: ...  # fmt: skip

    async def previous_items(self, site: str) -> tuple[str | None, Sequence[ItemRow]]:
        """The start time and the column items of the newest earlier complete scan."""
        ...

    async def previous_target(self, url: str) -> tuple[str, str] | None:
        """``(title, final host)`` of an external target at the last scan that saw it."""
        ...

    async def remember_target(self, url: str, title: str, final_host: str) -> None:
        """Keep what an external target is now, for the next scan."""
        ...

    def external_links(self, site: str) -> Sequence[str]:
        """The external pages the site links to that answered (for ``link.hijacked``)."""
        ...

    async def probe_ipv6(self, url: str) -> Ipv6Probe | None:
        """The home page at ``url`` probed over IPv6 (AAAA lookup, then a request over IPv6
        only), within the host's politeness; ``None`` when nothing may be looked up."""
        ...


@runtime_checkable
class BrowserTools(Protocol):
    """Site tools that can also show a fetched page as a browser does (a search's results built
    by script): ``(html, "")``, or ``(None, why not)`` when it is built by script and could not
    be read (``[crawl] render = "never"``, no browser, a failed render). ``always``: render a
    page with scripts even when its static read looks complete (a search box added by script)."""

    async def browser_view(
        self, url: str, result: FetchResult, *, always: bool = False
    ) -> tuple[str | None, str]: ...


@runtime_checkable
class SiteCheck(Protocol):
    """A check that needs requests of its own once a site is crawled (search, IPv6, external
    pages) or earlier scans (backdating). It runs after the crawl, before the scan completes."""

    codes: tuple[str, ...]

    async def run_site(self, site: Site, tools: SiteTools) -> Iterable[Finding]: ...


@runtime_checkable
class HasInventory(Protocol):
    """A check that also describes what it found (the columns check's column rows)."""

    def inventory(self, site: Site) -> Sequence[ColumnRow | ItemRow]: ...


class CheckFactory(Protocol):
    def __call__(self, context: ScanContext) -> PageCheck: ...
