"""The catalogue of checks: every code declared once, and a new check in one file plus one line."""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from openpyxl import load_workbook  # type: ignore[import-untyped]

from checks import catalogue
from checks.base import Finding, PageView, ScanContext
from checks.catalogue import CheckSpec, Rule
from checks.registry import builtin_checks
from checks.scoring import DEFAULT_TABLE, ScoringTable
from checks.scoring import site_verdict as judge
from crawler.cli import main as govmon
from crawler.config import Site, load_config
from tests.support.localserver import serve
from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT
CODE = re.compile(r"(site|link|homepage|column|message|policy|service|content|newmedia|check)"
                  r"\.[a-z][a-z0-9_]*")  # fmt: skip
NOT_CODES = {"site.html", "check.failed"}  # a template's name, a log event


def _product_literals() -> Iterator[tuple[str, str]]:
    """``(file, code)`` for every string literal in product code shaped like a check code."""
    for folder in ("crawler", "checks", "storage"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                value = node.value if isinstance(node, ast.Constant) else None
                if isinstance(value, str) and CODE.fullmatch(value) and value not in NOT_CODES:
                    yield str(path.relative_to(ROOT)), value


def test_every_code_used_in_product_code_has_an_entry() -> None:
    missing = {(f, c) for f, c in _product_literals() if catalogue.spec(c) is None}
    assert not missing, f"codes without a catalogue entry: {sorted(missing)}"


def test_every_builtin_check_declares_its_codes(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[[site]]\nid = "a"\nname = "甲"\nunit = "甲"\nurl = "http://a.test/"\n')
    context = ScanContext(load_config(str(cfg)), dt.datetime(2020, 6, 16, tzinfo=dt.UTC))
    codes = {code for check in builtin_checks(context) for code in check.codes}
    assert codes
    assert {c for c in codes if catalogue.spec(c) is None} == set()


def test_every_entry_is_complete_and_scored_where_it_deducts() -> None:
    indicators = ScoringTable().indicators
    for entry in catalogue.all_specs():
        assert entry.name
        assert entry.english
        assert entry.found
        if entry.severity == "deduction":
            assert entry.rule is not None, f"{entry.code} deducts but scores nothing"
        for rule in entry.rules().values():
            assert rule.indicator in indicators, entry.code
        # a sentence never fails on an empty detail
        assert catalogue.describe(entry.code, {}).startswith(entry.name)


def test_the_readme_table_is_the_catalogue() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert catalogue.markdown_table() in readme, "regenerate it: python -m checks.catalogue"


def test_a_shipped_code_cannot_be_redeclared() -> None:
    with pytest.raises(ValueError, match="shipped"):
        catalogue.register(CheckSpec("link.broken", "info", "别的", "other", "anything"))


# -- a new page check: one file (this one) plus one registration line ----------------------------


class NoTitleCheck:
    """``content.no_title``: a page without a <title> (a plug-in's check and its entry)."""

    codes: tuple[str, ...] = ("content.no_title",)
    catalogue = (
        CheckSpec(
            "content.no_title", "deduction", "页面无标题", "page without a title",
            "a page whose <title> is empty", rule=Rule("content", 0.5),
            sentence=lambda name, d: f"{name}：{d.get('where')}",
            evidence={"where": "位置"},
        ),
    )  # fmt: skip

    def __init__(self, context: ScanContext) -> None:
        pass

    def on_page(self, site: Site, page: PageView) -> Iterable[Finding]:
        if not page.parsed.title:
            yield Finding("content.no_title", site.id, site.unit, page.url,
                          detail={"where": "正文页"})  # fmt: skip

    def finish(self, site: Site) -> Iterable[Finding]:
        return ()


catalogue.declare(NoTitleCheck)  # at import, as a check's own module does


def _app() -> web.Application:
    async def page(request: web.Request) -> web.Response:
        title = "" if request.path == "/bare.html" else "<title>首页</title>"
        body = '<a href="/bare.html">无标题页</a>' if request.path == "/" else "正文"
        return web.Response(text=f"<html><head>{title}</head><body>{body}</body></html>",
                            content_type="text/html")  # fmt: skip

    app = web.Application()
    app.router.add_get("/{tail:.*}", page)
    return app


def test_a_new_check_is_named_scored_and_described_everywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = builtin_checks
    # the one registration line: the check joins the built-in list (checks/registry.py)
    monkeypatch.setattr(
        "checks.registry.builtin_checks", lambda ctx: [*shipped(ctx), NoTitleCheck(ctx)]
    )
    with serve(_app()) as port:
        cfg = tmp_path / "govmon.toml"
        cfg.write_text(
            "[crawl]\nallow_private = true\nrate = 0\n"
            '[checks]\ndisable = ["site"]\n'
            '[scoring]\n"content.no_title" = 3\n'  # scored like a shipped code
            f'[[site]]\nid = "a"\nname = "甲局"\nunit = "甲局"\nurl = "http://127.0.0.1:{port}/"\n',
            encoding="utf-8",
        )
        db = tmp_path / "g.db"
        assert govmon(["scan", str(cfg), "--db", str(db)]) == 0
    outputs = {}
    for fmt in ("json", "md", "csv", "html", "xlsx"):
        out = tmp_path / f"r.{fmt}"
        assert govmon(["report", "--db", str(db), "--format", fmt, "--output", str(out)]) == 0
        outputs[fmt] = out
    report = json.loads(outputs["json"].read_text(encoding="utf-8"))
    [found] = [f for f in report["findings"] if f["check"] == "content.no_title"]
    assert found["severity"] == "deduction"
    site = report["sites"][0]
    assert site["deductions"] == {"内容正确性 content": 3.0}  # the [scoring] override
    for fmt in ("md", "csv", "html"):
        text = outputs[fmt].read_text(encoding="utf-8")
        assert "页面无标题：正文页" in text, fmt  # its name and its sentence
    assert "位置" in outputs["html"].read_text(encoding="utf-8")  # its evidence label
    cells = [c.value for ws in load_workbook(outputs["xlsx"]) for r in ws.iter_rows() for c in r]
    assert any(isinstance(v, str) and "页面无标题" in v for v in cells)
    # and the verdict counts it like any deduction
    assert judge([found]).deductions == {"content": 0.5}


def test_the_shipped_point_table_is_the_2015_table_as_practised() -> None:

    table = {key: (r.indicator, r.points) for key, r in DEFAULT_TABLE.items()}
    assert table == {
        "site.availability": ("availability", 5.0),  # per 1 % of failed samples
        "link.broken:home": ("links", 1.0),
        "link.broken": ("links", 0.1),
        "column.stale:key": ("updates", 2.0),
        "column.stale": ("updates", 1.0),
        "column.blank": ("updates", 2.0),
        "column.irregular": ("updates", 1.0),
        "column.too_few": ("interaction", 2.0),
        "message.late_reply": ("interaction", 1.0),
        "message.overdue": ("interaction", 2.0),
        "message.incomplete": ("interaction", 0.5),
        "message.no_statistics": ("interaction", 2.0),
        "policy.no_interpretation": ("interpretation", 1.0),
        "service.guide_incomplete": ("service", 1.0),
        "content.typo": ("content", 1.0),
        "content.pii": ("content", 2.0),
        "site.no_search": ("functions", 3.0),
        "site.search_broken": ("functions", 2.0),
        "site.no_ipv6": ("functions", 2.0),
        "site.no_zhaocuo": ("functions", 2.0),
    }
