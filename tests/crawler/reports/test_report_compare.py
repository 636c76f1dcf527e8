"""Reports across scans: comparison, ignored findings, per-unit attachment, scoring overrides."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from openpyxl import load_workbook  # type: ignore[import-untyped]

from crawler.cli import main
from tests.support.localserver import serve

CHANGE_WORDS = ("新增", "仍存在", "已整改")

STATE = web.AppKey("state", dict[str, list[str]])


def _app() -> web.Application:
    app = web.Application()
    app[STATE] = {"links": ["/a.pdf", "/b.pdf"]}

    async def home(request: web.Request) -> web.Response:
        links = "".join(f'<a href="{p}">附件</a>' for p in request.app[STATE]["links"])
        row = "<li><a href='/n/1.html'>新闻</a><span>2020-06-15</span></li>"
        body = f"<title>首页</title><ul>{row}</ul>{links}"
        return web.Response(text=body, content_type="text/html")

    async def news(request: web.Request) -> web.Response:
        return web.Response(text="<title>新闻</title>", content_type="text/html")

    app.router.add_get("/", home)
    app.router.add_get("/n/1.html", news)
    return app


def _config(tmp_path: Path, port: int, scoring: str = "") -> Path:
    path = tmp_path / "g.toml"
    path.write_text(
        f"""as_of = 2020-06-16
[crawl]
allow_private = true
resolve_only = true
rate = 0
recheck_delay = 0
robots = "ignore"
[checks]
disable = ["site"]  # search, IPv6, 找错: not what these tests are about
{scoring}
[[site]]
id = "s"
name = "测试局网站"
unit = "测试局"
url = "http://127.0.0.1:{port}/"
""",
        encoding="utf-8",
    )
    return path


def _report(tmp_path: Path, db: Path, *extra: str) -> dict[str, Any]:
    out = tmp_path / "r.json"
    assert main(["report", "--db", str(db), "--output", str(out), *extra]) == 0
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


def test_compare_ignore_and_units(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = _app()
    db = tmp_path / "g.db"
    with serve(app) as port:
        cfg = _config(tmp_path, port)
        base = f"http://127.0.0.1:{port}"
        assert main(["scan", str(cfg), "--db", str(db)]) == 0
        first = _report(tmp_path, db)
        ids = {f["url"]: f["id"] for f in first["findings"]}
        assert set(ids) == {f"{base}/a.pdf", f"{base}/b.pdf"}
        # by hand: two broken attachments on the home page, -1 each
        assert first["sites"][0]["score"] == 98.0
        [unit] = first["units"]
        assert unit["unit"] == "测试局"
        assert [p["url"] for p in unit["problems"]] == [f"{base}/a.pdf", f"{base}/b.pdf"]
        assert unit["problems"][0]["problem"].startswith(
            "错链断链：附件（HTTP 404 找不到页面），在首页"
        )

        # b.pdf is an accepted exception
        assert main(["ignore", ids[f"{base}/b.pdf"], "--db", str(db)]) == 2  # no reason
        assert (
            main(["ignore", ids[f"{base}/b.pdf"], "--reason", "已下线，待替换", "--db", str(db)])
            == 0
        )
        app[STATE]["links"] = ["/b.pdf", "/c.pdf"]  # a.pdf fixed, c.pdf newly broken
        assert main(["scan", str(cfg), "--db", str(db)]) == 0
    second = _report(tmp_path, db, "--compare", "1")
    assert [f["url"] for f in second["findings"]] == [f"{base}/c.pdf"]
    assert [f["url"] for f in second["ignored"]] == [f"{base}/b.pdf"]
    assert second["ignored"][0]["ignored"]["reason"] == "已下线，待替换"
    assert second["ignored"][0]["id"] == ids[f"{base}/b.pdf"]  # same identity across scans
    assert second["sites"][0]["score"] == 99.0  # the ignored one is not deducted
    comp = second["comparison"]
    assert comp["against"]["id"] == 1
    new = {f["id"]: f["url"] for f in second["findings"]}
    assert [new[i] for i in comp["new"]] == [f"{base}/c.pdf"]
    assert comp["persisting"] == []  # b.pdf is ignored: neither persisting nor resolved
    assert [f["url"] for f in comp["resolved"]] == [f"{base}/a.pdf"]
    assert comp["per_unit"]["测试局"] == {
        "new": 1, "persisting": 0, "resolved": 1, "columns_now": 0, "columns_before": 0,
    }  # fmt: skip
    # undo: b.pdf counts again
    assert main(["ignore", "--undo", ids[f"{base}/b.pdf"], "--db", str(db)]) == 0
    third = _report(tmp_path, db, "--compare", "1")
    assert sorted(f["url"] for f in third["findings"]) == [f"{base}/b.pdf", f"{base}/c.pdf"]
    assert third["sites"][0]["score"] == 98.0
    assert len(third["comparison"]["persisting"]) == 1
    md = tmp_path / "r.md"
    assert main(["report", "--db", str(db), "--format", "md", "--compare", "1",
                 "--output", str(md)]) == 0  # fmt: skip
    text = md.read_text(encoding="utf-8")
    assert "## 与第 1 次检查比较" in text
    assert "已整改 1 个" in text
    # which findings are new and which resolved: listed, not only counted
    new_part = text.split("### 新增问题（1 个）", 1)[1].split("###", 1)[0]
    assert f"{base}/c.pdf" in new_part
    assert f"{base}/b.pdf" not in new_part
    resolved_part = text.split("### 已整改的问题（1 个）", 1)[1].split("##", 1)[0]
    assert f"{base}/a.pdf" in resolved_part
    # the CSV says it per row, the resolved finding in a row of its own
    csv_out = tmp_path / "r.csv"
    assert main(["report", "--db", str(db), "--format", "csv", "--compare", "1",
                 "--output", str(csv_out)]) == 0  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(csv_out.read_text(encoding="utf-8-sig"))))
    change = {r["对象 url"]: r["比较 change"] for r in rows}
    assert change == {f"{base}/a.pdf": "已整改", f"{base}/b.pdf": "仍存在",
                      f"{base}/c.pdf": "新增"}  # fmt: skip
    # and the workbook's 比较 sheet lists them too
    xlsx_out = tmp_path / "r.xlsx"
    assert main(["report", "--db", str(db), "--format", "xlsx", "--compare", "1",
                 "--output", str(xlsx_out)]) == 0  # fmt: skip
    sheet = load_workbook(xlsx_out)["比较"]
    listed = {(r[0], r[7]) for r in sheet.iter_rows(values_only=True) if r[0] in CHANGE_WORDS}
    assert listed == {("已整改", f"{base}/a.pdf"), ("仍存在", f"{base}/b.pdf"),
                      ("新增", f"{base}/c.pdf")}  # fmt: skip
    capsys.readouterr()


def test_scoring_overrides_come_from_the_config(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    with serve(_app()) as port:
        cfg = _config(tmp_path, port, '[scoring]\n"link.broken:home" = 5\n')
        assert main(["scan", str(cfg), "--db", str(db)]) == 0
        bad = _config(tmp_path, port, '[scoring]\n"link.brokn" = 5\n')
        assert main(["scan", str(bad), "--db", str(db)]) == 2
    assert _report(tmp_path, db)["sites"][0]["score"] == 90.0
