"""``govmon serve``: the web view of the store (read-only without a token)."""

from __future__ import annotations

import argparse

from crawler.cli.common import (
    EXIT_OK,
    Subparsers,
    UsageError,
    command,
    store_option,
    token,
    token_option,
    until_stopped,
)
from crawler.service.scans import run_coroutine
from crawler.service.web import ServeError, run_server

__all__ = ["add_serve"]


def add_serve(sub: Subparsers) -> None:
    serve = command(
        sub,
        "serve",
        summary="the web view of the store: read-only, or with a token, to mark false positives",
        description="""
            Serve the store's scans and reports as web pages until stopped (Ctrl-C): a
            dashboard, charts, paged and filtered lists. Without a token it is read-only; with
            one (--token-file or GOVMON_TOKEN), a clerk who logs in with it can mark findings as
            false positives (误报) from the page. It listens on loopback only unless given
            another address, and off loopback it requires the token.
        """,
        example=(
            ("govmon serve", "the view of govmon.db at http://127.0.0.1:8080/"),
            (
                "GOVMON_TOKEN=$(cat token) govmon serve --listen 0.0.0.0:8080",
                "for the office's network: every request must bring the token",
            ),
        ),
    )
    store_option(serve, writes=False)
    serve.add_argument(
        "--listen",
        default="127.0.0.1:8080",
        metavar="HOST:PORT",
        help="the address and port to answer on (default: %(default)s)",
    )
    token_option(serve)
    serve.set_defaults(run=lambda args: run_coroutine(_serve(args, token(args))))


async def _serve(args: argparse.Namespace, access_token: str | None) -> int:
    try:
        await until_stopped(run_server(args.db, args.listen, access_token))
    except ServeError as exc:
        raise UsageError(f"serve: {exc}") from None
    return EXIT_OK
