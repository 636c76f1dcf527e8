"""``govmon submit``, ``worker`` and ``status``: scans shared out through a PostgreSQL queue."""

from __future__ import annotations

import argparse
import json
import sys

from crawler import scale
from crawler.cli.common import EXIT_OK, Subparsers, UsageError
from crawler.config import load_config, parse_when
from crawler.service.scans import run_coroutine

__all__ = ["add_jobs"]


def add_jobs(sub: Subparsers) -> None:
    """The three commands of the queue: ``submit``, ``worker``, ``status``."""
    submit = sub.add_parser(
        "submit", help="queue a scan of CONFIG in PostgreSQL, one job per site (for workers)"
    )
    submit.add_argument("config")
    submit.add_argument("--db", required=True, metavar="postgresql://…")
    submit.add_argument("--as-of", dest="as_of", metavar="WHEN")
    submit.add_argument(
        "--window", metavar="DURATION", help="the sampling window from now, e.g. 5d, 36h (status)"
    )

    worker = sub.add_parser("worker", help="run queued site jobs from PostgreSQL until stopped")
    worker.add_argument("--db", required=True, metavar="postgresql://…")
    worker.add_argument("--jobs", type=int, default=1, metavar="N", help="sites at once (1)")
    worker.add_argument(
        "--until-idle", action="store_true", help="exit when no site of any scan is left to do"
    )
    worker.add_argument("--heartbeat", type=float, default=10.0, metavar="SECONDS")
    worker.add_argument(
        "--stalled-after",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="a worker silent this long is lost: its sites go back to the queue (30)",
    )

    status = sub.add_parser("status", help="queued scans: sites queued, running, done; ETA")
    status.add_argument("--db", required=True, metavar="postgresql://…")
    status.add_argument("--scan", type=int, metavar="ID")
    status.add_argument("--format", choices=("text", "json"), default="text")
    for parser in (submit, worker, status):
        parser.set_defaults(run=lambda args: run_coroutine(_queue_command(args)))


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
        rows = await scale.status(args.db, args.scan)
        if args.format == "json":
            print(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=2))
        else:
            print(scale.format_status(rows))
        return EXIT_OK
    except scale.QueueError as exc:
        raise UsageError(str(exc)) from None
