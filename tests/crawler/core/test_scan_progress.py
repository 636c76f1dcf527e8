"""``govmon scan``'s progress display: on a terminal, drawn by rich with the elapsed time and
an estimate of the time left; anywhere else nothing drawn (no control characters in a log or
a test's output), and at ``--log-level info`` a plain ``scan.progress`` line now and then.
A fake clock drives it: no test waits."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from crawler.cli import main
from crawler.config import Site
from crawler.core.logs import ScanProgress, configure, duration, time_left
from crawler.core.state import SiteState, Stats
from tests.support.localserver import serve


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeFrontier:
    queued: int = 0
    delayed: int = 0


@dataclass
class FakeScan:
    stats: Stats = field(default_factory=Stats)
    frontier: FakeFrontier = field(default_factory=FakeFrontier)
    sites: list[SiteState] = field(default_factory=list)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _scan() -> FakeScan:
    site = Site(id="portal", name="门户", unit="区政府办", kind="portal",
                url="http://127.0.0.1:9/", scope=("http://127.0.0.1:9/",))  # fmt: skip
    return FakeScan(sites=[SiteState(index=0, site=site)])


def test_duration_reads_as_a_clock() -> None:
    assert duration(0) == "0:00:00"
    assert duration(65.4) == "0:01:05"
    assert duration(3 * 3600 + 7) == "3:00:07"


def test_time_left_is_the_work_left_at_the_rate_so_far() -> None:
    assert time_left(done=100, left=300, elapsed=50.0) == 150.0
    assert time_left(done=100, left=0, elapsed=50.0) == 0.0
    # in the first seconds the rate says little: no estimate
    assert time_left(done=100, left=300, elapsed=2.0) is None
    assert time_left(done=5, left=300, elapsed=50.0) is None


def test_on_a_terminal_it_shows_elapsed_and_an_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    clock, out = FakeClock(), Terminal()
    progress = ScanProgress(out, expected=400, clock=clock)
    scan = _scan()
    progress(scan)  # the first report: no rate yet
    assert "left estimating" in out.getvalue()
    clock.now += 20
    scan.stats.requests, scan.stats.pages, scan.sites[0].pages = 100, 80, 80
    scan.frontier.queued = 50  # fewer than the last scan's 400 - 100: that is what is left
    progress(scan)
    progress.done()
    text = out.getvalue()
    assert "elapsed 0:00:20" in text
    assert "left ~0:01:00" in text  # 300 requests at 5 a second
    assert "25%" in text  # 100 of 400
    assert "portal:80" in text


def test_the_queue_counts_when_it_is_longer_than_the_last_scan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    clock, out = FakeClock(), Terminal()
    progress = ScanProgress(out, expected=120, clock=clock)
    scan = _scan()
    progress(scan)
    clock.now += 10
    scan.stats.requests = 100
    scan.frontier.queued, scan.frontier.delayed = 150, 50
    progress(scan)
    progress.done()
    assert "left ~0:00:20" in out.getvalue()  # 200 queued at 10 a second


def test_the_rate_is_steady_when_reports_come_in_steps() -> None:
    """Requests counted once a second (as several processes report them), shown twice a
    second: the rate is over the last 5 seconds, never 0 every other time."""
    clock, scan = FakeClock(), _scan()
    progress = ScanProgress(io.StringIO(), clock=clock)
    rates = []
    for half in range(21):  # 0 s to 10 s
        scan.stats.requests = 10 * (half // 2)
        rates.append(progress.figures(scan)[0].split(" req/s")[0].split()[-1])
        clock.now += 0.5
    assert rates[0] == "0.0"
    assert rates[10:] == ["10.0"] * 11  # from 5 s on: 50 requests in the last 5 seconds


def test_off_a_terminal_nothing_is_drawn_and_info_logs_plain_lines() -> None:
    clock, out, logs = FakeClock(), io.StringIO(), io.StringIO()
    configure("info", stream=logs)
    try:
        progress = ScanProgress(out, clock=clock, log_every=30.0)
        scan = _scan()
        for _ in range(7):  # every 10 s from 0 s: a line at 30 s and at 60 s
            progress(scan)
            clock.now += 10
            scan.stats.requests += 50
            scan.frontier.queued = 100
        progress.done()
    finally:
        configure("warning")
    assert_logged_at_30_and_60(out, logs)


def assert_logged_at_30_and_60(out: io.StringIO, logs: io.StringIO) -> None:
    """Nothing drawn on ``out``; in ``logs`` two plain ``scan.progress`` lines, at 30 s and at
    60 s, the second with 20 s left (100 requests queued at 5 a second)."""
    assert out.getvalue() == ""
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["scan.progress", "scan.progress"]
    assert "elapsed 0:00:30" in lines[0]["progress"]
    assert "left ~0:00:20" in lines[1]["progress"]
    assert "\r" not in logs.getvalue()
    assert "\x1b" not in logs.getvalue()


def _site() -> web.Application:
    async def page(request: web.Request) -> web.Response:
        n = int(request.match_info.get("n") or 0)
        links = "".join(f"<a href='/p/{i}.html'>第{i}页</a>" for i in range(n + 1, n + 4))
        body = f"<title>测试区人民政府</title>{links}"
        return web.Response(text=body, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/p/{n}.html", page)
    return app


def scan_local_site(folder: Path) -> Path:
    """A scan, through ``govmon scan``, of a small site on loopback into ``folder/govmon.db``."""
    config, db = folder / "govmon.toml", folder / "govmon.db"
    with serve(_site()) as port:
        config.write_text(
            "[crawl]\nallow_private = true\nrate = 0\nrecheck_delay = 0\nmax_pages = 30\n"
            f'[[site]]\nid = "a"\nname = "测试区人民政府"\nurl = "http://127.0.0.1:{port}/"\n',
            encoding="utf-8",
        )
        assert main(["scan", str(config), "--db", str(db)]) == 0
    return db


def test_a_scan_piped_gets_no_control_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scan_local_site(tmp_path)
    out = capsys.readouterr()
    assert out.out.startswith("scan 1 complete")
    assert out.err == ""  # nothing drawn, nothing logged at the default level
    for text in (out.out, out.err):
        assert "\r" not in text
        assert "\x1b" not in text
