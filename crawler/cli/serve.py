"""``govmon serve``: a read-only web view of the store."""

from __future__ import annotations

import argparse

from crawler.cli.common import EXIT_OK, Subparsers, UsageError, token
from crawler.service.scans import run_coroutine
from crawler.service.web import ServeError, run_server

__all__ = ["add_serve"]


def add_serve(sub: Subparsers) -> None:
    serve = sub.add_parser("serve", help="a read-only web view of the store")
    serve.add_argument("--db", default="govmon.db")
    serve.add_argument("--listen", default="127.0.0.1:8080", metavar="HOST:PORT")
    serve.add_argument(
        "--token-file",
        metavar="FILE",
        help="a file holding the access token (or set GOVMON_TOKEN); required off loopback",
    )
    serve.set_defaults(run=lambda args: run_coroutine(_serve(args, token(args))))


async def _serve(args: argparse.Namespace, access_token: str | None) -> int:
    try:
        await run_server(args.db, args.listen, access_token)
    except ServeError as exc:
        raise UsageError(f"serve: {exc}") from None
    return EXIT_OK
