"""``govmon daemon``: sample availability, scan inside the window, warn; until stopped."""

from __future__ import annotations

import argparse

from crawler.cli.common import Subparsers, UsageError
from crawler.config import load_config
from crawler.scale import QueueError, require_postgres
from crawler.service.daemon import run_daemon
from crawler.service.scans import run_coroutine

__all__ = ["add_daemon"]


def add_daemon(sub: Subparsers) -> None:
    daemon = sub.add_parser("daemon", help="sample, scan inside the window, warn; until stopped")
    daemon.add_argument("config")
    daemon.add_argument("--db", default="govmon.db")
    daemon.add_argument(
        "--queue",
        action="store_true",
        help="(postgresql:// only) submit each scan to `govmon worker`s instead of crawling",
    )
    daemon.add_argument(
        "--metrics-listen",
        metavar="HOST:PORT",
        help="where /healthz and /metrics answer (default: [schedule] metrics_listen)",
    )
    daemon.set_defaults(run=lambda args: run_coroutine(_daemon(args)))


async def _daemon(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.queue:
        try:
            require_postgres(args.db, "daemon --queue")
        except QueueError as exc:
            raise UsageError(str(exc)) from None
    listen = None
    if args.metrics_listen:
        host, _, port = args.metrics_listen.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise UsageError(f"--metrics-listen {args.metrics_listen!r}: expected HOST:PORT")
        listen = (host.strip("[]"), int(port))
    return await run_daemon(config, args.db, queue=args.queue, listen=listen)
