"""``govmon report`` without ``--format``: Markdown for a person at a terminal, JSON for a
pipe or a file, as scripts have always read it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.crawler.core.test_scan_progress import scan_local_site
from tests.support.terminal import read_terminal


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scan_local_site(tmp_path_factory.mktemp("report-terminal"))


def _report(db: Path, *, terminal: bool) -> str:
    argv = [sys.executable, "-m", "crawler", "report", "--db", str(db)]
    if not terminal:
        done = subprocess.run(argv, capture_output=True, timeout=60, check=True)
        return done.stdout.decode("utf-8")
    leader, follower = os.openpty()  # a real terminal for stdout
    proc = subprocess.Popen(argv, stdout=follower, stderr=subprocess.DEVNULL)
    os.close(follower)
    try:
        return read_terminal(leader).decode("utf-8")
    finally:
        assert proc.wait(timeout=60) == 0


def test_a_terminal_gets_markdown(db: Path) -> None:
    text = _report(db, terminal=True)
    assert text.lstrip().startswith("#")
    assert "测试区人民政府" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_a_pipe_gets_json(db: Path) -> None:
    report = json.loads(_report(db, terminal=False))
    assert report["scan"]["id"] == 1
