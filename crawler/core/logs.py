"""Logging (structlog: JSON lines when stderr is not a terminal) and the live progress line."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Sequence
from typing import Protocol, TextIO

import structlog

from crawler.core.frontier import Frontier
from crawler.core.state import SiteState, Stats


class Running(Protocol):
    """What the progress line reads of a running scan (:class:`crawler.core.engine.Scan`)."""

    @property
    def stats(self) -> Stats: ...

    @property
    def frontier(self) -> Frontier: ...

    @property
    def sites(self) -> Sequence[SiteState]: ...


class _Stderr:
    """Whatever ``sys.stderr`` is at the moment of writing (tests swap it), and a log line that
    cannot be written (a closed stream) is dropped: logging must never stop a scan."""

    def write(self, text: str) -> int:
        try:
            return sys.stderr.write(text)
        except (ValueError, OSError):
            return 0

    def flush(self) -> None:
        with contextlib.suppress(ValueError, OSError):
            sys.stderr.flush()

    def isatty(self) -> bool:
        try:
            return sys.stderr.isatty()
        except (ValueError, OSError):
            return False


def configure(level: str = "info", stream: TextIO | None = None) -> None:
    out: TextIO = stream or _Stderr()  # type: ignore[assignment]
    renderer: structlog.typing.Processor
    if out.isatty():
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    else:
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=False),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )


def draw(stream: TextIO, line: str, width: int = 160) -> None:
    """Redraw a one-line progress display in place (cut at ``width``, the tail blanked)."""
    stream.write("\r" + line[:width].ljust(min(width, len(line) + 2)))
    stream.flush()


class ProgressLine:
    """One line, rewritten in place: pages, queued, requests per second, errors, per site."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self._last_requests = 0
        self._last_time = time.monotonic()

    def __call__(self, scan: Running) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        s = scan.stats
        rps = (s.requests - self._last_requests) / max(now - self._last_time, 1e-6)
        self._last_requests, self._last_time = s.requests, now
        f = scan.frontier
        per_site = " ".join(f"{st.site.id}:{st.pages}" for st in scan.sites[:6])
        if len(scan.sites) > 6:
            per_site += " …"
        line = (
            f"pages {s.pages}  queued {f.queued + f.delayed}  {rps:5.1f} req/s  "
            f"broken {s.broken}  blocked {s.blocked}  [{per_site}]"
        )
        draw(self.stream, line)

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
