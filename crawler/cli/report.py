"""``govmon report``: the findings of a scan in one format, on stdout or into a file."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from crawler.cli.common import EXIT_OK, Subparsers, UsageError, command, store_option
from crawler.service.reporting import report_bytes, write_report
from crawler.service.scans import run_coroutine

__all__ = ["add_report", "default_format"]

FORMATS = ("json", "csv", "md", "html", "xlsx")


def _scan_ref(*words: str) -> Callable[[str], str]:
    """An argparse type: a scan number, or one of ``words``."""

    def parse(text: str) -> str:
        value = text.strip().lower()
        if value in words or value.isdigit():
            return value
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a scan number or {' / '.join(repr(w) for w in words)}"
        )

    return parse


def add_report(sub: Subparsers) -> None:
    report = command(
        sub,
        "report",
        summary="print the findings of a scan (报告)",
        description="""
            The report of a scan: each site's verdict (合格 / 不合格 / 检查未完成), its score
            and its findings, in one format. Without --format it prints Markdown on a terminal
            and JSON when its output goes to a pipe or a file (scripts read the JSON).
            html and md follow the quarterly notice's attachment; csv opens in a spreadsheet;
            xlsx needs --output.
        """,
        example=(
            ("govmon report", "the latest scan of govmon.db, as Markdown on a terminal"),
            (
                "govmon report --format html --output report.html",
                "the report to open in a browser or attach to the notice",
            ),
            (
                "govmon report --scan 12 --compare previous --format md",
                "scan 12, and what is new, persisting or resolved since the scan before it",
            ),
            ("govmon report | jq '.sites'", "piped: JSON, for scripts"),
        ),
    )
    store_option(report, writes=False)
    report.add_argument(
        "--scan",
        default="latest",
        type=_scan_ref("latest"),
        metavar="ID",
        help="the scan's number (see govmon scan's summary), or latest (default: %(default)s)",
    )
    report.add_argument(
        "--format",
        choices=FORMATS,
        metavar="FORMAT",
        help=f"one of {', '.join(FORMATS)} (default: md on a terminal, json otherwise)",
    )
    report.add_argument(
        "--output",
        metavar="FILE",
        help="write the report to FILE (required for xlsx; default: standard output)",
    )
    report.add_argument(
        "--compare",
        metavar="ID",
        type=_scan_ref("previous"),
        help="also what is new, persisting or resolved since scan ID (an earlier one), or"
        " previous: the newest earlier complete scan of the same sites (default: no comparison)",
    )
    report.set_defaults(run=lambda args: run_coroutine(_report(args)))


def default_format(output: str | None) -> str:
    """The format without ``--format``: Markdown for a person at a terminal, JSON for a pipe,
    a file or a program (what scripts have always read)."""
    if output is None and sys.stdout.isatty():
        return "md"
    return "json"


async def _report(args: argparse.Namespace) -> int:
    fmt = args.format or default_format(args.output)
    if fmt == "xlsx" and not args.output:
        raise UsageError("--format xlsx needs --output FILE.xlsx")
    data = await report_bytes(args.db, fmt, scan=args.scan, compare=args.compare)
    if args.output:
        return await write_report(data, args.output)
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
    return EXIT_OK
