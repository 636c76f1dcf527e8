"""The Scrapy peer of the benchmark: a minimal CrawlSpider checking the same links as govmon.

It follows every ``<a>``/``<area>`` link on the site's hosts (Scrapy's LinkExtractor), and sends
one HEAD request to every image, PDF and stylesheet (which the LinkExtractor ignores, so they
are extracted explicitly). Every status reaches the callbacks (``HTTPERROR_ALLOW_ALL``, the
setting form of ``handle_httpstatus_all``); a target answering ≥ 400, or failing after Scrapy's
default retries, counts as broken.

    python -m benchmarks.scrapy_peer --home http://127.0.0.1:PORT/ ... [--concurrency 64]
        [--output FILE] [--proxy http://127.0.0.1:PORT] [--script-pagination]

With ``--proxy URL`` every request goes through that HTTP proxy (``request.meta["proxy"]``, as
for ``govmon replay``); with ``--script-pagination`` the spider also follows the TRS
``createPageHTML(n, i, "index", "html")`` pagination that govmon reads (``index_1.html`` …),
which no ``<a>`` shows: without it a CrawlSpider never sees the later list pages.

The start requests bypass Scrapy's duplicate filter, so each home page is fetched twice
(``requests`` counts both); ``pages`` counts distinct pages. At the end it prints one
JSON line with the counts (pages, requests, broken) on stdout, and writes the same object plus
the broken URLs to ``--output`` when given.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response, TextResponse
from scrapy.link import Link
from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import CrawlSpider, Rule

PAGER_RE = re.compile(
    r"""createPageHTML\(\s*(\d+)\s*,\s*\d+\s*,\s*["'](\w+)["']\s*,\s*["'](\w+)["']"""
)
RESOURCE_XPATH = (
    "//img/@src | //link[@rel='stylesheet']/@href | //script/@src"
    " | //a[substring(@href, string-length(@href) - 3) = '.pdf']/@href"
)


class PagerLinks:
    """A link extractor (what a ``Rule`` calls) for the later pages of a TRS
    ``createPageHTML(n, i, name, ext)`` pager: ``name_1.ext`` … ``name_{n-1}.ext``."""

    def extract_links(self, response: Response) -> list[Link]:
        if not isinstance(response, TextResponse):
            return []
        links = []
        for match in PAGER_RE.finditer(response.text):
            count, name, ext = int(match.group(1)), match.group(2), match.group(3)
            links += [Link(response.urljoin(f"{name}_{k}.{ext}")) for k in range(1, count)]
        return links


class PeerSpider(CrawlSpider):  # type: ignore[misc,unused-ignore]
    """Crawls the pages of the given hosts; HEADs their images, attachments and stylesheets."""

    name = "govmon-peer"

    def __init__(
        self, homes: list[str], *args: Any, script_pagination: bool = False, **kwargs: Any
    ) -> None:
        hosts = sorted({urlsplit(home).hostname or "" for home in homes})
        # The LinkExtractor matches allow_domains against the netloc (with the port), the
        # offsite middleware allowed_domains against the host name (without it).
        netlocs = sorted({urlsplit(home).netloc for home in homes})
        self.start_urls = list(homes)
        self.allowed_domains = hosts
        self.rules = (
            Rule(
                LinkExtractor(allow_domains=netlocs),
                callback="parse_page",
                errback="on_error",
                follow=True,
            ),
        )
        self.page_urls: set[str] = set()
        self.page_responses = 0
        self.resources = 0
        self.broken: dict[str, str] = {}
        if script_pagination:
            # a Rule calls only extract_links(): any object with it will do
            pager: Any = PagerLinks()
            rules: tuple[Any, ...] = (
                *self.rules,
                Rule(pager, callback="parse_page", errback="on_error", follow=True),
            )
            self.rules = rules
        super().__init__(*args, **kwargs)

    def parse_start_url(self, response: Response, **kwargs: Any) -> Iterator[Request]:
        return self.parse_page(response)

    def parse_page(self, response: Response) -> Iterator[Request]:
        self.page_responses += 1
        if response.status >= 400:
            self.broken[response.url] = f"http {response.status}"
            return
        if not isinstance(response, TextResponse):
            return
        self.page_urls.add(response.url)
        for href in response.xpath(RESOURCE_XPATH).getall():
            url = response.urljoin(href.strip())
            host = urlsplit(url).hostname
            if host in self.allowed_domains:
                yield Request(
                    url,
                    method="HEAD",
                    callback=self.on_resource,
                    errback=self.on_error,
                )

    def on_resource(self, response: Response) -> None:
        self.resources += 1
        if response.status >= 400:
            self.broken[response.url] = f"http {response.status}"

    def on_error(self, failure: Any) -> None:
        """A download failure (a twisted ``Failure``; twisted is not imported here, so that the
        type check passes where Scrapy is not installed)."""
        request = getattr(failure, "request", None)
        if request is not None:
            self.broken[request.url] = type(failure.value).__name__


class ProxyMiddleware:
    """Sends every request through ``BENCH_PROXY`` (before Scrapy's HttpProxyMiddleware)."""

    def __init__(self, proxy: str | None) -> None:
        self.proxy = proxy

    @classmethod
    def from_crawler(cls, crawler: Any) -> ProxyMiddleware:
        return cls(crawler.settings.get("BENCH_PROXY"))

    def process_request(self, request: Request) -> None:
        if self.proxy:
            request.meta.setdefault("proxy", self.proxy)


def crawl(
    homes: list[str],
    concurrency: int,
    overrides: dict[str, str] | None = None,
    proxy: str | None = None,
    script_pagination: bool = False,
) -> dict[str, Any]:
    """Run the spider to the end; the counts as a JSON-ready dict."""
    settings: dict[str, Any] = {
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "ROBOTSTXT_OBEY": False,
        "HTTPERROR_ALLOW_ALL": True,
        "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False,
        "DOWNLOAD_TIMEOUT": 15,
        "USER_AGENT": "scrapy-peer (govmon benchmark)",
    }
    if proxy:
        settings["BENCH_PROXY"] = proxy
        settings["DOWNLOADER_MIDDLEWARES"] = {"benchmarks.scrapy_peer.ProxyMiddleware": 700}
    settings.update(overrides or {})
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(PeerSpider)
    started = time.monotonic()
    process.crawl(crawler, homes=homes, script_pagination=script_pagination)
    process.start()
    elapsed = time.monotonic() - started
    spider = crawler.spider
    if not isinstance(spider, PeerSpider):
        raise RuntimeError("the crawl did not start")
    stats: dict[str, Any] = crawler.stats.get_stats() if crawler.stats else {}
    return {
        "tool": "scrapy",
        "pages": len(spider.page_urls),
        "page_responses": spider.page_responses,
        "resources": spider.resources,
        "requests": stats.get("downloader/request_count", 0),
        "requests_get": stats.get("downloader/request_method_count/GET", 0),
        "requests_head": stats.get("downloader/request_method_count/HEAD", 0),
        "retries": stats.get("retry/count", 0),
        "broken": len(spider.broken),
        "broken_urls": sorted(spider.broken),
        "finish_reason": stats.get("finish_reason"),
        "elapsed": round(elapsed, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scrapy_peer", description=__doc__)
    parser.add_argument("--home", action="append", required=True, help="a home URL (repeat)")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--output", type=Path, help="write the result with the broken URLs")
    parser.add_argument("--proxy", help="send every request through this HTTP proxy")
    parser.add_argument(
        "--script-pagination",
        action="store_true",
        help='also follow createPageHTML(n, i, "index", "html") pagination',
    )
    parser.add_argument(
        "-s",
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a Scrapy setting (experiments only; the benchmark uses none)",
    )
    args = parser.parse_args(argv)
    overrides = dict(item.split("=", 1) for item in args.set)
    result = crawl(args.home, args.concurrency, overrides, args.proxy, args.script_pagination)
    if args.output is not None:
        args.output.write_text(json.dumps(result, indent=1) + "\n")
    summary = {k: v for k, v in result.items() if k != "broken_urls"}
    sys.stdout.write(json.dumps(summary) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
