"""The site-level indicator checks wired to the crawl: site search, IPv6, the 找错 entry,
survey and interview activity, message statistics, backdated items and hijacked external links.

The judgements live in :mod:`checks.search`, :mod:`checks.ipv6`, :mod:`checks.zhaocuo`,
:mod:`checks.activity`, :mod:`checks.statistics`, :mod:`checks.backdated` and
:mod:`checks.hijack`; this module routes pages to them and, once a site is crawled, makes the few
requests they need of their own (a search submission, an IPv6 probe, a capped look at external
pages) through the scan's politeness.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from checks.activity import ActivityRules, judge_activity
from checks.backdated import find_backdated, judge_backdated
from checks.base import BrowserTools, Finding, PageView, ScanContext, SiteTools
from checks.catalogue import Judgement
from checks.columns import ColumnCheck
from checks.hijack import TargetSnapshot, judge_hijack, read_target, severity_of, snapshot
from checks.ipv6 import judge_ipv6, judge_literal
from checks.readers.encoding import decode_html
from checks.readers.extract import UnreadablePage, parse_tree
from checks.readers.forms import (
    FORM_CONTENT_TYPE,
    SearchForm,
    SearchLink,
    build_request,
    find_search,
)
from checks.readers.jsread import inline_scripts
from checks.search import judge_search, pick_query, read_results
from checks.statistics import MessageStats, judge_statistics, read_stats_page, stats_links
from checks.zhaocuo import ZhaocuoEntry, find_zhaocuo, judge_zhaocuo
from crawler.config.model import Site
from crawler.net.fetcher import FetchResult
from crawler.net.urls import hostname, is_ip_literal

HIJACK_PREFIX = 65536  # bytes of an external page read to judge it


def _finding(
    j: Judgement, site: Site, url: str, *, column: str | None = None, unit: str | None = None
) -> Finding:
    return Finding(
        check=j.code,
        site=site.id,
        unit=unit or site.unit,
        url=url,
        page=url,
        column=column,
        detail=j.detail,
    )


_SEARCH_HINT = re.compile(r"search|sousuo|搜索|检索", re.IGNORECASE)
_WRITES_HTML = re.compile(r"innerHTML|document\.write|insertAdjacentHTML|\.append\(|\.html\(")


def _writes_a_search(html_text: str) -> bool:
    """Whether the page's own scripts write something that speaks of a search (a search box
    added by script): only then is the home page rendered to look for it."""
    scripts = inline_scripts(html_text)
    return bool(_SEARCH_HINT.search(scripts) and _WRITES_HTML.search(scripts))


async def _search_added_by_script(url: str, html_text: str, tools: SiteTools) -> object:
    """The search a script adds to the home page, as a browser shows it (None without a
    browser: then the static read stands)."""
    if not isinstance(tools, BrowserTools):
        return None
    page = FetchResult(url=url, final_url=url, status=200, body=html_text.encode("utf-8"),
                       content_type="text/html; charset=utf-8")  # fmt: skip
    shown, _ = await tools.browser_view(url, page, always=True)
    if shown is None:
        return None
    try:
        return find_search(parse_tree(shown), url, "utf-8")
    except UnreadablePage:
        return None


def _unreadable_search(site: Site, url: str, reason: str) -> Finding:
    detail = {
        "name": "站内搜索",
        "platform": "script",
        "part": "page",
        "reason": reason,
        "what": f"the search's results are built by script and could not be read: {reason}",
    }
    return Finding(check="column.unreadable", site=site.id, unit=site.unit, url=url, page=url,
                   column="站内搜索", detail=detail)  # fmt: skip


@dataclass(slots=True)
class _SiteState:
    zhaocuo: list[ZhaocuoEntry | None] = field(default_factory=list)
    search: object = None  # SearchForm | SearchLink | SearchBox | None, from the home page
    search_seen: bool = False
    # the home page with no search form but a script that writes one (rendered at the end)
    search_by_script: tuple[str, str] | None = None  # (URL, HTML)
    home_charset: str = "utf-8"
    stats: dict[str, list[MessageStats]] = field(default_factory=dict)  # column -> statistics
    stats_pages: dict[str, str] = field(default_factory=dict)  # linked 统计 page -> column


class IndicatorsCheck:
    """site.no_search / site.search_broken, site.no_ipv6, site.no_zhaocuo, column.too_few,
    message.no_statistics, content.backdated and link.hijacked."""

    needs_columns: ClassVar[bool] = True  # reads the columns check's model of the site
    codes: tuple[str, ...] = (
        "site.no_search",
        "site.search_broken",
        "site.no_ipv6",
        "site.no_zhaocuo",
        "column.too_few",
        "message.no_statistics",
        "content.backdated",
        "link.hijacked",
        "column.unreadable",  # a search whose results are built by script and were not read
    )

    def __init__(self, context: ScanContext, columns: ColumnCheck) -> None:
        self.context = context
        self.config = context.config
        self.columns = columns
        self.as_of = context.as_of_date
        rules = context.config.rules
        self.activity_rules = ActivityRules(
            survey_min_portal=rules.survey_min_portal,
            survey_min_other=rules.survey_min_other,
            interview_min=rules.interview_min,
        )
        self._sites: dict[str, _SiteState] = {}

    def _state(self, site: Site) -> _SiteState:
        return self._sites.setdefault(site.id, _SiteState())

    # -- pages --------------------------------------------------------------------------------

    def on_page(self, site: Site, page: PageView) -> Iterable[Finding]:
        tree = page.parsed.tree
        if tree is None:
            return ()
        state = self._state(site)
        charset = page.parsed.charset
        if page.is_home:
            state.zhaocuo.append(find_zhaocuo(tree, page.final_url, charset))
            if not state.search_seen:
                state.search = find_search(tree, page.final_url, charset)
                state.search_seen = True
                state.home_charset = charset
                if state.search is None and _writes_a_search(page.parsed.html):
                    state.search_by_script = (page.final_url, page.parsed.html)
        column = self.columns.list_column(site, page)
        if column is not None and column.category == "consultation":
            found = read_stats_page(tree, page.final_url, as_of=self.as_of, charset=charset)
            state.stats.setdefault(column.url, []).extend(found)
            for url in stats_links(tree, page.final_url, charset):
                if url not in state.stats_pages:
                    state.stats_pages[url] = column.url
                    page.follow(url)
        owner = state.stats_pages.get(page.url)
        if owner is not None:
            found = read_stats_page(
                tree, page.final_url, as_of=self.as_of, stats_page=True, charset=charset
            )
            state.stats.setdefault(owner, []).extend(found)
        return ()

    def finish(self, site: Site) -> Iterable[Finding]:
        state = self._state(site)
        found: list[Finding] = []
        if state.zhaocuo:
            j = judge_zhaocuo(site.url, state.zhaocuo, looked_on=[site.url])
            if j is not None:
                found.append(_finding(j, site, site.url))
        for column, j in judge_activity(
            self.columns.columns(site), site.kind, self.as_of, self.activity_rules
        ):
            found.append(_finding(j, site, column.url, column=column.name, unit=column.unit))
        boards = [c for c in self.columns.columns(site) if c.category == "consultation"]
        read = [c for c in boards if c.read]
        if read:
            judged = judge_statistics(
                [(c.url, state.stats.get(c.url, [])) for c in read],
                as_of=self.as_of,
                max_age_days=self.config.rules.message_stats_max_age_days,
                pages=list(state.stats_pages),
            )
            if judged is not None:
                url, j = judged
                column = next((c for c in read if c.url == url), read[0])
                found.append(_finding(j, site, url, column=column.name, unit=column.unit))
        return found

    # -- after the crawl: requests of its own -----------------------------------------------------

    async def run_site(self, site: Site, tools: SiteTools) -> Iterable[Finding]:
        found: list[Finding] = []
        enabled = self.config.checks.enabled
        if enabled("site.no_search") or enabled("site.search_broken"):
            found.extend(await self._search(site, tools))
        if enabled("site.no_ipv6"):
            found.extend(await self._ipv6(site, tools))
        if enabled("content.backdated"):
            found.extend(await self._backdated(site, tools))
        if enabled("link.hijacked"):
            found.extend(await self._hijacked(site, tools))
        return found

    async def _search(self, site: Site, tools: SiteTools) -> list[Finding]:
        state = self._state(site)
        if not state.search_seen:
            return []  # the home page was not read: the link check says why
        found = state.search
        via: SearchLink | None = None
        if found is None and state.search_by_script is not None:
            found = await _search_added_by_script(*state.search_by_script, tools)
        if isinstance(found, SearchLink):
            via = found
            got = await tools.fetch(found.url)
            found = None
            if got.ok and got.body:
                d = decode_html(got.body, got.content_type)
                try:
                    found = find_search(parse_tree(d.text), got.final_url, d.charset)
                except UnreadablePage:
                    return []  # the search page cannot be read: no honest judgement
                if isinstance(found, SearchLink):
                    found = None
        if not isinstance(found, SearchForm):
            j = judge_search(site.url, found, via=via)  # type: ignore[arg-type]
            return [_finding(j, site, site.url)] if j is not None else []
        items = [i for c in self.columns.columns(site) for i in c.items.values()]
        item = pick_query(items, self.as_of)
        if item is None:
            return []  # nothing recent to search for: no honest judgement
        request = build_request(found, item.title)
        method, url, body = request
        got = await tools.fetch(
            url,
            method=method,
            data=body,
            content_type=FORM_CONTENT_TYPE if body is not None else None,
        )
        results = None
        failure = None
        if got.ok and got.body:
            d = decode_html(got.body, got.content_type)
            try:
                results = read_results(parse_tree(d.text), item.title)
                if not results.readable and isinstance(tools, BrowserTools):
                    # no results and no "nothing found": perhaps built by script, as a browser
                    # shows
                    shown, why = await tools.browser_view(got.final_url, got)
                    if shown is None:
                        return [_unreadable_search(site, got.final_url, why)]
                    results = read_results(parse_tree(shown), item.title)
            except UnreadablePage:
                return []  # the results cannot be read: no honest judgement
        else:
            failure = got.error or f"http {got.status}"
        j = judge_search(
            site.url,
            found,
            via=via,
            query=item.title,
            item_url=item.url,
            request=request,
            results=results,
            failure=failure,
            require_categories=bool(self.config.rules.search_categories_required),
        )
        return [_finding(j, site, site.url)] if j is not None else []

    async def _ipv6(self, site: Site, tools: SiteTools) -> list[Finding]:
        host = hostname(site.url)
        if is_ip_literal(host):
            # an address, not a name: nothing to look up, and the address says it all
            j = judge_literal(site.url, host)
            return [_finding(j, site, site.url)] if j is not None else []
        probe = await tools.probe_ipv6(site.url)
        if probe is None:
            return []  # nothing may be looked up (tests, demo, replays)
        j = judge_ipv6(site.url, probe.result, local_ipv6=probe.local_ipv6)
        return [_finding(j, site, site.url)] if j is not None else []

    async def _backdated(self, site: Site, tools: SiteTools) -> list[Finding]:
        earlier_at, before = await tools.previous_items(site.id)
        if earlier_at is None or not before:
            return []
        earlier = dt.datetime.fromisoformat(earlier_at)
        found: list[Finding] = []
        for column in self.columns.columns(site):
            old = [(r.url, r.title, r.date) for r in before if r.column_url == column.url]
            if not old:
                continue
            now = [(i.url, i.title, i.date) for i in column.items.values()]
            suspects = find_backdated(now, old, earlier_at=earlier, tz=self.config.tz)
            for url, j in judge_backdated(
                suspects,
                column_url=column.url,
                column_name=column.name,
                earlier_at=earlier,
                now_at=self.context.as_of,
                earlier_items=len(old),
            ):
                found.append(_finding(j, site, url, column=column.name, unit=column.unit))
        return found

    async def _hijacked(self, site: Site, tools: SiteTools) -> list[Finding]:
        found: list[Finding] = []
        for url in tools.external_links(site.id):
            got = await tools.fetch(url, max_body=HIJACK_PREFIX)
            if not got.ok or not got.body:
                continue  # a broken or refused target is the link check's to report
            before = await tools.previous_target(url)
            previous = TargetSnapshot(title=before[0], final_host=before[1]) if before else None
            now = snapshot(read_target(got.final_url, got.body, got.content_type))
            await tools.remember_target(url, now.title, now.final_host)
            j = judge_hijack(url, got.final_url, got.body, got.content_type, previous=previous)
            if j is None:
                continue
            finding = _finding(j, site, url)
            found.append(
                Finding(
                    check=finding.check, site=finding.site, unit=finding.unit, url=url,
                    page=finding.page, detail=finding.detail, severity=severity_of(j),
                )
            )  # fmt: skip
        return found
