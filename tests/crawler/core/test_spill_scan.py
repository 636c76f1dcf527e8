"""A scan whose frontier spills at every step (URL index, host queues, pending referrers) finds
exactly what a scan that keeps everything in memory finds: on the demo district (every check)
and on the trap site of tests/support/govsite.py (broken, blocked, soft-404, retried targets)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from crawler.config import load_config
from crawler.core import Resume, Scan, config_digest
from crawler.core.spill import SpillLimits
from crawler.demo import SITE_ROOT, demo_config, make_app
from storage.base import FindingRecord
from storage.sqlite import SQLiteStore
from tests.support.govsite import GovSite
from tests.support.localserver import serve

pytestmark = pytest.mark.timeout(240)

TINY = SpillLimits(urls=5, flush=3, queue=2, batch=2, refs=3)


async def _scan(
    config_text: str, tmp_path: Path, name: str, spill: SpillLimits | None
) -> tuple[list[dict[str, Any]], Scan]:
    cfg = tmp_path / f"{name}.toml"
    cfg.write_text(config_text, encoding="utf-8")
    config = load_config(cfg)
    store = await SQLiteStore.open(tmp_path / f"{name}.db")
    try:
        scan = Scan(config, store, spill=spill, as_of=dt.datetime(2020, 6, 16, tzinfo=config.tz))
        result = await scan.run()
        assert result.status == "complete"
        findings = await store.findings(result.scan_id)
    finally:
        await store.close()
    return [_unstamped(f) for f in findings], scan


async def test_a_spilling_scan_finds_the_same_on_the_demo_district(tmp_path: Path) -> None:
    with serve(make_app(SITE_ROOT)) as port:
        text = demo_config(port)
        plain, plain_scan = await _scan(text, tmp_path, "plain", None)
        tiny, tiny_scan = await _scan(text, tmp_path, "tiny", TINY)
    assert not plain_scan.frontier.spilled
    assert tiny_scan.frontier.spilled
    assert tiny_scan.frontier.pending.runs > 0  # referrers did go through the spill file
    assert len(plain) > 10
    assert {f["check"] for f in plain} >= {"link.broken", "column.stale"}
    assert tiny == plain
    assert (tiny_scan.stats.pages, tiny_scan.stats.requests) == (
        plain_scan.stats.pages,
        plain_scan.stats.requests,
    )


async def test_a_spilling_scan_finds_the_same_on_the_trap_site(tmp_path: Path) -> None:
    with GovSite() as site:
        text = site.config_toml()
        plain, _plain_scan = await _scan(text, tmp_path, "plain", None)
        site.clear()  # the once-only traps answer the second scan as they did the first
        tiny, tiny_scan = await _scan(text, tmp_path, "tiny", TINY)
    assert tiny_scan.frontier.spilled
    links = [f for f in plain if f["check"] in ("link.broken", "link.blocked")]
    assert len(links) > 10
    assert tiny == plain


async def test_a_spilling_scan_stopped_and_resumed_finds_the_same(tmp_path: Path) -> None:
    """``scan --resume`` rebuilds the ids (with gaps), states and referrers of a frontier that
    had spilled, and ends with the findings of an uninterrupted scan."""
    with serve(make_app(SITE_ROOT)) as port:
        text = demo_config(port).replace("concurrency = 4", "concurrency = 1")
        plain, _ = await _scan(text, tmp_path, "plain", None)
        cfg = tmp_path / "resumed.toml"
        cfg.write_text(text, encoding="utf-8")
        config = load_config(cfg)
        as_of = dt.datetime(2020, 6, 16, tzinfo=config.tz)
        store = await SQLiteStore.open(tmp_path / "resumed.db")
        try:

            def stop_early(scan: Scan) -> None:
                if scan.stats.pages >= 20:
                    scan.stop()

            first = Scan(config, store, spill=TINY, as_of=as_of, progress=stop_early)
            stopped = await first.run()
            assert stopped.status == "interrupted"
            assert first.frontier.spilled
            info = await store.resumable(config_digest(config))
            assert info is not None
            second = Scan(config, store, spill=TINY, start=Resume(info))
            result = await second.run()
            assert result.status == "complete"
            resumed = await store.findings(result.scan_id)
        finally:
            await store.close()
    assert [_unstamped(f) for f in resumed] == plain


async def test_one_process_takes_at_most_65536_sites(tmp_path: Path) -> None:
    """A bad target's referrers pack the site's index into 16 bits: a scan of more sites in one
    process is refused at once rather than mixing sites up."""
    cfg = tmp_path / "demo.toml"
    cfg.write_text(demo_config(8000), encoding="utf-8")
    config = load_config(cfg)
    store = await SQLiteStore.open(tmp_path / "x.db")
    try:
        Scan(config, store, sites=(config.sites[0],) * 65_536)  # the most it takes
        with pytest.raises(ValueError, match="65537 sites in one scan process"):
            Scan(config, store, sites=(config.sites[0],) * 65_537)
    finally:
        await store.close()


def _unstamped(finding: FindingRecord) -> dict[str, Any]:
    """A finding without its observation time (the only part two equal scans differ in)."""
    return {k: v for k, v in finding.items() if k != "observed_at"}
