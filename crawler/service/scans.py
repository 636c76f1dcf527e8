"""Scans and reports as library calls: what ``govmon scan`` / ``govmon report`` and the demo run.

:func:`run_scan` crawls the sites of a config into a store (one process; SIGINT / SIGTERM stop it
cleanly) and returns a :class:`ScanOutcome`; :func:`finish_scan` says how it went, as govmon
does, and gives the exit status. :func:`report_bytes` renders a stored scan's report in one
format and :func:`write_report` writes it to a file. :func:`exit_status` turns the errors these
raise (a bad config, a broken store, a report that cannot be made) into govmon's message and
exit status; :func:`run_coroutine` runs one of them to completion on a fresh event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shlex
import signal
import sys
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from crawler.config import Config, ConfigError, Site
from crawler.core import Resume, Scan, config_digest
from crawler.core.logs import ScanProgress
from crawler.recordings import WarcError, WarcRecorder
from crawler.reports.build import ReportError
from crawler.scale.partition import previous_sizes
from storage.base import NotInStore, StoreError
from storage.dburl import shown
from storage.open import open_store

__all__ = [
    "EXIT_FAILURE",
    "EXIT_OK",
    "EXIT_SIGINT",
    "EXIT_SIGTERM",
    "EXIT_USAGE",
    "FAILURES",
    "ScanOutcome",
    "command_line",
    "exit_status",
    "finish_scan",
    "run_coroutine",
    "run_scan",
    "scan_summary",
    "script_summary",
    "stopped_status",
]

# govmon's exit statuses; what each means is the table in crawler/cli/common.py (EXIT_CODES),
# shown by `govmon --help` and in the README
EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
EXIT_SIGINT, EXIT_SIGTERM = 128 + signal.SIGINT, 128 + signal.SIGTERM

#: The errors a scan or a report may end with, each with its message and exit status
#: (:func:`exit_status`); anything else is a bug.
FAILURES = (ConfigError, ReportError, StoreError, KeyboardInterrupt)


def command_line(*words: str) -> str:
    """A govmon command to suggest in a message, each word quoted for a POSIX shell, so it
    pastes as it is (a config path with a space, a store URL with ``&``)."""
    return " ".join(shlex.quote(w) for w in ("govmon", *words))


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    """How a :func:`run_scan` ended."""

    scan: Scan  # its statistics and sites
    scan_id: int
    status: str  # "complete", or why it stopped (everything done so far is stored)
    stopped_by: int | None  # the signal that stopped it, if one did
    recording_error: str | None  # why the WARC recording failed (a full disk), if it did


async def run_scan(
    config: Config,
    db: str,
    *,
    sites: Sequence[Site] | None = None,
    as_of: dt.datetime | None = None,
    resume: bool = False,
    record: str | None = None,
    proxy: str | None = None,
) -> ScanOutcome:
    """Scan ``sites`` (default: all of ``config``'s) into the store ``db``, showing progress on
    stderr; SIGINT and SIGTERM stop the scan cleanly (its outcome says which).

    ``resume``: continue the newest incomplete scan of this config (a new one when there is
    none, said on stderr); ``record``: also write every exchange to this WARC file (appended to
    when resuming); ``proxy``: send every request through it (``govmon replay``).
    """
    store = await open_store(db)
    chosen = tuple(sites) if sites is not None else config.sites
    progress = ScanProgress()
    loop = asyncio.get_running_loop()
    recording_error: str | None = None
    try:
        sizes = await previous_sizes(store)
        progress.expected = sum(sizes.get(site.id, 0) for site in chosen) or None
        resumed = None
        if resume:
            # (a scan shared out to several processes or queue workers is never resumable)
            resumed = await store.resumable(config_digest(config))
            if resumed is None:
                print("govmon: no incomplete scan of this config to resume: starting a new one",
                      file=sys.stderr)  # fmt: skip
        recorder = None
        if record:
            recorder = WarcRecorder(record, append=resumed is not None)
        scan = Scan(
            config,
            store,
            sites=chosen,
            as_of=as_of if as_of is not None else config.as_of,
            progress=progress,
            start=Resume(resumed) if resumed is not None else None,
            recorder=recorder,
            proxy=proxy,
        )
        stopped_by: list[int] = []

        def stop(sig: int) -> None:
            stopped_by.append(sig)
            scan.stop()

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop, sig)
        try:
            result = await scan.run()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            if recorder is not None:
                recording_error = _close_recorder(recorder)
    finally:
        progress.done()
        await store.close()
    return ScanOutcome(
        scan=scan,
        scan_id=result.scan_id,
        status=result.status,
        stopped_by=stopped_by[0] if stopped_by else None,
        recording_error=recording_error,
    )


def finish_scan(outcome: ScanOutcome, *, config_path: str, db: str, record: str | None) -> int:
    """Say how a scan went, as ``govmon scan`` does, and return its exit status: the summary on
    stdout and 0; a failed recording on stderr and 1; a scan stopped before it completed, how to
    continue it, on stderr and :func:`stopped_status` (SIGTERM's when no signal stopped it)."""
    if outcome.recording_error is not None:
        print(f"govmon: recording {record}: {outcome.recording_error}", file=sys.stderr)
        return EXIT_FAILURE
    if outcome.status != "complete":
        again = command_line("scan", config_path, "--db", shown(db), "--resume")
        print(
            f"govmon: scan {outcome.scan_id} stopped ({outcome.status}); everything done so far"
            " is stored. Its report says 检查未完成 and gives the sites not finished no verdict"
            f" (unchecked). Continue it with:\n  {again}",
            file=sys.stderr,
        )
        return stopped_status(outcome.stopped_by or signal.SIGTERM)
    sys.stdout.write(scan_summary(outcome.scan, outcome.scan_id, db))
    return EXIT_OK


def stopped_status(sig: int) -> int:
    """The exit status of a scan stopped by ``sig`` before it completed: 128 + the signal's
    number, as shells report it (130 for SIGINT, 143 for SIGTERM)."""
    return 128 + int(sig)


def _close_recorder(recorder: WarcRecorder) -> str | None:
    """Close a WARC recorder; what went wrong (a full disk), if anything. The store has
    everything the scan found either way."""
    try:
        recorder.close()
    except WarcError as exc:
        return str(exc)
    return None


def script_summary(scripted: Any) -> str:
    """The summary's line on pages built by script (nothing on a site without any)."""
    s = scripted.stats
    if not (s.static or s.needed_browser):
        return ""
    line = (
        f"built by script: {s.static} pages read without a browser, {s.needed_browser} needed a"
        f" browser: {s.rendered} rendered, {s.unreadable} could not be read (column.unreadable)\n"
    )
    if s.unreadable and scripted.unavailable:
        line += f"  no browser: {scripted.unavailable}\n"
    return line


def scan_summary(scan: Scan, scan_id: int, db: str) -> str:
    """What ``govmon scan`` prints when a scan completed: its figures, one line a site, and
    the command that shows its report."""
    s = scan.stats
    out = [
        f"scan {scan_id} complete: {s.pages} pages, {s.requests} requests, "
        f"{s.broken} broken, {s.blocked} blocked, {s.retries} retries, {s.rechecks} re-checks"
        f" in {scan.elapsed:.1f}s\n"
    ]
    for st in scan.sites:
        out.append(
            f"  {st.site.id:<12} {st.pages:>6} pages  {st.errors:>4} broken  {st.site.name}\n"
        )
    scripted = getattr(scan, "scripted", None)
    if scripted is not None:
        out.append(script_summary(scripted))
    again = command_line("report", "--db", shown(db), "--scan", str(scan_id), "--format", "md")
    out.append(f"report: {again}\n")
    return "".join(out)


def exit_status(exc: BaseException) -> int:
    """Say on stderr what one of :data:`FAILURES` means, as govmon does; its exit status."""
    if isinstance(exc, ConfigError):
        print(f"govmon: config error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(exc, NotInStore):  # no such store, no such scan: the command's mistake
        print(f"govmon: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(exc, StoreError):
        print(f"govmon: store error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    if isinstance(exc, KeyboardInterrupt):
        print("govmon: interrupted", file=sys.stderr)
        return EXIT_SIGINT
    print(f"govmon: {exc}", file=sys.stderr)  # a report that cannot be made as asked
    return EXIT_USAGE


def run_coroutine(coro: Coroutine[Any, Any, int]) -> int:
    """Run ``coro`` on a fresh event loop (uvloop's where it is installed); its result."""
    try:
        import uvloop  # noqa: PLC0415  optional: not built on every platform

        return uvloop.run(coro)
    except ImportError:  # pragma: no cover - uvloop is a dependency, but not on every platform
        return asyncio.run(coro)
