"""``govmon inspect URL``: what the crawler sees on one page."""

from __future__ import annotations

from typing import Any

from crawler.config import Config, CrawlSettings
from crawler.encoding import decode_html
from crawler.extract import parse_html
from crawler.fetcher import GovResolver, HttpFetcher
from crawler.urls import canonicalize


async def inspect_url(url: str, config: Config | None = None) -> dict[str, Any]:
    """Fetch ``url`` once and describe it: ``{url, status, charset, title, published, items,
    links}`` plus ``final_url``, ``redirects``, ``error`` and ``charset_source``."""
    crawl = config.crawl if config is not None else CrawlSettings()
    canon = canonicalize(url)
    if canon is None:
        return _empty(url, "not an http(s) URL")
    fetcher = HttpFetcher(
        user_agent=crawl.user_agent,
        timeout=crawl.timeout,
        max_body=crawl.max_body,
        max_redirects=crawl.max_redirects,
        resolver=GovResolver(crawl.resolve, only=crawl.resolve_only, allow_private=True),
    )
    try:
        result = await fetcher.fetch(canon)
    finally:
        await fetcher.close()
    out = _empty(canon, result.error)
    out.update(status=result.status, final_url=result.final_url, redirects=result.redirects)
    if result.body and result.is_html:
        decoded = decode_html(result.body, result.content_type)
        page = parse_html(result.final_url, decoded.text, decoded.charset)
        out.update(
            charset=decoded.charset,
            charset_source=decoded.source,
            title=page.title,
            links=[link.url for link in page.links],
        )
    return out


def _empty(url: str, error: str | None) -> dict[str, Any]:
    return {
        "url": url,
        "status": None,
        "charset": None,
        "title": None,
        "published": None,
        "items": [],
        "links": [],
        "final_url": url,
        "redirects": [],
        "error": error,
        "charset_source": None,
    }
