"""``govmon scan`` and ``govmon record``: inspect every site of a config into the store."""

from __future__ import annotations

import argparse

from crawler.cli.common import (
    Subparsers,
    UsageError,
    as_of_argument,
    as_of_option,
    command,
    config_argument,
    selected_sites,
    site_option,
    store_option,
)
from crawler.config import load_config
from crawler.scale.processes import scan_command
from crawler.service.scans import finish_scan, run_coroutine, run_scan

__all__ = ["add_record", "add_scan", "scan"]


def add_scan(sub: Subparsers) -> None:
    scan_ = command(
        sub,
        "scan",
        summary="inspect every site of CONFIG into the store",
        description="""
            Crawl every site of CONFIG (or those given with --site), run every check and store
            what was found in the store. Prints a summary and the command that shows the report.
            A scan stopped by Ctrl-C or SIGTERM keeps what it did: continue it with --resume.
            On a terminal a progress display shows pages, the elapsed time and an estimate of
            what is left; otherwise (a pipe, a log file) nothing but the summary is printed.
        """,
        example=(
            ("govmon scan govmon.toml", "scan every site into govmon.db"),
            (
                "govmon scan govmon.toml --site portal --as-of 2020-06-16",
                "only the site with id portal, judged as of 16 June 2020",
            ),
            ("govmon scan govmon.toml --resume", "continue the scan that was stopped"),
            (
                "govmon scan govmon.toml --db postgresql://govmon@db.example/govmon --processes 4",
                "into PostgreSQL, the sites shared between four processes",
            ),
        ),
    )
    config_argument(scan_)
    store_option(scan_)
    as_of_argument(scan_)
    site_option(scan_)
    scan_.add_argument(
        "--record", metavar="WARC", help="also write every exchange to this WARC file"
    )
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
        help="share the crawl between N processes, sites of one host in the same one"
        " (default: %(default)s)",
    )
    scan_.set_defaults(run=lambda args: run_coroutine(scan(args)))


def add_record(sub: Subparsers) -> None:
    record = command(
        sub,
        "record",
        summary="a scan that also writes every response to a WARC",
        description="""
            A scan, as govmon scan, that also writes every request and response to a WARC file
            (the web archive format): evidence to keep, and a recording that govmon replay
            serves again for a scan with --proxy.
        """,
        example=(
            (
                "govmon record govmon.toml --warc 2020q2.warc.gz",
                "scan every site and keep every response in 2020q2.warc.gz",
            ),
        ),
    )
    config_argument(record)
    record.add_argument("--warc", required=True, metavar="FILE", help="the WARC file to write")
    store_option(record)
    as_of_argument(record)
    site_option(record)
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
