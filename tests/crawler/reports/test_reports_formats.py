"""The HTML and XLSX reports: hostile site content stays text, the tables match the report.

The reports are built by :func:`crawler.reports.build_report` from a small store written here
through the store's API: two scans of two sites, with findings whose titles, URLs and column
names a hostile site could have planted (``<script>``, ``javascript:``, ``=HYPERLINK(...)``).
"""

from __future__ import annotations

import asyncio
import html.parser
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from checks.base import Finding
from crawler.reports import build_report, describe
from crawler.reports.csvformat import cell
from crawler.reports.htmlpage import render_html
from crawler.reports.model import Report
from crawler.reports.words import cn_time, display_url
from crawler.reports.xlsx import (
    ATTACHMENT_HEADER,
    COMPARISON_HEADER,
    FINDINGS_HEADER,
    IGNORED_HEADER,
    SUMMARY_HEADER,
    render_xlsx,
    text,
)
from storage.base import ColumnRow, FindingRow
from storage.sqlite import SQLiteStore

# -- a tiny DOM, shared with the web tests ------------------------------------------------

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}  # fmt: skip


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self) -> Iterator[Node]:
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter()

    def find_all(self, tag: str, **attrs: str) -> list[Node]:
        want = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
        return [
            n
            for n in self.iter()
            if n.tag == tag and all(n.attrs.get(k) == v for k, v in want.items())
        ]

    def find(self, tag: str, **attrs: str) -> Node:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag} {attrs}> in the page"
        return found[0]

    def cells(self) -> list[str]:
        """The text of a row's cells, whitespace collapsed."""
        return [" ".join(c.text().split()) for c in self.children if isinstance(c, Node)
                and c.tag in ("td", "th")]  # fmt: skip


class _TreeBuilder(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(page: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(page)
    builder.close()
    return builder.root


def assert_inert(root: Node, *, relative_links: bool = False) -> None:
    """No script, no external resource, no event handler, no link but http(s) (or the view's
    own relative ones)."""
    allowed = {"#document", "html", "head", "meta", "title", "style", "body", "header", "nav",
               "main", "footer", "section", "h1", "h2", "h3", "p", "div", "span", "a", "table",
               "thead", "tbody", "tfoot", "tr", "th", "td", "dl", "dt", "dd", "ul", "li", "br",
               "form", "label", "select", "option", "button", "input"}  # fmt: skip
    for node in root.iter():
        assert node.tag in allowed, f"unexpected <{node.tag}> in the page"
        for name, value in node.attrs.items():
            assert not name.startswith("on"), f"event handler {name}={value!r}"
            assert name not in ("src", "srcset", "style", "action") or (
                name == "action" and relative_links
            ), f"{name}={value!r}"
        if node.tag == "a":
            href = node.attrs.get("href") or ""
            ok = href.startswith(("http://", "https://")) or (
                relative_links and href.startswith("/")
            )
            assert ok, f"link to {href!r}"
    css = "".join(n.text() for n in root.find_all("style"))
    assert "url(" not in css
    assert "@import" not in css


# -- the crafted store --------------------------------------------------------------------

HOSTILE_TITLE = "<script>alert(1)</script>"
HOSTILE_URL = "javascript:alert(3)"
HOSTILE_PAGE = 'http://www.district.test/fgj/"><script>alert(4)</script>'
FORMULA_COLUMN = '=HYPERLINK("http://evil.test/","点我")'
SITES = [
    {"id": "fgj", "name": "区发展和改革局网站", "unit": "区发展和改革局", "kind": "department",
     "url": "http://www.district.test/fgj/"},
    {"id": "evil", "name": "<b>被篡改的网站</b>", "unit": "<i>某镇</i>", "kind": "town",
     "url": "javascript:alert(5)"},
]  # fmt: skip

PERSISTING = Finding(
    check="link.broken", site="fgj", unit="区发展和改革局",
    url="http://www.district.test/fgj/old.pdf", page="http://www.district.test/fgj/",
    detail={"kind": "attachment", "reason": "http 404", "status": 404, "on_homepage": True,
            "pages": ["http://www.district.test/fgj/"], "redirects": []},
)  # fmt: skip
RESOLVED = Finding(
    check="column.stale", site="fgj", unit="区发展和改革局", column="通知公告",
    url="http://www.district.test/fgj/tzgg/", page="http://www.district.test/fgj/tzgg/",
    detail={"newest": "2019-10-01", "days_since": 259, "max_age_days": 183},
)  # fmt: skip
TYPO = Finding(
    check="content.typo", site="fgj", unit="区发展和改革局", column=FORMULA_COLUMN,
    url="http://www.district.test/fgj/t1.html?q=<script>", page="http://www.district.test/fgj/t1.html",
    detail={"title": HOSTILE_TITLE, "text": HOSTILE_TITLE, "suggestion": "=1+1",
            "context": "<img src=x onerror=alert(2)>"},
)  # fmt: skip
BAD_LINK = Finding(
    check="link.broken", site="fgj", unit="区发展和改革局", url=HOSTILE_URL, page=HOSTILE_PAGE,
    detail={"kind": "other", "reason": "\x07=cmd|' /C calc'!A0", "status": None,
            "pages": [HOSTILE_PAGE, "vbscript:msgbox(1)"], "on_homepage": False},
)  # fmt: skip
LATE = Finding(
    check="message.late_reply", site="fgj", unit="区发展和改革局", column="政务咨询",
    url="http://www.district.test/fgj/hdjl/m1.html", page="http://www.district.test/fgj/hdjl/",
    detail={"asked": "2020-05-20", "answered": "2020-06-05", "working_days": 12, "limit": 5},
)  # fmt: skip
BLANK = Finding(
    check="column.blank", site="evil", unit="<i>某镇</i>", column="-2+3",
    url="http://town.district.test/rsxx/", page="http://town.district.test/rsxx/",
    detail={"items": 0, "placeholder": True},
)  # fmt: skip
UNDATED = Finding(
    check="column.undated", site="evil", unit="<i>某镇</i>", column="@SUM(A1)",
    url="http://town.district.test/zwdt/", detail={"undated": 3},
)  # fmt: skip
IGNORED = Finding(
    check="link.broken", site="evil", unit="<i>某镇</i>", url="http://town.district.test/x.jpg",
    page="http://town.district.test/", detail={"kind": "image", "reason": "http 404"},
)  # fmt: skip
IGNORE_REASON = "<b>误报</b>：图片由 CDN 提供"

OLD = [PERSISTING, RESOLVED]
NEW = [PERSISTING, TYPO, BAD_LINK, LATE, BLANK, UNDATED, IGNORED]


async def write_scan(
    db: Path,
    findings: list[Finding],
    sites: list[dict[str, Any]],
    *,
    as_of: str,
    columns: Sequence[ColumnRow] = (),
) -> int:
    """One complete scan written through the store's API."""
    store = await SQLiteStore.open(db)
    try:
        scan_id = await store.begin_scan(
            config_path="crafted.toml", config_digest="0" * 16, as_of=as_of, sites=sites
        )
        for f in findings:
            await store.put(FindingRow(f, "2020-06-16T09:00:00+08:00"))
        for c in columns:
            await store.put(c)
        await store.finish_scan("complete", 12, 34)
    finally:
        await store.close()
    return scan_id


async def _reports(db: Path) -> tuple[Report, Report]:
    column = ColumnRow(
        site="fgj", url="http://www.district.test/fgj/gzdt/", name="<marquee>工作动态</marquee>",
        category="news", unit="区发展和改革局", top_level=True, configured=False, parent=None,
        items=4, dated_items=4, newest="2020-06-15", pages=2, is_list=True, why="4 rows",
    )  # fmt: skip
    old = await write_scan(db, OLD, SITES, as_of="2020-03-16T00:00:00+08:00")
    new = await write_scan(db, NEW, SITES, as_of="2020-06-16T00:00:00+08:00", columns=[column])
    store = await SQLiteStore.open(db, create=False)
    try:
        await store.ignore(IGNORED.identity, IGNORE_REASON)
        compared = await build_report(store, new, compare=old)
        plain = await build_report(store, new)
    finally:
        await store.close()
    return compared, plain


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Report]:
    return asyncio.run(_reports(tmp_path_factory.mktemp("formats") / "govmon.db"))


@pytest.fixture(scope="module")
def compared(reports: tuple[Report, Report]) -> Report:
    return reports[0]


@pytest.fixture(scope="module")
def plain(reports: tuple[Report, Report]) -> Report:
    return reports[1]


def test_the_crafted_report_is_what_the_tests_expect(compared: Report) -> None:
    ids = {f["id"] for f in compared["findings"]}
    assert ids == {f.identity for f in NEW} - {IGNORED.identity}
    assert [f["id"] for f in compared["ignored"]] == [IGNORED.identity]
    comp = compared["comparison"]
    assert comp["persisting"] == [PERSISTING.identity]
    assert [f["id"] for f in comp["resolved"]] == [RESOLVED.identity]
    assert set(comp["new"]) == ids - {PERSISTING.identity}


# -- HTML ---------------------------------------------------------------------------------


def test_html_escapes_hostile_titles_and_urls(compared: Report) -> None:
    page = render_html(compared)
    root = parse_html(page)
    assert_inert(root)  # no <script>, <img>, <marquee>, on*=, javascript: links, src=
    assert "<script>" not in page
    assert "<img" not in page
    assert "<marquee>" not in page
    body = root.text()
    # ... and yet every hostile string is shown, as text
    for shown in (HOSTILE_TITLE, HOSTILE_URL, HOSTILE_PAGE, "<img src=x onerror=alert(2)>",
                  "<b>被篡改的网站</b>", "<i>某镇</i>", "<marquee>工作动态</marquee>",
                  IGNORE_REASON, FORMULA_COLUMN, "vbscript:msgbox(1)"):  # fmt: skip
        assert shown in body, shown
    links = {a.attrs["href"] for a in root.find_all("a")}
    assert "http://www.district.test/fgj/old.pdf" in links  # http(s) URLs are linked
    assert not any("javascript" in (h or "") or "vbscript" in (h or "") for h in links)
    # the quote in the hostile page URL cannot close the attribute
    assert "http://www.district.test/fgj/t1.html" in links
    assert all('"' not in (h or "") or h == HOSTILE_PAGE for h in links)


def test_html_is_self_contained_and_printable(compared: Report) -> None:
    page = render_html(compared)
    root = parse_html(page)
    assert root.find("html").attrs["lang"] == "zh-CN"
    css = "".join(n.text() for n in root.find_all("style"))
    assert "@media print" in css
    assert "@page" in css
    assert "table-header-group" in css  # headers repeat on every printed page
    assert not root.find_all("link")
    assert not root.find_all("script")
    csp = [
        m for m in root.find_all("meta") if m.attrs.get("http-equiv") == "Content-Security-Policy"
    ]
    assert csp
    assert "default-src 'none'" in (csp[0].attrs["content"] or "")
    headings = [" ".join(h.text().split()) for h in root.find_all("h2")]
    assert headings == [
        "一、总体情况",
        "二、存在突出问题的栏目及责任单位名单",
        "三、与上次检查比较",
        "四、问题明细",
        "五、已忽略的问题",
        "六、栏目概况",
    ]


def test_html_summary_lists_every_site_and_count(compared: Report) -> None:
    root = parse_html(render_html(compared))
    rows = root.find("table", id="verdicts").find("tbody").find_all("tr")
    assert [r.attrs["data-site"] for r in rows] == [s["id"] for s in compared["sites"]]
    for row, site in zip(rows, compared["sites"], strict=True):
        cells = row.cells()
        assert cells[4] == {"qualified": "合格", "unqualified": "不合格"}[site["verdict"]]
        assert cells[5] == str(site["score"])
    counts = {
        r.attrs["data-check"]: r.cells()[3]
        for r in root.find("table", id="counts").find_all("tr")
        if "data-check" in r.attrs
    }
    expected: dict[str, int] = {}
    for f in compared["findings"]:
        expected[f["check"]] = expected.get(f["check"], 0) + 1
    assert counts == {k: str(v) for k, v in expected.items()}


def test_html_unit_table_matches_the_report_units(compared: Report) -> None:
    root = parse_html(render_html(compared))
    table = root.find("table", id="units")
    header = table.find("thead").find("tr").cells()
    assert header == ["序号", "责任单位", "网站", "栏目", "问题", "地址"]
    bodies = table.find_all("tbody", class_="unit")
    assert [b.attrs["data-unit"] for b in bodies] == [u["unit"] for u in compared["units"]]
    assert len(compared["units"]) == 2  # the warning (column.undated) is not in the attachment
    for number, (body, unit) in enumerate(zip(bodies, compared["units"], strict=True), start=1):
        rows = body.find_all("tr")
        assert [r.attrs["data-id"] for r in rows] == [p["id"] for p in unit["problems"]]
        for i, (row, p) in enumerate(zip(rows, unit["problems"], strict=True)):
            cells = row.cells()
            if i == 0:  # 序号 and 责任单位 span the unit's rows
                assert cells[0] == str(number)
                assert cells[1].startswith(unit["unit"])
                # the heading counts what is listed under it (and the columns it is in)
                assert f"{len(unit['problems'])} 个问题" in cells[1]
                if unit["problem_columns"]:
                    assert f"涉及 {unit['problem_columns']} 个栏目" in cells[1]
                cells = cells[2:]
            assert cells == [p["site_name"], p["column"] or "—", p["problem"], p["url"]]


def test_html_comparison_section(compared: Report, plain: Report) -> None:
    root = parse_html(render_html(compared))
    comp = compared["comparison"]
    per_unit = root.find("table", id="comparison-units").find("tbody").find_all("tr")
    assert [r.attrs["data-unit"] for r in per_unit] == list(comp["per_unit"])
    for row, (_unit, c) in zip(per_unit, comp["per_unit"].items(), strict=True):
        assert row.cells()[1:6] == [
            str(c[k]) for k in ("new", "persisting", "resolved", "columns_now", "columns_before")
        ]
    for key, expected in (
        ("new", comp["new"]),
        ("persisting", comp["persisting"]),
        ("resolved", [f["id"] for f in comp["resolved"]]),
    ):
        rows = root.find("table", id=f"comparison-{key}-table").find("tbody").find_all("tr")
        assert [r.attrs.get("data-id") for r in rows] == expected, key
    resolved_row = root.find("table", id="comparison-resolved-table").find("tbody").find("tr")
    assert describe(comp["resolved"][0]) in resolved_row.cells()
    # without --compare there is no comparison at all
    plain_root = parse_html(render_html(plain))
    assert not plain_root.find_all("section", id="comparison")
    assert not plain_root.find_all("table", id="comparison-units")


def evidence_of(row: Node) -> dict[str, str]:
    """A finding row's evidence list as ``{label: text}``."""
    dl = row.find("dl", class_="evidence")
    items = [c for c in dl.children if isinstance(c, Node)]
    out: dict[str, str] = {}
    for dt, dd in zip(items[::2], items[1::2], strict=True):
        assert (dt.tag, dd.tag) == ("dt", "dd")
        out[" ".join(dt.text().split())] = " ".join(dd.text().split())
    return out


def test_html_lists_every_finding_with_its_evidence(compared: Report) -> None:
    root = parse_html(render_html(compared))
    rows = {r.attrs["data-id"]: r for t in root.find_all("table", class_="findings")
            for r in t.find_all("tr", class_="finding")}  # fmt: skip
    assert set(rows) == {f["id"] for f in compared["findings"]}
    late = evidence_of(rows[LATE.identity])
    assert late["留言时间"] == "2020年5月20日"  # dates as a notice writes them
    assert late["答复时间"] == "2020年6月5日"
    assert late["工作日"] == "12"
    assert late["时限（工作日）"] == "5"
    assert late["所在页面"] == "http://www.district.test/fgj/hdjl/"
    assert rows[LATE.identity].cells()[-1] == "2020年6月16日 09:00"  # when observed, 北京时间
    broken = evidence_of(rows[PERSISTING.identity])
    assert broken["原因"] == "HTTP 404 找不到页面"  # the status is said once, in the reason
    assert broken["类型"] == "附件"
    assert broken["首页链接"] == "是"
    assert broken["引用页面（1）"] == "http://www.district.test/fgj/"
    assert broken["对象"] == "http://www.district.test/fgj/old.pdf"
    ignored = root.find("table", id="ignored").find("tbody").find_all("tr")
    assert [r.attrs["data-id"] for r in ignored] == [IGNORED.identity]
    assert IGNORE_REASON in ignored[0].cells()


# -- XLSX ---------------------------------------------------------------------------------


def _rows(ws: Any) -> list[list[Any]]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def _no_formulas(data: bytes) -> None:
    """What Excel and WPS read: no sheet of the package holds a formula element."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        assert sheets
        for name in sheets:
            xml = z.read(name).decode("utf-8")
            assert re.search(r"<(\w+:)?f[ >]", xml) is None, f"a formula in {name}"


def test_xlsx_sheets_headers_and_layout(compared: Report, plain: Report) -> None:
    wb = load_workbook(io.BytesIO(render_xlsx(compared)))
    assert wb.sheetnames == ["汇总", "问题栏目及责任单位", "比较", "问题明细", "已忽略"]
    headers = {
        "汇总": SUMMARY_HEADER,
        "问题栏目及责任单位": ATTACHMENT_HEADER,
        "比较": COMPARISON_HEADER,
        "问题明细": FINDINGS_HEADER,
        "已忽略": IGNORED_HEADER,
    }
    for name, header in headers.items():
        ws = wb[name]
        row = [c.value for c in ws[1]][: len(header)]
        assert row == header, name
        assert ws.freeze_panes == "A2", name
        for col in range(1, len(header) + 1):
            letter = ws.cell(row=1, column=col).column_letter
            assert ws.column_dimensions[letter].width >= 6, (name, letter)
    assert ATTACHMENT_HEADER == ["序号", "责任单位", "网站", "栏目", "问题", "地址"]
    plain_wb = load_workbook(io.BytesIO(render_xlsx(plain)))
    assert plain_wb.sheetnames == ["汇总", "问题栏目及责任单位", "问题明细", "已忽略"]


def test_xlsx_site_content_is_never_a_formula(compared: Report) -> None:
    data = render_xlsx(compared)
    _no_formulas(data)
    wb = load_workbook(io.BytesIO(data))
    seen: set[str] = set()
    for ws in wb:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str):
                    seen.add(c.value)
                    assert c.data_type == "s"
                    assert not c.value.startswith(("=", "+", "-", "@", "\t", "\r")), c.value
    assert "'" + FORMULA_COLUMN in seen  # stored as text, shown as typed
    assert "'-2+3" in seen
    assert "'@SUM(A1)" in seen
    assert "'=cmd|' /C calc'!A0" in seen  # the control character went first, then the quote


def test_text_cells() -> None:
    assert text("=1+1") == "'=1+1"
    assert text("\x01=1+1") == "'=1+1"  # removing the control must not expose a formula
    assert text("a\x00b\x1fc") == "abc"
    assert text(None) == ""
    assert text("x" * 40000) == "x" * 32767
    assert text("正常文字") == "正常文字" == cell("正常文字")


def test_xlsx_findings_equal_the_report(compared: Report) -> None:
    wb = load_workbook(io.BytesIO(render_xlsx(compared)))
    rows = _rows(wb["问题明细"])[1:]
    assert len(rows) == len(compared["findings"])
    col = {name: i for i, name in enumerate(FINDINGS_HEADER)}
    for row, f in zip(rows, compared["findings"], strict=True):
        assert row[col["编号"]] == f["id"]
        assert row[col["检查代码"]] == f["check"]
        assert row[col["网站"]] == f["site"]
        assert row[col["责任单位"]] == text(f["unit"])
        assert row[col["栏目"]] == (text(f["column"]) if f["column"] else None)
        assert row[col["问题"]] == text(describe(f))
        assert row[col["对象地址"]] == text(display_url(f["url"]))
        assert row[col["所在页面"]] == (text(display_url(f["page"])) if f["page"] else None)
        assert row[col["发现时间"]] == cn_time(f["observed_at"], ZoneInfo("Asia/Shanghai"))
    by_id = {r[col["编号"]]: r for r in rows}
    late = by_id[LATE.identity]
    assert (late[col["留言时间"]], late[col["答复时间"]], late[col["工作日"]]) == (
        "2020年5月20日", "2020年6月5日", 12)  # fmt: skip
    broken = by_id[PERSISTING.identity]
    assert (broken[col["HTTP 状态码"]], broken[col["引用页面数"]]) == (404, 1)


def test_xlsx_summary_attachment_comparison_ignored(compared: Report) -> None:
    wb = load_workbook(io.BytesIO(render_xlsx(compared)))
    summary = _rows(wb["汇总"])
    for row, site in zip(summary[1:], compared["sites"], strict=False):
        assert row[0] == site["id"]
        assert row[5] == {"qualified": "合格", "unqualified": "不合格"}[site["verdict"]]
        assert row[6] == site["score"]
        assert row[9] == sum(site["counts"].values())
    assert summary[len(compared["sites"]) + 1][0] == "合计"
    assert summary[len(compared["sites"]) + 1][9] == len(compared["findings"])

    ws = wb["问题栏目及责任单位"]
    rows = _rows(ws)[1:]
    flat = [(n, u["unit"], p) for n, u in enumerate(compared["units"], 1) for p in u["problems"]]
    assert len(rows) == len(flat)
    merged = {str(r) for r in ws.merged_cells.ranges}
    first = 2
    for number, unit in enumerate(compared["units"], start=1):
        assert rows[first - 2][0] == number
        assert rows[first - 2][1] == text(unit["unit"])
        last = first + len(unit["problems"]) - 1
        if last > first:
            assert f"A{first}:A{last}" in merged
            assert f"B{first}:B{last}" in merged
        first = last + 1
    for row, (_n, _unit, p) in zip(rows, flat, strict=True):
        assert row[2:] == [p["site_name"], text(p["column"]) if p["column"] else None,
                           text(p["problem"]), text(p["url"])]  # fmt: skip

    comp = compared["comparison"]
    crow = _rows(wb["比较"])
    names = list(comp["per_unit"])
    for row, name in zip(crow[1:], names, strict=False):
        c = comp["per_unit"][name]
        assert row[:7] == [text(name), c["new"], c["persisting"], c["resolved"],
                           c["columns_now"], c["columns_before"],
                           c["columns_now"] - c["columns_before"]]  # fmt: skip
    listed = {(r[0], r[1]) for r in crow if r[0] in ("新增", "仍存在", "已整改")}
    assert listed == (
        {("新增", i) for i in comp["new"]}
        | {("仍存在", i) for i in comp["persisting"]}
        | {("已整改", f["id"]) for f in comp["resolved"]}
    )

    ignored = _rows(wb["已忽略"])[1:]
    assert [r[0] for r in ignored] == [IGNORED.identity]
    assert ignored[0][IGNORED_HEADER.index("忽略理由")] == IGNORE_REASON
