"""``govmon submit``, ``worker`` and ``status``: scans shared out through a PostgreSQL queue."""

from __future__ import annotations

import argparse
import json
import sys

from crawler import scale
from crawler.cli.common import (
    EXIT_OK,
    Subparsers,
    UsageError,
    as_of_argument,
    command,
    config_argument,
)
from crawler.config import load_config, parse_when
from crawler.scale.status import status as queue_status
from crawler.service.scans import run_coroutine

__all__ = ["add_jobs"]


def add_jobs(sub: Subparsers) -> None:
    """The three commands of the queue: ``submit``, ``worker``, ``status``."""
    submit = command(
        sub,
        "submit",
        summary="queue a scan of CONFIG in PostgreSQL, one job per site (for workers)",
        description="""
            Queue a scan of CONFIG in a PostgreSQL store, one job per site, for govmon worker
            processes on any number of machines to run. Prints the scan's number.
        """,
        example=(
            (
                "govmon submit govmon.toml --db postgresql://govmon@db.example/govmon",
                "queue a scan of every site",
            ),
            (
                "govmon submit govmon.toml --db postgresql://govmon@db.example/govmon --window 5d",
                "the same, to be done within five days (govmon status estimates against it)",
            ),
        ),
    )
    config_argument(submit)
    _queue_store(submit)
    as_of_argument(submit)
    submit.add_argument(
        "--window",
        metavar="DURATION",
        help="the time from now the scan should be done in, e.g. 5d, 36h, 90m or 1d12h"
        " (default: none)",
    )

    worker = command(
        sub,
        "worker",
        summary="run queued site jobs from PostgreSQL until stopped",
        description="""
            Take queued site jobs from a PostgreSQL store and scan them, until stopped
            (SIGTERM, Ctrl-C) or, with --until-idle, until none is left. A worker that stops
            answering has its sites taken over by the others.
        """,
        example=(
            (
                "govmon worker --db postgresql://govmon@db.example/govmon --jobs 4",
                "scan four sites at a time until stopped",
            ),
            (
                "govmon worker --db postgresql://govmon@db.example/govmon --until-idle",
                "work through the queue, then exit",
            ),
        ),
    )
    _queue_store(worker)
    worker.add_argument(
        "--jobs", type=int, default=1, metavar="N", help="sites at once (default: %(default)s)"
    )
    worker.add_argument(
        "--until-idle", action="store_true", help="exit when no site of any scan is left to do"
    )
    worker.add_argument(
        "--heartbeat",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how often to tell the queue this worker is alive (default: %(default)s)",
    )
    worker.add_argument(
        "--stalled-after",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="a worker silent this long is lost: its sites go back to the queue"
        " (default: %(default)s)",
    )

    status = command(
        sub,
        "status",
        summary="queued scans: sites queued, running, done; ETA",
        description="""
            How the queued scans in a PostgreSQL store are going: sites queued, running and
            done, the workers at them, and an estimate of when each scan will be done.
        """,
        example=(
            ("govmon status --db postgresql://govmon@db.example/govmon", "every queued scan"),
            (
                "govmon status --db postgresql://govmon@db.example/govmon --scan 12 --format json",
                "scan 12, for a program",
            ),
        ),
    )
    _queue_store(status)
    status.add_argument(
        "--scan", type=int, metavar="ID", help="only this scan (default: every queued scan)"
    )
    status.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text for a person, json for a program (default: %(default)s)",
    )
    for parser in (submit, worker, status):
        parser.set_defaults(run=lambda args: run_coroutine(_queue_command(args)))


def _queue_store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        required=True,
        metavar="postgresql://…",
        help="the PostgreSQL store that holds the queue (required)",
    )


async def _queue_command(args: argparse.Namespace) -> int:
    try:
        if args.command == "submit":
            as_of = None
            if args.as_of:
                config = load_config(args.config)
                try:
                    as_of = parse_when(args.as_of, config.tz)
                except ValueError as exc:
                    raise UsageError(f"--as-of: {exc}") from None
            try:
                window = scale.parse_duration(args.window) if args.window else None
            except ValueError as exc:
                raise UsageError(f"--window: {exc}") from None
            scan_id, sites = await scale.submit(args.config, args.db, as_of=as_of, window=window)
            print(scan_id)
            print(f"queued {sites} sites of scan {scan_id}", file=sys.stderr)
            return EXIT_OK
        if args.command == "worker":
            if args.jobs < 1:
                raise UsageError("worker: --jobs must be at least 1")
            await scale.run_worker(
                args.db,
                jobs=args.jobs,
                heartbeat=args.heartbeat,
                stalled_after=args.stalled_after,
                recover_every=max(1.0, min(10.0, args.stalled_after / 3)),
                until_idle=args.until_idle,
            )
            return EXIT_OK
        rows = await queue_status(args.db, args.scan)
        if args.format == "json":
            print(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=2))
        else:
            print(scale.format_status(rows))
        return EXIT_OK
    except scale.QueueError as exc:
        raise UsageError(str(exc)) from None
