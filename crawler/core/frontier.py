"""The URL frontier: what the scan knows about, what it still has to do.

It de-duplicates canonical URLs (each gets an integer id, from ``id_base + 1``), keeps the
state of each target, who links the targets not yet judged, two FIFO queues per host (link
checks, then pages), holds retries until their not-before time, and counts outstanding work so
that "empty right now" and "finished" are never confused.

Memory stays bounded however many URLs a crawl finds: past :class:`~crawler.core.spill.SpillLimits`
the URL index, the host queues and the pending referrers spill to a private file
(:mod:`crawler.core.spill`); a small site never touches it.
"""

from __future__ import annotations

import enum
import heapq
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from crawler.core.spill import IdBytes, PendingRefs, SpillFile, SpillLimits, SpillQueue
from crawler.core.urlindex import UrlIndex


class Kind(enum.IntEnum):
    """What is done with a request."""

    PAGE = 1  # an in-scope page: GET, parse, follow its links
    CHECK = 2  # a link target: HEAD (then GET when needed), status only


_KINDS = {int(k): k for k in Kind}


@dataclass(slots=True)
class Request:
    url: str
    id: int
    kind: Kind
    site: int  # index of the site that reached it first
    depth: int
    origin: str  # politeness key: scheme://host[:port]
    link_kind: str = "page"  # page | image | attachment | external | other
    attempt: int = 0  # retries of transient failures so far
    recheck: bool = False  # the confirming re-check of a failure
    not_before: float = 0.0
    previous: str | None = None  # why the first try failed, for the re-check's record
    follow: bool = True  # read its links (False: a new-media account page or feed)


def _pack(r: Request) -> tuple[Any, ...]:
    return (
        r.url, r.id, int(r.kind), r.site, r.depth, r.link_kind, r.attempt, r.recheck,
        r.not_before, r.previous, r.follow,
    )  # fmt: skip


class _Host:
    """A host's two queues: link checks are served before pages, so a target is judged soon
    after it is found (its referrers need not wait in memory behind every page of the site)."""

    __slots__ = ("checks", "pages")

    def __init__(self, origin: str, spill: SpillFile, limits: SpillLimits) -> None:
        def unpack(t: Any) -> Request:
            return Request(
                t[0], t[1], _KINDS[t[2]], t[3], t[4], origin, t[5], t[6], t[7], t[8], t[9], t[10]
            )

        self.checks = SpillQueue[Request](
            spill, cap=limits.queue, batch=limits.batch, encode=_pack, decode=unpack
        )
        self.pages = SpillQueue[Request](
            spill, cap=limits.queue, batch=limits.batch, encode=_pack, decode=unpack
        )


class Frontier:
    """De-duplication, target states, per-host queues and delayed retries. Not thread-safe;
    one event loop."""

    def __init__(self, id_base: int = 0, limits: SpillLimits | None = None) -> None:
        """``id_base``: URL ids start after it (a site job of a shared scan owns its own range
        of ids, so that rows keyed by ``(scan_id, url_id)`` never collide between workers)."""
        self.limits = limits = limits or SpillLimits()
        self._spill = SpillFile(limits.directory)
        self._index = UrlIndex(id_base, self._spill, limit=limits.urls, flush=limits.flush)
        self.status = IdBytes(id_base)  # target id -> 0 pending, 1 ok, 2 bad
        self.pending = PendingRefs(id_base, self._spill, limit=limits.refs)
        self._hosts: dict[str, _Host] = {}
        self._delayed: list[tuple[float, int, Request]] = []
        self._seq = itertools.count()
        self.queued = 0  # requests waiting in host queues
        self.in_flight = 0

    def __len__(self) -> int:
        """Number of distinct URLs seen."""
        return len(self._index)

    def close(self) -> None:
        """Delete the spill file (the frontier cannot be used afterwards)."""
        self._spill.close()

    @property
    def spilled(self) -> bool:
        """Whether anything went to disk (still True once closed)."""
        return self._spill.used

    # -- URLs ---------------------------------------------------------------------------------

    def url_id(self, url: str) -> tuple[int, bool]:
        """The id of ``url`` and whether it is new."""
        return self._index.get(url)

    def url_ids(self, urls: Sequence[str]) -> list[tuple[int, bool]]:
        """:meth:`url_id` of each URL in turn."""
        return self._index.get_many(urls)

    def restore(self, url: str, url_id: int) -> None:
        """Give ``url`` the id it had before the scan was interrupted (``scan --resume``)."""
        self._index.restore(url, url_id)

    def known(self, url: str) -> int | None:
        return self._index.known(url)

    def url_of(self, url_id: int) -> str | None:
        return self._index.url_of(url_id)

    def urls_of(self, url_ids: Iterable[int]) -> dict[int, str]:
        return self._index.urls_of(url_ids)

    # -- queues -------------------------------------------------------------------------------

    @property
    def delayed(self) -> int:
        return len(self._delayed)

    @property
    def outstanding(self) -> int:
        """Queued, delayed and in-flight requests: zero means the scan is finished."""
        return self.queued + len(self._delayed) + self.in_flight

    def push(self, request: Request) -> None:
        """Queue a request for its host (immediately eligible)."""
        host = self._hosts.get(request.origin)
        if host is None:
            host = self._hosts[request.origin] = _Host(request.origin, self._spill, self.limits)
        if request.kind is Kind.CHECK:
            host.checks.push(request)
        else:
            host.pages.push(request)
        self.queued += 1

    def defer(self, request: Request, not_before: float) -> None:
        """Hold a request until ``not_before`` (a retry or a re-check)."""
        request.not_before = not_before
        heapq.heappush(self._delayed, (not_before, next(self._seq), request))

    def next_delayed_at(self) -> float | None:
        return self._delayed[0][0] if self._delayed else None

    def release_due(self, now: float) -> Iterator[Request]:
        """Move every delayed request whose time has come into its host queue."""
        while self._delayed and self._delayed[0][0] <= now:
            _, _, request = heapq.heappop(self._delayed)
            self.push(request)
            yield request

    def has_work(self, origin: str) -> bool:
        return origin in self._hosts

    def pop(self, origin: str) -> Request:
        """The host's next request: its oldest link check, else its oldest page."""
        host = self._hosts[origin]
        request = host.checks.pop() if host.checks else host.pages.pop()
        self.queued -= 1
        if not host.checks and not host.pages:
            del self._hosts[origin]
        return request
