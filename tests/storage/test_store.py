"""The SQLite store: migrations, the batching writer, and clear errors."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import get_args

import pytest

from checks.base import Finding
from storage.base import FindingRow, PageRow, Progress, Record, SampleRow, StoreError
from storage.postgres import _numbered
from storage.rows import _ROWS
from storage.sqlite import MIGRATIONS, SCHEMA_VERSION, SQLiteStore


async def test_old_store_is_migrated_in_place(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:
        conn.executescript(MIGRATIONS[1] + "PRAGMA user_version=1;")
        conn.execute(
            "INSERT INTO scans (config_path, config_digest, as_of, started_at, status, sites,"
            " version) VALUES ('c', 'd', '2020-06-16', 'now', 'complete', '[]', '0.0.1')"
        )
    store = await SQLiteStore.open(db)
    await store.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("SELECT count(*) FROM scans").fetchone()[0] == 1  # data kept
        assert conn.execute("SELECT count(*) FROM columns").fetchone()[0] == 0


async def test_newer_store_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer than this govmon"):
        await SQLiteStore.open(db)


async def test_missing_store_for_reading(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such store"):
        await SQLiteStore.open(tmp_path / "none.db", create=False)
    assert not (tmp_path / "none.db").exists()


async def test_writer_batches_and_upserts_findings(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "w.db", queue_size=8, batch_size=3)
    scan = await store.begin_scan(config_path="c", config_digest="d", as_of="x", sites=[])
    for i in range(20):  # more than the queue holds: put() waits for the writer
        await store.put(
            PageRow(
                i,
                "s",
                f"http://h/{i}",
                f"http://h/{i}",
                200,
                None,
                "text/html",
                "utf-8",
                "t",
                0,
                10,
                1,
                "now",
            )
        )
    first = Finding("link.broken", "s", "u", "http://h/x", detail={"pages": ["a"]})
    again = Finding("link.broken", "s", "u", "http://h/x", detail={"pages": ["a", "b"]})
    assert first.identity == again.identity
    await store.put(FindingRow(first, "now"))
    await store.put(FindingRow(again, "now"))
    await store.finish_scan("complete", 20, 20)
    findings = await store.findings(scan)
    info = await store.scan_info("latest")
    await store.close()
    assert [f["detail"]["pages"] for f in findings] == [["a", "b"]]
    assert (info.status, info.pages) == ("complete", 20)
    with sqlite3.connect(tmp_path / "w.db") as conn:
        assert conn.execute("SELECT count(*) FROM pages").fetchone()[0] == 20


async def test_locked_store_gives_a_clear_error_and_loses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "locked.db"
    store = await SQLiteStore.open(db)
    await store.begin_scan(config_path="c", config_digest="d", as_of="x", sites=[])
    await store.put(FindingRow(Finding("link.broken", "s", "u", "http://h/1"), "now"))
    await store.flush()
    await store.close()
    other = sqlite3.connect(db, timeout=0)
    other.execute("BEGIN EXCLUSIVE")  # another program holds the store
    try:
        locked = await SQLiteStore.open(db, busy_timeout=0.2)
        with pytest.raises(StoreError, match="locked"):
            await locked.begin_scan(config_path="c", config_digest="d", as_of="x", sites=[])
        await locked.close()
    finally:
        other.rollback()
        other.close()
    reopened = await SQLiteStore.open(db)
    assert len(await reopened.findings(1)) == 1  # what was committed before is intact
    await reopened.close()


async def test_samples_round_trip(tmp_path: Path) -> None:

    store = await SQLiteStore.open(tmp_path / "s.db")
    rows = [
        SampleRow("a", "http://a/", "2020-06-10T08:00:00+08:00", True, 200, 120, 1, 2, None, 50),
        SampleRow(
            "a",
            "http://a/",
            "2020-06-10T09:00:00+08:00",
            False,
            None,
            15000,
            failed_at="first byte",
            error="timeout",
        ),
        SampleRow("b", "http://b/", "2020-06-10T08:30:00+08:00", True, 200, 80),
    ]
    await store.add_samples(rows)
    assert await store.samples("a") == rows[:2]
    assert [s.site for s in await store.samples()] == ["a", "b", "a"]  # time order
    assert await store.samples(since="2020-06-10T08:15:00+08:00", site="a") == rows[1:2]
    await store.close()


async def test_one_store_runs_several_scans_and_still_closes(tmp_path: Path) -> None:
    """The daemon runs scan after scan on one store: one writer serves them all."""
    store = await SQLiteStore.open(tmp_path / "daemon.db")
    for n in (1, 2):
        scan = await store.begin_scan(config_path="c", config_digest="d", as_of="x", sites=[])
        assert scan == n
        await store.put(FindingRow(Finding("link.broken", "s", "u", f"http://h/{n}"), "now"))
        await store.finish_scan("complete", 0, 0)
    await asyncio.wait_for(store.close(), 10)  # used to hang: a second writer took the stop
    reopened = await SQLiteStore.open(tmp_path / "daemon.db")
    assert [f["url"] for f in await reopened.findings(2)] == ["http://h/2"]
    await reopened.close()


def _page(url_id: int) -> PageRow:
    url = f"http://h/{url_id}"
    return PageRow(url_id, "s", url, url, 200, None, "text/html", None, "t", 0, 1, 1, "now")


async def test_a_failed_write_is_one_clear_error_and_never_blocks(tmp_path: Path) -> None:
    """Any exception of a batch (here a URL id SQLite cannot hold, which is no sqlite3.Error)
    ends writing with a StoreError at the next put or flush; producers never wait on the full
    queue; the store's next scan writes again."""
    store = await SQLiteStore.open(tmp_path / "f.db", queue_size=4, batch_size=2)
    await store.begin_scan(config_path="c", config_digest="d", as_of="x", sites=[])
    await store.put(_page(1))
    await store.flush()
    async with asyncio.timeout(30):
        await store.put(_page(2**70))

        async def write_on() -> None:
            for i in range(2, 40):  # more than the queue holds
                await store.put(_page(i))
            await store.flush()

        with pytest.raises(StoreError, match=r"writing failed: .*too large"):
            await write_on()
        with pytest.raises(StoreError, match="writing failed"):
            await store.finish_scan("complete", 1, 1)
        again = await store.begin_scan(config_path="c", config_digest="d", as_of="x", sites=[])
        await store.put(_page(1))
        await store.finish_scan("complete", 1, 1)
    assert await store.page_urls(1, [1, 2]) == {1: "http://h/1"}  # the failed batch undone
    assert await store.page_urls(again, [1]) == {1: "http://h/1"}
    assert (await store.scan_info(again)).status == "complete"
    await store.close()


def test_every_record_has_its_table() -> None:
    assert set(get_args(Record)) - {Progress} == set(_ROWS)


def test_postgres_numbers_the_placeholders() -> None:
    sql = "SELECT a FROM t WHERE b = ? AND c IN (?,?) ORDER BY a"
    assert _numbered(sql) == "SELECT a FROM t WHERE b = $1 AND c IN ($2,$3) ORDER BY a"
    assert _numbered("SELECT 1") == "SELECT 1"
