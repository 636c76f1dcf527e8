"""The same findings at every concurrency: a scan's result must not depend on the order in
which requests happen to finish. The demo district (4 sites, every kind of finding) is scanned
with 1, 4 and 32 workers and connections per host; the findings, with their evidence, must be
equal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crawler.cli import main as govmon
from crawler.demo import DemoServer, demo_config
from tests.support.paths import DEMO_SITE

SITE = DEMO_SITE

pytestmark = pytest.mark.timeout(240)


def _findings(config: str, tmp_path: Path, concurrency: int, capsys: Any) -> list[Any]:
    text = config.replace(
        "concurrency = 4", f"concurrency = {concurrency}\nworkers = {concurrency}"
    )
    text = text.replace("rate = 20", "rate = 0")
    assert f"workers = {concurrency}" in text
    path = tmp_path / f"c{concurrency}.toml"
    path.write_text(text, encoding="utf-8")
    db = str(tmp_path / f"c{concurrency}.db")
    assert govmon(["scan", str(path), "--db", db]) == 0
    capsys.readouterr()
    assert govmon(["report", "--db", db, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["scan"]["status"] == "complete"
    out = []
    for f in report["findings"]:
        detail = {k: v for k, v in f["detail"].items() if k not in ("elapsed_ms", "attempts")}
        out.append(
            (
                f["check"],
                f["site"],
                f["url"],
                f.get("column"),
                json.dumps(detail, sort_keys=True, ensure_ascii=False),
            )
        )
    return sorted(out)


def test_findings_do_not_depend_on_concurrency(tmp_path: Path, capsys: Any) -> None:
    with DemoServer(SITE) as server:
        config = demo_config(server.port)
        runs = {c: _findings(config, tmp_path, c, capsys) for c in (1, 4, 32)}
    assert len(runs[1]) >= 10  # the demo's planted problems
    assert runs[4] == runs[1]
    assert runs[32] == runs[1]
