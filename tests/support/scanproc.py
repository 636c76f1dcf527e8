"""`govmon scan` as a child process, for tests that stop it (signals, kills) mid-way."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path


def committed(db: Path, table: str) -> int:
    """Rows of ``table`` committed in the SQLite store at ``db`` so far (0 before it exists)."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.Error:
        return 0


def start_scan(cfg: Path, db: Path) -> subprocess.Popen[bytes]:
    """``python -m crawler scan CFG --db DB`` in the background, its stderr piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "crawler", "scan", str(cfg), "--db", str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for_pages(proc: subprocess.Popen[bytes], db: Path, pages: int) -> None:
    """Until the scan has committed ``pages`` pages; it must not end before that."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if committed(db, "pages") >= pages:
            return
        time.sleep(0.02)
    raise AssertionError("the scan ended before it could be interrupted")
