"""A user's mistake gets one clean line on stderr and a documented exit status, never a
traceback; and the same mistake gets the same status from every command."""

from __future__ import annotations

import asyncio
import shlex
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, cast

import pytest

from crawler.cli import main
from crawler.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from crawler.cli.inspect_page import _no_answer
from crawler.service.scans import ScanOutcome, finish_scan
from storage.sqlite import SQLiteStore

CONFIG = """
[[site]]
id = "a"
name = "测试站"
url = "http://127.0.0.1:9/"
"""


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "govmon.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_a_store_in_a_missing_folder_is_one_line_every_time(tmp_path: Path) -> None:
    # the SQLite thread used to outlive the event loop and die with "Event loop is closed"
    # around the one-line error, in most runs: ten runs in one process, each must be clean
    config = _config(tmp_path)
    db = tmp_path / "missing" / "dir" / "x.db"
    script = textwrap.dedent(f"""
        import threading
        from crawler.cli import main
        codes = [main(["scan", {str(config)!r}, "--db", {str(db)!r}]) for _ in range(10)]
        left = [t for t in threading.enumerate() if t is not threading.main_thread()]
        for t in left:
            t.join(10)  # a thread left behind says what went wrong when it ends
        print(codes, [t.name for t in left])
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, check=False)  # fmt: skip
    lines = proc.stderr.splitlines()
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Event loop is closed" not in proc.stderr
    assert len(lines) == 10, proc.stderr
    assert len(set(lines)) == 1
    assert lines[0].startswith("govmon: store error: ")
    assert f"there is no folder {db.parent}" in lines[0]
    assert proc.stdout.strip() == "[1, 1, 1, 1, 1, 1, 1, 1, 1, 1] []"


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's bad usage
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def _store(tmp_path: Path) -> Path:
    db = tmp_path / "govmon.db"

    async def create() -> None:
        store = await SQLiteStore.open(db)
        await store.close()

    asyncio.run(create())
    return db


def test_a_missing_store_is_bad_usage_for_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # serve said 2, report said 1: now both say what the table says for a store that is not there
    missing = str(tmp_path / "nowhere.db")
    for argv in (["report", "--db", missing], ["serve", "--db", missing]):
        code, err = _run(argv, capsys)
        assert code == EXIT_USAGE, (argv, err)
        assert err == f"govmon: {missing}: no such store (run `govmon scan` first)\n", argv
        assert not Path(missing).exists()


def test_a_bad_or_missing_scan_is_bad_usage_not_a_store_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(_store(tmp_path))
    code, err = _run(["report", "--db", db, "--scan", "abc"], capsys)
    assert code == EXIT_USAGE
    assert "store error" not in err
    assert "argument --scan: 'abc' is not a scan number or 'latest'" in err
    code, err = _run(["report", "--db", db, "--compare", "last"], capsys)
    assert code == EXIT_USAGE
    assert "'last' is not a scan number or 'previous'" in err
    code, err = _run(["report", "--db", db, "--scan", "7"], capsys)
    assert code == EXIT_USAGE
    assert err == f"govmon: {db}: no scan 7 in the store\n"
    code, err = _run(["report", "--db", db], capsys)  # an empty store has no latest scan
    assert code == EXIT_USAGE
    assert "store error" not in err


def test_a_broken_store_is_a_failure_while_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database, it is a letter" * 100)
    code, err = _run(["report", "--db", str(broken)], capsys)
    assert code == EXIT_FAILURE
    assert err.startswith("govmon: store error: ")
    assert len(err.splitlines()) == 1


def test_inspect_of_a_name_that_does_not_resolve_suggests_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (the reasoning alone, on the result a failed DNS lookup gives: no query leaves the machine)
    failed = {"url": "http://www.district.test/", "error": "dns", "status": None}
    monkeypatch.chdir(tmp_path)
    said = _no_answer(failed, "http://www.district.test/", None)
    assert said.startswith("no answer from http://www.district.test/: the name did not resolve")
    assert said.endswith("\n  govmon inspect http://www.district.test/ --config CONFIG")
    (tmp_path / "govmon.toml").write_text("", encoding="utf-8")
    said = _no_answer(failed, "http://www.district.test/a b", None)
    # quoted, so that it pastes into any shell as it is
    assert said.endswith("\n  govmon inspect 'http://www.district.test/a b' --config govmon.toml")
    assert shlex.split(said.splitlines()[-1])[2] == "http://www.district.test/a b"
    # other failures say what happened, without a command
    said = _no_answer({**failed, "error": "timeout"}, "http://x.test/", None)
    assert said == "no answer from http://www.district.test/: no answer in time"


def test_inspect_with_a_config_that_does_not_map_the_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "my config.toml"
    config.write_text(
        '[crawl]\nresolve_only = true\nresolve = { "www.district.test" = "127.0.0.1:9" }\n'
        '[[site]]\nid = "a"\nname = "测试站"\nurl = "http://www.district.test/"\n',
        encoding="utf-8",
    )
    code, err = _run(["inspect", "http://elsewhere.test/", "--config", str(config)], capsys)
    assert code == EXIT_FAILURE
    assert err == (
        "govmon: no answer from http://elsewhere.test/: the name did not resolve, neither by DNS"
        f" nor by [crawl] resolve in {config}\n"
    )


def test_more_mistakes_are_one_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    code, err = _run(["demo", "--output", str(blocker / "out")], capsys)
    assert (code, err) == (
        EXIT_FAILURE,
        f"govmon: demo: cannot write {blocker / 'out'}: Not a directory\n",
    )
    code, err = _run(["inspect", "ftp://example.gov.cn/"], capsys)
    assert (code, err) == (
        EXIT_USAGE,
        "govmon: inspect: 'ftp://example.gov.cn/' is not an http:// or https:// URL\n",
    )
    code, err = _run(["scan", str(_config(tmp_path)), "--as-of", "yesterday"], capsys)
    assert code == EXIT_USAGE
    assert err == "govmon: --as-of: not a date (YYYY-MM-DD) or an ISO 8601 time: 'yesterday'\n"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_stopped_as_asked_exits_0(tmp_path: Path, sig: signal.Signals) -> None:
    db = _store(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler", "serve", "--db", str(db), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("govmon serve: http://127.0.0.1:")  # listening
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == EXIT_OK, err
    assert err == ""


def test_suggested_commands_paste_into_a_shell(capsys: pytest.CaptureFixture[str]) -> None:
    config, db = "my district/govmon.toml", "postgresql://govmon@db/govmon?schema=a"
    outcome = ScanOutcome(scan=cast(Any, None), scan_id=4, status="interrupted",
                          stopped_by=signal.SIGINT, recording_error=None)  # fmt: skip
    assert finish_scan(outcome, config_path=config, db=db, record=None) == 130
    said = capsys.readouterr().err.splitlines()
    assert said[0].startswith("govmon: scan 4 stopped (interrupted); everything done so far")
    again = said[-1].strip()
    assert again == (
        "govmon scan 'my district/govmon.toml' --db"
        " 'postgresql://govmon@db/govmon?schema=a' --resume"
    )
    assert shlex.split(again) == ["govmon", "scan", config, "--db", db, "--resume"]
