"""``govmon demo``: scan the bundled demo district and write its reports."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crawler.cli.common import EXIT_FAILURE, Subparsers, command
from crawler.demo import run_demo

__all__ = ["add_demo"]


def add_demo(sub: Subparsers) -> None:
    demo = command(
        sub,
        "demo",
        summary="scan the bundled demo district and write its reports",
        description="""
            Scan 江滨区, a made-up district with planted problems that ships with govmon,
            and write its config, store and reports into DIR: a first look at what govmon
            finds and how its reports read, with no network needed (it replays a recording).
        """,
        example=(
            ("govmon demo", "write demo-out/ (govmon.toml, govmon.db, report.md, report.html …)"),
            (
                "govmon demo --output /tmp/demo --live",
                "the same from the district's files served on loopback",
            ),
        ),
    )
    demo.add_argument(
        "--output",
        default="demo-out",
        metavar="DIR",
        help="where to write the config, store and reports (default: %(default)s)",
    )
    demo.add_argument(
        "--live",
        action="store_true",
        help="serve the district's static files instead of replaying its bundled recording",
    )
    demo.set_defaults(run=_demo)


def _demo(args: argparse.Namespace) -> int:
    output = Path(args.output)
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"govmon: demo: cannot write {output}: {exc.strerror}", file=sys.stderr)
        return EXIT_FAILURE
    return run_demo(output, live=args.live)
