"""docs/walkthrough.md works as written: its config loads, with the pinned column merged in,
and every command it shows is a real govmon command with real options."""

from __future__ import annotations

import re
import shlex
import tomllib

import pytest

from crawler.cli import _parser as build_parser
from crawler.config import parse_config
from tests.support.paths import REPO_ROOT

TEXT = (REPO_ROOT / "docs" / "walkthrough.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", TEXT, re.S)


def test_the_walkthrough_config_loads_with_its_pinned_column() -> None:
    tomls = [body for lang, body in BLOCKS if lang == "toml"]
    assert len(tomls) == 2
    data = tomllib.loads(tomls[0])
    column = tomllib.loads(tomls[1])["site"]["column"][0]
    data["site"][1]["column"] = [column]
    config = parse_config(data, str(REPO_ROOT / "govmon.toml"))
    assert [s.id for s in config.sites] == ["portal", "edu"]
    assert config.sites[1].columns[0].category == "policy"


def _commands() -> list[list[str]]:
    out = []
    for lang, body in BLOCKS:
        if lang != "sh":
            continue
        for raw in body.replace("\\\n", " ").splitlines():
            line = raw.split("  #")[0].strip()
            if line.startswith("govmon "):
                out.append(shlex.split(line)[1:])
    return out


def test_the_walkthrough_shows_its_commands() -> None:
    """The parametrized test below cannot vanish if the doc's code blocks change shape."""
    assert len(_commands()) >= 8


@pytest.mark.parametrize("argv", _commands(), ids=lambda a: " ".join(a[:2]))
def test_every_command_of_the_walkthrough_parses(argv: list[str]) -> None:
    build_parser().parse_args(argv)  # exits with status 2 on an unknown option
