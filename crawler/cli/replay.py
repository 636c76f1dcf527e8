"""``govmon replay``: serve recorded responses on loopback, for ``govmon scan --proxy``."""

from __future__ import annotations

import argparse
import sys

from crawler.cli.common import EXIT_FAILURE, EXIT_OK, Subparsers, UsageError, token
from crawler.recordings import WarcError
from crawler.recordings.replay import run_replay
from crawler.service.scans import run_coroutine

__all__ = ["add_replay"]


def add_replay(sub: Subparsers) -> None:
    replay = sub.add_parser("replay", help="serve recorded responses on loopback (scan --proxy)")
    replay.add_argument("warc", nargs="+", metavar="WARC")
    replay.add_argument("--listen", default="127.0.0.1:8090", metavar="HOST:PORT")
    replay.add_argument(
        "--token-file",
        metavar="FILE",
        help="a file holding the access token (or set GOVMON_TOKEN); required off loopback",
    )
    replay.set_defaults(run=lambda args: run_coroutine(_replay(args)))


async def _replay(args: argparse.Namespace) -> int:
    try:
        await run_replay(args.warc, args.listen, token=token(args))
    except (WarcError, OSError) as exc:  # an unreadable file, a port already in use
        print(f"govmon: replay: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except ValueError as exc:
        raise UsageError(f"replay: {exc}") from None
    return EXIT_OK
