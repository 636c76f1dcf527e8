"""Headless Chromium for pages built by script: Playwright for Python driving the system's
Chromium (Debian's ``chromium`` package; Playwright's own browser download is not needed).

:func:`open_renderer` starts the browser once, for the first page that needs it, and says why
when it cannot (:class:`~checks.readers.rendering.RenderUnavailable`: Playwright not installed, no
Chromium, or it would not start). Each page renders in a fresh browser context:

* every request the page makes goes through govmon's own fetcher (``page.route``), that is the
  engine's politeness: the host's rate and concurrency limits, the private-address rule, the
  recorder (``scan --record``) and ``govmon replay`` (``--proxy``) hold for them; the page itself
  is answered from the response the crawler already has; images, fonts, media and style sheets
  are not fetched;
* it gets ``[crawl] render_timeout`` seconds in all: to load, to let its scripts fetch what they
  fetch (until the network is idle), and, for a pager that exists only as script, to click each
  pager link and note where the browser is sent (that navigation is aborted, the page stays);
* at most ``render_concurrency`` pages render at once; the browser is started afresh after a
  crash and after every ``render_restart`` pages.

The page as rendered (its DOM serialized, with each script pager's target as a plain link)
goes back to :mod:`checks.readers.scripted`, which reads it like any page.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Final

import structlog
from selectolax.lexbor import LexborHTMLParser

from checks.readers import jsread
from checks.readers.rendering import FetchAside, Rendered, RenderUnavailable
from crawler.net.fetcher import FetchResult

if TYPE_CHECKING:
    from crawler.config.model import CrawlSettings

log = structlog.get_logger("govmon.render")

CHROMIUM_ARGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)
CANDIDATES: Final = ("chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium")
NOT_FETCHED: Final = frozenset(
    {"image", "media", "font", "stylesheet", "websocket", "manifest", "texttrack", "eventsource"}
)
CLICK_WAIT: Final = 1.5  # seconds a pager click may take to send the browser somewhere
SCRIPT_CACHE: Final = 64  # scripts kept for the next page (jquery.js on every page)
# the page's pager elements that run a script, marked data-govmon-pager=N (N from 0); the count
_MARK_PAGERS: Final = r"""
() => {
  const words = new Set(__WORDS__);
  let n = 0;
  for (const el of document.querySelectorAll('[onclick], a[href^="javascript"]')) {
    const code = (el.getAttribute('onclick') || el.getAttribute('href') || '');
    const label = (el.innerText || el.value || '').trim().replace(/^[\[(]+|[\])]+$/g, '');
    const pagerish = words.has(label.toLowerCase()) || /^[0-9]{1,5}$/.test(label);
    if (!pagerish && !/page|goto|turn|jump/i.test(code)) continue;
    if (!/\(/.test(code) || /^\s*javascript\s*:\s*(void\s*\(0\)|;)?\s*;?\s*$/i.test(code)
        && !el.getAttribute('onclick')) continue;
    el.setAttribute('data-govmon-pager', String(n++));
    if (n >= 60) break;
  }
  return n;
}
"""
_MARK_PAGERS_JS: Final = _MARK_PAGERS.replace(
    "__WORDS__", json.dumps(sorted(jsread.PAGER_WORDS), ensure_ascii=False)
)
_CLICK: Final = """
(i) => {
  const el = document.querySelector('[data-govmon-pager="' + i + '"]');
  if (el) { el.click(); return true; }
  return false;
}
"""


def find_chromium(configured: str = "") -> str | None:
    """The Chromium executable: the configured one, else the first of :data:`CANDIDATES`."""
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


async def open_renderer(crawl: CrawlSettings, fetch: FetchAside) -> BrowserRenderer:
    """A renderer with its browser started, or :class:`RenderUnavailable` saying why not."""
    try:
        from playwright.async_api import async_playwright  # noqa: PLC0415  optional dependency (govmon[browser])
    except ImportError as exc:
        raise RenderUnavailable("Playwright is not installed") from exc
    executable = find_chromium(crawl.browser)
    if executable is None:
        where = crawl.browser or " or ".join(CANDIDATES[:2]) + " on PATH"
        raise RenderUnavailable(f"Chromium not found ({where})")
    playwright = await async_playwright().start()
    renderer = BrowserRenderer(crawl, fetch, playwright, executable)
    try:
        await renderer.start()
    except Exception as exc:
        await playwright.stop()
        raise RenderUnavailable(f"Chromium would not start: {exc}"[:300]) from exc
    return renderer


class _Capture:
    """Navigations of the page noted (and aborted) while its pager links are clicked, and the
    requests still in flight or failed."""

    def __init__(self) -> None:
        self.active = False
        self.urls: list[str] = []
        self.pending: set[str] = set()
        self.failed: list[str] = []

    def unsettled(self, budget: float) -> str:
        if self.pending:
            return f"render timed out after {budget:g} s: still loading {min(self.pending)}"
        if self.failed:
            return f"its data request failed: {self.failed[0]}"
        return ""


class BrowserRenderer:
    """:class:`~checks.readers.rendering.Renderer` over one Chromium (see the module's doc)."""

    def __init__(
        self, crawl: CrawlSettings, fetch: FetchAside, playwright: Any, executable: str
    ) -> None:
        self.crawl = crawl
        self._fetch = fetch
        self._playwright = playwright
        self._executable = executable
        self._browser: Any = None
        self._lock = asyncio.Lock()
        self._slots = asyncio.Semaphore(crawl.render_concurrency)
        self._active = 0
        self._since_start = 0
        self._scripts: OrderedDict[str, FetchResult] = OrderedDict()
        self.rendered = 0
        self.restarts = 0
        self.requests = 0

    async def start(self) -> None:
        self._browser = await self._playwright.chromium.launch(
            executable_path=self._executable, args=list(CHROMIUM_ARGS), headless=True
        )
        self._since_start = 0

    async def _ready(self) -> Any:
        async with self._lock:
            due = self._since_start >= self.crawl.render_restart and self._active == 0
            alive = self._browser is not None and self._browser.is_connected()
            if not alive or due:
                if self._browser is not None:
                    with contextlib.suppress(Exception):
                        await self._browser.close()
                    self.restarts += 1
                    log.info("render.restart", crashed=not alive, pages=self._since_start)
                await self.start()
            self._active += 1
            self._since_start += 1
            return self._browser

    async def render(self, url: str, result: FetchResult, *, pagers: bool) -> Rendered:
        async with self._slots:
            browser = await self._ready()
            try:
                return await self._render(browser, url, result, pagers)
            finally:
                self._active -= 1

    async def _render(self, browser: Any, url: str, result: FetchResult, pagers: bool) -> Rendered:
        budget = self.crawl.render_timeout
        context = await browser.new_context(
            user_agent=self.crawl.user_agent, locale="zh-CN", service_workers="block"
        )
        capture = _Capture()
        try:
            page = await context.new_page()
            page.set_default_timeout(budget * 1000)
            first = result.final_url

            async def route(handle: Any) -> None:
                await self._route(handle, page, first, result, capture)

            await page.route("**/*", route)
            async with asyncio.timeout(budget):
                await page.goto(first, wait_until="load")
                with contextlib.suppress(Exception):  # a page that never goes quiet: read it
                    await page.wait_for_load_state("networkidle", timeout=budget * 500)
                unsettled = capture.unsettled(budget)
                targets = await self._click_pagers(page, capture) if pagers else {}
                content: str = await page.content()
            self.rendered += 1
            return Rendered(
                html=_link_targets(content, first, targets),
                unsettled=unsettled,
                pagers_followed=len(targets) if pagers else -1,
            )
        except TimeoutError:
            return Rendered(error=f"render timed out after {budget:g} s")
        except Exception as exc:
            return Rendered(error=f"render failed: {type(exc).__name__}: {exc}"[:300])
        finally:
            with contextlib.suppress(Exception):
                await context.close()

    async def _route(
        self, handle: Any, page: Any, first: str, result: FetchResult, capture: _Capture
    ) -> None:
        request = handle.request
        try:
            url: str = request.url
            navigation = request.is_navigation_request() and request.frame == page.main_frame
            if request.resource_type in NOT_FETCHED or not url.startswith(("http:", "https:")):
                await handle.abort()
            elif navigation and capture.active:
                capture.urls.append(url)
                await handle.abort("aborted")  # a pager sends the browser there: noted, not gone
            elif navigation and url.partition("#")[0] == first.partition("#")[0]:
                await _fulfill(handle, result)  # the page itself, as the crawler has it
            else:
                capture.pending.add(url)
                try:
                    got = await self._get(url, request)
                finally:
                    capture.pending.discard(url)
                bad = got.error or (f"http {got.status}" if (got.status or 0) >= 400 else "")
                if bad and request.resource_type in ("xhr", "fetch", "script", "document"):
                    capture.failed.append(f"{url} ({bad})")
                if got.status is None or got.error is not None:
                    await handle.abort("failed")
                else:
                    await _fulfill(handle, got)
        except Exception as exc:  # the page closed while a request was answered
            log.debug("render.route", url=request.url, error=str(exc))

    async def _get(self, url: str, request: Any) -> FetchResult:
        method: str = request.method
        cacheable = method == "GET" and request.resource_type == "script"
        if cacheable and url in self._scripts:
            self._scripts.move_to_end(url)
            return self._scripts[url]
        body = request.post_data_buffer if method == "POST" else None
        got = await self._fetch(
            url,
            method=method,
            data=body,
            content_type=request.headers.get("content-type"),
            max_body=self.crawl.max_body,
        )
        self.requests += got.requests
        if cacheable and got.ok:
            self._scripts[url] = got
            while len(self._scripts) > SCRIPT_CACHE:
                self._scripts.popitem(last=False)
        return got

    async def _click_pagers(self, page: Any, capture: _Capture) -> dict[int, str]:
        """Each script pager link clicked: where it sends the browser (by its mark)."""
        count = int(await page.evaluate(_MARK_PAGERS_JS))
        targets: dict[int, str] = {}
        for i in range(count):
            capture.urls.clear()
            capture.active = True
            try:
                if not await page.evaluate(_CLICK, i):
                    continue
                for _ in range(int(CLICK_WAIT / 0.05)):
                    if capture.urls:
                        break
                    await asyncio.sleep(0.05)
            finally:
                capture.active = False
            if capture.urls:
                targets[i] = capture.urls[0]
        return targets

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            if self._browser is not None:
                await self._browser.close()
        self._browser = None
        with contextlib.suppress(Exception):
            await self._playwright.stop()


async def _fulfill(handle: Any, got: FetchResult) -> None:
    headers = {"content-type": got.content_type} if got.content_type else {}
    await handle.fulfill(status=got.status or 200, headers=headers, body=got.body)


def _link_targets(content: str, base: str, targets: dict[int, str]) -> str:
    """The rendered page with each clicked pager element given its target as a plain link."""
    if not targets:
        return content
    tree = LexborHTMLParser(content)
    found = []
    for node in tree.css("[data-govmon-pager]"):
        mark = node.attributes.get("data-govmon-pager") or ""
        target = targets.get(int(mark)) if mark.isdigit() else None
        if target is not None:
            found.append((node, target))
    jsread.link_pagers(tree, found)
    return tree.html or content
