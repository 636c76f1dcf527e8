"""A recorded scan replays offline to the same findings (scan --record, replay, scan --proxy)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from crawler.cli import main
from crawler.demo import SITE_ROOT, demo_config, serve
from crawler.replay import make_app
from tests.localserver import serve as serve_app


def _findings(db: Path, out: Path) -> dict[tuple[str, str, str], Any]:
    assert main(["report", "--db", str(db), "--output", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["scan"]["status"] == "complete"
    return {(f["check"], f["site"], f["url"]): f["detail"] for f in report["findings"]}


def test_a_recording_replays_to_the_same_findings(tmp_path: Path) -> None:
    warc = tmp_path / "district.warc.gz"
    with serve(SITE_ROOT) as live:
        cfg = tmp_path / "district.toml"
        cfg.write_text(demo_config(live.port), encoding="utf-8")
        recorded = tmp_path / "recorded.db"
        assert main(["scan", str(cfg), "--db", str(recorded), "--record", str(warc)]) == 0
    # the live site is gone: everything now comes from the recording
    assert warc.stat().st_size > 10_000
    with serve_app(make_app([warc])) as port:
        replayed = tmp_path / "replayed.db"
        proxy = f"http://127.0.0.1:{port}"
        assert main(["scan", str(cfg), "--db", str(replayed), "--proxy", proxy]) == 0
    before = _findings(recorded, tmp_path / "a.json")
    after = _findings(replayed, tmp_path / "b.json")
    assert len(before) >= 8  # the demo's planted problems
    assert after == before
