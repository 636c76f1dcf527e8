"""``govmon report``: the findings of a scan in one format, on stdout or into a file."""

from __future__ import annotations

import argparse
import sys

from crawler.cli.common import EXIT_OK, Subparsers, UsageError
from crawler.service.scans import report_bytes, run_coroutine, write_report

__all__ = ["add_report"]


def add_report(sub: Subparsers) -> None:
    report = sub.add_parser("report", help="print the findings of a scan")
    report.add_argument("--db", default="govmon.db")
    report.add_argument("--scan", default="latest", metavar="ID|latest")
    report.add_argument("--format", default="json", choices=("json", "csv", "md", "html", "xlsx"))
    report.add_argument("--output", metavar="FILE", help="write here (required for xlsx)")
    report.add_argument(
        "--compare",
        metavar="ID",
        help="what is new, persisting, resolved since scan ID (an earlier one), or 'previous':"
        " the newest earlier complete scan of the same sites",
    )
    report.set_defaults(run=lambda args: run_coroutine(_report(args)))


async def _report(args: argparse.Namespace) -> int:
    if args.format == "xlsx" and not args.output:
        raise UsageError("--format xlsx needs --output FILE.xlsx")
    data = await report_bytes(args.db, args.format, scan=args.scan, compare=args.compare)
    if args.output:
        return await write_report(data, args.output)
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
    return EXIT_OK
