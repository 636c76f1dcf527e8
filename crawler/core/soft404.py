"""Soft-404: a host that answers "page not found" with an ordinary page.

Each origin is asked once, on first need, for a path that surely does not exist; what it answers
(status, redirect, title, text shingles) is its fingerprint (:class:`checks.links.Fingerprint`).
A target that answers like the fingerprint is broken (``soft-404``), judged by
:func:`checks.links.is_soft_404`. The probe goes through the host's politeness like every
request outside the queue (:meth:`crawler.core.state.ScanState.fetch_aside`).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from checks.links import Fingerprint, LinkVerdict, is_soft_404, shingles
from checks.readers.encoding import decode_html
from checks.readers.extract import ParsedPage, UnreadablePage, parse_html_off_loop
from crawler.core.frontier import Kind, Request
from crawler.core.state import ScanState
from crawler.net.fetcher import SNIFF_BYTES, FetchResult
from crawler.net.urls import origin

#: link kinds that name a file, not a page: answered with a web page, they are suspect
FILE_KINDS = frozenset({"attachment", "image"})


class Soft404:
    """The soft-404 test of a scan: one fingerprint per origin, fetched once."""

    def __init__(self, state: ScanState) -> None:
        self._state = state
        self._fingerprints: dict[str, Fingerprint | None] = {}
        self._probe_locks: dict[str, asyncio.Lock] = {}

    async def judge_page(
        self, req: Request, result: FetchResult, parsed: ParsedPage
    ) -> LinkVerdict:
        """A parsed answer (any target kind: pages, attachments, images, external pages)."""
        probe = await self.fingerprint(origin(req.url))
        text_sh = None
        if probe is not None and not probe.honest and probe.final_url is None:
            text_sh = text_shingles(parsed)
        if is_soft_404(
            probe,
            url=req.url,
            final_url=result.final_url,
            redirected=bool(result.redirects),
            title=parsed.title,
            text_shingles=text_sh,
        ):
            return LinkVerdict("broken", "soft-404")
        return LinkVerdict("ok")

    async def judge_without_body(self, req: Request, result: FetchResult) -> LinkVerdict:
        """Judge a target answered without a body (HEAD) against its host's missing-page answer.

        Every kind is judged: a missing attachment on a host that answers 200 with a "页面不存在"
        page is as broken as a missing page. An answer that is not a web page and was not
        redirected (an image, a PDF, a style sheet) needs no comparison, and costs no probe of
        its host."""
        file_kind = req.kind is Kind.CHECK and req.link_kind in FILE_KINDS
        if not result.redirects and not result.is_html and (result.content_type or file_kind):
            return LinkVerdict("ok")
        probe = await self.fingerprint(origin(req.url))
        if probe is None or probe.honest:
            return LinkVerdict("ok")
        if probe.final_url is not None:
            # the host redirects missing paths; did this one go to the same place?
            soft = is_soft_404(
                probe,
                url=req.url,
                final_url=result.final_url,
                redirected=bool(result.redirects),
                title="",
                text_shingles=None,
            )
            return LinkVerdict("broken", "soft-404") if soft else LinkVerdict("ok")
        if result.content_type and not result.is_html:
            return LinkVerdict("ok")
        # the host answers 200 for missing paths: read the target and compare
        got = await self._state.fetch_aside(req.url, SNIFF_BYTES)
        if not got.ok or not got.body or not got.is_html:
            return LinkVerdict("ok")
        decoded = decode_html(got.body, got.content_type)
        try:
            parsed = await parse_html_off_loop(got.final_url, decoded.text, decoded.charset)
        except UnreadablePage:
            return LinkVerdict("ok")  # it answered; what it says cannot be read
        soft = is_soft_404(
            probe,
            url=req.url,
            final_url=got.final_url,
            redirected=bool(got.redirects),
            title=parsed.title,
            text_shingles=text_shingles(parsed),
        )
        return LinkVerdict("broken", "soft-404") if soft else LinkVerdict("ok")

    async def fingerprint(self, key: str) -> Fingerprint | None:
        """What ``key`` (an origin) serves for a surely-missing path, fetched once."""
        if key in self._fingerprints:
            return self._fingerprints[key]
        lock = self._probe_locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key in self._fingerprints:
                return self._fingerprints[key]
            # the same path for an origin in every scan: a recording holds it, a replay answers it
            tag = uuid.uuid5(uuid.NAMESPACE_URL, key).hex[:12]
            probe_url = f"{key}/govmon-404-probe-{tag}.html"
            result = await self._state.fetch_aside(probe_url, 256 * 1024)
            fp: Fingerprint | None = None
            if result.error is None and result.status is not None:
                title, sh = "", frozenset[int]()
                if result.status < 400 and result.body:
                    d = decode_html(result.body, result.content_type)
                    with contextlib.suppress(UnreadablePage):  # then: no title, no text
                        page = await parse_html_off_loop(result.final_url, d.text, d.charset)
                        title = page.title
                        sh = text_shingles(page)
                final = result.final_url if result.redirects else None
                fp = Fingerprint(result.status, final, title, sh)
            self._fingerprints[key] = fp
            return fp


def text_shingles(parsed: ParsedPage) -> frozenset[int]:
    """The shingles of a page's body text (what the soft-404 test compares)."""
    body = parsed.tree.body if parsed.tree is not None else None
    return shingles(body.text(separator=" ") if body is not None else "")
