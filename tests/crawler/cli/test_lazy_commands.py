"""The CLI loads a command's module when the command runs: ``govmon scan`` loads neither the
report formats (Jinja2, openpyxl), nor the job queue (procrastinate), nor PostgreSQL's driver."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from crawler.cli import COMMANDS, _parser

HEAVY = ("openpyxl", "jinja2", "procrastinate", "psycopg", "crawler.recordings.replay")

PROBE = """
import sys
from crawler.cli import _parser
_parser(sys.argv[1:]).parse_args(sys.argv[1:])
print(" ".join(sorted({m.split(".")[0] for m in sys.modules} | set(sys.modules))))
"""


def _loaded(*argv: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True
    )
    return set(out.stdout.split())


def test_a_scan_loads_no_report_format_no_queue_and_no_postgresql_driver() -> None:
    assert _loaded("scan", "govmon.toml").isdisjoint(HEAVY)


def test_a_report_loads_the_formats_it_may_write() -> None:
    assert {"openpyxl", "jinja2"} <= _loaded("report", "--format", "xlsx", "--output", "r.xlsx")


def _choices(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    choices: dict[str, argparse.ArgumentParser] = sub.choices
    return choices


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_command_parses_alone_as_in_the_whole_parser(command: str) -> None:
    """The parser built for one command is the one the whole parser holds for it."""
    alone = _choices(_parser([command]))[command].format_help()
    assert alone == _choices(_parser(None))[command].format_help()
