"""Crash safety, over and over: a `python -m crawler scan` killed with SIGKILL at random moments.

After every kill the store opens (`PRAGMA integrity_check` is ok), every finding that another
reader saw committed just before the kill is still there, `govmon report` still reads it (the
scan is `incomplete`), and a follow-up `govmon scan --resume` into the same store continues the
killed scan (or starts one, if the kill came before the scan began) and completes it with every
finding it should have. All the trials share one store, so each also checks that the findings of
every earlier scan survived the later ones. The site answers slowly while a scan is to be killed
(so that the kill lands mid-scan) and fast for the follow-up.

The suite runs `DEFAULT_TRIALS` seeded trials; a longer run outside it:

    GOVMON_CRASH_TRIALS=200 .venv/bin/pytest tests/crawler/core/test_crash_loop.py -k sigkill

`GOVMON_CRASH_SEED` changes the seed (the failing seed and moment are in the message).

Also a full disk and a read-only disk (a small tmpfs mounted by the test: root only, skipped
otherwise): the scan exits 1 with a one-line message that says what and where, and what was
committed before is intact.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from tests.support.localserver import serve

DEFAULT_TRIALS = 12
TRIALS = int(os.environ.get("GOVMON_CRASH_TRIALS", DEFAULT_TRIALS))
SEED = int(os.environ.get("GOVMON_CRASH_SEED", "20200615"))
KILL_WINDOW = (0.0, 2.5)  # seconds after the start of the process
PAGES = 120  # pages of the test site: each links a missing page and a missing image
EXPECTED_BROKEN = 2 * PAGES
PROCESS_TIMEOUT = 60.0

Snapshot = frozenset[tuple[int, str]]  # (scan id, finding identity)


class Site:
    """The test site's knob: how long each answer takes."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.delay = 0.0


SLOW = 0.02  # seconds per answer while a scan is to be killed: the scan takes ~5 s


def _site(site: list[Site]) -> web.Application:
    """A binary tree of pages; every page links a missing page and a missing image."""

    async def slow(request: web.Request) -> None:
        if site and site[0].delay:
            await asyncio.sleep(site[0].delay)

    async def page(request: web.Request) -> web.Response:
        await slow(request)
        n = int(request.match_info["n"])
        children = "".join(
            f'<li><a href="/p/{m}.html">第{m}页</a></li>'
            for m in (2 * n + 1, 2 * n + 2)
            if m < PAGES
        )
        body = (
            f"<html><head><title>第{n}页</title></head><body><ul>{children}</ul>"
            f'<a href="/missing/{n}.html">坏链</a><img src="/img/missing-{n}.png"></body></html>'
        )
        return web.Response(text=body, content_type="text/html")

    async def home(request: web.Request) -> web.Response:
        raise web.HTTPFound("/p/0.html")

    async def missing(request: web.Request) -> web.Response:
        await slow(request)
        return web.Response(status=404, text="<h1>404</h1>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/", home)
    app.router.add_get("/p/{n}.html", page)
    app.router.add_route("*", "/missing/{n}.html", missing)
    app.router.add_route("*", "/img/{name}", missing)
    return app


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    holder: list[Site] = []
    with serve(_site(holder)) as port:
        holder.append(Site(port))
        yield holder[0]


@pytest.fixture
def slow_site(site: Site) -> Iterator[Site]:
    site.delay = SLOW
    try:
        yield site
    finally:
        site.delay = 0.0


def _config(folder: Path, port: int) -> Path:
    cfg = folder / "crash.toml"
    cfg.write_text(
        f"""
[crawl]
allow_private = true
resolve_only = true
rate = 0
concurrency = 2
workers = 4
retries = 0
recheck_delay = 0.05
timeout = 5
robots = "ignore"

[[site]]
id = "s"
name = "崩溃测试"
url = "http://127.0.0.1:{port}/"
""",
        encoding="utf-8",
    )
    return cfg


def snapshot(db: Path) -> Snapshot | None:
    """The committed findings, as a separate read-only reader sees them (None: unreadable)."""
    if not db.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
    except sqlite3.Error:
        return None
    try:
        rows = conn.execute("SELECT scan_id, identity FROM findings").fetchall()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return frozenset((int(r[0]), str(r[1])) for r in rows)


def check_store(db: Path, seen: Snapshot, context: str) -> Snapshot:
    """The store opens, is intact, and holds every finding in ``seen``; its findings."""
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", context
        rows = frozenset(
            (int(r[0]), str(r[1]))
            for r in conn.execute("SELECT scan_id, identity FROM findings").fetchall()
        )
    lost = seen - rows
    assert not lost, f"{context}: {len(lost)} committed findings lost, e.g. {sorted(lost)[:3]}"
    return rows


def broken_links(db: Path, scan_id: int) -> int:
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
        sql = "SELECT count(*) FROM findings WHERE scan_id = ? AND check_code = 'link.broken'"
        return int(conn.execute(sql, (scan_id,)).fetchone()[0])


def scans(db: Path) -> list[tuple[int, str]]:
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
        return [(int(r[0]), str(r[1])) for r in conn.execute("SELECT id, status FROM scans")]


def run_govmon(*args: str) -> subprocess.CompletedProcess[str]:
    """``govmon ARGS`` in a process of its own, like the killed scans: the same code on both
    sides of a kill, even while the source tree changes under a long run."""
    return subprocess.run(
        [sys.executable, "-m", "crawler", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=PROCESS_TIMEOUT,
        check=False,
    )


def start_scan(cfg: Path, db: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "crawler", "scan", str(cfg), "--db", str(db)],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


@dataclass
class Trial:
    number: int
    moment: float
    killed: bool  # False: the scan finished before its moment came
    began: bool = False  # the killed process had begun its scan in the store
    seen: int = 0  # findings of that scan committed before the kill (another reader saw them)


def run_trial(
    number: int, moment: float, cfg: Path, db: Path, folder: Path
) -> tuple[Trial, Snapshot]:
    """Start a scan, watch its commits, SIGKILL it at ``moment`` (unless it finished)."""
    proc = start_scan(cfg, db, folder / f"trial-{number}.log")
    started = time.monotonic()
    seen: Snapshot = frozenset()
    try:
        while proc.poll() is None and time.monotonic() - started < moment:
            now = snapshot(db)
            if now is not None:
                seen = now
            time.sleep(0.01)
        now = snapshot(db)  # the very last look, just before the kill
        if now is not None:
            seen = now
        killed = proc.poll() is None
        if killed:
            os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(PROCESS_TIMEOUT)
    if not killed:
        assert proc.returncode == 0, (folder / f"trial-{number}.log").read_text()
    return Trial(number, round(moment, 3), killed), seen


@pytest.mark.timeout(60 + 10 * TRIALS)
def test_sigkill_at_random_moments(site: Site, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    cfg = _config(tmp_path, site.port)
    db = tmp_path / "crash.db"
    committed: Snapshot = frozenset()  # every finding known committed so far, all scans
    trials: list[Trial] = []
    for number in range(TRIALS):
        moment = rng.uniform(*KILL_WINDOW)
        context = f"seed {SEED}, trial {number}, killed at {moment:.3f}s"
        earlier = len(scans(db)) if db.exists() else 0
        site.delay = SLOW
        try:
            trial, seen = run_trial(number, moment, cfg, db, tmp_path)
        finally:
            site.delay = 0.0
        trials.append(trial)
        committed |= seen
        if db.exists():
            committed = check_store(db, committed, context) | committed
            history = scans(db)
            trial.began = len(history) > earlier
            trial.seen = len([i for s, i in seen if trial.began and s == history[-1][0]])
            if trial.began and trial.killed:
                # a killed scan is never marked complete; the report calls it incomplete
                assert history[-1][1] == "running", (context, history[-1])
                done = run_govmon("report", "--db", str(db), "--format", "json")
                assert done.returncode == 0, (context, done.stderr[-2000:])
                report = json.loads(done.stdout)
                assert report["scan"]["status"] == "incomplete", context
                mine = {i for s, i in committed if s == history[-1][0]}
                assert mine <= {f["id"] for f in report["findings"]}, context
        # the follow-up scan resumes the killed one and completes it, with every finding
        killed_id = scans(db)[-1][0] if trial.began else None
        follow = run_govmon("scan", str(cfg), "--db", str(db), "--resume")
        assert follow.returncode == 0, (context, follow.stderr[-2000:])
        latest_id, latest_status = scans(db)[-1]
        assert latest_status == "complete", context
        if killed_id is not None and trial.killed:
            assert latest_id == killed_id, f"{context}: a new scan instead of resuming"
        committed = check_store(db, committed, context + ", after the follow-up scan")
        assert broken_links(db, latest_id) == EXPECTED_BROKEN, context
    killed = [t for t in trials if t.killed]
    assert len(killed) >= TRIALS // 2, f"most scans finished before the kill: {trials}"
    assert any(t.seen > 0 for t in killed), "no kill came after a commit"
    print(  # the record of the run (pytest -s)
        "crash trials:",
        json.dumps([t.__dict__ for t in trials]),
    )


# ---------------------------------------------------------------------------------------------
# a full disk, a read-only disk


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs mounted for the test (root only), always unmounted."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small filesystem needs root")
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m,mode=0755", "tmpfs", str(mountpoint)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace')}")
    try:
        yield mountpoint
    finally:
        for attempt in range(20):
            unmount = subprocess.run(["umount", str(mountpoint)], capture_output=True, check=False)
            if unmount.returncode == 0:
                break
            time.sleep(0.1 * (attempt + 1))
        else:
            subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True, check=False)


def fill(folder: Path) -> int:
    """Write a file until the filesystem is full; the bytes written."""
    written = 0
    block = b"\0" * 65536
    with (folder / "filler").open("wb", buffering=0) as fh:
        for _ in range(1 << 16):  # at most 4 GiB: the disk is much smaller
            try:
                written += fh.write(block)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                return written
    raise AssertionError("the small disk never filled")


def _message(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")


def _uncaught(stderr: str) -> bool:
    """Whether Python printed an uncaught exception (log lines may quote tracebacks)."""
    return any(
        line.lstrip(" +|").startswith(("Traceback (most", "Exception Group Traceback"))
        for line in stderr.splitlines()
        if not line.startswith("{")
    )


def test_full_disk_fails_clearly_and_keeps_commits(
    slow_site: Site, tmp_path: Path, small_disk: Path
) -> None:
    cfg = _config(tmp_path, slow_site.port)
    db = small_disk / "govmon.db"
    log = tmp_path / "full.log"
    proc = start_scan(cfg, db, log)
    seen: Snapshot = frozenset()
    try:
        deadline = time.monotonic() + 30
        while proc.poll() is None and len(seen) < 20 and time.monotonic() < deadline:
            seen = snapshot(db) or seen
            time.sleep(0.02)
        assert proc.poll() is None, f"the scan ended before the disk filled: {_message(log)}"
        assert len(seen) >= 20, "no findings committed in 30 s"
        fill(small_disk)
        seen = snapshot(db) or seen  # what was committed before the disk filled
        proc.wait(PROCESS_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    (small_disk / "filler").unlink()
    check_store(db, seen, "after the full disk")  # nothing committed was lost
    assert scans(db)[-1][1] == "running"  # never marked complete
    message = _message(log)
    assert proc.returncode == 1, f"exit {proc.returncode}: {message[-2000:]}"
    assert not _uncaught(message), message[-3000:]
    last = [line for line in message.splitlines() if line.startswith("govmon:")]
    assert last, f"no govmon: message on stderr: {message[-2000:]}"
    assert str(db) in last[-1], last[-1]  # where
    why = last[-1].replace(str(db), "").lower()
    assert "full" in why or "space" in why, last[-1]  # what


def test_read_only_disk_fails_clearly_and_keeps_the_store(
    site: Site, tmp_path: Path, small_disk: Path
) -> None:
    cfg = _config(tmp_path, site.port)
    db = small_disk / "govmon.db"
    first = run_govmon("scan", str(cfg), "--db", str(db))
    assert first.returncode == 0, first.stderr[-2000:]
    before = check_store(db, frozenset(), "the first scan")
    assert broken_links(db, 1) == EXPECTED_BROKEN
    remount = ["mount", "-o", "remount,ro", str(small_disk)]
    subprocess.run(remount, check=True, capture_output=True)
    try:
        log = tmp_path / "ro.log"
        proc = start_scan(cfg, db, log)
        proc.wait(PROCESS_TIMEOUT)
        message = _message(log)
        assert proc.returncode == 1, f"exit {proc.returncode}: {message[-2000:]}"
        assert not _uncaught(message), message[-3000:]
        last = [line for line in message.splitlines() if line.startswith("govmon:")]
        assert last, message[-2000:]
        assert str(db) in last[-1], last[-1]
        why = last[-1].replace(str(db), "").lower()
        assert "read-only" in why or "readonly" in why, last[-1]  # what is wrong
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    check_store(db, before, "after the read-only attempt")
