"""Columns (栏目): find them, read their dated items, judge their updates the official way.

For every site the check keeps its columns: the configured ones, or, when none are configured,
those discovered from the navigation of the home page (一级栏目, top level) and of the pages it
links to. A column's list page and every page of its pagination (links or a TRS
``createPageHTML`` call) are read with
:mod:`checks.readers.listing`; an item without a date on the list
takes its article's own publication date when the article is crawled after the list (the
breadth-first crawl reads lists before the articles they lead to). At the end of the scan,
relative to the monitoring time point (``as_of``):

* ``homepage.stale`` (veto): no dated item on the home page within ``news_max_age_days`` (if
  the home page shows no dated item at all, the dated lists of its second-level pages count);
* ``column.blank``: a column with no items at all (or only a 暂无信息 placeholder);
* ``column.stale``: the newest item older than its category allows (undated items count as
  not updated); ``detail.key_column`` marks the columns the veto counts (news, and top-level
  notice and policy columns);
* ``column.irregular`` (a local rule): a gap between news items longer than
  ``news_max_gap_days`` within ``news_gap_window_days`` before as_of;
* ``column.undated`` (warning): some items carry no date the crawler can find;
* ``newmedia.stale`` (veto): a new-media account with no post within ``news_max_age_days``;
  its posts are read from its page or feed, or from the office's RSSHub instance (a route, read
  after the crawl: :meth:`ColumnCheck.run_site`);
* ``newmedia.unreadable`` (info): an account's feed that could not be read (RSSHub unreachable,
  its error page, a feed with no entries): never called stale then;
* ``column.unreadable`` (warning): the column's list (or the home page's) is built by script
  and could not be read (:mod:`checks.readers.scripted`):
  it is never called blank or stale then; when
  only its later pages could not be read, the rows read are judged as well.

One problem is reported once: a blank column is not also stale, a stale one not also irregular.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import quote

from checks.base import Finding, PageView, ScanContext, SiteTools
from checks.categories import classify_column, is_column_name
from checks.readers.extract import ATTACHMENT_EXTENSIONS, IMAGE_EXTENSIONS
from checks.readers.feeds import FeedRead, judged, looks_like_feed, read_feed, rsshub_answer
from checks.readers.listing import Item, extract_items, pagination
from checks.readers.published import published_date
from checks.readers.scripted import ScriptNote
from crawler.config.model import Column, NewMedia, Rules, Site
from crawler.net.urls import canonicalize, in_scope, path_extension
from storage.base import ColumnRow, ItemRow

CODES = (
    "homepage.stale",
    "column.stale",
    "column.blank",
    "column.irregular",
    "column.undated",
    "newmedia.stale",
    "column.unreadable",
    "newmedia.unreadable",
)
_PLACEHOLDER = re.compile(r"暂无(信息|内容|数据|记录|相关信息)|正在建设|建设中|敬请期待|无相关信息")
_FILE_EXTENSIONS = ATTACHMENT_EXTENSIONS | IMAGE_EXTENSIONS
_ARTICLE_URL = re.compile(
    r"/t\d{8}_\d+\.s?html?$|/20\d{2}[-_/]?\d{2}(/|[-_]?\d{2}/)|content_\d+|/art/20\d{2}/|"
    r"/\d{6,}\.s?html?$|[?&](id|articleid|newsid|infoid)=",
    re.IGNORECASE,
)
_INDEX = re.compile(r"(?<=/)(index|default)\.s?html?$", re.IGNORECASE)
_MORE = re.compile(r"^(更多|more|>>|»|查看更多)", re.IGNORECASE)
# the categories that are expected to hold dated items (a blank one is a problem)
_BLANK_APPLIES = frozenset(
    {"news", "notice", "policy", "interpretation", "personnel", "planning", "faq", "stats"}
)
_FEED_MAX_BODY = 2_000_000  # an RSSHub feed read at most (a route's feed is some 20 posts)


def max_age_days(category: str, rules: Rules) -> int:
    """How many days a column of ``category`` may go without an update (0: no rule)."""
    return {
        "news": rules.news_max_age_days,
        "notice": rules.notice_max_age_days,
        "policy": rules.policy_max_age_days,
        "personnel": rules.personnel_max_age_days,
        "planning": rules.planning_max_age_days,
        "faq": rules.faq_max_age_days,
        "stats": rules.stats_max_age_days,
    }.get(category, 0)


@dataclass(slots=True)
class ColumnState:
    url: str
    name: str
    category: str
    unit: str
    top_level: bool
    configured: bool
    parent: str | None = None
    simple: bool = False  # a consultation column of simple questions
    selectors: Mapping[str, str] = field(default_factory=dict)  # message-board overrides
    items: dict[str, Item] = field(default_factory=dict)
    read: set[str] = field(default_factory=set)  # list pages read ("dir/" = "dir/index.html")
    is_list: bool = False
    placeholder: bool = False
    why: str = ""
    unreadable: ScriptNote | None = None  # a list page built by script that could not be read


@dataclass(slots=True)
class SiteColumns:
    columns: dict[str, ColumnState] = field(default_factory=dict)
    list_pages: dict[str, str] = field(default_factory=dict)  # pagination URL -> column URL
    home_seen: bool = False
    home_dates: list[dt.date] = field(default_factory=list)
    home_items: list[Item] = field(default_factory=list)
    home_unreadable: ScriptNote | None = None
    second_level_dates: list[dt.date] = field(default_factory=list)
    # an account's page or feed URL -> its posts' dates (a list page's), or its feed as read
    newmedia: dict[str, list[dt.date] | FeedRead | None] = field(default_factory=dict)


class ColumnCheck:
    """The columns check (a built-in :class:`~checks.base.PageCheck`)."""

    codes: tuple[str, ...] = CODES

    def __init__(self, context: ScanContext) -> None:
        self.context = context
        self.rules = context.config.rules
        self.as_of = context.as_of_date
        self._sites: dict[str, SiteColumns] = {}
        # article URL -> its own publication date, for list items shown without one (a portal's
        # list may show articles of a department's channel, another site)
        self.published: dict[str, dt.date] = {}
        # the articles whose date is wanted: items a list shows without a date (reading every
        # page's date would cost a tenth of the crawl's CPU)
        self.wanted: set[str] = set()
        # item URL -> the column that lists it (first seen), for the checks of items
        self.item_owner: dict[str, ColumnState] = {}

    # -- per page -------------------------------------------------------------------------

    def site_state(self, site: Site) -> SiteColumns:
        state = self._sites.get(site.id)
        if state is None:
            state = self._sites[site.id] = SiteColumns()
            for col in site.columns:
                state.columns[col.url] = _configured(col, site)
            for media in site.newmedia:
                if media.route is None:  # an RSSHub route is read by run_site
                    state.newmedia[media.url] = None
        return state

    def on_page(self, site: Site, page: PageView) -> Iterable[Finding]:
        state = self.site_state(site)
        parsed = page.parsed
        tree = parsed.tree
        if tree is None:
            return ()
        if page.url in state.newmedia:
            state.newmedia[page.url] = self._newmedia_read(page)
            return ()
        if page.url in self.wanted:
            day = published_date(tree, as_of=self.as_of)
            if day is not None:
                self.published[page.url] = day
        column = self._column_of(state, page)
        reading = None
        if page.is_home or column is not None or page.depth == 1:
            reading = extract_items(tree, page.final_url, parsed.charset, as_of=self.as_of)
        if page.is_home:
            state.home_seen = True
            if page.script is not None and page.script.unreadable:
                state.home_unreadable = page.script
            assert reading is not None
            state.home_items = [i for i in (*reading.items, *reading.extra) if i.date]
            state.home_dates = [i.date for i in state.home_items if i.date]
        elif page.depth == 1 and reading is not None and reading.is_list:
            state.second_level_dates.extend(i.date for i in reading.items if i.date)
        if not site.columns and page.depth <= 1:
            # a dated row of a list is an item, however much its title sounds like a column
            items = {i.url for i in (*reading.items, *reading.extra)} if reading else set()
            self._discover(site, state, page, items)
        if column is not None and reading is not None:
            column.read.add(_INDEX.sub("", page.final_url))
            column.is_list = column.is_list or reading.is_list
            _note_script(column, page.script, reading.why)
            if not column.why:
                column.why = reading.why
            for item in reading.items:
                # a link to the home page or to a column is navigation, not an item
                if item.url != site.url and item.url not in state.columns:
                    column.items.setdefault(item.url, item)
                    self.item_owner.setdefault(item.url, column)
                    if item.date is None:
                        self.wanted.add(item.url)
            if not reading.items and _PLACEHOLDER.search(_body_text(page)):
                column.placeholder = True
            for more in pagination(tree, page.final_url, parsed.html):
                if more not in state.columns and more not in state.list_pages:
                    state.list_pages[more] = column.url
                    page.follow(more)
        return ()

    def wants_browser_view(self, site: Site, url: str) -> bool:
        """A column's list page (or a page of its pagination) is read as a browser shows it."""
        state = self.site_state(site)
        return url in state.columns or url in state.list_pages

    def list_column(self, site: Site, page: PageView) -> ColumnState | None:
        """The column whose list page (or a page of its pagination) ``page`` is."""
        return self._column_of(self.site_state(site), page)

    def item_column(self, url: str) -> ColumnState | None:
        """The column that lists ``url`` as an item (known once its list page was read)."""
        return self.item_owner.get(url)

    def item_date(self, url: str) -> dt.date | None:
        column = self.item_owner.get(url)
        item = column.items.get(url) if column is not None else None
        return (item.date if item is not None else None) or self.published.get(url)

    def columns(self, site: Site) -> list[ColumnState]:
        return list(self.site_state(site).columns.values())

    def _column_of(self, state: SiteColumns, page: PageView) -> ColumnState | None:
        for url in (page.url, page.final_url):
            column = state.columns.get(url)
            if column is None and url in state.list_pages:
                column = state.columns.get(state.list_pages[url])
            if column is not None:
                return column
        return None

    def _discover(self, site: Site, state: SiteColumns, page: PageView, items: set[str]) -> None:
        """Columns from the navigation: in-scope links whose text names a column."""
        tree = page.parsed.tree
        assert tree is not None
        parent = None if page.is_home else page.url
        for node in tree.css("a[href]"):
            text = (node.attributes.get("title") or "").strip()
            label = " ".join(node.text(strip=True).split())
            if not is_column_name(label):
                if not is_column_name(text) or _MORE.match(label):
                    continue
                label = text
            url = canonicalize(node.attributes.get("href") or "", page.final_url, "utf-8")
            if url is None or not in_scope(url, site.scope) or _ARTICLE_URL.search(url):
                continue
            if path_extension(url) in _FILE_EXTENSIONS:
                continue  # 通知.pdf is an attachment, not a column
            if url in state.columns or url == site.url or url in state.list_pages or url in items:
                continue
            state.columns[url] = ColumnState(
                url=url,
                name=label,
                category=classify_column(label),
                unit=site.unit,
                top_level=page.is_home,
                configured=False,
                parent=parent,
            )
            page.follow(url)

    def _newmedia_read(self, page: PageView) -> list[dt.date] | FeedRead:
        """An account's page: its feed (:mod:`checks.readers.feeds`), or the dated items of a
        list of posts; unread (never judged) when neither gives a dated post."""
        head = page.parsed.html[:4096].encode("utf-8")
        if looks_like_feed(head):
            body = page.parsed.html[:_FEED_MAX_BODY].encode("utf-8")
            feed = read_feed(body, "application/xml; charset=utf-8", self.context.config.tz)
            if feed is None:
                return FeedRead(unread="订阅源无法解析，无从判断更新情况")
            return judged(feed)
        tree = page.parsed.tree
        assert tree is not None
        reading = extract_items(tree, page.final_url, page.parsed.charset, as_of=self.as_of)
        dates = [i.date for i in (*reading.items, *reading.extra) if i.date]
        if not dates and page.script is not None and page.script.unreadable:
            return FeedRead(unread="账号页面由脚本生成，未能读取，无从判断更新情况")
        return dates

    # -- per site ---------------------------------------------------------------------------

    def finish(self, site: Site) -> Iterable[Finding]:
        state = self.site_state(site)
        found: list[Finding] = []
        found.extend(self._homepage(site, state))
        for column in state.columns.values():
            self._fill_dates(column)
            found.extend(self._judge(site, column))
        for media in site.newmedia:
            if media.route is None:
                found.extend(self._judge_newmedia(site, media, state.newmedia.get(media.url)))
        return found

    async def run_site(self, site: Site, tools: SiteTools) -> list[Finding]:
        """The site's accounts read through the office's RSSHub instance: each route's feed is
        asked for once, with the access key (from the environment) added to the request only;
        the URL judged and reported is the feed's address without it."""
        settings = self.context.config.newmedia
        key = settings.rsshub_key()
        found: list[Finding] = []
        for media in site.newmedia:
            if media.route is None:
                continue
            url = media.url
            if key:
                url += ("&" if "?" in url else "?") + "key=" + quote(key, safe="")
            result = await tools.fetch(url, max_body=_FEED_MAX_BODY)
            read = rsshub_answer(
                result.status, result.error, result.content_type, result.body,
                self.context.config.tz,
            )  # fmt: skip
            if read.status in (401, 403) and settings.rsshub_key_env and not key:
                read = replace(
                    read, unread=f"{read.unread}；环境变量 {settings.rsshub_key_env} 未设置"
                )
            found.extend(self._judge_newmedia(site, media, read, secret=key))
        return found

    def inventory(self, site: Site) -> list[ColumnRow | ItemRow]:
        """The columns of ``site`` as found, and their items, for the store (``govmon columns``,
        reports, and the next scan's backdating check)."""
        state = self.site_state(site)
        rows: list[ColumnRow | ItemRow] = []
        for item in state.home_items:
            # the home page's own dated items, listed under the home page's URL: the daemon's
            # early warning (首页 N days without update) reads them
            rows.append(ItemRow(site.id, site.url, item.url, item.title, _iso(item.date)))
        for c in state.columns.values():
            dated = [i.date for i in c.items.values() if i.date and i.date <= self.as_of]
            rows.append(
                ColumnRow(
                    site=site.id, url=c.url, name=c.name, category=c.category, unit=c.unit,
                    top_level=c.top_level, configured=c.configured, parent=c.parent,
                    items=len(c.items), dated_items=len(dated),
                    newest=max(dated).isoformat() if dated else None, pages=len(c.read),
                    is_list=c.is_list, why=c.why,
                )
            )  # fmt: skip
            for item in c.items.values():
                day = item.date.isoformat() if item.date else None
                rows.append(ItemRow(site.id, c.url, item.url, item.title, day))
        return rows

    def _fill_dates(self, column: ColumnState) -> None:
        for url, item in list(column.items.items()):
            if item.date is None and url in self.published:
                column.items[url] = Item(item.title, item.url, self.published[url])

    def _finding(self, code: str, site: Site, column: ColumnState | None, url: str,
                 detail: dict[str, object]) -> Finding:  # fmt: skip
        return Finding(
            check=code,
            site=site.id,
            unit=column.unit if column is not None else site.unit,
            url=url,
            page=url,
            column=column.name if column is not None else None,
            detail=detail,
        )

    def _homepage(self, site: Site, state: SiteColumns) -> list[Finding]:
        if not state.home_seen:
            return []  # the home page could not be read: the link check says why
        limit = self.rules.news_max_age_days
        dates = [d for d in state.home_dates if d <= self.as_of]
        if not dates and state.home_unreadable is not None:
            said = _unreadable_detail(state.home_unreadable, {"name": "首页"})
            return [self._finding("column.unreadable", site, None, site.url, said)]
        source = "home page"
        if not dates:
            dates = [d for d in state.second_level_dates if d <= self.as_of]
            source = "second-level pages (the home page shows no dated items)"
        newest = max(dates) if dates else None
        if newest is not None and (self.as_of - newest).days <= limit:
            return []
        detail: dict[str, object] = {
            "newest": newest.isoformat() if newest else None,
            "days_since": (self.as_of - newest).days if newest else None,
            "max_age_days": limit,
            "judged_on": source,
            "as_of": self.as_of.isoformat(),
        }
        return [self._finding("homepage.stale", site, None, site.url, detail)]

    def _judge(self, site: Site, column: ColumnState) -> list[Finding]:
        if len(column.read) == 0:
            return []  # never read (broken, robots, limits): nothing honest to say
        items = list(column.items.values())
        base: dict[str, object] = {
            "category": column.category,
            "name": column.name,
            "top_level": column.top_level,
            "items": len(items),
            "list_pages": len(column.read),
        }
        unreadable: list[Finding] = []
        if column.unreadable is not None:
            said = _unreadable_detail(column.unreadable, base)
            unreadable = [self._finding("column.unreadable", site, column, column.url, said)]
            if column.unreadable.part == "page" or not items:
                return unreadable  # nothing honest to say about what could not be read
        if not items:
            if column.category in _BLANK_APPLIES or column.placeholder:
                detail = {**base, "placeholder": column.placeholder, "why": column.why}
                return [self._finding("column.blank", site, column, column.url, detail)]
            return []
        dated = sorted(i.date for i in items if i.date is not None and i.date <= self.as_of)
        undated = [i for i in items if i.date is None]
        found: list[Finding] = unreadable
        limit = max_age_days(column.category, self.rules)
        key = column.category == "news" or (
            column.top_level and column.category in ("notice", "policy")
        )
        newest = dated[-1] if dated else None
        stale = False
        if limit > 0 and (newest is None or (self.as_of - newest).days > limit):
            stale = True
            detail = {
                **base,
                "newest": newest.isoformat() if newest else None,
                "days_since": (self.as_of - newest).days if newest else None,
                "max_age_days": limit,
                "key_column": key,
                "as_of": self.as_of.isoformat(),
            }
            if newest is None:
                detail["reason"] = "no dated items (undated items count as not updated)"
            found.append(self._finding("column.stale", site, column, column.url, detail))
        if undated and dated:
            detail = {
                **base,
                "undated": len(undated),
                "examples": [i.url for i in undated[:5]],
            }
            found.append(self._finding("column.undated", site, column, column.url, detail))
        if not stale and column.category == "news" and self.rules.news_max_gap_days > 0:
            gap = self._largest_gap(dated)
            if gap is not None and gap[0] > self.rules.news_max_gap_days:
                detail = {
                    **base,
                    "largest_gap_days": gap[0],
                    "from": gap[1].isoformat(),
                    "to": gap[2].isoformat(),
                    "max_gap_days": self.rules.news_max_gap_days,
                    "window_days": self.rules.news_gap_window_days,
                }
                found.append(self._finding("column.irregular", site, column, column.url, detail))
        return found

    def _largest_gap(self, dated: list[dt.date]) -> tuple[int, dt.date, dt.date] | None:
        """The longest gap between consecutive items (and from the last one to as_of) within
        the window; an item before the window anchors its start."""
        start = self.as_of - dt.timedelta(days=self.rules.news_gap_window_days)
        before = [d for d in dated if d < start]
        points = ([before[-1]] if before else []) + [d for d in dated if d >= start]
        if not points:
            return None
        points.append(self.as_of)
        best: tuple[int, dt.date, dt.date] | None = None
        for a, b in itertools.pairwise(points):
            gap = (b - max(a, start)).days if a < start else (b - a).days
            if best is None or gap > best[0]:
                best = (gap, a, b)
        return best

    def _judge_newmedia(
        self, site: Site, media: NewMedia, read: list[dt.date] | FeedRead | None, *,
        secret: str = "",
    ) -> list[Finding]:  # fmt: skip
        """One account: ``newmedia.stale`` when its newest post is too old; nothing when its
        page was not read (the link check reports a broken account page), and
        ``newmedia.unreadable`` when its feed could not be read: never a verdict on that."""
        url = media.url
        if read is None:
            return []
        if isinstance(read, FeedRead) and read.feed is None:
            detail: dict[str, object] = {"account": media.name, "reason": read.unread}
            if media.route is not None:
                detail["route"] = media.route
            if read.status is not None:
                detail["status"] = read.status
            for k, v in read.detail.items():  # RSSHub's own message, never the access key
                detail[k] = str(v).replace(secret, "***") if secret else v
            return [Finding("newmedia.unreadable", site.id, site.unit, url, detail=detail)]
        dates = read.feed.dates() if isinstance(read, FeedRead) and read.feed else read
        assert isinstance(dates, list)
        limit = self.rules.news_max_age_days
        valid = [d for d in dates if d <= self.as_of]
        newest = max(valid) if valid else None
        if newest is not None and (self.as_of - newest).days <= limit:
            return []
        detail = {
            "account": media.name,
            "newest": newest.isoformat() if newest else None,
            "days_since": (self.as_of - newest).days if newest else None,
            "max_age_days": limit,
            "posts": len(read.feed.entries)
            if isinstance(read, FeedRead) and read.feed
            else len(dates),
        }
        if media.route is not None:
            detail["route"] = media.route
        return [
            Finding(check="newmedia.stale", site=site.id, unit=site.unit, url=url, detail=detail)
        ]


def _configured(col: Column, site: Site) -> ColumnState:
    return ColumnState(
        url=col.url,
        name=col.name,
        category=col.category or classify_column(col.name),
        unit=col.unit or site.unit,
        top_level=col.top_level,
        configured=True,
        simple=col.simple,
        selectors=col.selectors,
    )


def _note_script(column: ColumnState, note: ScriptNote | None, why: str) -> None:
    """What a list page built by script tells of its column: how it was read (in ``why``, which
    says ``column.unreadable: …`` for a column that could not be), or that it could not be."""
    if note is None:
        return
    if note.unreadable:
        if column.unreadable is None or (note.part == "page" and column.unreadable.part != "page"):
            column.unreadable = note
        column.why = f"column.unreadable: {note.describe()}"
    elif not column.why:
        column.why = f"{why} ({note.describe()})"


def _unreadable_detail(note: ScriptNote, base: dict[str, object]) -> dict[str, object]:
    return {
        **base,
        "platform": note.platform,
        "part": note.part,
        "reason": note.reason,
        "what": note.describe(),
    }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _body_text(page: PageView) -> str:
    tree = page.parsed.tree
    body = tree.body if tree is not None else None
    return body.text(separator=" ")[:20000] if body is not None else ""
