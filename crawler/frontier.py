"""The URL frontier: what the scan knows about, what it still has to do.

It de-duplicates canonical URLs (each gets a small integer id), keeps one FIFO queue per host,
holds retries until their not-before time, and counts outstanding work so that "empty right
now" and "finished" are never confused.
"""

from __future__ import annotations

import enum
import heapq
import itertools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field


class Kind(enum.IntEnum):
    """What is done with a request."""

    PAGE = 1  # an in-scope page: GET, parse, follow its links
    CHECK = 2  # a link target: HEAD (then GET when needed), status only


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


@dataclass(slots=True)
class _Host:
    queue: deque[Request] = field(default_factory=deque)


class Frontier:
    """De-duplication, per-host queues and delayed retries. Not thread-safe; one event loop."""

    def __init__(self, id_base: int = 0) -> None:
        """``id_base``: URL ids start after it (a site job of a shared scan owns its own range
        of ids, so that rows keyed by ``(scan_id, url_id)`` never collide between workers)."""
        self._ids: dict[str, int] = {}
        self._last_id = id_base
        self._hosts: dict[str, _Host] = {}
        self._delayed: list[tuple[float, int, Request]] = []
        self._seq = itertools.count()
        self.queued = 0  # requests waiting in host queues
        self.in_flight = 0

    def __len__(self) -> int:
        """Number of distinct URLs seen."""
        return len(self._ids)

    def url_id(self, url: str) -> tuple[int, bool]:
        """The id of ``url`` and whether it is new."""
        known = self._ids.get(url)
        if known is not None:
            return known, False
        self._last_id += 1
        self._ids[url] = self._last_id
        return self._last_id, True

    def restore(self, url: str, url_id: int) -> None:
        """Give ``url`` the id it had before the scan was interrupted (``scan --resume``)."""
        self._ids[url] = url_id
        self._last_id = max(self._last_id, url_id)

    def known(self, url: str) -> int | None:
        return self._ids.get(url)

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
            host = self._hosts[request.origin] = _Host()
        host.queue.append(request)
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
        host = self._hosts.get(origin)
        return bool(host and host.queue)

    def pop(self, origin: str) -> Request:
        host = self._hosts[origin]
        request = host.queue.popleft()
        self.queued -= 1
        if not host.queue:
            del self._hosts[origin]
        return request
