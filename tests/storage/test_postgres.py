"""The PostgreSQL store against a real server: the same API and results as SQLite.

Every test works in its own fresh PostgreSQL schema, created and dropped by the ``pg`` fixture.
The server is ``GOVMON_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/test``,
trust authentication on this project's machines). Without a server these tests are skipped with
a loud reason; with ``GOVMON_REQUIRE_POSTGRES=1`` (CI) a missing server fails them instead.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import json
import socket
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar
from unittest.mock import AsyncMock

import pytest
from psycopg import errors

from checks.base import Finding
from crawler.cli import main
from crawler.config import load_config
from crawler.core.engine import Scan
from crawler.demo import SITE_ROOT, demo_config, serve
from crawler.service.web import ReadOnlyStore
from storage.base import (
    BodyRow,
    ColumnRow,
    FindingRow,
    FrontierRow,
    ItemRow,
    LinkRow,
    PageRow,
    Progress,
    RefRow,
    SampleRow,
    Store,
    StoreError,
)
from storage.open import open_store
from storage.postgres import MIGRATIONS, SCHEMA_VERSION, PostgresStore, parse_url
from storage.sqlite import MIGRATIONS as SQLITE_MIGRATIONS
from storage.sqlite import SCHEMA_VERSION as SQLITE_VERSION
from storage.sqlite import SQLiteStore
from tests.support.pgserver import PG, SERVER, _drop, _with, admin

pytestmark = pytest.mark.timeout(120)

S = TypeVar("S", SQLiteStore, PostgresStore)
T = TypeVar("T")


@contextlib.asynccontextmanager
async def closing(store: S) -> AsyncIterator[S]:
    try:
        yield store
    finally:
        await store.close()


def _page(url_id: int, url: str, *, site: str = "a", title: str | None = "t", **kw: Any) -> PageRow:
    fields: dict[str, Any] = {
        "url_id": url_id, "site": site, "url": url, "final_url": url, "status": 200,
        "error": None, "content_type": "text/html", "charset": "utf-8", "title": title,
        "depth": 0, "bytes": 10, "elapsed_ms": 5, "fetched_at": "2020-06-16T08:00:00+08:00",
    }  # fmt: skip
    fields.update(kw)
    return PageRow(**fields)


# -- the store API, call for call against SQLite ------------------------------------------

BODY = bytes(range(256)) * 50
SITES = [
    {"id": "a", "name": "甲区政府", "unit": "甲", "kind": "portal", "url": "http://a/"},
    {"id": "B", "name": "乙局", "unit": "乙", "kind": "department", "url": "http://b/"},
    {"id": "中", "name": "丙镇", "unit": "丙", "kind": "town", "url": "http://中/"},
]


def _findings() -> list[Finding]:
    return [
        Finding("link.broken", "a", "甲", "http://x/2", page="http://a/", detail={"n": 1}),
        Finding("link.broken", "a", "甲", "http://x/1", page="http://a/", detail={"n": 2}),
        # the same site, check and subject in two columns: ordered by identity
        Finding("column.stale", "a", "甲", "http://a/c/", column="工作动态", detail={"d": 30}),
        Finding("column.stale", "a", "甲", "http://a/c/", column="通知公告", detail={"d": 31}),
        Finding("column.stale", "a", "甲", "http://a/c/", column="政策文件", detail={"d": 32}),
        Finding("text.typo", "B", "乙", "http://b/p", detail={"words": ["丶", "中华人民共和国"]}),
        Finding("text.typo", "Z", "乙", "http://z/p"),
        Finding("site.home", "中", "丙", "http://中/", detail={"nested": {"list": [1, 2.5, None]}}),
    ]


def _norm(value: Any, path: str) -> Any:
    """Results made comparable between stores: timestamps of now and the store's name out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {
            k: ("<now>" if v is not None else None)
            if k in ("started_at", "finished_at", "since", "changed", "at")
            else _norm(v, path)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_norm(v, path) for v in value)
    if isinstance(value, str):
        return value.replace(path, "<db>")
    return value


async def exercise(opener: Callable[[], Awaitable[S]]) -> dict[str, Any]:
    """Every method of the store protocol, in the order a scan, a resume, a report, `ignore`
    and the availability probe use them, each command with a store of its own as the command
    line does; what each returned."""
    out: dict[str, Any] = {}
    store = await opener()
    path = store.path

    async def error(coro: Any) -> str:
        try:
            await coro
        except StoreError as exc:
            return str(exc)
        raise AssertionError("no StoreError")

    s1 = await store.begin_scan(
        config_path="district.toml",
        config_digest="d1",
        as_of="2020-06-16T00:00:00+08:00",
        sites=SITES,
        settings={"scoring": {"link.broken": 0.5}, "timezone": "Asia/Shanghai"},
    )
    out["s1"] = s1
    for row in (
        FrontierRow(1, "http://a/", 0, 0, 0, "page", True),
        FrontierRow(2, "http://b/", 0, 1, 1, "page", False),
        FrontierRow(3, "http://x/1", 1, 0, 1, "link", False),
        FrontierRow(4, "http://中/", 0, 2, 0, "page", True),
        FrontierRow(1, "http://other/", 9, 9, 9, "ignored", False),  # the first one stays
    ):
        await store.put(row)
    await store.put(_page(1, "http://a/", title="首页"))
    await store.put(_page(2, "http://b/", site="B", status=None, error="timeout", title=None))
    await store.put(_page(1, "http://a/", title="首页（新）", bytes=99))  # replaces
    await store.put(_page(4, "http://中/", site="中", charset=None, status=404))
    await store.put(BodyRow(1, "text/html; charset=utf-8", ["http://a", "http://a/"], BODY))
    await store.put(BodyRow(4, "text/html", [], b""))
    await store.put(
        LinkRow(3, "http://x/1", "broken", "404", 404, "http://x/1", "HEAD", 1, "2020-06-16")
    )
    await store.put(
        LinkRow(3, "http://x/1", "broken", "410", 410, "http://x/1", "GET", 2, "2020-06-16")
    )
    await store.put(RefRow(3, 1, "a", "a"))
    await store.put(RefRow(3, 1, "a", "a"))
    for finding in _findings():
        await store.put(FindingRow(finding, "2020-06-16T08:00:00+08:00"))
    again = Finding("link.broken", "a", "甲", "http://x/1", page="http://a/2", detail={"n": 3})
    await store.put(FindingRow(again, "2020-06-16T09:00:00+08:00"))  # upserted
    await store.put(
        ColumnRow("a", "http://a/c/", "工作动态", "news", "甲", True, False, None, 12, 10,
                  "2020-06-15", 2, True, "nav")
    )  # fmt: skip
    await store.put(
        ColumnRow("a", "http://a/c/sub/", "子栏目", "other", "甲", False, True, "http://a/c/",
                  0, 0, None, 1, False, "config")
    )  # fmt: skip
    await store.put(ItemRow("a", "http://a/c/", "http://a/c/1", "通知一", "2020-06-01"))
    await store.put(ItemRow("a", "http://a/c/", "http://a/c/2", "通知二", None))
    await store.put(ItemRow("a", "http://a/c/", "http://a/c/1", "通知一（改）", "2020-06-02"))
    await store.put(ItemRow("B", "http://b/c/", "http://b/c/1", "乙", "2020-05-01"))
    await store.put(Progress(3, 5))
    await store.flush()
    out["page_urls"] = await store.page_urls(s1, [4, 1, 99])
    out["page_urls_none"] = await store.page_urls(s1, [])
    out["journal"] = await store.journal(s1)
    out["sizes_frontier"] = await store.site_sizes(s1)
    out["running"] = await store.scan_info(s1)
    await store.add_target(s1, "http://ext/", "外站", "ext.example")
    await store.finish_scan("complete", 3, 5)
    await store.close()

    store = await opener()
    s2 = await store.begin_scan(
        config_path="district.toml", config_digest="d2", as_of="2020-06-17", sites=SITES[:1]
    )
    out["s2"] = s2
    await store.put(_page(1, "http://a/"))
    await store.put(_page(2, "http://a/2"))
    await store.put(FindingRow(Finding("link.broken", "a", "甲", "http://x/1"), "2020-06-17"))
    await store.flush()
    out["sizes_pages"] = await store.site_sizes(s2)  # no frontier: the pages
    out["previous"] = [
        await store.previous_target(s2, "http://ext/"),
        await store.previous_target(s1, "http://ext/"),  # not before itself
        await store.previous_target(s2, "http://none/"),
    ]
    await store.add_target(s2, "http://ext/", "被劫持", "casino.example")
    await store.add_target(s2, "http://ext/", "被劫持2", "casino2.example")  # replaces
    out["resumable_running"] = await store.resumable("d2")
    out["resumable_complete"] = await store.resumable("d1")
    out["resumable_unknown"] = await store.resumable("nope")
    await store.finish_scan("interrupted", 2, 2)
    out["resumable_interrupted"] = await store.resumable("d2")
    out["previous_incomplete"] = await store.previous_target(s2 + 1, "http://ext/")
    await store.close()

    store = await opener()  # scan --resume
    await store.reopen_scan(s2)
    await store.put(_page(3, "http://a/3"))
    await store.finish_scan("complete", 3, 3)
    out["previous_complete"] = await store.previous_target(s2 + 1, "http://ext/")
    out["journal2"] = await store.journal(s2)

    await store.close()

    store = await opener()  # report, ignore, probe
    out["latest"] = await store.scan_info()
    out["by_number"] = await store.scan_info(1)
    out["by_text"] = await store.scan_info("1")
    out["bad_ref"] = await error(store.scan_info("x"))
    out["no_scan"] = await error(store.scan_info(99))
    out["scans"] = await store.scans()
    out["findings1"] = await store.findings(s1)
    out["findings2"] = await store.findings(s2)
    out["findings_none"] = await store.findings(99)
    out["columns"] = await store.columns(s1)
    out["items"] = await store.items(s1)
    out["items_a"] = await store.items(s1, "a")
    out["items_none"] = await store.items(s1, "none")

    broken = Finding("link.broken", "a", "甲", "http://x/1").identity
    out["identities"] = await store.identities(broken[:4])
    out["identities_none"] = await store.identities("ffff0")
    out["ignore"] = await store.ignore(broken, "对方网站维护", by="张三")
    out["ignore_same"] = await store.ignore(broken, "对方网站维护", by="李四")  # no change
    out["ignore_again"] = await error(store.ignore(broken, "已确认"))  # never by accident
    out["ignore_update"] = await store.ignore(broken, "已确认", by="李四", update=True)
    out["update_unknown"] = await error(store.ignore("0000", "x", update=True))
    out["ignore_unknown"] = await error(store.ignore("0000", "x"))
    out["identities_ignored"] = await store.identities(broken[:4], ignored=True)
    out["ignores"] = await store.ignores()
    out["unignore"] = await store.unignore(broken, by="王五", reason="已整改")
    out["unignore_again"] = await store.unignore(broken)
    out["ignores_after"] = await store.ignores()
    out["rule"] = await store.ignore_rule("http://x/*", "页脚链接", check="link.broken", by="张三")
    out["rule_site"] = await store.ignore_rule("http://中/*", "首页", site="中", by="张三")
    out["rule_again"] = await error(store.ignore_rule("http://x/*", "另说", check="link.broken"))
    out["rule_update"] = await store.ignore_rule(
        "http://x/*", "页脚公共链接", check="link.broken", by="李四", update=True
    )
    out["rules"] = await store.ignore_rules()
    out["unignore_rule"] = await store.unignore_rule(1, by="王五", reason="不再需要")
    out["unignore_rule_again"] = await store.unignore_rule(1)
    out["rule_next"] = await store.ignore_rule("http://x/*", "页脚链接", by="张三")  # not r1 again
    out["log"] = await store.ignore_log()

    samples = [
        SampleRow("a", "http://a/", "2020-06-10T08:00:00+08:00", True, 200, 120, 1, 2, None, 50),
        SampleRow("a", "http://a/", "2020-06-10T09:00:00+08:00", False, None, 15000,
                  failed_at="first byte", error="超时"),
        SampleRow("B", "http://b/", "2020-06-10T08:30:00+08:00", True, 200, 80),
        SampleRow("B", "http://b/", "2020-06-10T08:30:00+08:00", True, 301, 81),  # same time
    ]  # fmt: skip
    await store.add_samples(samples)
    await store.add_samples([])
    out["samples"] = await store.samples()
    out["samples_a"] = await store.samples("a")
    out["samples_window"] = await store.samples(
        since="2020-06-10T08:30:00+08:00", until="2020-06-10T09:00:00+08:00"
    )
    out["samples_none"] = await store.samples("nobody")
    await store.close()
    return {k: _norm(v, path) for k, v in out.items()}


async def test_every_store_method_returns_what_sqlite_returns(pg: PG, tmp_path: Path) -> None:
    expected = await exercise(lambda: SQLiteStore.open(tmp_path / "ref.db"))
    got = await exercise(lambda: pg.open(queue_size=8, batch_size=3))
    for key in expected:
        assert got[key] == expected[key], key
    assert got.keys() == expected.keys()
    # and what both return is right, not merely the same
    assert got["page_urls"] == {4: "http://中/", 1: "http://a/"}
    journal = got["journal"]
    assert journal["frontier"][0] == {
        "url_id": 1, "url": "http://a/", "kind": 0, "site": 0, "depth": 0, "link_kind": "page",
        "follow": True,
    }  # fmt: skip
    assert journal["pages"][1] == (
        "http://a/", 200, None, "text/html", ["http://a", "http://a/"], BODY,
    )  # fmt: skip
    assert journal["pages"][2] == ("http://b/", None, "timeout", "text/html", [], b"")
    assert journal["links"][3] == ("broken", "410", 410, "http://x/1", "GET", 2)
    assert list(journal["pages"]) == [1, 2, 4]
    assert got["sizes_frontier"] == {"a": 2, "B": 1, "中": 1}
    assert got["sizes_pages"] == {"a": 2}
    assert got["previous"] == [("外站", "ext.example"), None, None]
    assert got["previous_incomplete"] == ("外站", "ext.example")
    assert got["previous_complete"] == ("被劫持2", "casino2.example")
    assert got["resumable_running"]["status"] == "incomplete"
    assert got["resumable_interrupted"]["status"] == "interrupted"
    assert got["resumable_complete"] is None
    assert got["latest"]["id"] == got["s2"] == 2
    assert got["by_number"]["settings"]["timezone"] == "Asia/Shanghai"
    assert got["by_number"]["sites"] == SITES
    assert (got["by_number"]["pages"], got["by_number"]["requests"]) == (3, 5)
    assert got["no_scan"] == "<db>: no scan 99 in the store"
    assert [s["id"] for s in got["scans"]] == [2, 1]
    # byte order, as SQLite sorts: "B" < "Z" < "a" < "中"; ties on (site, check, url) by id
    order = [(f["site"], f["check"], f["url"]) for f in got["findings1"]]
    assert order == sorted(order, key=lambda k: tuple(s.encode() for s in k))
    assert [f["site"] for f in got["findings1"]] == ["B", "Z", "a", "a", "a", "a", "a", "中"]
    stale = [f["id"] for f in got["findings1"] if f["check"] == "column.stale"]
    assert stale == sorted(stale)
    upserted = next(f for f in got["findings1"] if f["url"] == "http://x/1")
    assert (upserted["detail"], upserted["page"]) == ({"n": 3}, "http://a/2")
    assert upserted["observed_at"] == "2020-06-16T08:00:00+08:00"  # when it was first seen
    assert [c["top_level"] for c in got["columns"]] == [True, False]
    assert got["items_a"][0]["title"] == "通知一（改）"
    assert [i["site"] for i in got["items"]] == ["B", "a", "a"]
    _ignores_are_right(got, upserted["id"])
    assert [s["status"] for s in got["samples"]] == [200, 200, 301, None]
    assert [s["ok"] for s in got["samples_window"]] == [True, True, False]


def _ignores_are_right(got: dict[str, Any], broken: str) -> None:
    assert got["identities"] == [
        {"id": broken, "check": "link.broken", "site": "a", "url": "http://x/1"}
    ]
    assert got["identities_none"] == []
    assert got["identities_ignored"] == got["identities"]
    assert (got["ignore"]["change"], got["ignore_same"]["change"]) == ("added", "none")
    assert got["ignore_same"]["by"] == "张三"  # nothing changed
    assert got["ignore_again"] == (
        f"finding {broken} is already ignored, with another reason: '对方网站维护' (by 张三)"
    )
    assert got["ignore_update"]["change"] == "updated"
    assert got["ignore_update"]["previous"] == "对方网站维护"
    assert got["ignores"][broken]["reason"] == "已确认"
    assert got["ignores"][broken]["by"] == "李四"
    assert got["ignores"][broken]["changed"] == "<now>"
    assert (got["unignore"], got["unignore_again"], got["ignores_after"]) == (True, False, {})
    assert got["ignore_unknown"] == "<db>: no finding '0000' in the store"
    assert got["update_unknown"] == "finding 0000 is not ignored: nothing to update"
    assert (got["rule"]["id"], got["rule"]["check"]) == ("r1", "link.broken")
    assert (got["rule_site"]["id"], got["rule_site"]["site"]) == ("r2", "中")
    assert got["rule_again"].startswith("rule r1 (http://x/* (link.broken, every site)) is")
    rules = [(r["id"], r["reason"]) for r in got["rules"]]
    assert rules == [("r1", "页脚公共链接"), ("r2", "首页")]
    assert (got["unignore_rule"], got["unignore_rule_again"]) == (True, False)
    assert got["rule_next"]["id"] == "r3"  # a rule's id is never reused
    log = [(e["by"], e["action"], e["target"], e["reason"], e["previous"]) for e in got["log"]]
    assert log == [
        ("张三", "ignore", broken, "对方网站维护", None),
        ("李四", "update", broken, "已确认", "对方网站维护"),
        ("王五", "undo", broken, "已整改", "已确认"),
        ("张三", "ignore", "r1", "页脚链接", None),
        ("张三", "ignore", "r2", "首页", None),
        ("李四", "update", "r1", "页脚公共链接", "页脚链接"),
        ("王五", "undo", "r1", "不再需要", "页脚公共链接"),
        ("张三", "ignore", "r3", "页脚链接", None),
    ]


async def test_text_with_nul_is_kept_as_replacement_character(pg: PG) -> None:
    """PostgreSQL text cannot hold NUL (SQLite can): the writer stores U+FFFD instead of
    failing the scan on a hostile page."""
    async with closing(await pg.open()) as store:
        scan = await store.begin_scan(config_path="c\x00", config_digest="d", as_of="x", sites=[])
        await store.put(_page(1, "http://h/\x00", title="a\x00b", error="e\x00"))
        await store.put(FindingRow(Finding("t", "s\x00", "u", "http://h/\x00"), "now"))
        await store.flush()
        await store.add_target(scan, "http://t/\x00", "ti\x00", "h")
        await store.finish_scan("complete", 1, 1)
        assert await store.page_urls(scan, [1]) == {1: "http://h/\ufffd"}
        [finding] = await store.findings(scan)
        assert (finding["site"], finding["url"]) == ("s\ufffd", "http://h/\ufffd")
        assert (await store.scan_info(scan)).config_path == "c\ufffd"
        assert await store.previous_target(scan + 1, "http://t/\x00") == ("ti\ufffd", "h")


async def test_writer_batches_behind_a_bounded_queue_and_upserts_findings(pg: PG) -> None:
    async with closing(await pg.open(queue_size=4, batch_size=3)) as store:
        scan = await store.begin_scan(config_path="c", config_digest="d", as_of="x", sites=[])

        async def produce() -> None:
            for i in range(40):
                await store.put(_page(i, f"http://h/{i}"))

        async with admin() as conn:  # another program holds the table: the writer waits
            lock = conn.transaction()
            await lock.start()
            await conn.execute(f'LOCK TABLE "{pg.schema}".pages IN ACCESS EXCLUSIVE MODE')
            producer = asyncio.create_task(produce())
            await asyncio.sleep(1.0)
            assert not producer.done()  # put() waits: the queue holds 4, not 40
            assert store._queue.qsize() == 4
            await lock.rollback()
        async with asyncio.timeout(30):
            await producer
        first = Finding("link.broken", "s", "u", "http://h/x", detail={"pages": ["a"]})
        again = Finding("link.broken", "s", "u", "http://h/x", detail={"pages": ["a", "b"]})
        await store.put(FindingRow(first, "now"))
        await store.put(FindingRow(again, "later"))
        await store.finish_scan("complete", 40, 40)
        findings = await store.findings(scan)
        info = await store.scan_info("latest")
    assert [(f["detail"]["pages"], f["observed_at"]) for f in findings] == [(["a", "b"], "now")]
    assert (info.status, info.pages) == ("complete", 40)
    async with admin() as conn:
        assert await conn.fetchval(f'SELECT count(*) FROM "{pg.schema}".pages') == 40
        assert await conn.fetchval(f'SELECT count(*) FROM "{pg.schema}".findings') == 1


async def test_a_batch_that_deadlocks_is_retried_not_lost(
    pg: PG, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers writing one scan can deadlock; PostgreSQL rolls one batch back, which the
    writer redoes (as SQLite's writer waits out a busy database)."""
    async with closing(await pg.open(busy_timeout=10)) as store:
        real = store._write_batch
        failures: list[int] = []

        async def flaky(batch: list[object]) -> None:
            if len(failures) < 2:
                failures.append(len(batch))
                pool = store._require()
                async with pool.connection() as conn, conn.transaction():  # half written, undone
                    await conn.execute(
                        "INSERT INTO pages VALUES (%s, 7, 's', 'u', 'u', 200, NULL, 'text/html',"
                        " NULL, NULL, 0, 0, 0, 'now')",
                        (store.scan_id,),
                    )
                    raise errors.DeadlockDetected("deadlock detected")
            await real(batch)

        monkeypatch.setattr(store, "_write_batch", flaky)
        scan = await store.begin_scan(config_path="c", config_digest="d", as_of="x", sites=[])
        await store.put(_page(1, "http://h/1"))
        await store.flush()
        assert len(failures) == 2
        assert await store.page_urls(scan, [1, 7]) == {1: "http://h/1"}  # 7 was undone
        monkeypatch.setattr(
            store,
            "_write_batch",
            AsyncMock(side_effect=errors.UniqueViolation("not transient")),
        )
        await store.put(_page(2, "http://h/2"))
        with pytest.raises(StoreError, match="writing failed: not transient"):
            await store.flush()


# -- the schema and its migrations ------------------------------------------------------------


async def _versions(schema: str) -> list[int]:
    async with admin() as conn:
        rows = await conn.fetch(f'SELECT version FROM "{schema}".govmon_schema ORDER BY version')
    return [int(r[0]) for r in rows]


def test_the_schema_is_sqlites_translated() -> None:
    assert SCHEMA_VERSION == SQLITE_VERSION
    assert set(MIGRATIONS) == set(SQLITE_MIGRATIONS)


async def test_tables_and_columns_match_sqlite(pg: PG, tmp_path: Path) -> None:
    await (await pg.open()).close()
    with sqlite3.connect(tmp_path / "s.db") as lite:
        for version in sorted(SQLITE_MIGRATIONS):
            lite.executescript(SQLITE_MIGRATIONS[version])
        tables = [
            r[0]
            for r in lite.execute("SELECT name FROM sqlite_master WHERE type='table'")
            if not r[0].startswith("sqlite_")  # SQLite's own (AUTOINCREMENT's sqlite_sequence)
        ]
        expected = {t: [r[1] for r in lite.execute(f"PRAGMA table_info({t})")] for t in tables}
        text = {
            (t, r[1]) for t in tables for r in lite.execute(f"PRAGMA table_info({t})")
            if r[2] == "TEXT"
        }  # fmt: skip
    lite.close()
    async with admin() as conn:
        rows = await conn.fetch(
            "SELECT table_name, column_name, data_type, collation_name"
            " FROM information_schema.columns WHERE table_schema = $1"
            " ORDER BY table_name, ordinal_position",
            pg.schema,
        )
    got: dict[str, list[str]] = {}
    for r in rows:
        got.setdefault(r["table_name"], []).append(r["column_name"])
    assert got.pop("govmon_schema") == ["version", "applied_at", "govmon"]
    assert got == expected
    collations = {(r[0], r[1]): r[3] for r in rows if r[2] == "text" and r[0] in expected}
    assert set(collations) == text  # every text column of SQLite is text here
    assert set(collations.values()) == {"C"}  # and sorts byte-wise, as SQLite does


async def test_migrations_are_recorded_and_idempotent(pg: PG) -> None:
    async with closing(await pg.open()) as store:
        scan = await store.begin_scan(config_path="c", config_digest="d", as_of="x", sites=[])
        await store.finish_scan("complete", 0, 0)
    assert await _versions(pg.schema) == list(range(1, SCHEMA_VERSION + 1))
    for _ in range(2):
        async with closing(await pg.open(create=False)) as store:
            assert (await store.scan_info()).id == scan  # data kept
    assert await _versions(pg.schema) == list(range(1, SCHEMA_VERSION + 1))


@pytest.mark.parametrize("schema_exists", [False, True], ids=["new schema", "empty schema"])
async def test_concurrent_opens_migrate_once(server: str, schema_exists: bool) -> None:
    """Several workers starting at once on a server with no store yet (an empty schema, as
    ``public`` is, or not even the schema)."""
    schema = f"govmon_test_{uuid.uuid4().hex[:12]}"
    url = _with(server, schema=schema)
    if schema_exists:
        async with admin() as conn:
            await conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        opened = await asyncio.gather(
            *(PostgresStore.open(url) for _ in range(8)), return_exceptions=True
        )
        stores = [s for s in opened if isinstance(s, PostgresStore)]
        try:
            assert [str(e) for e in opened if isinstance(e, BaseException)] == []
            scans = await asyncio.gather(
                *(
                    s.begin_scan(config_path="c", config_digest=str(i), as_of="x", sites=[])
                    for i, s in enumerate(stores)
                )
            )
            assert sorted(scans) == list(range(1, 9))
        finally:
            await asyncio.gather(*(s.close() for s in stores))
        assert await _versions(schema) == list(range(1, SCHEMA_VERSION + 1))
    finally:
        await _drop(schema)


async def test_old_schema_is_migrated_in_place(pg: PG) -> None:
    async with admin() as conn, conn.transaction():
        await conn.execute(f'SET LOCAL search_path = "{pg.schema}"')
        await conn.execute(
            "CREATE TABLE govmon_schema (version INTEGER PRIMARY KEY,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), govmon TEXT NOT NULL)"
        )
        for version in (1, 2, 3):
            await conn.execute(MIGRATIONS[version])
            await conn.execute("INSERT INTO govmon_schema VALUES ($1, now(), '0.0.1')", version)
        await conn.execute(
            "INSERT INTO scans (config_path, config_digest, as_of, started_at, status, sites,"
            " version) VALUES ('c', 'd', '2020-06-16', 'now', 'complete', '[]', '0.0.1')"
        )
    async with closing(await pg.open()) as store:
        info = await store.scan_info()
        assert (info.id, info.status, info.settings) == (1, "complete", {})
        assert await store.items(1) == []  # a table of migration 5
    assert await _versions(pg.schema) == list(range(1, SCHEMA_VERSION + 1))


async def test_newer_schema_is_refused_as_sqlite_refuses_it(pg: PG, tmp_path: Path) -> None:
    await (await pg.open()).close()
    async with admin() as conn:
        await conn.execute(
            f"INSERT INTO \"{pg.schema}\".govmon_schema (version, govmon) VALUES ($1, 'future')",
            SCHEMA_VERSION + 1,
        )
    with pytest.raises(StoreError) as pg_error:
        await pg.open()
    db = tmp_path / "new.db"
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError) as lite_error:
        await SQLiteStore.open(db)
    assert "newer than this govmon" in str(pg_error.value)
    assert str(pg_error.value).replace(pg.shown, "<db>") == str(lite_error.value).replace(
        str(db), "<db>"
    )


async def test_missing_store_is_said_and_not_created(pg: PG, tmp_path: Path) -> None:
    with pytest.raises(StoreError) as lite_error:
        await SQLiteStore.open(tmp_path / "none.db", create=False)
    with pytest.raises(StoreError) as pg_error:  # an empty schema holds no store
        await pg.open(create=False)
    assert str(pg_error.value).replace(pg.shown, "<db>") == str(lite_error.value).replace(
        str(tmp_path / "none.db"), "<db>"
    )
    absent = f"govmon_test_{uuid.uuid4().hex[:12]}"
    with pytest.raises(StoreError, match="no such store"):
        await open_store(_with(SERVER, schema=absent), create=False)
    async with admin() as conn:
        assert not await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", absent
        )
        tables = await conn.fetchval(
            "SELECT count(*) FROM pg_tables WHERE schemaname = $1", pg.schema
        )
    assert tables == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_unreachable_server_is_a_store_error_without_the_password() -> None:
    port = _free_port()
    url = f"postgresql://govmon:s3cret@127.0.0.1:{port}/govmon?schema=x"
    async with asyncio.timeout(30):
        with pytest.raises(StoreError) as caught:
            await open_store(url, connect_timeout=5)
    text = str(caught.value)
    assert text.startswith(f"postgresql://govmon@127.0.0.1:{port}/govmon?schema=x: ")
    assert "cannot open the store" in text
    assert "s3cret" not in text


async def test_bad_schema_name_is_refused(server: str) -> None:
    with pytest.raises(StoreError, match="expected a PostgreSQL name"):
        await open_store(_with(server, schema='x"; DROP TABLE scans; --'))


async def test_read_only_store_reads_and_refuses_writes(pg: PG) -> None:
    with pytest.raises(StoreError, match="no such store"):
        await pg.open(read_only=True)
    async with closing(await pg.open()) as store:
        scan = await store.begin_scan(config_path="c", config_digest="d", as_of="x", sites=[])
        await store.finish_scan("complete", 0, 0)
    async with closing(await pg.open(read_only=True)) as reader:
        assert (await reader.scan_info()).id == scan
        with pytest.raises(StoreError, match=r"cannot write: .*read-only"):
            await reader.begin_scan(config_path="c", config_digest="d", as_of="x", sites=[])
    async with admin() as conn:
        await conn.execute(
            f'DELETE FROM "{pg.schema}".govmon_schema WHERE version = $1', SCHEMA_VERSION
        )
    with pytest.raises(StoreError, match=f"this govmon reads {SCHEMA_VERSION}"):
        await pg.open(read_only=True)


# -- the writer when the server goes away ---------------------------------------------------


async def test_a_killed_connection_becomes_a_store_error_not_a_hang(pg: PG) -> None:
    app = f"govmon_test_{uuid.uuid4().hex[:8]}"
    store = await PostgresStore.open(_with(pg.url, application_name=app), queue_size=4)
    try:
        scan = await store.begin_scan(config_path="c", config_digest="d", as_of="x", sites=[])
        await store.put(_page(1, "http://h/1"))
        await store.flush()
        async with admin() as conn:  # the server closes the store's connections
            killed = await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = $1",
                app,
            )
        assert killed >= 1
        async with asyncio.timeout(30):

            async def write_on() -> None:
                for i in range(2, 40):  # more than the queue holds
                    await store.put(_page(i, f"http://h/{i}"))
                await store.flush()

            with pytest.raises(StoreError, match="writing failed"):
                await write_on()
            with pytest.raises(StoreError, match="writing failed"):
                await store.put(_page(99, "http://h/99"))
            with pytest.raises(StoreError):
                await store.finish_scan("complete", 1, 1)
            # what was committed before is intact; the store carries on with a new scan
            assert await store.page_urls(scan, [1]) == {1: "http://h/1"}
            again = await store.begin_scan(config_path="c", config_digest="d", as_of="x", sites=[])
            await store.put(_page(1, "http://h/again"))
            await store.flush()
            assert await store.page_urls(again, [1]) == {1: "http://h/again"}
    finally:
        async with asyncio.timeout(30):
            await store.close()


# -- choosing the store ----------------------------------------------------------------------


async def test_open_store_chooses_by_the_db_argument(pg: PG, tmp_path: Path) -> None:
    lite = await open_store(str(tmp_path / "x.db"))
    assert isinstance(lite, SQLiteStore)
    await lite.close()
    with pytest.raises(StoreError, match="no such store"):
        await open_store(str(tmp_path / "none.db"), create=False)
    for scheme in ("postgresql", "postgres"):
        store = await open_store(pg.url.replace("postgresql", scheme, 1), queue_size=16)
        assert isinstance(store, PostgresStore)
        assert store.schema == pg.schema
        await store.close()
    with pytest.raises(StoreError, match=r"mysql://u@h/db: unknown kind of store 'mysql'"):
        await open_store("mysql://u:pw@h/db")
    # read-only, for the web view: SQLite's ReadOnlyStore, PostgreSQL's read-only sessions

    reader = await open_store(str(tmp_path / "x.db"), read_only=True, busy_timeout=5.0)
    assert isinstance(reader, ReadOnlyStore)
    await reader.close()
    with pytest.raises(StoreError, match="no such store"):
        await open_store(str(tmp_path / "none.db"), read_only=True)
    pg_reader = await open_store(pg.url, read_only=True)
    assert isinstance(pg_reader, PostgresStore)
    assert pg_reader.read_only
    await pg_reader.close()


def test_parse_url_keeps_other_parameters_and_hides_the_password() -> None:
    dsn, schema, shown = parse_url(
        "postgresql://u:pw@db.example:6543/gov?sslmode=require&schema=s1&application_name=w1"
    )
    assert schema == "s1"
    assert dsn == "postgresql://u:pw@db.example:6543/gov?sslmode=require&application_name=w1"
    assert shown == "postgresql://u@db.example:6543/gov?schema=s1"
    assert parse_url("postgres:///gov")[1:] == ("public", "postgres:///gov")


# -- the same scan through both stores -------------------------------------------------------


@pytest.fixture(scope="module")
def demo_server() -> Iterator[Any]:

    with serve(SITE_ROOT) as server:
        yield server


def _no_clock(value: Any) -> Any:
    """A report or rows without the times of day they were made at."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {
            k: _no_clock(v)
            for k, v in value.items()
            if k not in ("started_at", "finished_at", "observed_at", "since")
        }
    if isinstance(value, list | tuple):
        return [_no_clock(v) for v in value]
    return value


def _sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on an event loop of its own (this test calls the command line, which runs
    one per command)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result(timeout=240)


async def _held(store: Store, scans: Sequence[int]) -> dict[str, Any]:
    """What the store holds of ``scans``, as reports and resumes read it."""
    held: dict[str, Any] = {"scans": await store.scans()}
    for scan in scans:
        journal = await store.journal(scan)
        held[f"{scan}"] = {
            "findings": await store.findings(scan),
            "columns": await store.columns(scan),
            "items": await store.items(scan),
            "sizes": await store.site_sizes(scan),
            "journal": journal,
            "urls": await store.page_urls(scan, list(journal.pages)),
        }
    return held


def _by_url(held: dict[str, Any]) -> dict[str, Any]:
    """``held`` with its journals keyed by URL: a crawl numbers the URLs it meets in the order
    its fetches happen to finish, which differs from run to run (with any store)."""
    out = dict(held)
    for key, rows in held.items():
        if key == "scans":
            continue
        journal = rows["journal"]
        url = {f.url_id: f.url for f in journal.frontier} | rows["urls"]
        out[key] = {
            **rows,
            "journal": {
                "frontier": sorted(
                    (f.url, f.kind, f.site, f.depth, f.link_kind, f.follow)
                    for f in journal.frontier
                ),
                "pages": {url[i]: page for i, page in journal.pages.items()},
                "links": {url[i]: link for i, link in journal.links.items()},
            },
            "urls": sorted(rows["urls"].values()),
        }
    return out


async def _read(db: str, scans: Sequence[int]) -> dict[str, Any]:
    store = await open_store(db, create=False)
    try:
        return await _held(store, scans)
    finally:
        await store.close()


def _commands(db: str, config: Path, out: Path) -> dict[str, Any]:
    """``govmon scan`` twice (the second compares with the first, as `link.hijacked` and
    `content.backdated` do), ``govmon ignore`` one finding, ``govmon report --compare 1``."""

    assert main(["scan", str(config), "--db", db]) == 0
    assert main(["scan", str(config), "--db", db]) == 0
    first = out / "first.json"
    assert main(["report", "--db", db, "--scan", "1", "--output", str(first)]) == 0
    finding = json.loads(first.read_text(encoding="utf-8"))["findings"][0]["id"]
    assert main(["ignore", finding, "--reason", "已整改", "--db", db]) == 0
    final = out / "report.json"
    argv = ["report", "--db", db, "--scan", "2", "--compare", "1", "--output", str(final)]
    assert main(argv) == 0
    return {"report": json.loads(final.read_text(encoding="utf-8")), "ignored": finding}


async def _daemon_scans(db: str, config_path: Path) -> dict[str, Any]:
    """Two scans through one store, as the daemon runs them (the writer goes on from one scan
    to the next); the store must still close promptly."""

    config = load_config(config_path)
    store = await open_store(db)
    try:
        first = await Scan(config, store).run()
        second = await Scan(config, store).run()
        assert (first.status, second.status) == ("complete", "complete")
        return await _held(store, (first.scan_id, second.scan_id))
    finally:
        async with asyncio.timeout(30):
            await store.close()


@pytest.mark.timeout(300)
def test_the_demo_scan_gives_identical_reports_through_both_stores(
    server: str, demo_server: Any, tmp_path: Path
) -> None:

    config = tmp_path / "district.toml"
    config.write_text(demo_config(demo_server.port), encoding="utf-8")
    schemas = [f"govmon_test_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    commands, daemon = (_with(server, schema=name) for name in schemas)
    try:
        (tmp_path / "lite").mkdir()
        (tmp_path / "pg").mkdir()
        lite = _commands(str(tmp_path / "govmon.db"), config, tmp_path / "lite")
        got = _commands(commands, config, tmp_path / "pg")
        report = got["report"]
        assert report["findings"], "the demo district has planted problems"
        assert [f["id"] for f in report["ignored"]] == [got["ignored"]]
        assert report["comparison"]
        assert report["scan"]["pages"] > 0
        assert _no_clock(got) == _no_clock(lite)
        # what the stores hold, row for row
        lite_held = _by_url(_sync(_read(str(tmp_path / "govmon.db"), (1, 2))))
        pg_held = _by_url(_sync(_read(commands, (1, 2))))
        assert len(pg_held["2"]["journal"]["pages"]) == report["scan"]["pages"]
        assert any(body for *_, body in pg_held["2"]["journal"]["pages"].values())
        for key in ("scans", "1", "2"):
            assert _no_clock(pg_held[key]) == _no_clock(lite_held[key]), key
        # the daemon's way: both scans through one store
        daemon_held = _by_url(_sync(_daemon_scans(daemon, config)))
        for key in ("1", "2"):
            assert _no_clock(daemon_held[key]) == _no_clock(lite_held[key]), key
    finally:
        for name in schemas:
            _sync(_drop(name))
