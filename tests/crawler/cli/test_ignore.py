"""``govmon ignore`` at scale, through the command line, on real SQLite files and on the real
PostgreSQL: a finding by a unique id prefix, rules by URL pattern across sites (and their
traps), ``--update``, ``--undo``, ``--list`` and ``--history``, and what reports make of them."""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import sqlite3
import unicodedata
import uuid
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from checks.base import Finding
from crawler.cli import main
from crawler.net.urls import canonicalize
from crawler.reports.ignores import PatternError, compile_pattern, normalise_pattern
from storage.base import FindingRow
from storage.open import open_store
from storage.sqlite import MIGRATIONS, SQLiteStore
from tests.support.pgserver import _drop, _with

T = TypeVar("T")
pytestmark = pytest.mark.timeout(120)

SITES = [
    {"id": "a", "name": "甲局", "unit": "甲局", "url": "https://a.gov.cn/"},
    {"id": "b", "name": "乙局", "unit": "乙局", "url": "https://b.gov.cn/"},
    {"id": "c", "name": "丙镇", "unit": "丙镇", "url": "https://c.gov.cn/"},
]
BEIAN = "https://beian.miit.gov.cn/"  # the footer link of every channel


def _twins() -> tuple[str, str]:
    """Two subject URLs of site ``d`` whose finding ids share their first 4 digits."""
    seen: dict[str, str] = {}
    for i in range(100_000):
        url = f"https://a.gov.cn/p/{i}.html"
        prefix = _identity("link.broken", "a", url)[:4]
        if prefix in seen:
            return seen[prefix], url
        seen[prefix] = url
    raise AssertionError("no twins")


def _identity(check: str, site: str, url: str) -> str:
    return hashlib.sha1(f"{check}\x1f{site}\x1f\x1f{url}".encode()).hexdigest()[:16]


TWINS = _twins()


def _findings() -> list[Finding]:
    return [
        *(Finding("link.broken", s["id"], s["unit"], BEIAN, page=s["url"]) for s in SITES),
        Finding("link.blocked", "a", "甲局", BEIAN + "icp"),  # another check: not the rule's
        Finding("link.broken", "a", "甲局", "https://a.gov.cn/x/1.html"),
        Finding("link.broken", "a", "甲局", "https://a.gov.cn.evil/x"),  # the neighbour
        Finding("link.hijacked", "c", "丙镇", "https://c.gov.cn/lm/wsbs/"),  # a veto
        *(Finding("link.broken", "a", "甲局", url) for url in TWINS),
    ]


def _sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on a loop of its own (the command line runs one per command)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result(timeout=60)


async def _scan(db: str, findings: list[Finding]) -> int:
    """A complete scan of the three sites holding ``findings`` (as a scan writes them)."""
    store = await open_store(db)
    try:
        scan = await store.begin_scan(
            config_path="district.toml",
            config_digest="d",
            as_of="2020-06-16T00:00:00+08:00",
            sites=SITES,
            settings={"timezone": "Asia/Shanghai"},
        )
        for f in findings:
            await store.put(FindingRow(f, "2020-06-16T08:00:00+08:00"))
        await store.finish_scan("complete", 3, 3)
        return scan
    finally:
        await store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store with two scans of the district, in a SQLite file or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        url = str(tmp_path / "govmon.db")
        cleanup = None
    else:
        schema = f"govmon_test_{uuid.uuid4().hex[:12]}"
        url = _with(request.getfixturevalue("server"), schema=schema)
        cleanup = schema
    try:
        _sync(_scan(url, _findings()))
        _sync(_scan(url, _findings()))
        yield url
    finally:
        if cleanup is not None:
            _sync(_drop(cleanup))


def _report(db: str, tmp: Path, scan: str = "latest", fmt: str = "json") -> Any:
    out = tmp / f"r-{uuid.uuid4().hex[:6]}.{fmt}"
    assert main(["report", "--db", db, "--scan", scan, "--format", fmt, "--output", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    return json.loads(text) if fmt == "json" else text


def _ignored(report: dict[str, Any]) -> dict[tuple[str, str, str], str]:
    """(site, check, url) -> the id of the ignore that set it aside."""
    return {(f["site"], f["check"], f["url"]): f["ignored"]["id"] for f in report["ignored"]}


def _ignore(db: str, *argv: str) -> int:
    return main(["ignore", *argv, "--db", db])


# -- one finding by a unique prefix -----------------------------------------------------------


def test_a_unique_prefix_ignores_that_finding_and_an_ambiguous_one_nothing(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one, two = (_identity("link.broken", "a", url) for url in TWINS)
    shared = one[:4]
    assert _ignore(db, shared, "--reason", "x") == 2
    err = capsys.readouterr().err
    assert f"{shared} is the start of 2 finding ids" in err
    for identity, url in zip((one, two), TWINS, strict=True):
        assert f"{identity}  link.broken  a  {url}" in err  # check, site and URL of each
    assert _report(db, tmp_path)["ignored"] == []  # never a guess

    for bad in ("3fa", "zzzz", "r0", "0123456789abcdef0"):
        assert _ignore(db, bad, "--reason", "x") == 2
        assert "is not a finding's id" in capsys.readouterr().err
    assert _ignore(db, "ffff0", "--reason", "x") == 2
    assert "no finding id starts with ffff0" in capsys.readouterr().err

    longer = one[: next(n for n in range(5, 17) if one[:n] != two[:n])]
    assert _ignore(db, longer.upper(), "--reason", "已整改", "--by", "张三") == 0
    assert f"ignored finding {one}: link.broken {TWINS[0]} (site a)" in capsys.readouterr().out
    report = _report(db, tmp_path)
    assert _ignored(report) == {("a", "link.broken", TWINS[0]): one}
    assert report["ignored"][0]["ignored"]["basis"] == f"单项忽略 {one}"
    assert report["ignored"][0]["ignored"]["by"] == "张三"
    assert TWINS[1] in {f["url"] for f in report["findings"]}
    # undo and update look among the ignored ones: the shared prefix is no longer ambiguous
    assert _ignore(db, shared, "--undo", "--by", "李四") == 0
    assert f"finding {one} counts again" in capsys.readouterr().out
    assert _report(db, tmp_path)["ignored"] == []
    assert _ignore(db, shared, "--undo") == 2
    assert "among the ignored findings" in capsys.readouterr().err


# -- rules by URL pattern ---------------------------------------------------------------------


def test_a_rule_sets_aside_one_footer_link_on_every_site_in_every_scan(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _report(db, tmp_path, "1")
    broken = {f["site"] for f in before["findings"] if f["url"] == BEIAN}
    assert broken == {"a", "b", "c"}
    site_b = next(s for s in before["sites"] if s["id"] == "b")
    assert (site_b["counts"], site_b["score"] < 100) == ({"link.broken": 1}, True)

    argv = ["--url", "https://BEIAN.miit.gov.cn/*", "--check", "link.broken"]
    assert _ignore(db, *argv, "--reason", "备案链接，属页脚公共链接", "--by", "张三") == 0
    out = capsys.readouterr().out
    assert "ignored rule r1: https://beian.miit.gov.cn/* (link.broken, every site)" in out
    assert "sets aside 3 finding(s) of scan 2 (the latest), on 3 site(s): a, b, c" in out

    future = str(_sync(_scan(db, _findings())))
    for scan in ("1", "2", future):  # past and future scans alike
        report = _report(db, tmp_path, scan)
        assert _ignored(report) == {(s, "link.broken", BEIAN): "r1" for s in "abc"}, scan
        note = report["ignored"][0]["ignored"]
        assert (note["kind"], note["pattern"], note["by"]) == (
            "rule", "https://beian.miit.gov.cn/*", "张三",
        )  # fmt: skip
        assert note["basis"] == "规则 r1：https://beian.miit.gov.cn/*，仅错链断链（link.broken）"
        # the other check on the same host is not the rule's
        assert BEIAN + "icp" in {f["url"] for f in report["findings"]}
        counts = {s["id"]: s["counts"] for s in report["sites"]}
        assert counts["b"] == {}
        assert counts["c"] == {"link.hijacked": 1}
        assert next(s["score"] for s in report["sites"] if s["id"] == "b") == 100
    md = _report(db, tmp_path, fmt="md")
    assert "| 规则 r1：https://beian.miit.gov.cn/*，仅错链断链（link.broken） | 张三 |" in md


def test_a_pattern_never_matches_a_neighbouring_host(db: str, tmp_path: Path) -> None:
    assert _ignore(db, "--url", "https://a.gov.cn/x*", "--reason", "栏目改版") == 0
    report = _report(db, tmp_path)
    assert _ignored(report) == {("a", "link.broken", "https://a.gov.cn/x/1.html"): "r1"}
    assert "https://a.gov.cn.evil/x" in {f["url"] for f in report["findings"]}


def test_a_finding_s_own_ignore_comes_first_then_the_oldest_rule(db: str, tmp_path: Path) -> None:
    x1 = "https://a.gov.cn/x/1.html"
    assert (
        _ignore(db, "--url", "https://a.gov.cn/*", "--check", "link.broken", "--reason", "旧") == 0
    )
    assert _ignore(db, "--url", "https://a.gov.cn/x*", "--reason", "新") == 0
    assert _ignored(_report(db, tmp_path))[("a", "link.broken", x1)] == "r1"
    assert _ignore(db, _identity("link.broken", "a", x1), "--reason", "单项") == 0
    assert _ignored(_report(db, tmp_path))[("a", "link.broken", x1)] == _identity(
        "link.broken", "a", x1
    )
    assert _ignore(db, "r1", "--undo") == 0
    assert _ignore(db, _identity("link.broken", "a", x1), "--undo") == 0
    assert _ignored(_report(db, tmp_path))[("a", "link.broken", x1)] == "r2"


def test_a_rule_of_one_site_and_a_veto_leaving_the_verdict(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    verdicts = {s["id"]: s["verdict"] for s in _report(db, tmp_path)["sites"]}
    assert verdicts["c"] == "unqualified"  # link.hijacked is a veto
    assert _ignore(db, "--url", BEIAN + "*", "--site", "b", "--reason", "页脚") == 0
    assert _ignore(db, "--url", "https://c.gov.cn/lm/*", "--check", "link.hijacked",
                   "--reason", "已核实为正常跳转") == 0  # fmt: skip
    report = _report(db, tmp_path)
    assert _ignored(report) == {
        ("b", "link.broken", BEIAN): "r1",
        ("c", "link.hijacked", "https://c.gov.cn/lm/wsbs/"): "r2",
    }
    site_c = next(s for s in report["sites"] if s["id"] == "c")
    assert (site_c["verdict"], site_c["vetoes"]) == ("qualified", [])
    capsys.readouterr()
    assert _ignore(db, "--url", BEIAN + "*", "--site", "nowhere", "--reason", "x") == 2
    assert "no site 'nowhere' in the store's scans (a, b, c)" in capsys.readouterr().err
    assert _ignore(db, "--url", BEIAN + "*", "--check", "link.brokn", "--reason", "x") == 2
    assert "did you mean link.broken" in capsys.readouterr().err


def test_undoing_a_rule_counts_its_findings_again(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    untouched = _report(db, tmp_path, fmt="md")
    assert _ignore(db, "--url", BEIAN + "*", "--check", "link.broken", "--reason", "页脚") == 0
    assert _ignore(db, "--url", "https://a.gov.cn/x*", "--reason", "改版") == 0
    assert len(_report(db, tmp_path)["ignored"]) == 4
    assert _ignore(db, "r1", "--undo", "--reason", "备案链接已修复") == 0
    assert "rule r1 deleted" in capsys.readouterr().out
    assert _ignored(_report(db, tmp_path)) == {
        ("a", "link.broken", "https://a.gov.cn/x/1.html"): "r2"
    }
    assert _ignore(db, "r1", "--undo") == 2
    assert "no rule r1" in capsys.readouterr().err
    # by its pattern and limits, as it was made
    assert _ignore(db, "--url", "https://a.gov.cn/x", "--undo") == 2  # another pattern
    assert "no rule for https://a.gov.cn/x with these limits" in capsys.readouterr().err
    assert _ignore(db, "--url", "https://a.gov.cn/x*", "--undo") == 0
    # with every ignore undone the report is as it was, byte for byte
    assert _report(db, tmp_path, fmt="md") == untouched
    # a new rule never takes an old one's id
    assert _ignore(db, "--url", "https://a.gov.cn/x*", "--reason", "改版") == 0
    assert "ignored rule r3" in capsys.readouterr().out


def test_a_reason_changes_only_with_update(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = _identity("link.broken", "a", TWINS[0])
    assert _ignore(db, one, "--reason", "对方网站维护", "--by", "张三") == 0
    assert _ignore(db, one, "--reason", "对方网站维护") == 0  # the same reason: nothing to do
    assert "already ignored with this reason; nothing changed" in capsys.readouterr().out
    assert _ignore(db, one, "--reason", "已确认为误报") == 2
    err = capsys.readouterr().err
    assert "already ignored, with another reason: '对方网站维护' (by 张三)" in err
    assert f"govmon ignore {one} --reason '已确认为误报' --update --db" in err  # pasteable
    assert _report(db, tmp_path)["ignored"][0]["ignored"]["reason"] == "对方网站维护"
    assert _ignore(db, one, "--reason", "已确认为误报", "--update", "--by", "李四") == 0
    assert "reason changed to '已确认为误报' (was '对方网站维护')" in capsys.readouterr().out
    note = _report(db, tmp_path)["ignored"][0]["ignored"]
    assert (note["reason"], note["by"]) == ("已确认为误报", "李四")

    rule = ["--url", BEIAN + "*", "--check", "link.broken"]
    assert _ignore(db, *rule, "--reason", "页脚") == 0
    assert _ignore(db, *rule, "--reason", "页脚公共链接") == 2
    assert "govmon ignore r1 --reason '页脚公共链接' --update" in capsys.readouterr().err
    assert _ignore(db, "r1", "--reason", "页脚公共链接") == 2  # a rule's id: --update, or --undo
    assert _ignore(db, "r1", "--reason", "页脚公共链接", "--update") == 0
    two = _identity("link.broken", "a", TWINS[1])
    assert _ignore(db, two, "--reason", "x", "--update") == 2  # not ignored: nothing to update
    assert "among the ignored findings" in capsys.readouterr().err
    reasons = {f["ignored"]["id"]: f["ignored"]["reason"] for f in _report(db, tmp_path)["ignored"]}
    assert reasons == {one: "已确认为误报", "r1": "页脚公共链接"}


def test_list_and_history_show_every_ignore_with_who_and_why(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _ignore(db, "--list") == 0
    assert capsys.readouterr().out.startswith("no ignores in ")
    one = _identity("link.broken", "a", TWINS[0])
    assert _ignore(db, one, "--reason", "对方网站维护", "--by", "张三") == 0
    assert _ignore(db, "--url", BEIAN + "*", "--check", "link.broken", "--reason",
                   "备案链接，属页脚公共链接", "--by", "李四") == 0  # fmt: skip
    assert _ignore(db, "r1", "--reason", "页脚", "--update", "--by", "王五") == 0
    capsys.readouterr()
    assert _ignore(db, "--list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["编号", "id", "范围", "scope", "对象", "url", "/", "pattern",
                                "理由", "reason", "操作人", "by", "日期", "date"]  # fmt: skip
    rule = lines[2].split()
    assert rule[:7] == ["r1", "link.broken", "·", "所有网站", BEIAN + "*", "页脚", "王五"]
    assert rule[7].endswith("日")
    assert lines[2].endswith("改）")  # 2026年12月7日 12:58（2026年12月7日 12:59 改）
    single = lines[3].split()
    assert single[:7] == [one, "link.broken", "·", "a", TWINS[0], "对方网站维护", "张三"]
    assert lines[-1] == "1 条规则 rules, 1 个单项忽略 findings"
    # the columns line up, Chinese characters counted two wide
    assert _columns(lines[2][: lines[2].index(BEIAN)]) == _columns(
        lines[3][: lines[3].index(TWINS[0])]
    )

    assert _ignore(db, "--history") == 0
    history = [line.split() for line in capsys.readouterr().out.splitlines()[2:]]
    assert [row[2:5] for row in history] == [
        ["张三", "忽略", "ignore"], ["李四", "忽略", "ignore"], ["王五", "改理由", "update"],
    ]  # fmt: skip
    assert history[2][-2:] == ["页脚", "备案链接，属页脚公共链接"]
    assert _ignore(db, "--list", "--reason", "x") == 2
    assert "takes no other option (got --reason)" in capsys.readouterr().err


def _columns(text: str) -> int:
    """How wide ``text`` is on a terminal."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# -- usage, patterns, the old store -----------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "say what to set aside"),
        (["abcd", "--url", "https://a/*", "--reason", "x"], "not both"),
        (["abcd", "--check", "link.broken", "--reason", "x"], "use them with --url"),
        (["--url", "https://a.gov.cn/*"], "--reason TEXT is required"),
        (["abcd", "--reason", " "], "--reason TEXT is required"),
        (["abcd", "--reason", "x", "--by", " "], "say who makes the change"),
        (["--url", "a.gov.cn/*", "--reason", "x"], "starting with http://, https:// or *://"),
        (["--url", "https://a.gov.cn*", "--reason", "x"], "write https://a.gov.cn/*"),
        (["--url", "https://u@a.gov.cn/*", "--reason", "x"], "no user name"),
        (["--url", "https://a.gov.cn:99999/*", "--reason", "x"], "not a port number"),
        (["--url", "https://a b/*", "--reason", "x"], "is not a host name"),
    ],
)
def test_bad_usage_is_a_clear_error(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "govmon.db")
    _sync(_scan(db, _findings()))
    assert _ignore(db, *argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("pattern", "url", "matches"),
    [
        ("https://a.gov.cn/x*", "https://a.gov.cn/x/1.html", True),
        ("https://a.gov.cn/x*", "https://a.gov.cn.evil/x", False),
        ("https://a.gov.cn/x*", "https://a.gov.cn:8443/x", False),  # another port
        ("https://a.gov.cn/x*", "http://a.gov.cn/x", False),  # another scheme
        ("*://a.gov.cn/x*", "http://a.gov.cn/x", True),
        ("https://*.gov.cn/*", "https://www.gov.cn/", True),
        ("https://*.gov.cn/*", "https://a.b.gov.cn/", False),  # one label only
        ("https://*.gov.cn/*", "https://gov.cn/", False),
        ("https://*.gov.cn/*", "https://x@www.gov.cn/", False),
        ("https://a.gov.cn", "https://a.gov.cn/", True),  # no path: the home page
        ("https://a.gov.cn", "https://a.gov.cn/x", False),
        ("https://a.gov.cn/s?q=1", "https://a.gov.cn/s?q=1", True),  # ? is literal
        ("https://a.gov.cn/s?q=1", "https://a.gov.cn/sXq=1", False),
        ("https://a.gov.cn/[1].html", "https://a.gov.cn/[1].html", True),  # [ ] literal
        ("https://a.gov.cn/[1].html", "https://a.gov.cn/1.html", False),
        ("https://a.gov.cn/*.pdf", "https://a.gov.cn/f/x.pdf", True),  # * crosses /
        ("https://a.gov.cn/政务/*", "https://a.gov.cn/%E6%94%BF%E5%8A%A1/1.html", True),
        ("https://政府.cn/*", "https://政府.cn/1", True),
        ("https://A.GOV.CN:443/x", "https://a.gov.cn/x", True),
        ("https://beian.miit.gov.cn/#/Integrated/index", "https://beian.miit.gov.cn/", True),
    ],
)
def test_url_patterns(pattern: str, url: str, matches: bool) -> None:
    canonical = canonicalize(url)  # as the crawler writes a finding's URL
    assert canonical is not None
    assert bool(compile_pattern(normalise_pattern(pattern)).fullmatch(canonical)) is matches


def test_a_pattern_in_a_non_ascii_label_with_a_star_is_refused() -> None:
    with pytest.raises(PatternError, match="non-ASCII host label"):
        normalise_pattern("https://政*.cn/*")


async def test_ignores_of_an_old_store_survive_its_migration(tmp_path: Path) -> None:
    db = tmp_path / "v7.db"
    with sqlite3.connect(db) as conn:
        for version in range(1, 8):
            conn.executescript(MIGRATIONS[version])
        conn.execute("PRAGMA user_version=7")
        conn.execute(
            "INSERT INTO ignores VALUES ('0123456789abcdef', 'a', 'link.broken', 'https://x/',"
            " '老理由', '2020-06-16T08:00:00+08:00')"
        )
    store = await SQLiteStore.open(db)
    try:
        note = (await store.ignores())["0123456789abcdef"]
        assert (note["reason"], note["by"], note["kind"]) == ("老理由", "", "finding")
        assert await store.ignore_rules() == []
    finally:
        await store.close()
