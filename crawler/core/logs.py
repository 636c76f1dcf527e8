"""Logging (structlog: JSON lines when stderr is not a terminal) and a scan's progress display
(rich, on a terminal only)."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol, TextIO

import structlog
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from crawler.core.state import SiteState, Stats

_log = structlog.get_logger("govmon.scan")

RATE_WINDOW = 5.0  # seconds the requests per second are averaged over (reports come in steps)


class Queue(Protocol):
    """What the progress display reads of a scan's frontier: the URLs waiting."""

    @property
    def queued(self) -> int: ...

    @property
    def delayed(self) -> int: ...


class Running(Protocol):
    """What the progress display reads of a running scan (:class:`crawler.core.engine.Scan`)."""

    @property
    def stats(self) -> Stats: ...

    @property
    def frontier(self) -> Queue: ...

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


def duration(seconds: float) -> str:
    """``0:04:05``: hours, minutes and seconds, as a clock shows a duration."""
    minutes, secs = divmod(max(0, round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def time_left(done: int, left: int, elapsed: float) -> float | None:
    """Seconds a scan still needs for ``left`` requests at its average rate so far, ``done``
    requests in ``elapsed`` seconds; None in the first seconds, while the rate says little."""
    if elapsed < 3.0 or done < 10:
        return None
    return left / (done / elapsed)


class ScanProgress:
    """A scan's progress on stderr: pages, queued, requests per second, broken and blocked, the
    elapsed time and an estimate of the time left, per site.

    On a terminal it is drawn with rich (a bar when the scan's size can be estimated) and
    redrawn each time the scan reports; anywhere else (a pipe, a log file, a test) nothing is
    drawn, and at ``--log-level info`` a ``scan.progress`` log line says the same every
    ``log_every`` seconds, with no control characters. ``expected``: the requests the last
    complete scan of these sites made (:func:`crawler.service.scans.run_scan` looks it up).
    ``clock`` is :func:`time.monotonic` (tests pass their own)."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        expected: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        log_every: float = 30.0,
    ) -> None:
        self.stream = stream or sys.stderr
        self.expected = expected
        self.clock = clock
        self.log_every = log_every
        self._start = clock()
        self._first: tuple[int, float] | None = None  # requests and time when first told
        self._seen: deque[tuple[int, float]] = deque()  # requests and time, the last seconds
        self._logged = self._start
        self._bar: _RichBar | None = _RichBar(self.stream) if _isatty(self.stream) else None

    def figures(self, scan: Running) -> tuple[str, int, int | None]:
        """The line to show, the requests done and the requests in all (when known)."""
        now = self.clock()
        s, f = scan.stats, scan.frontier
        if self._first is None:
            self._first = (s.requests, now)
        # the rate since the newest report at least RATE_WINDOW old: steady though the
        # figures come in steps (several processes' reports, each about once a second)
        self._seen.append((s.requests, now))
        while len(self._seen) > 1 and self._seen[1][1] <= now - RATE_WINDOW:
            self._seen.popleft()
        rps = (s.requests - self._seen[0][0]) / max(now - self._seen[0][1], 1e-6)
        queued = f.queued + f.delayed
        # what is left: the requests queued, or what the last complete scan of these sites
        # needed less those made, whichever is more (the queue grows as pages are read)
        todo = max(queued, (self.expected or 0) - s.requests)
        left = time_left(s.requests - self._first[0], todo, now - self._first[1])
        per_site = " ".join(f"{st.site.id}:{st.pages}" for st in scan.sites[:6])
        if len(scan.sites) > 6:
            per_site += " …"
        line = (
            f"elapsed {duration(now - self._start)}  "
            f"left {'~' + duration(left) if left is not None else 'estimating'}  "
            f"pages {s.pages}  queued {queued}  {rps:5.1f} req/s  broken {s.broken}  "
            f"blocked {s.blocked}  [{per_site}]"
        )
        return line, s.requests, None if left is None else s.requests + todo

    def __call__(self, scan: Running) -> None:
        line, done, total = self.figures(scan)
        if self._bar is not None:
            self._bar.update(line, done, total)
        elif self.clock() - self._logged >= self.log_every:
            self._logged = self.clock()
            _log.info("scan.progress", progress=line)

    def done(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


class _RichBar:
    """The drawing on a terminal: one rich progress bar, redrawn when told (no thread)."""

    BAR = 20
    FIXED = 4 + 1 + BAR + 1 + 4 + 1  # "scan", the bar, "100%" and the spaces between

    def __init__(self, stream: TextIO) -> None:
        self.console = Console(file=stream, highlight=False)
        self.progress = Progress(
            TextColumn("scan"),
            BarColumn(bar_width=self.BAR),
            TextColumn("{task.fields[share]}"),
            TextColumn("{task.fields[line]}", markup=False),
            console=self.console,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self.task = self.progress.add_task("scan", total=None, line="starting", share="    ")
        self.progress.start()

    def update(self, line: str, done: int, total: int | None) -> None:
        room = max(10, self.console.width - self.FIXED - 1)  # one line, whatever the width
        if len(line) > room:
            line = line[: room - 1] + "…"
        share = f"{min(100, 100 * done // total):>3d}%" if total else "    "
        self.progress.update(self.task, completed=done, total=total, line=line, share=share)
        self.progress.refresh()

    def stop(self) -> None:
        self.progress.stop()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (ValueError, OSError):
        return False
