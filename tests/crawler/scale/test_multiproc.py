"""Two processes share one crawl (``govmon scan --processes N``), for real.

The partition of sites between processes is pure and checked with Hypothesis; the end-to-end
tests run ``govmon scan`` on the demo district (4 sites, 3 of them on one host) served on
loopback, with one process and with two, and stop or kill the processes of a running scan.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.cli import main
from crawler.config import Site, load_config
from crawler.core.logs import ScanProgress, configure
from crawler.demo import DemoServer, demo_config, serve
from crawler.scale.child import Snapshot
from crawler.scale.partition import partition, plan, size_weights
from crawler.scale.processes import summed
from tests.crawler.core.test_scan_progress import FakeClock, Terminal, assert_logged_at_30_and_60
from tests.support.paths import REPO_ROOT
from tests.support.pgserver import PG, rows
from tests.support.terminal import read_terminal

ROOT = REPO_ROOT
SITE = ROOT / "crawler" / "demo" / "site"


# -- the partition ------------------------------------------------------------------------------

HOSTS = st.frozensets(st.sampled_from("abcdefghij"), min_size=1, max_size=3)


def _components(hosts: list[frozenset[str]]) -> list[set[int]]:
    """Sites linked by shared hosts, the slow obvious way."""
    groups: list[tuple[set[int], set[str]]] = []
    for i, h in enumerate(hosts):
        merged, names = {i}, set(h)
        for g in [g for g in groups if g[1] & names]:
            groups.remove(g)
            merged |= g[0]
            names |= g[1]
        groups.append((merged, names))
    return [g[0] for g in groups]


@given(
    st.lists(st.tuples(HOSTS, st.integers(1, 1000)), min_size=1, max_size=14),
    st.integers(1, 6),
)
def test_partition_keeps_hosts_together_and_balances(
    sites: list[tuple[frozenset[str], int]], processes: int
) -> None:
    hosts = [h for h, _ in sites]
    weights = [w for _, w in sites]
    groups = partition(hosts, weights, processes)
    everything = sorted(i for g in groups for i in g)
    assert everything == list(range(len(sites)))  # every site exactly once
    assert all(g == sorted(g) and g for g in groups)
    components = _components(hosts)
    assert len(groups) == min(processes, len(components))
    where = {i: k for k, g in enumerate(groups) for i in g}
    for comp in components:  # sites sharing a host, even through others, share a process
        assert len({where[i] for i in comp}) == 1
    loads = [sum(weights[i] for i in g) for g in groups]
    heaviest = max(sum(weights[i] for i in comp) for comp in components)
    assert max(loads) - min(loads) <= heaviest  # at most one site group apart


@given(st.lists(st.integers(1, 4), min_size=1, max_size=12), st.integers(1, 6), st.integers(1, 50))
def test_equal_site_groups_spread_evenly(sizes: list[int], processes: int, size: int) -> None:
    # site groups of several sizes (sites sharing one host), each weighing the same in total
    hosts: list[frozenset[str]] = []
    weights: list[int] = []
    for g, n in enumerate(sizes):
        hosts += [frozenset({f"h{g}"})] * n
        weights += [size] + [0] * (n - 1)
    groups = partition(hosts, weights, processes)
    counts = [len({hosts[i] for i in g}) for g in groups]
    assert max(counts) - min(counts) <= 1


def test_plan_of_the_demo_keeps_its_shared_host_in_one_process(tmp_path: Path) -> None:
    config_path = tmp_path / "district.toml"
    config_path.write_text(demo_config(8000), encoding="utf-8")
    config = load_config(config_path)
    groups = plan(config.sites, 2, {})
    assert [[s.id for s in g] for g in groups] == [["portal", "fgj", "jyj"], ["town"]]
    assert len(plan(config.sites, 8, {})) == 2  # two hosts: two processes at most
    assert len(plan(config.sites, 1, {})) == 1
    # sized by an earlier scan; a site it did not have counts as the median of the others
    assert size_weights(config.sites, {"portal": 10, "fgj": 30}) == [10, 30, 20, 20]
    assert size_weights(config.sites, {}) == [1, 1, 1, 1]


# -- the progress display: the children's reports summed into a one-process scan's ----------


def _sites(*ids: str) -> tuple[Site, ...]:
    return tuple(
        Site(id=i, name=i, unit="区政府办", kind="portal", url=f"http://127.0.0.1:9/{i}/",
             scope=(f"http://127.0.0.1:9/{i}/",))
        for i in ids
    )  # fmt: skip


def test_summed_adds_up_the_children_and_keeps_the_config_order() -> None:
    one = Snapshot(80, 100, 30, 2, 1, (("fgj", 50), ("portal", 30)))
    two = Snapshot(20, 40, 5, 1, 0, (("town", 20),))
    total = summed([one, two, Snapshot()], _sites("portal", "fgj", "jyj", "town"))
    s = total.stats
    assert (s.pages, s.requests, s.broken, s.blocked) == (100, 140, 3, 1)
    assert total.frontier.queued + total.frontier.delayed == 35
    assert [(st.site.id, st.pages) for st in total.sites] == [
        ("portal", 30), ("fgj", 50), ("jyj", 0), ("town", 20),
    ]  # fmt: skip


def test_several_processes_show_the_one_process_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    clock, out, sites = FakeClock(), Terminal(), _sites("portal", "town")
    show = ScanProgress(out, expected=400, clock=clock)
    show(summed([Snapshot(), Snapshot()], sites))  # the first report: no rate yet
    assert "left estimating" in out.getvalue()
    clock.now += 20
    show(summed([Snapshot(50, 60, 20, 1, 0, (("portal", 50),)),
                 Snapshot(30, 40, 30, 0, 2, (("town", 30),))], sites))  # fmt: skip
    show.done()
    text = out.getvalue()
    assert "elapsed 0:00:20" in text
    assert "left ~0:01:00" in text  # 400 - 100 requests at 5 a second, summed
    assert "25%" in text  # 100 of 400
    assert "pages 80  queued 50" in text
    assert "broken 1  blocked 2  [portal:50 town:30]" in text


def test_several_processes_off_a_terminal_log_plain_lines() -> None:
    clock, out, logs, sites = FakeClock(), io.StringIO(), io.StringIO(), _sites("portal", "town")
    configure("info", stream=logs)
    try:
        show = ScanProgress(out, clock=clock, log_every=30.0)
        for k in range(7):  # every 10 s from 0 s: a line at 30 s and at 60 s
            show(summed([Snapshot(requests=25 * k, queued=60),
                         Snapshot(requests=25 * k, queued=40)], sites))  # fmt: skip
            clock.now += 10
        show.done()
    finally:
        configure("warning")
    assert_logged_at_30_and_60(out, logs)  # 100 queued at 5 requests a second, summed


# -- end to end -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoServer]:
    with serve(SITE) as server:
        yield server


def _config(tmp_path: Path, server: DemoServer, rate: int = 20) -> Path:
    path = tmp_path / "district.toml"
    text = demo_config(server.port).replace("rate = 20", f"rate = {rate}")
    path.write_text(text, encoding="utf-8")
    return path


def _govmon(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )


def _report(db: Path | str) -> dict[str, Any]:
    done = _govmon("report", "--db", str(db), "--format", "json")
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def _findings(report: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(f["check"], f["site"], f["url"]) for f in report["findings"]}


def _query(db: Path, sql: str) -> list[Any]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def single(demo: DemoServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The report of a one-process scan of the demo: what two processes must find."""
    work = tmp_path_factory.mktemp("single")
    config, db = _config(work, demo), work / "single.db"
    done = _govmon("scan", str(config), "--db", str(db))
    assert done.returncode == 0, done.stderr
    return _report(db)


@pytest.mark.timeout(120)
def test_two_processes_give_the_single_process_findings(
    demo: DemoServer, single: dict[str, Any], tmp_path: Path
) -> None:
    config, multi = _config(tmp_path, demo), tmp_path / "multi.db"
    two = _govmon("--log-level", "info", "scan", str(config), "--db", str(multi),
                  "--processes", "2")  # fmt: skip
    assert two.returncode == 0, two.stderr
    assert " complete: " in two.stdout
    assert "(2 processes)" in two.stdout
    # stderr is a pipe: no progress drawn, only log lines, and no control characters
    for text in (two.stdout, two.stderr):
        assert "\r" not in text
        assert "\x1b" not in text
    assert all(json.loads(line)["event"] for line in two.stderr.splitlines())
    got = _report(multi)
    assert got["scan"]["status"] == "complete"
    assert _findings(got) == _findings(single)
    assert len(got["findings"]) == len(_findings(got))  # no finding twice
    assert got["scan"]["pages"] == single["scan"]["pages"]
    assert _query(multi, "SELECT site, url FROM pages GROUP BY scan_id, site, url"
                  " HAVING count(*) > 1") == []  # fmt: skip
    assert _query(multi, "PRAGMA integrity_check") == [("ok",)]
    # the two processes numbered their URLs in their own ranges, and kept no resume journal
    bases = {row[0] >> 32 for row in _query(multi, "SELECT url_id FROM pages")}
    assert bases == {1, 4}  # portal (site 0) with fgj and jyj; town (site 3)
    assert _query(multi, "SELECT count(*) FROM frontier") == [(0,)]
    start = next(json.loads(line) for line in two.stderr.splitlines() if "multiproc.start" in line)
    assert start["groups"] == [["portal", "fgj", "jyj"], ["town"]]


@pytest.mark.timeout(120)
def test_two_processes_draw_the_progress_bar_on_a_terminal(
    demo: DemoServer, tmp_path: Path
) -> None:
    config, db = _config(tmp_path, demo), tmp_path / "multi.db"
    leader, follower = os.openpty()  # a real terminal for stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler", "scan", str(config), "--db", str(db),
         "--processes", "2"],
        stdout=subprocess.PIPE, stderr=follower, text=True, cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    os.close(follower)
    try:
        drawn = read_terminal(leader).decode("utf-8")
    finally:
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert "(2 processes)" in out
    assert "scan " in drawn
    assert "elapsed 0:00:" in drawn
    assert "req/s" in drawn
    # both processes' sites in one line, in the config's order
    assert re.search(r"\[portal:\d+ fgj:\d+ jyj:\d+ town:\d+\]", drawn), drawn
    assert "\r" in drawn or "\x1b[" in drawn  # redrawn in place


@pytest.mark.timeout(120)
def test_two_processes_share_a_postgresql_store(
    pg: PG, demo: DemoServer, single: dict[str, Any], tmp_path: Path
) -> None:
    config = _config(tmp_path, demo)
    two = _govmon("scan", str(config), "--db", pg.url, "--processes", "2")
    assert two.returncode == 0, two.stderr
    got = _report(pg.url)
    assert got["scan"]["status"] == "complete"
    assert _findings(got) == _findings(single)
    assert got["scan"]["pages"] == single["scan"]["pages"]
    twice = asyncio.run(
        _pg_rows(pg.url, "SELECT site, url FROM pages GROUP BY scan_id, site, url"
                 " HAVING count(*) > 1")
    )  # fmt: skip
    assert twice == []


async def _pg_rows(url: str, query: str) -> list[Any]:
    return list(await rows(url, query))


def _children(proc: subprocess.Popen[str]) -> list[psutil.Process]:
    return [p for p in psutil.Process(proc.pid).children() if "spawn_main" in " ".join(p.cmdline())]


def _start_slow_scan(tmp_path: Path, demo: DemoServer) -> tuple[subprocess.Popen[str], Path]:
    """A two-process scan at 4 requests/s per host, once both processes have stored pages."""
    config, db = _config(tmp_path, demo, rate=4), tmp_path / "multi.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler", "scan", str(config), "--db", str(db),
         "--processes", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        time.sleep(0.3)
        if db.exists():
            with sqlite3.connect(db) as conn:
                try:
                    sites = conn.execute("SELECT count(DISTINCT site) FROM pages").fetchone()[0]
                except sqlite3.OperationalError:  # not created yet
                    continue
            if sites >= 2:
                break
    assert proc.poll() is None, "the scan ended before it could be stopped"
    return proc, config


@pytest.mark.timeout(120)
def test_sigterm_stops_every_process_and_the_scan_is_interrupted(
    demo: DemoServer, tmp_path: Path
) -> None:
    proc, config = _start_slow_scan(tmp_path, demo)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err  # 128 + SIGTERM
    assert "stopped (interrupted)" in err
    assert "cannot be resumed" in err
    db = tmp_path / "multi.db"
    info = _report(db)["scan"]
    assert info["status"] == "interrupted"
    assert info["pages"] == _query(db, "SELECT count(*) FROM pages")[0][0] > 0
    assert _query(db, "PRAGMA integrity_check") == [("ok",)]
    # `scan --resume` does not continue it (its journal is not there): it starts a new scan
    resumed = _govmon("scan", str(config), "--db", str(db), "--resume", "--site", "town")
    assert resumed.returncode == 0, resumed.stderr
    assert "no incomplete scan of this config to resume" in resumed.stderr
    assert _query(db, "SELECT id, status FROM scans ORDER BY id") == [
        (1, "interrupted"),
        (2, "complete"),
    ]


@pytest.mark.timeout(120)
def test_a_killed_process_fails_the_scan(demo: DemoServer, tmp_path: Path) -> None:
    proc, _ = _start_slow_scan(tmp_path, demo)
    children = _children(proc)
    assert len(children) == 2
    children[0].kill()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "killed by SIGKILL" in err
    db = tmp_path / "multi.db"
    assert _query(db, "SELECT status FROM scans") == [("interrupted",)]
    assert _query(db, "PRAGMA integrity_check") == [("ok",)]
    assert not children[1].is_running() or children[1].status() == psutil.STATUS_ZOMBIE


@pytest.mark.parametrize(
    "extra",
    [("--processes", "0"), ("--processes", "2", "--resume"),
     ("--processes", "2", "--record", "x.warc.gz")],
)  # fmt: skip
def test_processes_refuses_what_it_cannot_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: tuple[str, ...]
) -> None:
    config = tmp_path / "district.toml"
    config.write_text(demo_config(8000), encoding="utf-8")
    db = tmp_path / "govmon.db"
    assert main(["scan", str(config), "--db", str(db), *extra]) == 2
    assert "--processes" in capsys.readouterr().err
    assert not db.exists()
