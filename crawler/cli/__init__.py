"""The ``govmon`` command line. Its exit statuses are the table in :mod:`crawler.cli.common`
(``EXIT_CODES``), shown by ``govmon --help``.

One module per command (or small group of commands) adds its parser and what it runs;
:func:`main` assembles them, runs the command and turns its errors into exit statuses.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from crawler import __version__
from crawler.cli.columns import add_columns
from crawler.cli.common import (
    EXIT_USAGE,
    HelpFormatter,
    UsageError,
    add_global_options,
    examples,
    exit_codes_text,
)
from crawler.cli.daemon import add_daemon
from crawler.cli.demo import add_demo
from crawler.cli.ignore import add_ignore
from crawler.cli.inspect_page import add_inspect
from crawler.cli.jobs import add_jobs
from crawler.cli.probe import add_probe
from crawler.cli.replay import add_replay
from crawler.cli.report import add_report
from crawler.cli.scan import add_record, add_scan
from crawler.cli.serve import add_serve
from crawler.core.logs import configure
from crawler.service.scans import FAILURES, exit_status

__all__ = ["UsageError", "main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="govmon",
        description=(
            "Inspect government websites (政府网站) against the State Council's indicators:\n"
            "links, columns, updates, replies, availability; a verdict (合格 / 不合格) per site.\n"
            "Run `govmon COMMAND --help` for a command's options, defaults and examples."
        ),
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"govmon {__version__}")
    add_global_options(p)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")
    # in the order `govmon --help` lists them
    for add in (add_scan, add_report, add_ignore, add_inspect, add_columns, add_serve, add_probe,
                add_daemon, add_record, add_replay, add_jobs, add_demo):  # fmt: skip
        add(sub)
    for command in sub.choices.values():
        command.formatter_class = HelpFormatter
        add_global_options(command, after_command=True)
    return p


_EPILOG = (
    examples(
        ("govmon demo", "scan the bundled demo district and write its reports into demo-out/"),
        ("govmon scan govmon.toml", "scan every site of your config into govmon.db"),
        (
            "govmon report --format html --output report.html",
            "the latest scan's report (报告), to open in a browser",
        ),
        ("govmon scan govmon.toml --log-level info", "the same scan, saying more as it goes"),
    )
    + "\n\n"
    + exit_codes_text()
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``govmon`` with ``argv`` (default: the process's arguments); the exit status."""
    args = _parser().parse_args(argv)
    configure(args.log_level)
    try:
        status: int = args.run(args)
    except UsageError as exc:
        print(f"govmon: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except FAILURES as exc:
        return exit_status(exc)
    return status
