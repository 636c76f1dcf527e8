"""The command line explains itself: every command's ``--help`` has a description, its
options' defaults and examples; global options go before or after the command; the exit
statuses are one table, shown by ``govmon --help`` and copied into the README."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from crawler.cli import _parser, main
from crawler.cli.common import EXIT_CODES, WHEN, exit_codes_markdown
from tests.support.paths import REPO_ROOT


def _commands() -> dict[str, argparse.ArgumentParser]:
    for action in _parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("govmon has no commands")


COMMANDS = sorted(_commands())


def _help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 0
    return capsys.readouterr().out


def test_every_command_is_covered() -> None:
    # a new command joins this test by being added to the parser, not to a list here
    assert {"scan", "report", "serve", "inspect", "daemon", "ignore"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_a_description_defaults_and_examples(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _help([name, "--help"], capsys)
    parser = _commands()[name]
    assert parser.description, f"govmon {name} has no description"
    assert parser.description.split()[0] in text
    assert "例" in text or "example" in text.lower()
    assert re.search(rf"^  govmon {name}\b", text, re.M), f"no example of govmon {name}"
    assert "--log-level" in text  # the global options, after the command too
    for action in parser._actions:
        if action.option_strings and action.help != argparse.SUPPRESS:
            assert action.help, f"govmon {name} {action.option_strings[0]} has no help"
            takes_value = action.nargs != 0 and not isinstance(action, argparse._HelpAction)
            if takes_value and action.default not in (None, [], argparse.SUPPRESS):
                # a default is shown ("%(default)s" or written out)
                assert "default" in action.help, f"govmon {name} {action.option_strings[0]}"
    if "--as-of" in text:
        assert "YYYY-MM-DD" in text  # the WHEN format is explained
        assert "+08:00" in text


def test_serve_shows_its_port(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(["serve", "--help"], capsys)
    assert "(default: 127.0.0.1:8080)" in " ".join(text.split())


def test_govmon_help_has_examples_and_the_exit_statuses(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = " ".join(_help(["--help"], capsys).split())
    assert "Examples (例):" in text
    for code, meaning in EXIT_CODES:
        assert f"{code} {meaning}" in text


def test_the_readme_has_the_exit_status_table() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert exit_codes_markdown() in readme


def test_the_when_format_is_explained_once() -> None:
    assert "YYYY-MM-DD" in WHEN


def test_log_level_before_or_after_the_command(tmp_path: Path) -> None:
    parser = _parser()
    config = str(tmp_path / "govmon.toml")
    assert parser.parse_args(["scan", config]).log_level == "warning"
    assert parser.parse_args(["--log-level", "info", "scan", config]).log_level == "info"
    assert parser.parse_args(["scan", config, "--log-level", "debug"]).log_level == "debug"
    assert parser.parse_args(["scan", "--log-level", "ERROR", config]).log_level == "error"
    # the default after the command does not undo the value given before it
    args = parser.parse_args(["--log-level", "info", "report", "--scan", "3"])
    assert args.log_level == "info"


def test_a_bad_log_level_is_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["report", "--log-level", "loud"])
    assert done.value.code == 2
    assert "--log-level" in capsys.readouterr().err
