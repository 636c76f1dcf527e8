"""``govmon inspect URL``: what the crawler sees on one page."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from checks.readers.encoding import decode_html
from checks.readers.extract import UnreadablePage, parse_html
from checks.readers.listing import Item, extract_items, pagination
from checks.readers.published import published_date
from checks.readers.scripted import ScriptedPages
from crawler.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    Subparsers,
    UsageError,
    as_of_argument,
    command,
    command_line,
)
from crawler.config import Config, CrawlSettings, load_config, parse_when
from crawler.net.fetcher import GovResolver, HttpFetcher
from crawler.net.urls import canonicalize
from crawler.service.scans import run_coroutine

__all__ = ["add_inspect", "inspect_url"]


def add_inspect(sub: Subparsers) -> None:
    inspect = command(
        sub,
        "inspect",
        summary="show what the crawler sees on one page",
        description="""
            Fetch one page once and show what a scan reads there: its status, encoding,
            title, publication date, whether it is taken for a column's list (and why), the
            list's items and dates, further list pages and links. For a site whose names are
            resolved by the config ([crawl] resolve), give --config.
        """,
        example=(
            ("govmon inspect http://www.example.gov.cn/xxgk/", "how a scan reads this list page"),
            (
                "govmon inspect http://www.district.test/ --config govmon.toml",
                "with the config's [crawl] settings (resolve, timeout, user agent)",
            ),
            (
                "govmon inspect http://www.example.gov.cn/ --format json | jq .items",
                "the items as JSON",
            ),
        ),
    )
    inspect.add_argument("url", metavar="URL", help="the page (http:// or https://)")
    as_of_argument(inspect, "the config's as_of, else today")
    inspect.add_argument(
        "--format",
        default="text",
        choices=("text", "json"),
        help="text for a person, json for a program (default: %(default)s)",
    )
    inspect.add_argument(
        "--config",
        metavar="CONFIG",
        help="use this config's [crawl] settings: resolve, timeout, user agent (default: none)",
    )
    inspect.set_defaults(run=lambda args: run_coroutine(_inspect(args)))


async def _inspect(args: argparse.Namespace) -> int:
    config = load_config(args.config) if args.config else None
    as_of = None
    if args.as_of:
        tz = config.tz if config is not None else ZoneInfo("Asia/Shanghai")
        try:
            as_of = parse_when(args.as_of, tz).date()
        except ValueError as exc:
            raise UsageError(f"--as-of: {exc}") from None
    elif config is not None and config.as_of is not None:
        as_of = config.as_of.date()
    if canonicalize(args.url) is None:
        raise UsageError(f"inspect: {args.url!r} is not an http:// or https:// URL")
    result = await inspect_url(args.url, config, as_of)
    if args.format == "json":
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        _print_text(result)
    if result["status"] is None:
        print(f"govmon: {_no_answer(result, args.url, args.config)}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


#: what a failed request's reason means, in words
_REASONS = {
    "dns": "the name did not resolve",
    "connect": "nothing accepted the connection",
    "timeout": "no answer in time",
    "tls": "the TLS (https) handshake failed",
    "private address": "the name resolves to a private address",
    "invalid url": "not a URL that can be requested",
}


def _no_answer(result: dict[str, Any], url: str, config: str | None) -> str:
    """Why ``inspect`` got no answer, and what to try: for a name that did not resolve, the
    config whose ``[crawl] resolve`` maps it (the command to paste, quoted)."""
    reason = str(result.get("error") or "error")
    said = f"no answer from {result['url']}: {_REASONS.get(reason, reason)}"
    if reason != "dns":
        return said
    if config is not None:
        return f"{said}, neither by DNS nor by [crawl] resolve in {config}"
    guess = "govmon.toml" if Path("govmon.toml").is_file() else "CONFIG"
    again = command_line("inspect", url, "--config", guess)
    return (
        f"{said}. A site whose names the config maps ([crawl] resolve) is inspected with"
        f" its config:\n  {again}"
    )


def _print_text(result: dict[str, Any]) -> None:
    for key in ("url", "status", "charset", "title", "published"):
        value = result[key]
        if key == "status" and value is None:
            value = f"no answer ({result.get('error') or 'error'})"
        print(f"{key:>10}: {value}")
    if result["status"] is not None:
        print(f"{'list':>10}: {'yes' if result['is_list'] else 'no'} ({result['why']})")
    if result.get("script"):
        print(f"{'script':>10}: {result['script']}")
    print(f"{'items':>10}: {len(result['items'])}")
    for item in result["items"]:
        print(f"            {item['date'] or '----------'}  {item['title']}  {item['url']}")
    if result["pagination"]:
        print(f"{'pages':>10}: {len(result['pagination'])} more list pages")
        for more in result["pagination"]:
            print(f"            {more}")
    print(f"{'links':>10}: {len(result['links'])}")
    for link in result["links"]:
        print(f"            {link}")


async def inspect_url(
    url: str, config: Config | None = None, as_of: dt.date | None = None
) -> dict[str, Any]:
    """Fetch ``url`` once and describe it: ``{url, status, charset, title, published, items,
    links}`` plus ``final_url``, ``redirects``, ``error``, ``charset_source``, ``is_list``,
    ``why`` (why the page is or is not taken for a list), ``pagination`` and ``script`` (how a
    page built by script was read, as a column's list page is in a scan, or why it could not
    be; null for a page that is not)."""
    day = as_of or dt.date.today()
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
    tz = config.tz if config is not None else ZoneInfo("Asia/Shanghai")
    scripted = ScriptedPages(crawl, tz, fetcher.fetch)
    try:
        result = scripted.api_page(canon, await fetcher.fetch(canon))
        out = _empty(canon, result.error)
        out.update(status=result.status, final_url=result.final_url, redirects=result.redirects)
        page = None
        if result.body and result.is_html:
            decoded = decode_html(result.body, result.content_type)
            try:
                page = parse_html(result.final_url, decoded.text, decoded.charset)
            except UnreadablePage as exc:  # what a scan records too
                out.update(charset=decoded.charset, error=f"unreadable: {exc.reason}")
                return out
            read = await scripted.read(canon, result, page, important=True)
            if read is not None:
                page, out["script"] = read.parsed, read.note.describe()
    finally:
        await scripted.close()
        await fetcher.close()
    if page is not None:
        assert page.tree is not None
        reading = extract_items(page.tree, result.final_url, decoded.charset, as_of=day)
        published = published_date(page.tree, as_of=day)
        out.update(
            charset=decoded.charset,
            charset_source=decoded.source,
            title=page.title,
            published=published.isoformat() if published else None,
            items=[_item(i) for i in reading.items],
            other_items=[_item(i) for i in reading.extra],
            is_list=reading.is_list,
            why=reading.why,
            pagination=pagination(page.tree, result.final_url, page.html),
            links=[link.url for link in page.links],
        )
    return out


def _item(item: Item) -> dict[str, Any]:
    return {
        "title": item.title,
        "url": item.url,
        "date": item.date.isoformat() if item.date else None,
    }


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
        "is_list": False,
        "why": error or "",
        "pagination": [],
        "other_items": [],
        "script": None,
    }
