"""``govmon replay``: serve recorded responses on loopback, for ``govmon scan --proxy``."""

from __future__ import annotations

import argparse
import sys

from crawler.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    Subparsers,
    UsageError,
    command,
    token,
    token_option,
    until_stopped,
)
from crawler.recordings import WarcError
from crawler.recordings.replay import run_replay
from crawler.service.scans import run_coroutine

__all__ = ["add_replay"]


def add_replay(sub: Subparsers) -> None:
    replay = command(
        sub,
        "replay",
        summary="serve recorded responses on loopback (scan --proxy)",
        description="""
            Answer as the recorded sites did, from one or more WARC files (govmon record,
            scan --record), as an HTTP proxy until stopped (Ctrl-C): a scan with
            --proxy http://HOST:PORT then crawls the recording instead of the live sites.
        """,
        example=(
            (
                "govmon replay 2020q2.warc.gz",
                "answer from the recording at 127.0.0.1:8090; in another shell:",
            ),
            (
                "govmon scan govmon.toml --proxy http://127.0.0.1:8090 --db replayed.db",
                "scan the recording again, e.g. after changing the checks",
            ),
        ),
    )
    replay.add_argument("warc", nargs="+", metavar="WARC", help="the recordings to answer from")
    replay.add_argument(
        "--listen",
        default="127.0.0.1:8090",
        metavar="HOST:PORT",
        help="the address and port to answer on (default: %(default)s)",
    )
    token_option(replay)
    replay.set_defaults(run=lambda args: run_coroutine(_replay(args)))


async def _replay(args: argparse.Namespace) -> int:
    try:
        await until_stopped(run_replay(args.warc, args.listen, token=token(args)))
    except (WarcError, OSError) as exc:  # an unreadable file, a port already in use
        print(f"govmon: replay: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except ValueError as exc:
        raise UsageError(f"replay: {exc}") from None
    return EXIT_OK
