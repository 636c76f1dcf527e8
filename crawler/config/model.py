"""The validated config's types: frozen value objects, built by :mod:`crawler.config.load`.

Everything below the config loader that needs a setting imports these types from here, never the
loader: a :class:`Config` (its sites and their columns, ``[crawl]``, ``[rules]``, ``[checks]``,
``[content]``, ``[scoring]`` and ``[schedule]``) is what a scan, the daemon and the checks read.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from crawler import __version__

__all__ = [
    "ALERT_KINDS",
    "CATEGORIES",
    "DEFAULT_USER_AGENT",
    "LISTEN_ADDRESS",
    "SITE_KINDS",
    "AlertChannel",
    "ChecksSettings",
    "Column",
    "Config",
    "ContentSettings",
    "CrawlSettings",
    "DingTalkAlert",
    "EmailAlert",
    "NewMedia",
    "NewMediaSettings",
    "Rules",
    "Schedule",
    "SecretRef",
    "Site",
    "WeComAlert",
    "WebhookAlert",
    "daily_intervals",
    "window_moment",
]

DEFAULT_USER_AGENT = f"govmon/{__version__} (+https://github.com/govmon/govmon)"

CATEGORIES = (
    "news",
    "notice",
    "policy",
    "interpretation",
    "personnel",
    "planning",
    "faq",
    "consultation",
    "survey",
    "interview",
    "service",
    "stats",
    "other",
)
SITE_KINDS = ("department", "institution", "town", "portal")
#: ``[schedule] metrics_listen``: ``HOST:PORT`` or ``[IPv6]:PORT``.
LISTEN_ADDRESS = re.compile(
    r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:\[\]]+)):(?P<port>\d{1,5})$"
)


@dataclass(frozen=True, slots=True)
class CrawlSettings:
    """The ``[crawl]`` section: politeness, limits and the network."""

    rate: float = 2.0
    concurrency: int = 2
    timeout: float = 15.0
    max_pages: int = 20000
    max_depth: int = 12
    robots: str = "obey"
    user_agent: str = DEFAULT_USER_AGENT
    allow_private: bool = False
    workers: int = 32
    retries: int = 2
    retry_backoff: float = 1.0
    recheck_delay: float = 10.0
    max_body: int = 5_000_000
    max_redirects: int = 10
    resolve: Mapping[str, tuple[str, int | None]] = field(default_factory=dict)
    resolve_only: bool = False
    resumable: bool = True  # keep the frontier and page bodies in the store (scan --resume)
    max_links: int = 2000  # links taken from one page at most (a million-link page is a trap)
    # pages built by script (checks.readers.scripted): "auto"
    # renders in headless Chromium those that
    # no static reader covers; "never" reports them column.unreadable
    render: str = "auto"
    render_concurrency: int = 2  # pages rendering at once
    render_timeout: float = 20.0  # seconds for one page's render
    render_restart: int = 100  # pages rendered before the browser is started afresh
    browser: str = ""  # Chromium's executable; default: chromium (or chromium-browser) on PATH


@dataclass(frozen=True, slots=True)
class Rules:
    """The ``[rules]`` section: thresholds of the national rules and local ones."""

    news_max_age_days: int = 14
    notice_max_age_days: int = 183
    policy_max_age_days: int = 183
    personnel_max_age_days: int = 365
    planning_max_age_days: int = 365
    faq_max_age_days: int = 0
    news_max_gap_days: int = 0
    news_gap_window_days: int = 90
    reply_working_days: int = 5
    simple_reply_working_days: int = 0
    unanswered_max_days: int = 90
    stats_max_age_days: int = 92
    # extension: how working days are counted from a message ("next_day": the day after the
    # message is day 1; "same_day": the day of the message counts when it is a working day)
    reply_count_from: str = "next_day"
    # extensions for issue 9's indicators
    survey_min_portal: int = 6  # 调查征集 activities a year on a portal
    survey_min_other: int = 3  # ... on other sites
    interview_min: int = 0  # 在线访谈 a year; 0 = no rule
    message_stats_max_age_days: int = 92  # published message statistics; 0 = no age rule
    search_categories_required: int = 1  # 1: search results must be shown by category
    # availability (site.unreachable / site.availability): the fewest samples in a scan's
    # sampling period that may give a verdict (fewer: "insufficient samples", info), and the
    # length of the period around a scan made outside a [schedule] window
    availability_min_samples: int = 20
    availability_period_days: int = 7


@dataclass(frozen=True, slots=True)
class ChecksSettings:
    disable: tuple[str, ...] = ()

    def enabled(self, code: str) -> bool:
        """Whether the check ``code`` (e.g. ``link.broken``) runs."""
        family = code.split(".", 1)[0]
        return code not in self.disable and family not in self.disable


@dataclass(frozen=True, slots=True)
class ContentSettings:
    typo_lexicon: Path | None = None
    sensitive_lexicon: Path | None = None
    allow_lexicon: Path | None = None  # extension: words never flagged, one a line
    allow: tuple[str, ...] = ()  # extension: the same, inline


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    url: str
    category: str | None = None
    unit: str | None = None
    top_level: bool = False
    simple: bool = False
    selectors: Mapping[str, str] = field(default_factory=dict)  # message-board overrides


@dataclass(frozen=True, slots=True)
class NewMedia:
    """A new-media account (政务新媒体) of a site: ``url`` is the page or feed read for its posts;
    for an account read through RSSHub, ``route`` is its RSSHub route and ``url`` the feed's
    address at the configured instance (without the access key, which is added only when the
    request is sent)."""

    name: str
    url: str
    route: str | None = None


@dataclass(frozen=True, slots=True)
class NewMediaSettings:
    """The ``[newmedia]`` section: the office's own RSSHub instance (``rsshub``, its base URL)
    and the environment variable holding its access key (``rsshub_key_env``; the key itself is
    never in the config, on a command line or in a log)."""

    rsshub: str = ""
    rsshub_key_env: str = ""

    def rsshub_key(self) -> str:
        """The access key from the environment ("" when none is configured or set)."""
        return os.environ.get(self.rsshub_key_env, "") if self.rsshub_key_env else ""


@dataclass(frozen=True, slots=True)
class Site:
    id: str
    name: str
    unit: str
    kind: str
    url: str
    scope: tuple[str, ...]
    columns: tuple[Column, ...] = ()
    newmedia: tuple[NewMedia, ...] = ()


@dataclass(frozen=True, slots=True)
class Schedule:
    """The ``[schedule]`` section of the config: when the daemon samples, scans and warns."""

    window_start: dt.date | dt.datetime | None = None
    window_end: dt.date | dt.datetime | None = None  # a bare date is inclusive (its whole day)
    daily: tuple[dt.time, dt.time] | None = None
    samples_per_day: int = 24
    sample_jitter: float = 0.5
    seed: int | None = None
    scan_margin: float = 0.1
    default_site_requests: int = 5000
    webhook: str | None = None
    webhook_timeout: float = 10.0
    webhook_retries: int = 5
    warn_failure_rate: float = 0.03
    warn_homepage_days: int = 10
    warn_blank_margin: int = 1
    warn_stale_margin: int = 1
    warn_guides_margin: int = 1
    warn_unanswered_days: int = 75
    metrics_listen: str = "127.0.0.1:9108"

    def window(self, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime] | None:
        """The fixed window as aware times (a bare end date runs to the end of that day)."""
        if self.window_start is None or self.window_end is None:
            return None
        return window_moment(self.window_start, tz, end=False), window_moment(
            self.window_end, tz, end=True
        )

    def scan_window(
        self, now: dt.datetime, tz: dt.tzinfo
    ) -> tuple[dt.datetime, dt.datetime] | None:
        """The window the next scans are planned in, seen at ``now``.

        The fixed window while it is current or ahead (``None`` once it has passed); without
        one, the daily window in progress at ``now`` or the next one (its start moved to
        ``now`` when already running); ``None`` without any window (scans on demand).
        """
        fixed = self.window(tz)
        if fixed is not None:
            start, end = fixed
            if now >= end:
                return None
            return max(start, now), end
        if self.daily is None:
            return None
        local = now.astimezone(tz)
        for a, b in daily_intervals(
            local - dt.timedelta(days=1), local + dt.timedelta(days=2), self.daily
        ):
            if b > local:
                return max(a, local), b
        return None  # pragma: no cover - a daily window always recurs within two days

    @property
    def listen(self) -> tuple[str, int]:
        m = LISTEN_ADDRESS.match(self.metrics_listen)
        assert m is not None  # validated by crawler.config.schedule.parse_schedule
        return (m.group("v6") or m.group("host")), int(m.group("port"))


#: ``[[alerts]] kind``: where an alert goes.
ALERT_KINDS = ("webhook", "dingtalk", "wecom", "email")


@dataclass(frozen=True, slots=True)
class SecretRef:
    """Where a secret is read from when the daemon starts: an environment variable or a file,
    never the config file itself (nor the command line). ``key`` is the config key that named it
    (``alerts[0].secret_env``), for the error when it cannot be read."""

    key: str
    env: str | None = None
    file: Path | None = None

    def __str__(self) -> str:
        return f"${self.env}" if self.env is not None else f"file {self.file}"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Alert:
    """What every ``[[alerts]]`` entry has: ``key`` is where it is in the file (``alerts[1]``)."""

    key: str
    name: str
    timeout: float = 10.0  # seconds for one attempt
    retries: int = 5  # more attempts after the first, with exponential back-off
    report_url: str | None = None  # where officials read the full report (the web view)


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookAlert(_Alert):
    """A generic JSON webhook (the document of ``[schedule] webhook``)."""

    kind: str = "webhook"
    url: str | None = None  # inline, when it carries no credential
    url_secret: SecretRef | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DingTalkAlert(_Alert):
    """A 钉钉 custom robot (自定义机器人): its URL holds ``access_token=``; ``secret`` signs."""

    kind: str = "dingtalk"
    url_secret: SecretRef
    secret: SecretRef | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WeComAlert(_Alert):
    """A 企业微信 group robot (群机器人): its URL holds ``key=``."""

    kind: str = "wecom"
    url_secret: SecretRef


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailAlert(_Alert):
    """E-mail through an SMTP server."""

    kind: str = "email"
    host: str
    port: int
    security: str = "starttls"  # starttls | ssl | none
    user: str | None = None
    password: SecretRef | None = None
    sender: str  # the From address (``from`` in the file)
    to: tuple[str, ...]
    html: bool = False  # also an HTML part beside the plain text


AlertChannel = WebhookAlert | DingTalkAlert | WeComAlert | EmailAlert


def window_moment(value: dt.date | dt.datetime, tz: dt.tzinfo, *, end: bool) -> dt.datetime:
    """An end of the ``[schedule]`` window as an aware time: a bare date is 00:00 in ``tz`` of
    that day (``end``: of the next day, so that an end date is inclusive)."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    day = value + dt.timedelta(days=1) if end else value
    return dt.datetime.combine(day, dt.time(), tzinfo=tz)


def daily_intervals(
    start: dt.datetime, end: dt.datetime, daily: tuple[dt.time, dt.time] | None
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The parts of ``[start, end)`` inside the daily window (all of it without one).

    A daily window whose end is not after its start crosses midnight (``22:00-06:00``). Times
    are taken in ``start``'s time zone.
    """
    if end <= start:
        return []
    if daily is None:
        return [(start, end)]
    tz = start.tzinfo
    begin, finish = daily
    out: list[tuple[dt.datetime, dt.datetime]] = []
    day = start.astimezone(tz).date() - dt.timedelta(days=1)
    last = end.astimezone(tz).date()
    while day <= last:
        a = dt.datetime.combine(day, begin, tzinfo=tz)
        b_day = day if finish > begin else day + dt.timedelta(days=1)
        b = dt.datetime.combine(b_day, finish, tzinfo=tz)
        lo, hi = max(a, start), min(b, end)
        if lo < hi:
            out.append((lo, hi))
        day += dt.timedelta(days=1)
    return out


@dataclass(frozen=True, slots=True)
class Config:
    path: str
    sites: tuple[Site, ...]
    crawl: CrawlSettings = CrawlSettings()
    rules: Rules = Rules()
    checks: ChecksSettings = ChecksSettings()
    content: ContentSettings = ContentSettings()
    scoring: Mapping[str, float] = field(default_factory=dict)
    schedule: Schedule = Schedule()
    alerts: tuple[AlertChannel, ...] = ()  # [[alerts]], beside [schedule] webhook
    newmedia: NewMediaSettings = NewMediaSettings()
    timezone: str = "Asia/Shanghai"
    as_of: dt.datetime | None = None
    digest: str = ""  # of the file's bytes: the same config resumes across govmon versions

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def site(self, site_id: str) -> Site:
        for s in self.sites:
            if s.id == site_id:
                return s
        raise KeyError(site_id)
