"""Many workers, one PostgreSQL (``govmon submit`` / ``worker`` / ``status``), for real.

The end-to-end tests run ``govmon`` worker processes against the PostgreSQL test server (see
``tests/support/pgserver.py``: skipped loudly without one, a failure in CI) and loopback sites: the
demo district (4 sites, two of them on one host) and a generated district of 30 channel sites on 30
loopback addresses, where one of three workers is killed with SIGKILL in the middle of a site.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.district import District
from crawler import scale as queue
from crawler.demo import demo_config, make_app
from crawler.service.web import make_app as web_app
from tests.crawler.service.test_daemon import POSTS, _site, daemon_config
from tests.support.localserver import serve
from tests.support.paths import DEMO_SITE, REPO_ROOT
from tests.support.pgserver import PG, admin, rows

ROOT = REPO_ROOT


# -- pure parts -------------------------------------------------------------------------------


@given(days=st.integers(0, 30), hours=st.integers(0, 23), minutes=st.integers(0, 59))
def test_parse_duration_sums_its_parts(days: int, hours: int, minutes: int) -> None:
    text = f"{days}d{hours}h{minutes}m"
    assert queue.parse_duration(text) == dt.timedelta(days=days, hours=hours, minutes=minutes)


@pytest.mark.parametrize("bad", ["", "5", "d", "5 days", "5x", "-1d", "1d garbage"])
def test_parse_duration_refuses_what_it_cannot_read(bad: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        queue.parse_duration(bad)


def test_estimate_finish_extrapolates_the_pace_of_done_sites() -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    now = start + dt.timedelta(hours=2)
    # 4 sites in 2 hours: 6 more take 3 hours
    assert queue.estimate_finish(now, start, 4, 6) == now + dt.timedelta(hours=3)
    assert queue.estimate_finish(now, start, 0, 6) is None  # no pace yet
    assert queue.estimate_finish(now, None, 0, 0) == now  # nothing left


def test_status_text_says_late_against_the_window() -> None:
    now = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    row = queue.ScanStatus(
        scan_id=7,
        config_path="d.toml",
        status="running",
        submitted_at=now - dt.timedelta(hours=1),
        window_end=now + dt.timedelta(hours=1),
        counts={"queued": 3, "running": 1, "done": 2, "failed": 0},
        pages=120,
        requests=300,
        workers={"m1:10": {"running": 1, "done": 2, "pages": 120}},
        eta=now + dt.timedelta(hours=3),
        finished_at=None,
    )
    text = queue.format_status([row], now=now)
    assert "scan 7  running" in text
    assert "3 queued, 1 running, 2 done, 0 failed" in text
    assert "worker m1:10: 1 running, 2 done, 120 pages" in text
    assert "LATE by 2 h 0 min" in text
    on_time = queue.format_status([row.__class__(**{**row.__dict__, "eta": now})], now=now)
    assert "(on time)" in on_time
    assert row.as_json()["on_time"] is False


def test_queue_commands_want_a_postgresql_url(tmp_path: Path) -> None:
    out = _govmon("status", "--db", str(tmp_path / "x.db"), check=False)
    assert out.returncode == 2
    assert "postgresql://" in out.stderr
    assert not (tmp_path / "x.db").exists()


# -- helpers for the end-to-end tests ---------------------------------------------------------


def _govmon(
    *args: str, check: bool = True, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "crawler", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"govmon {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done


def _worker(db: str, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:  # the child keeps its own copy
        command = [sys.executable, "-m", "crawler", "--log-level", "info", "worker"]
        command += ["--db", db, "--until-idle", "--heartbeat", "1", "--stalled-after", "8"]
        return subprocess.Popen(
            [*command, *extra],
            stdout=subprocess.DEVNULL,
            stderr=out,
            cwd=ROOT,
        )


def _wait(procs: list[subprocess.Popen[bytes]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise AssertionError("a worker did not finish in time") from None


def _identities(report: dict[str, Any]) -> list[tuple[str, str, str, str | None]]:
    """Each finding's check, site and subject, and for a link the kind of target it is."""
    return sorted(
        (f["check"], f["site"], f["url"], f["detail"].get("kind")) for f in report["findings"]
    )


def _site_errors(url: str) -> list[tuple[str, str, str]]:
    rows = asyncio.run(
        _rows(url, "SELECT site, status, error FROM queue_sites WHERE error IS NOT NULL")
    )
    return [(r["site"], r["status"], r["error"]) for r in rows]


def _report(db: str) -> dict[str, Any]:
    out = _govmon("report", "--db", db, "--format", "json")
    data: dict[str, Any] = json.loads(out.stdout)
    return data


async def _rows(url: str, query: str, *args: Any) -> list[Any]:
    return list(await rows(url, query, *args))


class Sites:
    """A static virtual-host server (the demo's) on several loopback addresses, one port."""

    def __init__(self, root: Path, addresses: list[str], port: int = 0) -> None:
        self.root, self.addresses, self.port = root, addresses, port
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sites:
        self._thread.start()
        assert self._ready.wait(30), "the test sites did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        runner = web.AppRunner(make_app(self.root), access_log=None, shutdown_timeout=1.0)
        self._loop.run_until_complete(runner.setup())
        for address in self.addresses:
            site = web.TCPSite(runner, address, self.port)
            self._loop.run_until_complete(site.start())
            if self.port == 0:
                self.port = int(runner.addresses[0][1])
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(runner.cleanup())
            self._loop.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Path]:
    with Sites(DEMO_SITE, ["127.0.0.1"]) as sites:
        config = tmp_path / "district.toml"
        config.write_text(demo_config(sites.port), encoding="utf-8")
        yield config


# -- end to end -------------------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_two_workers_give_the_single_process_findings(pg: PG, demo: Path, tmp_path: Path) -> None:
    single = str(tmp_path / "single.db")
    _govmon("scan", str(demo), "--db", single)
    expected = _report(single)

    submitted = _govmon("submit", str(demo), "--db", pg.url, "--window", "2h")
    scan_id = int(submitted.stdout.strip())
    status = json.loads(_govmon("status", "--db", pg.url, "--format", "json").stdout)
    assert status[0]["scan"] == scan_id
    assert status[0]["queued"] == 4
    assert status[0]["window_end"] is not None

    # submitting again is another scan; the first's sites are not queued twice
    workers = [_worker(pg.url, tmp_path / f"w{i}.log", "--jobs", "2") for i in range(2)]
    _wait(workers, 240)
    assert [w.returncode for w in workers] == [0, 0]

    got = _report(pg.url)
    assert got["scan"]["status"] == "complete", _site_errors(pg.url)
    assert _identities(got) == _identities(expected)
    assert len(_identities(got)) == len(set(_identities(got)))  # no finding twice
    assert abs(got["scan"]["pages"] - expected["scan"]["pages"]) <= 2

    rows = asyncio.run(
        _rows(
            pg.url,
            "SELECT site, host, status, worker, attempts, started_at, finished_at"
            " FROM queue_sites WHERE scan_id = $1",
            scan_id,
        )
    )
    assert {r["status"] for r in rows} == {"done"}
    assert len(rows) == 4
    # the lock per host: three demo sites share www.district.test; their runs never overlap
    by_host: dict[str, list[Any]] = {}
    for r in rows:
        by_host.setdefault(r["host"], []).append(r)
    shared = max(by_host.values(), key=len)
    assert len(shared) == 3
    spans = sorted((r["started_at"], r["finished_at"]) for r in shared)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start, "two sites of one host were scanned at once"

    text = _govmon("status", "--db", pg.url, "--scan", str(scan_id)).stdout
    assert f"scan {scan_id}  complete" in text
    assert "0 queued, 0 running, 4 done, 0 failed" in text


def test_submit_with_a_bad_config_starts_nothing(pg: PG, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[crawl]\nrate = "fast"\n\n[[site]]\nid = "a"\nname = "甲"\nunit = "甲"\n'
        'url = "http://127.0.0.1:9/"\n',
        encoding="utf-8",
    )
    out = _govmon("submit", str(bad), "--db", pg.url, check=False)
    assert out.returncode == 2
    assert "bad.toml" in out.stderr
    assert "rate" in out.stderr
    tables = asyncio.run(
        _rows(pg.url, "SELECT tablename FROM pg_tables WHERE schemaname = $1", pg.schema)
    )
    assert tables == []  # not even the store was created


@pytest.mark.timeout(600)
def test_a_worker_killed_mid_site_loses_nothing(pg: PG, tmp_path: Path) -> None:

    channels = 30
    port = _free_port()
    district = District(channels=channels, port=port)
    root = tmp_path / "sites"
    district.write(root)
    for ch in district.channels:  # the demo server picks the folder by the Host header
        (root / f"h{ch.index}").rename(root / ch.address)
    config = tmp_path / "district.toml"
    config.write_text(district.config(concurrency=32), encoding="utf-8")

    with Sites(root, [ch.address for ch in district.channels], port):
        single = str(tmp_path / "single.db")
        _govmon("scan", str(config), "--db", single, timeout=400)
        expected = _report(single)

        scan_id = int(_govmon("submit", str(config), "--db", pg.url).stdout)
        workers = [_worker(pg.url, tmp_path / f"w{i}.log", "--jobs", "2") for i in range(3)]
        names = {f"{socket.gethostname()}:{w.pid}": w for w in workers}

        # kill a worker while it is in the middle of a site
        victim, site = None, None
        deadline = time.monotonic() + 120
        while victim is None and time.monotonic() < deadline:
            time.sleep(0.3)
            running = asyncio.run(
                _rows(
                    pg.url,
                    "SELECT site, worker FROM queue_sites WHERE scan_id = $1"
                    " AND status = 'running' AND started_at < now() - interval '1 second'",
                    scan_id,
                )
            )
            for r in running:
                if r["worker"] in names:
                    victim, site = names[r["worker"]], r["site"]
                    break
        assert victim is not None, "no worker was seen in the middle of a site"
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        others = [w for w in workers if w is not victim]
        _wait(others, 400)
        assert [w.returncode for w in others] == [0, 0], [
            (tmp_path / f"w{i}.log").read_text()[-2000:] for i in range(3)
        ]

    got = _report(pg.url)
    assert got["scan"]["status"] == "complete", _site_errors(pg.url)
    assert _identities(got) == _identities(expected)
    assert len(_identities(got)) == len(set(_identities(got)))
    killed = asyncio.run(
        _rows(
            pg.url,
            "SELECT status, worker, attempts FROM queue_sites WHERE scan_id = $1 AND site = $2",
            scan_id,
            site,
        )
    )[0]
    assert killed["status"] == "done"
    assert killed["attempts"] >= 2
    assert killed["worker"] != f"{socket.gethostname()}:{victim.pid}"
    # what the killed attempt wrote was replaced, not added to: one row per page
    dupes = asyncio.run(
        _rows(
            pg.url,
            "SELECT url, count(*) FROM pages WHERE scan_id = $1 AND site = $2"
            " GROUP BY url HAVING count(*) > 1",
            scan_id,
            site,
        )
    )
    assert dupes == []


@pytest.mark.timeout(300)
async def test_serve_reads_a_postgresql_store(pg: PG, demo: Path, tmp_path: Path) -> None:

    scanned = await asyncio.to_thread(_govmon, "scan", str(demo), "--db", pg.url)
    assert scanned.returncode == 0
    report = await asyncio.to_thread(_report, pg.url)
    broken = next(f for f in report["findings"] if f["check"] == "link.broken")
    async with TestClient(TestServer(web_app(pg.url, None), host="127.0.0.1")) as client:
        for path in ("/", "/scans/1", f"/scans/1/sites/{broken['site']}"):
            resp = await client.get(path)
            assert resp.status == 200, path
        page = await (await client.get(f"/scans/1/sites/{broken['site']}")).text()
        assert broken["url"] in page
        assert (await client.get("/healthz")).status == 200
        assert (await client.get("/scans/99")).status == 404
    # the web view wrote nothing: no new scan, the same findings
    assert _identities(await asyncio.to_thread(_report, pg.url)) == _identities(report)


def test_serve_on_an_unreachable_postgresql_is_503(tmp_path: Path) -> None:
    async def run() -> int:

        url = f"postgresql://postgres@127.0.0.1:{_free_port()}/none"
        async with TestClient(TestServer(web_app(url, None), host="127.0.0.1")) as client:
            return (await client.get("/")).status

    assert asyncio.run(run()) == 503


def _daemon(config: Path, db: str, metrics: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        command = [sys.executable, "-m", "crawler", "--log-level", "info", "daemon", str(config)]
        command += ["--db", db, "--queue", "--metrics-listen", f"127.0.0.1:{metrics}"]
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=out, cwd=ROOT)


def _role(port: int) -> str | None:

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
            return str(json.loads(resp.read())["role"])
    except OSError:
        return None


def _until(what: Any, timeout: float, message: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = what()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(message)


@pytest.mark.timeout(300)
def test_daemons_elect_one_leader_that_submits_to_workers(pg: PG, tmp_path: Path) -> None:

    app = _site()
    with serve(app) as port:
        base = f"http://127.0.0.1:{port}"
        config = tmp_path / "govmon.toml"
        config.write_text(daemon_config(base), encoding="utf-8")
        ports = [_free_port(), _free_port()]
        first = _daemon(config, pg.url, ports[0], tmp_path / "d0.log")
        second = None
        worker = None
        try:
            _until(lambda: _role(ports[0]) == "leader", 60, "the first daemon never led")
            second = _daemon(config, pg.url, ports[1], tmp_path / "d1.log")
            _until(lambda: _role(ports[1]) == "standby", 60, "the second daemon never stood by")
            # the leader submitted the window's scan; a worker runs it; the leader warns
            _until(lambda: asyncio.run(_rows(pg.url, "SELECT 1 FROM queue_scans")), 60, "no scan")
            worker = _worker(pg.url, tmp_path / "w.log")
            _until(lambda: app[POSTS], 120, "the leader never called the webhook")
            assert worker.wait(60) == 0
            samples = asyncio.run(_rows(pg.url, "SELECT site FROM samples"))
            assert [r["site"] for r in samples] == ["t"]  # one daemon sampled, once
            # the leader stops: the standby takes over, and does not scan the window again
            first.send_signal(signal.SIGTERM)
            assert first.wait(30) == 0
            _until(lambda: _role(ports[1]) == "leader", 60, "the standby never took over")
            time.sleep(2)
            scans = asyncio.run(_rows(pg.url, "SELECT id, status FROM scans"))
            assert [(r["id"], r["status"]) for r in scans] == [(1, "complete")]
            assert len(app[POSTS]) == 1
        finally:
            for p in (first, second, worker):
                if p is not None and p.poll() is None:
                    p.send_signal(signal.SIGTERM)
                    try:
                        p.wait(30)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait()
    assert second is not None
    assert second.returncode == 0, (tmp_path / "d1.log").read_text()[-2000:]


@pytest.mark.timeout(300)
def test_a_stopped_worker_puts_its_site_back(pg: PG, demo: Path, tmp_path: Path) -> None:
    slow = tmp_path / "slow.toml"  # 8 requests a second: a site takes seconds
    slow.write_text(demo.read_text(encoding="utf-8").replace("rate = 20", "rate = 8"), "utf-8")
    single = str(tmp_path / "single.db")
    _govmon("scan", str(demo), "--db", single)
    expected = _report(single)

    scan_id = int(_govmon("submit", str(slow), "--db", pg.url).stdout)
    first = _worker(pg.url, tmp_path / "w0.log")
    name = f"{socket.gethostname()}:{first.pid}"
    site = _until(
        lambda: asyncio.run(
            _rows(
                pg.url,
                "SELECT site FROM queue_sites WHERE status = 'running' AND worker = $1",
                name,
            )
        ),
        60,
        "the worker never started a site",
    )[0]["site"]
    time.sleep(1)
    first.send_signal(signal.SIGTERM)
    assert first.wait(60) == 0  # in-flight requests end, then the worker exits
    back = asyncio.run(
        _rows(
            pg.url,
            "SELECT status, error FROM queue_sites WHERE scan_id = $1 AND site = $2",
            scan_id,
            site,
        )
    )[0]
    assert back["status"] == "queued"
    assert back["error"] == "worker stopped"

    second = _worker(pg.url, tmp_path / "w1.log", "--jobs", "4")
    assert second.wait(240) == 0
    got = _report(pg.url)
    assert got["scan"]["status"] == "complete", _site_errors(pg.url)
    assert _identities(got) == _identities(expected)


# -- connections ------------------------------------------------------------------------------


@pytest.mark.timeout(400)
async def test_a_worker_holds_its_pool_not_a_connection_per_site_job(
    pg: PG, tmp_path: Path
) -> None:
    """Ten site jobs at once on a pool of three: the worker's connections, counted by the
    server (``pg_stat_activity``), never pass the pool's bound plus procrastinate's LISTEN
    connection (one store per site job, as before, held at least one connection each)."""

    jobs, pool = 10, 3
    port = _free_port()
    district = District(channels=jobs, port=port)
    root = tmp_path / "sites"
    district.write(root)
    for ch in district.channels:
        (root / f"h{ch.index}").rename(root / ch.address)
    config = tmp_path / "district.toml"
    config.write_text(district.config(concurrency=8), encoding="utf-8")
    app = f"govmon_pool_{uuid.uuid4().hex[:8]}"
    db = f"{pg.url}&application_name={app}"
    held: list[int] = []
    running: list[int] = []

    async def watch() -> None:
        async with admin(pg.url) as conn:
            while True:
                held.append(
                    await conn.fetchval(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app
                    )
                )
                running.append(
                    await conn.fetchval("SELECT count(*) FROM queue_sites WHERE status = 'running'")
                )
                await asyncio.sleep(0.05)

    with Sites(root, [ch.address for ch in district.channels], port):
        scan_id, sites = await queue.submit(config, db)
        assert sites == jobs
        watcher = asyncio.create_task(watch())
        try:
            done = await queue.run_worker(
                db, jobs=jobs, heartbeat=1, stalled_after=30, until_idle=True, connections=pool
            )
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
    assert done == jobs
    assert await queue.wait_for_scan(db, scan_id, asyncio.Event()) == "complete"
    assert max(running) >= jobs // 2, "the site jobs did not run at once"
    assert 1 <= max(held) <= pool + 1, held
