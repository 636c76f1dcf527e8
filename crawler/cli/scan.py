"""``govmon scan`` and ``govmon record``: inspect every site of a config into the store."""

from __future__ import annotations

import argparse

from crawler.cli.common import Subparsers, UsageError, as_of_option, selected_sites
from crawler.config import load_config
from crawler.scale.processes import scan_command
from crawler.service.scans import finish_scan, run_coroutine, run_scan

__all__ = ["add_record", "add_scan", "scan"]


def add_scan(sub: Subparsers) -> None:
    scan_ = sub.add_parser("scan", help="inspect every site of CONFIG into the store")
    scan_.add_argument("config")
    scan_.add_argument("--db", default="govmon.db", help="store (default: govmon.db)")
    scan_.add_argument("--as-of", dest="as_of", metavar="WHEN", help="monitoring time point")
    scan_.add_argument("--site", action="append", default=[], metavar="ID", help="only this site")
    scan_.add_argument("--record", metavar="WARC", help="also write every exchange to this WARC")
    scan_.add_argument(
        "--proxy",
        metavar="URL",
        help="send every request through this proxy (govmon replay), https URLs included",
    )
    scan_.add_argument(
        "--resume",
        action="store_true",
        help="continue the newest incomplete scan of this config in the store",
    )
    scan_.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="share the crawl between N processes, sites of one host in the same one (1)",
    )
    scan_.set_defaults(run=lambda args: run_coroutine(scan(args)))


def add_record(sub: Subparsers) -> None:
    record = sub.add_parser("record", help="a scan that also writes every response to a WARC")
    record.add_argument("config")
    record.add_argument("--warc", required=True, metavar="FILE")
    record.add_argument("--db", default="govmon.db")
    record.add_argument("--as-of", dest="as_of", metavar="WHEN")
    record.add_argument("--site", action="append", default=[], metavar="ID")
    record.set_defaults(run=_record)


def _record(args: argparse.Namespace) -> int:
    args.record, args.proxy, args.resume = args.warc, None, False
    return run_coroutine(scan(args))


async def scan(args: argparse.Namespace) -> int:
    """``govmon scan`` (and ``record``): one process, or the sites shared out to several."""
    config = load_config(args.config)
    sites = selected_sites(config, args.site)
    as_of = as_of_option(config, args.as_of)
    processes = getattr(args, "processes", 1)  # `govmon record` has no --processes
    if processes < 1:
        raise UsageError(f"--processes {processes}: at least 1")
    if processes > 1:
        if args.resume or args.record:
            option = "--resume" if args.resume else "--record"
            raise UsageError(f"--processes cannot be combined with {option}; use one process")
        return await scan_command(config, sites, config_arg=args.config, db=args.db, as_of=as_of,
                                  processes=processes, proxy=args.proxy,
                                  log_level=args.log_level)  # fmt: skip
    outcome = await run_scan(config, args.db, sites=sites, as_of=as_of, resume=args.resume,
                             record=args.record, proxy=args.proxy)  # fmt: skip
    return finish_scan(outcome, config_path=args.config, db=args.db, record=args.record)
