"""What the commands share: the table of exit statuses, the help's form (a description, the
defaults, examples), the global options, bad usage, ``--site``, ``--as-of`` and the token."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import signal
import textwrap
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeAlias

from crawler.config import Config, Site, parse_when
from crawler.service.scans import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_SIGINT,
    EXIT_SIGTERM,
    EXIT_USAGE,
    command_line,
)
from storage.open import is_server_url

__all__ = [
    "EXIT_CODES",
    "EXIT_FAILURE",
    "EXIT_OK",
    "EXIT_USAGE",
    "LOG_LEVELS",
    "WHEN",
    "HelpFormatter",
    "Subparsers",
    "UsageError",
    "add_global_options",
    "as_of_argument",
    "as_of_option",
    "command",
    "command_line",
    "config_argument",
    "examples",
    "exit_codes_markdown",
    "exit_codes_text",
    "selected_sites",
    "site_option",
    "store_option",
    "token",
    "token_option",
    "until_stopped",
]

#: What ``add_subparsers`` returns: each command module adds its parser to it.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

#: govmon's exit statuses and what each means: the one table, shown by ``govmon --help`` and
#: copied into the README (tests/test_cli_help.py keeps the two the same).
EXIT_CODES: tuple[tuple[int, str], ...] = (
    (EXIT_OK, "done (daemon, worker, serve and replay: also when stopped by SIGTERM or Ctrl-C)"),
    (
        EXIT_FAILURE,
        "failed while running: a store that cannot be opened, read or written; a page that"
        " gave no answer (inspect); a report or a recording that cannot be written; a daemon"
        " that lost its lead",
    ),
    (
        EXIT_USAGE,
        "nothing was done; fix the command or the config: an unknown option or a bad value, a"
        " config error, a store or a scan that does not exist, a report that cannot be made"
        " as asked",
    ),
    (
        EXIT_SIGINT,
        "a scan stopped by Ctrl-C (SIGINT) before it completed: everything done so far is"
        " stored; continue it with --resume",
    ),
    (EXIT_SIGTERM, "the same, stopped by SIGTERM (kill, systemctl stop)"),
)

#: The ``WHEN`` of ``--as-of``, explained wherever it is accepted.
WHEN = (
    "the monitoring time point (监测时间点): a date, YYYY-MM-DD (00:00 in the config's time"
    " zone), or an ISO 8601 time with its offset, e.g. 2020-06-16T09:30+08:00"
)

LOG_LEVELS = ("debug", "info", "warning", "error")


def exit_codes_text(width: int = 78) -> str:
    """The exit statuses as the lines of ``govmon --help``'s epilog."""
    lines = ["Exit status:"]
    for code, meaning in EXIT_CODES:
        lines += textwrap.wrap(meaning, width, initial_indent=f"  {code:<5}",
                               subsequent_indent=" " * 7)  # fmt: skip
    return "\n".join(lines)


def exit_codes_markdown() -> str:
    """The exit statuses as the README's table."""
    rows = ["| status | meaning |", "| --- | --- |"]
    rows += [f"| {code} | {meaning} |" for code, meaning in EXIT_CODES]
    return "\n".join(rows) + "\n"


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples as written (their lines kept), options in a wide column."""

    def __init__(self, prog: str) -> None:
        width = min(100, shutil.get_terminal_size((100, 24)).columns) - 2
        super().__init__(prog, max_help_position=32, width=width)


def examples(*pairs: tuple[str, str]) -> str:
    """An epilog of examples: each command line, then what it does."""
    lines = ["Examples (例):"]
    for line, what in pairs:
        lines.append(f"  {line}")
        lines += textwrap.wrap(what, 86, initial_indent=" " * 6, subsequent_indent=" " * 6)
    return "\n".join(lines)


def command(
    sub: Subparsers,
    name: str,
    *,
    summary: str,
    description: str,
    example: Sequence[tuple[str, str]],
    notes: str = "",
) -> argparse.ArgumentParser:
    """A subcommand's parser: ``summary`` in ``govmon --help``'s list, ``description`` above
    its options, then ``notes`` and the examples (command, what it does) below them."""
    epilog = examples(*example)
    if notes:
        epilog = textwrap.dedent(notes).strip() + "\n\n" + epilog
    return sub.add_parser(
        name,
        help=summary,
        description=textwrap.dedent(description).strip(),
        epilog=epilog,
        formatter_class=HelpFormatter,
    )


def add_global_options(parser: argparse.ArgumentParser, *, after_command: bool = False) -> None:
    """The options every command takes, before or after its name (``govmon --log-level info
    scan …`` or ``govmon scan … --log-level info``). After the name their default is left
    out, so that they do not undo a value given before it."""
    group = parser.add_argument_group("global options (before or after the command)")
    group.add_argument(
        "--log-level",
        type=str.lower,
        choices=LOG_LEVELS,
        metavar="LEVEL",
        default=argparse.SUPPRESS if after_command else "warning",
        help="what to log on stderr: debug, info, warning or error (default: warning)",
    )


class UsageError(Exception):
    """Bad usage: exit 2 with the message."""


def as_of_argument(
    parser: argparse.ArgumentParser, default: str = "the config's as_of, else now"
) -> None:
    """``--as-of WHEN``, its format explained."""
    parser.add_argument(
        "--as-of", dest="as_of", metavar="WHEN", help=f"{WHEN} (default: {default})"
    )


def config_argument(parser: argparse.ArgumentParser) -> None:
    """The ``CONFIG`` a command reads."""
    parser.add_argument("config", metavar="CONFIG", help="the config file (govmon.toml)")


def store_option(parser: argparse.ArgumentParser, *, writes: bool = True) -> None:
    """``--db STORE``: where scans are kept (``writes``: created when missing)."""
    what = "a SQLite file, created if missing," if writes else "a SQLite file"
    parser.add_argument(
        "--db",
        default="govmon.db",
        metavar="STORE",
        help=f"the store: {what} or a postgresql:// URL (default: %(default)s)",
    )


def site_option(parser: argparse.ArgumentParser) -> None:
    """``--site ID``, repeatable: only these sites of the config."""
    parser.add_argument(
        "--site",
        action="append",
        default=[],
        metavar="ID",
        help="only the site with this id (repeat for several; default: every site)",
    )


def token_option(parser: argparse.ArgumentParser) -> None:
    """``--token-file FILE``: the access token of a server that listens off loopback."""
    parser.add_argument(
        "--token-file",
        metavar="FILE",
        help="a file holding the access token (or set GOVMON_TOKEN); required when listening"
        " off loopback (default: no token, loopback only)",
    )


def selected_sites(config: Config, wanted: list[str]) -> tuple[Site, ...]:
    """The sites named by ``--site`` (all of them without one); bad usage for an unknown id."""
    if not wanted:
        return config.sites
    known = {s.id for s in config.sites}
    for w in wanted:
        if w not in known:
            raise UsageError(
                f"--site {w}: no such site in {config.path} ({', '.join(sorted(known))})"
            )
    return tuple(s for s in config.sites if s.id in wanted)


def as_of_option(config: Config, text: str | None) -> dt.datetime | None:
    """``--as-of WHEN`` in the config's time zone (the config's ``as_of`` without one)."""
    if not text:
        return config.as_of
    try:
        return parse_when(text, config.tz)
    except ValueError as exc:
        raise UsageError(f"--as-of: {exc}") from None


def token(args: argparse.Namespace) -> str | None:
    """The web view's token: from --token-file or GOVMON_TOKEN, never the command line."""
    found = os.environ.get("GOVMON_TOKEN") or None
    if args.token_file:
        try:
            found = Path(args.token_file).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise UsageError(f"--token-file {args.token_file}: {exc.strerror}") from None
    db = getattr(args, "db", None)  # (replay has no store)
    if db is not None and not is_server_url(db) and not Path(db).exists():
        raise UsageError(f"{args.db}: no such store (run `govmon scan` first)")  # as the store says
    return found


async def until_stopped(server: Coroutine[Any, Any, None]) -> None:
    """Run a server (``serve``, ``replay``) until SIGTERM or SIGINT (Ctrl-C): being stopped is
    its normal end (exit 0), not an interruption."""
    task = asyncio.ensure_future(server)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        if not task.cancelled():  # this command itself was cancelled, not the server
            raise
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
