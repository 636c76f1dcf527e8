"""``govmon daemon``: sample availability, scan inside the window, warn; until stopped."""

from __future__ import annotations

import argparse

from crawler.cli.common import Subparsers, UsageError, command, config_argument, store_option
from crawler.config import load_config
from crawler.scale import QueueError, require_postgres
from crawler.service.daemon import run_daemon
from crawler.service.scans import run_coroutine

__all__ = ["add_daemon"]


def add_daemon(sub: Subparsers) -> None:
    daemon = command(
        sub,
        "daemon",
        summary="sample, scan inside the window, warn; until stopped",
        description="""
            Run unattended until stopped (SIGTERM, Ctrl-C): sample every site's availability
            [schedule] samples_per_day times a day, scan inside the config's scan window (or
            once a day), and send early warnings to the [schedule] webhook. At start it says
            when it will next sample and scan. A scan stopped with it is resumed at the next
            start. Meant to run under systemd (see deploy/).
        """,
        example=(
            ("govmon daemon govmon.toml", "monitor with govmon.db until stopped"),
            (
                "govmon daemon govmon.toml --log-level info",
                "the same, logging every sample round and scan",
            ),
            (
                "govmon daemon govmon.toml --db postgresql://govmon@db.example/govmon --queue",
                "lead the scans and leave the crawling to govmon worker processes",
            ),
        ),
    )
    config_argument(daemon)
    store_option(daemon)
    daemon.add_argument(
        "--queue",
        action="store_true",
        help="(postgresql:// only) submit each scan to govmon worker processes instead of crawling",
    )
    daemon.add_argument(
        "--metrics-listen",
        metavar="HOST:PORT",
        help="where /healthz and /metrics answer (default: [schedule] metrics_listen, else"
        " 127.0.0.1:9108)",
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
