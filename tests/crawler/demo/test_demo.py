"""The bundled demo district: the demo command, `govmon columns` and `govmon inspect` on it."""

from __future__ import annotations

import contextlib
import io
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from crawler.cli import main
from crawler.demo import REPORT_FORMATS, DemoServer, demo_config, serve
from tests.support.paths import DEMO_SITE

SITE = DEMO_SITE
HOMES = {
    "portal": "http://www.district.test/",
    "fgj": "http://www.district.test/fgj/",
    "jyj": "http://www.district.test/jyj/",
    "town": "http://town.district.test/",
}


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoServer]:
    with serve(SITE) as server:
        yield server


def _config(tmp_path: Path, server: DemoServer) -> Path:
    path = tmp_path / "district.toml"
    path.write_text(demo_config(server.port), encoding="utf-8")
    return path


def test_columns_prints_the_navigation_as_pasteable_toml(
    demo: DemoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _config(tmp_path, demo)
    assert main(["columns", str(cfg), "--site", "fgj"]) == 0
    text = capsys.readouterr().out
    doc = tomllib.loads(text)  # what it prints is TOML
    [site] = doc["site"]
    assert site["id"] == "fgj"
    got = {(c["name"], c["category"]) for c in site["column"]}
    assert got == {
        ("工作动态", "news"),
        ("通知公告", "notice"),
        ("政策文件", "policy"),
        ("政策解读", "interpretation"),
        ("人事信息", "personnel"),
        ("办事指南", "service"),
        ("政务咨询", "consultation"),
    }
    gzdt = next(c for c in site["column"] if c["name"] == "工作动态")
    assert gzdt["url"] == "http://www.district.test/fgj/gzdt/"
    assert gzdt["top_level"] is True
    assert "newest 2020-06-15, 2 list pages" in text  # pagination through createPageHTML
    # pasted back into the config, the columns pin the site's columns
    base = cfg.read_text(encoding="utf-8")
    start = base.index('id = "fgj"')
    block = "".join(
        f'\n[[site.column]]\nname = "{c["name"]}"\nurl = "{c["url"]}"\n'
        f'category = "{c["category"]}"\n'
        for c in site["column"]
    )
    end = base.find("[[site]]", start)
    pinned = base[:end] + block + "\n" + base[end:] if end > 0 else base + block
    (tmp_path / "pinned.toml").write_text(pinned, encoding="utf-8")
    db = tmp_path / "p.db"
    assert main(["scan", str(tmp_path / "pinned.toml"), "--db", str(db), "--site", "fgj"]) == 0


def test_inspect_shows_dated_items_and_pagination(
    demo: DemoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _config(tmp_path, demo)
    url = "http://www.district.test/fgj/gzdt/"
    assert main(["inspect", url, "--config", str(cfg), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == 200
    assert out["is_list"] is True
    assert out["items"][0]["date"] == "2020-06-15"
    assert all(item["date"] for item in out["items"])
    assert out["pagination"] == ["http://www.district.test/fgj/gzdt/index_1.html"]
    article = out["items"][0]["url"]
    assert main(["inspect", article, "--config", str(cfg), "--format", "json"]) == 0
    page = json.loads(capsys.readouterr().out)
    assert page["published"] == "2020-06-15"


@pytest.fixture(scope="module")
def demo_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """``govmon demo`` run both ways: replaying the bundled recording (the default) and
    ``--live``; each one's output folder and what it wrote to stderr."""
    runs: dict[str, tuple[Path, str]] = {}
    for mode in ("replayed", "live"):
        out = tmp_path_factory.mktemp(mode) / "out"
        err = io.StringIO()
        argv = ["demo", "--output", str(out), *(["--live"] if mode == "live" else [])]
        with contextlib.redirect_stderr(err):
            assert main(argv) == 0
        runs[mode] = (out, err.getvalue())
    return runs


def _report(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("mode", ["replayed", "live"])
def test_demo_writes_reports_with_the_planted_problems(
    demo_reports: dict[str, tuple[Path, str]], mode: str
) -> None:
    out, _ = demo_reports[mode]
    report = _report(out)
    got = {(f["site"], f["check"], f["url"]) for f in report["findings"]}
    base = "http://www.district.test"
    assert got == {
        ("portal", "link.broken", "http://ext.test/old/wsbs/index.html"),
        ("fgj", "link.broken", f"{base}/fgj/gzdt/202004/t20200415_2200099.html"),
        ("fgj", "link.broken", f"{base}/fgj/zcwj/202006/P020200603584512345678.pdf"),
        ("jyj", "link.broken", f"{base}/jyj/gzdt/202002/W020200226389512345678.jpg"),
        ("town", "link.broken", "http://town.district.test/zqgk/"),
        ("jyj", "column.blank", f"{base}/jyj/rsxx/"),
        ("jyj", "column.stale", f"{base}/jyj/gzdt/"),
        ("fgj", "message.late_reply", f"{base}/fgj/hdjl/202005/t20200520_2200520.html"),
        # true of the demo too: its server listens on IPv4 only, and no channel has a search
        *((s, "site.no_ipv6", u) for s, u in HOMES.items()),
        *((s, "site.no_search", u) for s, u in HOMES.items()),
    }
    [late] = [f for f in report["findings"] if f["check"] == "message.late_reply"]
    assert late["detail"]["working_days"] == 12  # no holiday between 05-20 and 06-05
    # every format, the page to open and the workbook for the notice among them
    assert REPORT_FORMATS == ("json", "md", "csv", "html", "xlsx")
    for fmt in REPORT_FORMATS:
        assert (out / f"report.{fmt}").stat().st_size > 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "存在突出问题的栏目及责任单位名单" in page
    workbook = load_workbook(out / "report.xlsx")
    assert workbook.sheetnames[:2] == ["汇总", "问题栏目及责任单位"]
    attachment = list(workbook["问题栏目及责任单位"].iter_rows(values_only=True))[1:]
    assert len(attachment) == len(report["findings"])  # all 16 are deductions


def test_the_replayed_demo_finds_exactly_what_the_live_demo_finds(
    demo_reports: dict[str, tuple[Path, str]],
) -> None:
    (replayed_out, replayed_err), (live_out, _) = demo_reports["replayed"], demo_reports["live"]
    # every request of the scan is in the bundled recording (else: make demo-recording)
    assert "not in the recording" not in replayed_err, replayed_err
    replayed, live = _report(replayed_out), _report(live_out)

    def findings(report: dict[str, Any]) -> list[dict[str, Any]]:
        return [{k: v for k, v in f.items() if k != "observed_at"} for f in report["findings"]]

    assert findings(replayed) == findings(live)
    assert replayed["sites"] == live["sites"]  # verdicts and scores
    for key in ("as_of", "pages", "requests", "status"):
        assert replayed["scan"][key] == live["scan"][key]
