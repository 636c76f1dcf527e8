"""robots.txt: read once per origin before the crawl starts, obeyed for every page after."""

from __future__ import annotations

import asyncio
import urllib.robotparser

from crawler.core.state import ScanState
from crawler.net.fetcher import FetchResult
from crawler.net.urls import origin


class Robots:
    """The robots.txt of every origin the sites' scopes cover, when ``[crawl] robots`` obeys."""

    def __init__(self, state: ScanState) -> None:
        self._state = state
        self._agent = state.config.crawl.user_agent
        self._obey = state.config.crawl.robots == "obey"
        self._parsers: dict[str, urllib.robotparser.RobotFileParser | None] = {}

    async def prepare(self) -> None:
        """Fetch robots.txt of every origin in scope, within the hosts' politeness."""
        if not self._obey:
            return
        state = self._state
        fetcher = state.fetcher
        assert fetcher is not None

        async def one(o: str) -> None:
            await state.scheduler.acquire(o)
            result = await fetcher.fetch(o + "/robots.txt", max_body=512 * 1024)
            state.scheduler.release_origin(o, result.status)
            state.stats.requests += result.requests
            self._parsers[o] = robots_parser(result)

        await asyncio.gather(*(one(o) for o in sorted(state.scopes.origins())))

    def allowed(self, url: str) -> bool:
        """Whether robots.txt lets the crawl fetch ``url`` (yes when there is none)."""
        parser = self._parsers.get(origin(url))
        if parser is None:
            return True
        return parser.can_fetch(self._agent, url)


def robots_parser(result: FetchResult) -> urllib.robotparser.RobotFileParser | None:
    """A fetched robots.txt, read; ``None`` when it allows everything (missing, not fetched)."""
    if result.error is not None or result.status is None:
        return None
    if result.status >= 400:
        return None  # no robots.txt: everything allowed
    parser = urllib.robotparser.RobotFileParser()
    text = result.body.decode("utf-8", "replace")
    parser.parse(text.splitlines())
    return parser
