"""Pages built by script: read what a browser reads, and say so when it cannot.

The engine hands every fetched in-scope page to :class:`ScriptedPages` before the checks see it:

* a page of a known platform is read without a browser (:mod:`checks.readers.jsread`): a Hanweb
  column's datastore rows are put where jpage would show them, with its later groups fetched by
  POST from ``dataproxy.jsp`` (a column's list page only); a gkmlpt shell gets its catalogue as
  links to each catalogue's list, and a gkmlpt API answer (JSON) becomes that list as HTML; a
  pager that exists only as script gets the URL its function builds as a plain link;
* an *important* page (a column's list page or one of its pages, the home page, a message of a
  consultation board) that is still built by script is rendered in headless Chromium
  (:mod:`checks.readers.render`) when ``[crawl] render = "auto"``: a page with scripts that
  fetch data
  (``$.ajax``, ``fetch``, ``XMLHttpRequest``, a Vue/Angular template …) and no dated list, or a
  pager whose target only the browser knows;
* when it cannot be read (``render = "never"``, no browser, the render failed or ran out of
  time) the page carries a :class:`ScriptNote` saying so: the checks report
  ``column.unreadable``, never a blank or stale column, nor judge a message on a shell.

A page read this way is stored (for ``scan --resume``) as read, with its note in a ``<meta
name="govmon-script">`` tag, so that a resumed scan reads it the same way without fetching or
rendering again. Every request goes through the engine's politeness (``fetch``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import html
import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import structlog
from selectolax.lexbor import LexborHTMLParser

from checks.readers import jsread
from checks.readers.extract import ParsedPage, parse_html
from checks.readers.listing import extract_items
from checks.readers.render import open_renderer
from checks.readers.rendering import (
    FetchAside,
    Rendered,
    Renderer,
    RendererFactory,
    RenderUnavailable,
)
from crawler.net.fetcher import FetchResult

if TYPE_CHECKING:
    from crawler.config.model import CrawlSettings

log = structlog.get_logger("govmon.scripted")

STATIC: Final = "static"  # read without a browser
RENDERED: Final = "rendered"  # read in headless Chromium
UNREADABLE: Final = "unreadable"
MAX_RECORDS: Final = 2000  # Hanweb rows fetched for one column, at most
RENDERED_KEPT: Final = 32  # rendered pages kept for the same page at another address
INSTALL_HINT: Final = (
    "install the browser: pip install 'govmon[browser]' and apt-get install chromium"
)
_INDEX_NAME = re.compile(r"/(?:index|default)\.(?:s?html?|jsp|php|aspx?)(?=$|\?)", re.I)
_MARKER = re.compile(r'<meta name="govmon-script" content="([^"]{1,2000})">')
# scripts that fetch a page's data, and templates filled by a script framework
_FETCH_WORDS = (
    "ajax", "$.get", "$.post", "getJSON", "fetch", "XMLHttpRequest", "axios", ".load", "$http",
    "v-for", "ng-repeat", "{{", "id=\"app\"", "id='app'", "id=\"root\"", "id='root'",
)  # fmt: skip
_FETCHES = re.compile(
    r"\$\s*\.\s*(?:ajax|get|post|getJSON)\s*\(|\bfetch\s*\(|XMLHttpRequest|\baxios\b|"
    r"\.load\s*\(\s*['\"]|\$http\b|\bv-for\s*=|\bng-repeat\s*=|\{\{\s*[\w$.]+\s*\}\}|"
    r"<div\b[^>]*\bid\s*=\s*['\"](?:app|root)['\"][^>]*>\s*</div>",
)


@dataclass(frozen=True, slots=True)
class ScriptNote:
    """How a page built by script was read: ``platform`` seen (``hanweb``, ``gkmlpt``,
    ``script pager``, ``script``), ``how`` (:data:`STATIC`, :data:`RENDERED` or
    :data:`UNREADABLE`), ``part`` that it concerns (``page``: the page's list, board or content;
    ``pager``: only its later pages) and, for an unreadable one, the ``reason``."""

    platform: str
    how: str
    part: str = "page"
    reason: str = ""

    @property
    def unreadable(self) -> bool:
        return self.how == UNREADABLE

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ScriptNote | None:
        try:
            data = json.loads(text)
            return cls(str(data["platform"]), str(data["how"]), str(data.get("part") or "page"),
                       str(data.get("reason") or ""))  # fmt: skip
        except (ValueError, KeyError, TypeError):
            return None

    def describe(self) -> str:
        what = "its later pages" if self.part == "pager" else "its list"
        if self.unreadable:
            return f"{what} built by script ({self.platform}) could not be read: {self.reason}"
        return f"built by script ({self.platform}), read {self.how}"


def _combine(notes: list[ScriptNote]) -> ScriptNote:
    """One note for a page: an unreadable part wins, then a render, then the static reads."""
    platforms = " + ".join(dict.fromkeys(n.platform for n in notes))
    bad = [n for n in notes if n.unreadable]
    if bad:
        part = "page" if any(n.part == "page" for n in bad) else "pager"
        return ScriptNote(platforms, UNREADABLE, part, "; ".join(n.reason for n in bad))
    how = RENDERED if any(n.how == RENDERED for n in notes) else STATIC
    return ScriptNote(platforms, how, "page", "")


@dataclass(frozen=True, slots=True)
class ScriptRead:
    """A page as read: the result to store (its body what the checks read), the parsed page and
    the note."""

    result: FetchResult
    parsed: ParsedPage
    note: ScriptNote


@dataclass(slots=True)
class ScriptStats:
    static: int = 0  # pages read by a static reader (Hanweb, gkmlpt, script pagers)
    rendered: int = 0  # pages rendered in the browser
    unreadable: int = 0  # pages that needed a browser and could not be read
    requests: int = 0  # requests made for them (dataproxy groups, a rendered page's own)

    @property
    def needed_browser(self) -> int:
        return self.rendered + self.unreadable


async def _default_factory(crawl: CrawlSettings, fetch: FetchAside) -> Renderer:
    return await open_renderer(crawl, fetch)


class ScriptedPages:
    """The script-built pages of one scan: static readers, the browser, and their counts."""

    def __init__(
        self,
        crawl: CrawlSettings,
        tz: dt.tzinfo,
        fetch: FetchAside,
        factory: RendererFactory | None = None,
    ) -> None:
        self.crawl = crawl
        self.tz = tz
        self._fetch = fetch
        self._factory = factory or _default_factory
        self._renderer: Renderer | None = None
        self._starting = asyncio.Lock()  # one browser, however many pages want it at once
        self._unavailable: str | None = None
        # a page rendered once is not rendered again under its other address (dir/ and
        # dir/index.html): by the page's bytes and address, the last few
        self._rendered: OrderedDict[tuple[str, str], Rendered] = OrderedDict()
        self.stats = ScriptStats()

    # -- the engine's two hooks -------------------------------------------------------------

    def api_page(self, url: str, result: FetchResult) -> FetchResult:
        """A known platform's JSON list API answered as the list page a browser shows (a gkmlpt
        catalogue page); any other result unchanged."""
        if not jsread.is_gkmlpt_api(url) or result.is_html:
            return result
        body = result.body.lstrip()
        if not body.startswith((b"{", b"[")):
            return result
        try:
            data = json.loads(body.decode("utf-8", "replace"))
        except ValueError:
            return result
        text = jsread.gkmlpt_list_html(result.final_url, data, self.tz)
        if text is None:
            return result
        self.stats.static += 1
        text = _with_marker(text, ScriptNote("gkmlpt", STATIC))
        return dataclasses.replace(
            result, body=text.encode("utf-8"), content_type="text/html; charset=utf-8"
        )

    async def read(
        self,
        url: str,
        result: FetchResult,
        parsed: ParsedPage,
        *,
        important: bool,
        replay: bool = False,
    ) -> ScriptRead | None:
        """The page as a browser shows it, when it is built by script (None: it is not)."""
        text = parsed.html
        if replay or jsread.is_gkmlpt_api(url):
            note = _stored_note(text)
            return ScriptRead(result, parsed, note) if note is not None else None
        notes: list[ScriptNote] = []
        changed: str | None = None
        static_covers = False
        stores = jsread.hanweb_datastores(text) if "datastore" in text else []
        if stores:
            static_covers = True
            extra, problem = await self._hanweb_groups(result.final_url, text, stores, important)
            changed = jsread.inline_datastores(text, stores, extra)
            notes.append(ScriptNote("hanweb", STATIC))
            if problem:
                notes.append(ScriptNote("hanweb", UNREADABLE, "pager", problem))
        if "_CONFIG" in text and "/gkmlpt/" in url:
            config = jsread.gkmlpt_config(text)
            if config is not None and config[1]:
                static_covers = True
                catalogue = jsread.gkmlpt_catalogue_html(result.final_url, *config)
                changed = _before_body_end(changed or text, catalogue)
                notes.append(ScriptNote("gkmlpt", STATIC))
        tree = parsed.tree if changed is None else LexborHTMLParser(changed)
        unresolved = 0
        if tree is not None and _may_have_script_links(text):
            targets = jsread.script_pager_targets(tree, changed or text, result.final_url)
            unresolved = 0 if targets.resolved else targets.unresolved
            if targets.resolved:
                jsread.link_pagers(tree, targets.resolved)
                changed = tree.html or changed
                notes.append(ScriptNote("script pager", STATIC))
        need: ScriptNote | None = None
        if important and tree is not None:
            if unresolved:
                need = ScriptNote("script pager", UNREADABLE, "pager")
            elif (
                not static_covers
                and _fetches_data(text)
                and not _dated_list(tree, result.final_url, parsed.charset)
            ):
                need = ScriptNote("script", UNREADABLE, "page")
        if need is not None:
            rendered = await self._render(url, result, need)
            if rendered.html:
                changed = rendered.html
                notes.append(dataclasses.replace(need, how=RENDERED, reason=""))
                if need.part == "pager" and rendered.pagers_followed == 0:
                    # clicked, it went nowhere: an in-place pager (its list redrawn by script)
                    why = "its pager redraws the list in place: no address of a later page"
                    notes.append(ScriptNote("script pager", UNREADABLE, "pager", why))
            else:
                notes.append(dataclasses.replace(need, reason=rendered.error or "not rendered"))
        if not notes:
            return None
        note = _combine(notes)
        if need is None:
            self.stats.static += 1
        final = _with_marker(changed if changed is not None else text, note)
        body = final.encode(_codec(parsed.charset), "xmlcharrefreplace")
        new = dataclasses.replace(result, body=body)
        return ScriptRead(new, parse_html(result.final_url, final, parsed.charset), note)

    async def rendered(self, url: str, result: FetchResult) -> tuple[str | None, str]:
        """A page with scripts rendered whatever its static read shows (a search box a script
        adds to a home page): ``(html, "")`` or ``(None, why not)``; a page without scripts is
        returned as it is."""
        if b"<script" not in result.body.lower():
            return result.body.decode("utf-8", "replace"), ""
        if self.crawl.render == "never" or await self._renderer_or_none() is None:
            return None, "no browser"  # not counted: nothing says the page needed one
        got = await self._render(url, result, ScriptNote("script", UNREADABLE, "page"))
        return (got.html or None), (got.error or "")

    async def close(self) -> None:
        renderer, self._renderer = self._renderer, None
        if renderer is not None:
            try:
                await renderer.close()
            except Exception as exc:  # the scan's own ending must not depend on the browser's
                log.warning("render.close_failed", error=str(exc))

    # -- the parts --------------------------------------------------------------------------

    async def _hanweb_groups(
        self, page_url: str, text: str, stores: list[jsread.Datastore], important: bool
    ) -> tuple[dict[int, list[str]], str]:
        """The rows of a column's later groups, fetched from ``dataproxy.jsp`` as jpage does,
        and what went wrong, if anything (the list page of a column only: one datastore)."""
        store = stores[0]
        nextgroup = store.nextgroup
        if not important or len(stores) != 1 or nextgroup is None:
            return {}, ""
        settings = jsread.jpage_settings(text)
        total = settings.get("totalrecord", store.total)
        if total is None:
            return {}, ""  # no pager says there is more (a box of the newest rows)
        per_page = settings.get("perpage") or max(len(store.records), 1)
        step = per_page * max(settings.get("groupsize", 1), 1)
        fetched = len(store.records)
        rows: list[str] = []
        while fetched < min(total, MAX_RECORDS):
            request = jsread.dataproxy_request(
                page_url, nextgroup, fetched + 1, fetched + step, per_page
            )
            if request is None:
                break
            post_url, form = request
            got = await self._fetch(
                post_url,
                method="POST",
                data=form,
                content_type="application/x-www-form-urlencoded; charset=UTF-8",
                max_body=self.crawl.max_body,
            )
            self.stats.requests += got.requests
            if not got.ok:
                reason = got.error or f"http {got.status}"
                return {0: rows}, f"dataproxy rows {fetched + 1}-{fetched + step}: {reason}"
            records, _, _ = jsread.parse_datastore(got.body.decode("utf-8", "replace"))
            if not records:
                break
            rows.extend(records)
            fetched += len(records)
        return {0: rows}, ""

    async def _render(self, url: str, result: FetchResult, need: ScriptNote) -> Rendered:
        if self.crawl.render == "never":
            self.stats.unreadable += 1
            return Rendered(error='rendering is off ([crawl] render = "never")')
        renderer = await self._renderer_or_none()
        if renderer is None:
            self.stats.unreadable += 1
            return Rendered(error=f"no browser: {self._unavailable}")
        # the page at its address less an index file name: a script may read its query
        address = _INDEX_NAME.sub("/", result.final_url, count=1)
        key = (hashlib.sha1(result.body).hexdigest(), address)
        known = self._rendered.get(key)
        if known is not None:
            self.stats.rendered += 1
            return known
        try:
            rendered = await renderer.render(url, result, pagers=need.part == "pager")
        except Exception as exc:  # a render must never stop the scan
            rendered = Rendered(error=f"render failed: {type(exc).__name__}: {exc}"[:300])
        if rendered.html and rendered.unsettled and need.part == "page":
            tree = LexborHTMLParser(rendered.html)
            if not _dated_list(tree, result.final_url, "utf-8"):
                rendered = Rendered(error=rendered.unsettled)
        if rendered.html:
            self._rendered[key] = rendered
            while len(self._rendered) > RENDERED_KEPT:
                self._rendered.popitem(last=False)
            self.stats.rendered += 1
        else:
            self.stats.unreadable += 1
            log.warning("render.failed", url=url, error=rendered.error)
        return rendered

    async def _renderer_or_none(self) -> Renderer | None:
        async with self._starting:
            if self._renderer is None and self._unavailable is None:
                try:
                    self._renderer = await self._factory(self.crawl, self._fetch)
                except RenderUnavailable as exc:
                    self._unavailable = f"{exc}; {INSTALL_HINT}"
                    log.warning("render.unavailable", reason=str(exc))
        return self._renderer

    @property
    def unavailable(self) -> str | None:
        """Why no page could be rendered, once that is known."""
        return self._unavailable


def _may_have_script_links(text: str) -> bool:
    """Whether a page may have links that run a script (cheap: no copy of the page)."""
    return any(word in text for word in ("avascript:", "AVASCRIPT:", "nclick", "NCLICK"))


def _fetches_data(text: str) -> bool:
    """Whether a page has scripts that fetch its data, or a template a framework fills (a
    literal look first: the pattern alone costs a millisecond on a page)."""
    if not any(word in text for word in _FETCH_WORDS):
        return False
    return _FETCHES.search(text, 0, 2_000_000) is not None


def _dated_list(tree: LexborHTMLParser, url: str, charset: str) -> bool:
    reading = extract_items(tree, url, charset)
    return reading.is_list and any(item.date is not None for item in reading.items)


def _before_body_end(text: str, block: str) -> str:
    at = text.lower().rfind("</body")
    return text + block if at < 0 else text[:at] + block + "\n" + text[at:]


def _with_marker(text: str, note: ScriptNote) -> str:
    meta = f'<meta name="govmon-script" content="{html.escape(note.to_json(), quote=True)}">'
    head = re.search(r"<head\b[^>]*>", text[:20000], re.IGNORECASE)
    if head is None:
        return meta + "\n" + text
    return text[: head.end()] + "\n" + meta + text[head.end() :]


def _stored_note(text: str) -> ScriptNote | None:
    found = _MARKER.search(text[:25000])
    return ScriptNote.from_json(html.unescape(found.group(1))) if found else None


def _codec(charset: str) -> str:
    try:
        "".encode(charset)
    except LookupError:
        return "utf-8"
    return charset
