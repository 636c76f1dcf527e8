"""The table of built-in checks, and the columns check added where a check declares it needs it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import checks.registry
from checks.base import ScanContext
from checks.columns import ColumnCheck
from checks.page_checks import ContentCheck, MessageCheck
from checks.registry import BUILTIN_CHECKS, builtin_checks, load_checks
from crawler.config import Config, load_config

NOW = dt.datetime(2020, 6, 16, tzinfo=dt.UTC)
FAMILIES = ("content", "link", "column", "homepage", "newmedia", "message", "policy", "service")


class Recorder:
    """Stands for the registry's logger (structlog's capture misses a logger another test
    cached)."""

    def __init__(self) -> None:
        self.events: list[dict[str, object]] = []

    def info(self, event: str, **fields: object) -> None:
        self.events.append({"event": event, **fields})

    error = info


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    recorder = Recorder()
    monkeypatch.setattr(checks.registry, "log", recorder)
    return recorder.events


def _config(tmp_path: Path, disable: tuple[str, ...]) -> Config:
    path = tmp_path / "g.toml"
    quoted = ", ".join(f'"{d}"' for d in disable)
    path.write_text(
        f'[checks]\ndisable = [{quoted}]\n[[site]]\nid = "s"\nurl = "http://www.a.test/"\n',
        encoding="utf-8",
    )
    return load_config(path)


def test_the_table_builds_every_builtin_after_the_columns_check(tmp_path: Path) -> None:
    checks = builtin_checks(ScanContext(_config(tmp_path, ()), NOW))
    assert isinstance(checks[0], ColumnCheck)
    assert len(checks) == 1 + len(BUILTIN_CHECKS)


def test_checks_that_read_the_column_model_declare_it(tmp_path: Path) -> None:
    checks = builtin_checks(ScanContext(_config(tmp_path, ()), NOW))
    assert not getattr(checks[0], "needs_columns", False)
    assert all(getattr(check, "needs_columns", False) for check in checks[1:])


def test_a_check_that_needs_columns_brings_the_columns_check(
    tmp_path: Path, logs: list[dict[str, object]]
) -> None:
    only_messages = (*(f for f in (*FAMILIES, "site") if f != "message"), "message.no_statistics")
    context = ScanContext(_config(tmp_path, only_messages), NOW)
    loaded = load_checks(context)
    assert [type(c) for c in loaded] == [ColumnCheck, MessageCheck]
    added = [e for e in logs if e["event"] == "checks.dependency_added"]
    assert added == [
        {"event": "checks.dependency_added", "check": "ColumnCheck", "needed_by": ["MessageCheck"]}
    ]


def test_the_content_checks_run_with_the_columns_check(tmp_path: Path) -> None:
    """The columns check follows list pages: the content checks read what a full scan reads."""
    only_content = (*(f for f in (*FAMILIES, "site") if f != "content"), "content.backdated")
    loaded = load_checks(ScanContext(_config(tmp_path, only_content), NOW))
    assert [type(c) for c in loaded] == [ColumnCheck, ContentCheck]


def test_no_check_wanted_adds_nothing(tmp_path: Path, logs: list[dict[str, object]]) -> None:
    context = ScanContext(_config(tmp_path, (*FAMILIES, "site")), NOW)
    assert load_checks(context) == []
    assert not [e for e in logs if e["event"] == "checks.dependency_added"]
