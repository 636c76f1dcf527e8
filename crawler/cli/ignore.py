"""``govmon ignore``: mark a finding as a false positive or an accepted exception (or undo it)."""

from __future__ import annotations

import argparse

from crawler.cli.common import EXIT_OK, Subparsers, UsageError, examples, store_option
from crawler.service.scans import run_coroutine
from storage.open import open_store

__all__ = ["add_ignore"]


def add_ignore(sub: Subparsers) -> None:
    ignore = sub.add_parser(
        "ignore",
        help="mark a finding as a false positive or accepted exception (or --undo)",
        description="Keep a finding out of verdicts and reports (listed apart) in this and every"
        " later scan, until undone: a false positive (误报) or an accepted exception.",
        epilog=examples(
            (
                "govmon ignore 3f2a9c1e5b7d4a60 --reason '外链为上级单位网站，已核实'",
                "ignore the finding with this id (the report's id column)",
            ),
            ("govmon ignore --undo 3f2a9c1e5b7d4a60", "count it again"),
        ),
    )
    ignore.add_argument("finding", metavar="FINDING", help="the finding's id (see the report)")
    ignore.add_argument("--reason", help="why (required unless --undo)")
    ignore.add_argument("--undo", action="store_true", help="count the finding again")
    store_option(ignore, writes=False)
    ignore.set_defaults(run=lambda args: run_coroutine(_ignore(args)))


async def _ignore(args: argparse.Namespace) -> int:
    if not args.undo and not (args.reason or "").strip():
        raise UsageError("ignore: --reason TEXT is required (say why, for the next inspector)")
    store = await open_store(args.db, create=False)
    try:
        if args.undo:
            if not await store.unignore(args.finding):
                raise UsageError(f"ignore --undo: finding {args.finding} was not ignored")
            print(f"finding {args.finding} counts again")
        else:
            done = await store.ignore(args.finding, args.reason.strip())
            print(f"ignored {done['check']} {done['url']} ({done['site']}): {done['reason']}")
    finally:
        await store.close()
    return EXIT_OK
