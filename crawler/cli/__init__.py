"""The ``govmon`` command line. Its exit statuses are the table in :mod:`crawler.cli.common`
(``EXIT_CODES``), shown by ``govmon --help``.

One module per command (or small group of commands) adds its parser and what it runs;
:func:`main` assembles them, runs the command and turns its errors into exit statuses.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from crawler import __version__
from crawler.cli.common import (
    EXIT_USAGE,
    HelpFormatter,
    Subparsers,
    UsageError,
    add_global_options,
    examples,
    exit_codes_text,
)
from crawler.core.logs import configure
from crawler.service.scans import FAILURES, exit_status

__all__ = ["UsageError", "main"]


# command -> the module that adds its parser and runs it, and the function adding the parser, in
# the order `govmon --help` lists them. A command's module is imported by name when the command
# runs (all of them only for `govmon --help` or a mistyped command), so that `govmon scan` loads
# neither the web view, nor the Excel writer, nor the job queue: it starts in a third of the
# time and holds less memory. This table is the one place the CLI imports by name.
COMMANDS: dict[str, tuple[str, str]] = {
    "scan": ("crawler.cli.scan", "add_scan"),
    "report": ("crawler.cli.report", "add_report"),
    "ignore": ("crawler.cli.ignore", "add_ignore"),
    "inspect": ("crawler.cli.inspect_page", "add_inspect"),
    "columns": ("crawler.cli.columns", "add_columns"),
    "serve": ("crawler.cli.serve", "add_serve"),
    "probe": ("crawler.cli.probe", "add_probe"),
    "daemon": ("crawler.cli.daemon", "add_daemon"),
    "record": ("crawler.cli.scan", "add_record"),
    "replay": ("crawler.cli.replay", "add_replay"),
    "submit": ("crawler.cli.jobs", "add_jobs"),
    "worker": ("crawler.cli.jobs", "add_jobs"),
    "status": ("crawler.cli.jobs", "add_jobs"),
    "demo": ("crawler.cli.demo", "add_demo"),
}


def _command_of(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names (its first word that is one), skipping the value of a global
    option given before it; ``None`` when it names none."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word == "--log-level":
            skip = True
        elif word in COMMANDS:
            return word
    return None


def _adders(command: str | None) -> list[Callable[[Subparsers], None]]:
    """The functions adding the parsers needed: the command's, or every command's."""
    wanted = [COMMANDS[command]] if command else list(dict.fromkeys(COMMANDS.values()))
    adders: list[Callable[[Subparsers], None]] = [
        getattr(importlib.import_module(module), name) for module, name in wanted
    ]
    return adders


def _parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of ``govmon``; with ``argv``, only the parser of the command it names."""
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
    wanted = _command_of(argv) if argv is not None else None
    version_only = wanted is None and argv is not None and "--version" in argv
    for add in [] if version_only else _adders(wanted):
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
    words = list(sys.argv[1:] if argv is None else argv)
    args = _parser(words).parse_args(words)
    configure(args.log_level)
    try:
        status: int = args.run(args)
    except UsageError as exc:
        print(f"govmon: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except FAILURES as exc:
        return exit_status(exc)
    return status
