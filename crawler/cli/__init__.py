"""The ``govmon`` command line. Exit status: 0 done, 1 a run-time failure, 2 bad usage/config,
130 / 143 a scan stopped by SIGINT / SIGTERM before it completed.

One module per command (or small group of commands) adds its parser and what it runs;
:func:`main` assembles them, runs the command and turns its errors into exit statuses.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from crawler import __version__
from crawler.cli.columns import add_columns
from crawler.cli.common import EXIT_USAGE, UsageError
from crawler.cli.daemon import add_daemon
from crawler.cli.demo import add_demo
from crawler.cli.ignore import add_ignore
from crawler.cli.inspect_page import add_inspect
from crawler.cli.jobs import add_jobs
from crawler.cli.probe import add_probe
from crawler.cli.replay import add_replay
from crawler.cli.report import add_report
from crawler.cli.scan import add_record, add_scan
from crawler.cli.serve import add_serve
from crawler.core.logs import configure
from crawler.service.scans import FAILURES, exit_status

__all__ = ["UsageError", "main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="govmon",
        description="Inspect government websites: links, columns, replies, verdicts.",
    )
    p.add_argument("--version", action="version", version=f"govmon {__version__}")
    p.add_argument("--log-level", default="warning", help="debug, info, warning (default), error")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # in the order `govmon --help` lists them
    for add in (add_scan, add_report, add_ignore, add_inspect, add_columns, add_serve, add_probe,
                add_daemon, add_record, add_replay, add_jobs, add_demo):  # fmt: skip
        add(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``govmon`` with ``argv`` (default: the process's arguments); the exit status."""
    args = _parser().parse_args(argv)
    configure(args.log_level)
    try:
        status: int = args.run(args)
    except UsageError as exc:
        print(f"govmon: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except FAILURES as exc:
        return exit_status(exc)
    return status
