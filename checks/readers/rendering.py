"""What a browser renderer is to the readers of script-built pages: its answer
(:class:`Rendered`), its interface (:class:`Renderer`, made by a :data:`RendererFactory`), the
aside fetch it uses for a page's own requests (:class:`FetchAside`), and the error of a missing
browser. Shared by :mod:`checks.readers.scripted` and :mod:`checks.readers.render`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from crawler.net.fetcher import FetchResult

if TYPE_CHECKING:
    from crawler.config.model import CrawlSettings


@dataclass(frozen=True, slots=True)
class Rendered:
    """What the browser made of a page: its DOM as HTML (with the targets of its script pagers
    as plain links), or the error that stopped it."""

    html: str = ""
    error: str | None = None
    # why the DOM may not be all the page would show: requests still loading when the time was
    # up, or a data request that failed (then an empty list is unreadable, never blank)
    unsettled: str = ""
    pagers_followed: int = -1  # pager links whose target the browser noted (-1: not asked)


class Renderer(Protocol):
    async def render(self, url: str, result: FetchResult, *, pagers: bool) -> Rendered: ...

    async def close(self) -> None: ...


class FetchAside(Protocol):
    async def __call__(
        self,
        url: str,
        *,
        method: str = "GET",
        data: bytes | None = None,
        content_type: str | None = None,
        max_body: int = ...,
    ) -> FetchResult: ...


RendererFactory = Callable[["CrawlSettings", FetchAside], Awaitable[Renderer]]


class RenderUnavailable(Exception):
    """No browser to render with (Playwright or Chromium missing, or it would not start)."""
