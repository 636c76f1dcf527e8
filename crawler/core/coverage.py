"""Coverage: how much of a site a scan read, and when no verdict can honestly be given.

A verdict is the line a district office copies into its notice, so a site the scan could not
cover gets none: it is ``unchecked`` (未完成检查) with the reason, never a score that looks clean.
The engine writes one coverage row per site when its part of a scan ends
(:class:`storage.base.CoverageRow`); :func:`unchecked_reason` reads it.

The counts (``pages_*`` are in-scope pages, ``columns_*`` the site's columns):

``pages_found``
    pages the scan queued, plus those robots.txt kept it from (within ``max_pages``).
``pages_read``
    pages fetched and read (an HTML answer below 400, not a soft-404).
``pages_failed``
    pages judged broken after the retries and the confirming re-check (404, 5xx, DNS,
    timeout ...): these were checked, and are findings.
``pages_blocked``
    pages the server refused to the crawler (403, 401, 412, 429, an anti-bot challenge such as
    a 412 answer with a ``$_ts`` script) or robots.txt kept it from: not read, not broken.
``columns_found`` / ``columns_read``
    columns discovered or configured, and those whose list was read at least once.
``columns_failed``
    columns whose list page was judged broken (a finding of its own).
``columns_unreadable``
    lists built by script that could not be read (``column.unreadable``).

The documented thresholds (:data:`UNREAD_SHARE`): a finished site is ``unchecked`` when

* its home page answered only with a refusal (blocked, or forbidden by robots.txt), or with a
  page that could not be parsed (``unreadable``): nothing behind it could be read;
* more than half of the pages found were neither read nor judged broken; or
* more than half of its columns had a list that was neither read nor judged broken.

A site whose part of the scan did not finish (the scan was interrupted, is still running, or its
queue job failed) is ``unchecked`` too. A site whose home page never answered is not unchecked
but ``unqualified`` by ``site.unreachable`` (:mod:`crawler.core.engine`).
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any, NamedTuple

from storage.base import CoverageRecord as CoverageEntry

#: More than this share of pages (or of columns) unread makes a finished site ``unchecked``.
UNREAD_SHARE = Fraction(1, 2)

#: Why a site is unchecked, in the report's words (Chinese first, the English gloss after).
REASONS: Mapping[str, str] = {
    "interrupted": "检查被中断，本网站未检查完 (the scan was interrupted before this site was"
    " done)",
    "running": "检查尚在进行 (the scan is still running)",
    "incomplete": "检查未正常结束，本网站未检查完 (the scan ended abnormally before this site"
    " was done)",
    "not_started": "本网站未被检查 (no part of the scan covered this site)",
    "blocked": "首页拒绝访问（反爬虫拦截），无法读取网站内容 (the home page refused the crawler)",
    "robots": "robots.txt 禁止访问首页 (robots.txt forbids the home page)",
    "unreadable": "首页无法解析（页面结构异常），无法读取网站内容 (the home page could not be"
    " parsed)",
    "pages": "多数页面未能读取 (most pages could not be read)",
    "columns": "多数栏目列表未能读取 (most column lists could not be read)",
}


class Unchecked(NamedTuple):
    reason: str  # a key of REASONS
    text: str


def unchecked(code: str) -> Unchecked:
    return Unchecked(code, REASONS[code])


def unchecked_reason(
    coverage: Mapping[str, Any] | None, scan_status: str, *, legacy: bool = False
) -> Unchecked | None:
    """Why the site with this coverage row cannot be judged, or ``None`` when it can.

    ``coverage`` is ``None`` when the scan wrote no row for the site; ``legacy`` says the scan
    predates coverage rows altogether (then only the scan's status counts).
    """
    if coverage is None:
        if legacy:
            return None if scan_status == "complete" else _not_done(scan_status)
        return _not_done(scan_status) if scan_status != "complete" else unchecked("not_started")
    if not coverage.get("done"):
        return _not_done(scan_status)
    home = coverage.get("home")
    if home == "unreachable":
        return None  # judged: site.unreachable
    if home in ("blocked", "robots", "unreadable"):
        return unchecked(str(home))
    found = int(coverage.get("pages_found") or 0)
    judged = int(coverage.get("pages_read") or 0) + int(coverage.get("pages_failed") or 0)
    if found and Fraction(found - judged, found) > UNREAD_SHARE:
        return unchecked("pages")
    columns = int(coverage.get("columns_found") or 0)
    if columns:
        seen = int(coverage.get("columns_read") or 0) + int(coverage.get("columns_failed") or 0)
        if Fraction(columns - seen, columns) > UNREAD_SHARE:
            return unchecked("columns")
    return None


def _not_done(scan_status: str) -> Unchecked:
    if scan_status in ("interrupted", "running"):
        return unchecked(scan_status)
    return unchecked("incomplete")


def public(coverage: Mapping[str, Any] | None) -> CoverageEntry | None:
    """The ``coverage`` object of a site in the report (INTERFACE.md), from its stored row."""
    if coverage is None:
        return None

    def n(key: str) -> int:
        return int(coverage.get(key) or 0)

    return {
        "pages_found": n("pages_found"), "pages_read": n("pages_read"),
        "pages_failed": n("pages_failed"), "pages_blocked": n("pages_blocked"),
        "columns_found": n("columns_found"), "columns_read": n("columns_read"),
        "columns_failed": n("columns_failed"), "columns_unreadable": n("columns_unreadable"),
        "home": coverage.get("home"), "done": bool(coverage.get("done")),
    }  # fmt: skip
