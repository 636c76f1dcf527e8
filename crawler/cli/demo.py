"""``govmon demo``: scan the bundled demo district and write its reports."""

from __future__ import annotations

from pathlib import Path

from crawler.cli.common import Subparsers
from crawler.demo import run_demo

__all__ = ["add_demo"]


def add_demo(sub: Subparsers) -> None:
    demo = sub.add_parser("demo", help="scan the bundled demo district and write its report")
    demo.add_argument("--output", default="demo-out", metavar="DIR")
    demo.add_argument(
        "--live",
        action="store_true",
        help="serve the district's static files instead of replaying its bundled recording",
    )
    demo.set_defaults(run=lambda args: run_demo(Path(args.output), live=args.live))
