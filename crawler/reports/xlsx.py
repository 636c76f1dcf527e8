"""The XLSX report: one workbook, one sheet per part, for Excel and WPS.

Sheets: 汇总 (sites, verdicts, scores, counts per check, the scan), 问题栏目及责任单位 (the
attachment: 序号, 责任单位, 网站, 栏目, 问题, 地址), 比较 (with ``--compare``), 问题明细 (every
finding with its evidence) and 已忽略. Every sheet has Chinese headers in its first row, frozen and
filtered, repeated on every printed page, and its columns sized to their content.

Text that may come from a crawled site never becomes a formula: control characters that XML
cannot carry are dropped, :func:`crawler.reports.csvformat.cell` quotes a leading ``=``, ``+``,
``-``, ``@``, tab or carriage return, and the cell is typed as a string.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from checks.wording import cn_date, reason_words
from crawler import __version__
from crawler.reports.csvformat import cell
from crawler.reports.evidence import evidence_text
from crawler.reports.htmlpage import (
    SEVERITY_NAMES,
    SITE_KIND_NAMES,
    STATUS_NAMES,
    VERDICT_NAMES,
    comparison_view,
)
from crawler.reports.model import Report
from crawler.reports.words import (
    CHECK_NAMES,
    banner,
    cn_time,
    coverage_text,
    describe,
    display_url,
    indicator_name,
    report_zone,
)

__all__ = [
    "ATTACHMENT_HEADER",
    "COMPARISON_HEADER",
    "FINDINGS_HEADER",
    "IGNORED_HEADER",
    "SHEETS",
    "SUMMARY_HEADER",
    "render_xlsx",
    "text",
]

SHEETS = ("汇总", "问题栏目及责任单位", "比较", "问题明细", "已忽略")
SUMMARY_HEADER = ["网站", "名称", "责任单位", "类型", "地址", "结论", "得分", "否决项",
                  "扣分明细", "问题数", "检查覆盖"]  # fmt: skip
ATTACHMENT_HEADER = ["序号", "责任单位", "网站", "栏目", "问题", "地址"]
COMPARISON_HEADER = ["责任单位", "新增", "仍存在", "已整改", "本次问题栏目", "上次问题栏目",
                     "变化"]  # fmt: skip
COMPARISON_LIST_HEADER = ["状态", "编号", "检查项", "网站", "责任单位", "栏目", "问题", "地址"]
FINDINGS_HEADER = [
    "编号", "检查项", "检查代码", "严重程度", "网站", "网站名称", "责任单位", "栏目", "问题",
    "对象地址", "所在页面", "HTTP 状态码", "原因", "最新信息日期", "未更新天数", "留言时间",
    "答复时间", "工作日", "引用页面数", "发现时间", "证据",
]  # fmt: skip
IGNORED_HEADER = ["编号", "检查项", "检查代码", "网站", "责任单位", "栏目", "问题", "对象地址",
                  "忽略理由", "忽略时间"]  # fmt: skip

_MAX_CELL = 32767  # Excel's limit on the characters of one cell
_MIN_WIDTH, _MAX_WIDTH = 6.0, 60.0
_THIN = Side(style="thin", color="A0A7AF")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FONT = Font(bold=True)
_BANNER_FONT = Font(bold=True, color="B3261E")
_HEAD_FILL = PatternFill("solid", fgColor="DDE3EA")
_WRAP = Alignment(wrap_text=True, vertical="top")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def text(value: object) -> str:
    """A string cell's content from anything, site content included: never a formula.

    Characters XML 1.0 cannot carry are removed first (so ``"\\x01=1+1"`` cannot turn into a
    formula after the removal), then :func:`crawler.reports.csvformat.cell` quotes a dangerous first
    character; the result is cut to Excel's cell limit.
    """
    raw = "" if value is None else str(value)
    raw = raw.encode("utf-8", "replace").decode("utf-8")  # lone surrogates cannot be saved
    return cell(ILLEGAL_CHARACTERS_RE.sub("", raw))[:_MAX_CELL]


def _width(value: object) -> float:
    """The display width of a value: CJK characters count twice; the longest line counts."""
    lines = ("" if value is None else str(value)).splitlines() or [""]
    return max(
        sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line) for line in lines
    )


class _Sheet:
    """One worksheet written row by row, its column widths measured as it goes."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.row = 0
        self.widths: dict[int, float] = {}
        self.table_end: int | None = None  # the last row of the first table (before a gap)

    def header(self, names: Sequence[str]) -> int:
        self.row += 1
        for col, name in enumerate(names, start=1):
            c = self.ws.cell(row=self.row, column=col)
            c.value = name
            c.data_type = "s"
            c.font = _HEAD_FONT
            c.fill = _HEAD_FILL
            c.border = _BORDER
            c.alignment = _CENTER
            self._measure(col, name)
        return self.row

    def put(self, values: Iterable[object], *, bold: bool = False) -> int:
        """A row: numbers stay numbers, everything else is a formula-safe string."""
        self.row += 1
        for col, value in enumerate(values, start=1):
            c = self.ws.cell(row=self.row, column=col)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                c.value = value
            elif value is None:
                pass  # an empty cell
            else:
                c.value = text("是" if value is True else "否" if value is False else value)
                c.data_type = "s"
            c.border = _BORDER
            c.alignment = _WRAP
            if bold:
                c.font = _HEAD_FONT
            self._measure(col, c.value)
        return self.row

    def skip(self) -> None:
        if self.table_end is None:
            self.table_end = self.row
        self.row += 1

    def _measure(self, col: int, value: object) -> None:
        self.widths[col] = max(self.widths.get(col, 0.0), _width(value))

    def finish(self, header_row: int = 1, columns: int | None = None) -> None:
        ws = self.ws
        for col, w in self.widths.items():
            width = min(_MAX_WIDTH, max(_MIN_WIDTH, w + 2))
            ws.column_dimensions[get_column_letter(col)].width = width
        ws.freeze_panes = ws.cell(row=header_row + 1, column=1).coordinate
        ncols = columns or max(self.widths, default=1)
        if self.row > header_row:
            last = get_column_letter(ncols)
            end = self.row if self.table_end is None else self.table_end
            ws.auto_filter.ref = f"A{header_row}:{last}{end}"
        ws.print_title_rows = f"{header_row}:{header_row}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True


def _summary(ws: Any, report: Report) -> None:
    sheet = _Sheet(ws)
    codes = sorted({code for s in report["sites"] for code in s["counts"]})
    notes = banner(report)
    for line in notes:  # a scan that did not complete says so first, above the table
        sheet.row += 1
        note = ws.cell(row=sheet.row, column=1)
        note.value = text(line)  # not measured: it spills over the empty cells beside it
        note.font = _BANNER_FONT
    if notes:
        sheet.row += 1
    header_row = sheet.header(
        [*SUMMARY_HEADER, *(f"{CHECK_NAMES.get(c, c)}（{c}）" for c in codes)]
    )
    for s in report["sites"]:
        sheet.put(
            [
                s["id"],
                s["name"],
                s["unit"],
                SITE_KIND_NAMES.get(str(s.get("kind")), s.get("kind")),
                display_url(s.get("url")) if s.get("url") else None,
                VERDICT_NAMES.get(s["verdict"], s["verdict"])
                + (f"：{s['unchecked']['text']}" if s.get("unchecked") else ""),
                s["score"],
                "、".join(CHECK_NAMES.get(v, v) for v in s["vetoes"]) or None,
                "；".join(f"{indicator_name(k)} −{v}" for k, v in sorted(s["deductions"].items()))
                or None,
                sum(s["counts"].values()),
                coverage_text(s.get("coverage")),
                *(s["counts"].get(c, 0) for c in codes),
            ]
        )
    sheet.table_end = sheet.row  # the filter covers the sites, not the total below them
    if report["sites"]:
        total = [sum(s["counts"].get(c, 0) for s in report["sites"]) for c in codes]
        sheet.put(["合计", *([None] * 8), sum(total), None, *total], bold=True)
    scan = report["scan"]
    zone = report_zone(report)
    qualified = sum(1 for s in report["sites"] if s["verdict"] == "qualified")
    unchecked = sum(1 for s in report["sites"] if s["verdict"] == "unchecked")
    info: list[tuple[str, object]] = [
        ("检查编号", scan["id"]),
        ("监测时间点", cn_time(scan["as_of"], zone)),
        ("开始时间", cn_time(scan["started_at"], zone)),
        ("结束时间", cn_time(scan["finished_at"], zone)),
        ("状态", STATUS_NAMES.get(scan["status"], scan["status"])),
        ("抓取页面", scan["pages"]),
        ("请求次数", scan["requests"]),
        ("合格网站", qualified),
        ("不合格网站", len(report["sites"]) - qualified - unchecked),
        ("未完成检查网站", unchecked),
        ("问题总数", len(report["findings"])),
        ("已忽略", len(report["ignored"])),
    ]
    comp = report.get("comparison")
    if comp:
        against = comp["against"]
        when = cn_time(against["as_of"], zone)
        info.append(("比较对象", f"第 {against['id']} 次检查（监测时间点 {when}）"))
    sheet.skip()
    for label, value in info:
        sheet.put([label, value])
        ws.cell(row=sheet.row, column=1).font = _HEAD_FONT
    sheet.finish(header_row, columns=len(SUMMARY_HEADER) + len(codes))


def _attachment(ws: Any, report: Report) -> None:
    sheet = _Sheet(ws)
    sheet.header(ATTACHMENT_HEADER)
    for number, u in enumerate(report["units"], start=1):
        first = sheet.row + 1
        for p in u["problems"]:
            sheet.put(
                [
                    number,
                    u["unit"],
                    p["site_name"],
                    p["column"],
                    p["problem"],
                    display_url(p["url"]),
                ]
            )
        last = sheet.row
        for col in (1, 2):
            ws.cell(row=first, column=col).alignment = _CENTER
            if last > first:
                ws.merge_cells(start_row=first, start_column=col, end_row=last, end_column=col)
    sheet.finish(columns=len(ATTACHMENT_HEADER))


def _comparison(ws: Any, report: Report) -> None:
    view = comparison_view(report)
    assert view is not None
    names = {s["id"]: s["name"] for s in report["sites"]}
    sheet = _Sheet(ws)
    sheet.header(COMPARISON_HEADER)
    for row in view["per_unit"]:
        sheet.put(
            [row["unit"], row["new"], row["persisting"], row["resolved"], row["columns_now"],
             row["columns_before"], row["columns_now"] - row["columns_before"]]
        )  # fmt: skip
    t = view["totals"]
    sheet.put(
        ["合计", t["new"], t["persisting"], t["resolved"], t["columns_now"], t["columns_before"],
         t["columns_now"] - t["columns_before"]],
        bold=True,
    )  # fmt: skip
    sheet.skip()
    against = view["against"]
    when = cn_time(against["as_of"], report_zone(report))
    sheet.put([f"与第 {against['id']} 次检查（监测时间点 {when}）比较"], bold=True)
    sheet.header(COMPARISON_LIST_HEADER)
    labels = {"new": "新增", "persisting": "仍存在", "resolved": "已整改"}
    for key, _title, items in view["groups"]:
        for f in items:
            sheet.put(
                [labels[key], f["id"], CHECK_NAMES.get(f["check"], f["check"]),
                 names.get(f["site"], f["site"]), f["unit"], f["column"],
                 describe(f) if f["check"] else None, display_url(f["url"])]
            )  # fmt: skip
    sheet.finish(columns=len(COMPARISON_HEADER))


def _findings(ws: Any, report: Report) -> None:
    names = {s["id"]: s["name"] for s in report["sites"]}
    zone = report_zone(report)
    sheet = _Sheet(ws)
    sheet.header(FINDINGS_HEADER)
    for f in report["findings"]:
        d = f.get("detail") or {}
        pages = d.get("pages")
        reason = d.get("reason")
        answered = d.get("answered") or d.get("replied")
        sheet.put(
            [
                f["id"],
                CHECK_NAMES.get(f["check"], f["check"]),
                f["check"],
                SEVERITY_NAMES.get(f["severity"], f["severity"]),
                f["site"],
                names.get(f["site"], f["site"]),
                f["unit"],
                f["column"],
                describe(f),
                display_url(f["url"]),
                display_url(f["page"]) if f["page"] else None,
                d.get("status"),
                reason_words(reason) if reason else None,
                cn_date(d["newest"]) if d.get("newest") else None,
                d.get("days_since"),
                cn_date(d["asked"]) if d.get("asked") else None,
                cn_date(answered) if answered else None,
                d.get("working_days"),
                len(pages) if isinstance(pages, list) else None,
                cn_time(f.get("observed_at"), zone),
                evidence_text(f, zone=zone),
            ]
        )
    sheet.finish(columns=len(FINDINGS_HEADER))
    # the evidence can be long: keep its column readable, wrapped
    ws.column_dimensions[get_column_letter(len(FINDINGS_HEADER))].width = _MAX_WIDTH


def _ignored(ws: Any, report: Report) -> None:
    names = {s["id"]: s["name"] for s in report["sites"]}
    zone = report_zone(report)
    sheet = _Sheet(ws)
    # which ignore set each one aside: columns only where there is one (an empty sheet as before)
    header = IGNORED_HEADER + (["忽略依据", "操作人"] if report["ignored"] else [])
    sheet.header(header)
    for f in report["ignored"]:
        why = f.get("ignored") or {}
        sheet.put(
            [f["id"], CHECK_NAMES.get(f["check"], f["check"]), f["check"],
             names.get(f["site"], f["site"]), f["unit"], f["column"], describe(f),
             display_url(f["url"]), why.get("reason"), cn_time(why.get("since"), zone),
             why.get("basis") or why.get("id"), why.get("by")]
        )  # fmt: skip
    sheet.finish(columns=len(header))


def render_xlsx(report: Report) -> bytes:
    """The report as an .xlsx workbook (bytes), one sheet per part."""
    wb = Workbook()
    wb.properties.creator = f"govmon {__version__}"
    wb.properties.title = f"政府网站检查报告 第 {report['scan']['id']} 次检查"
    summary = wb.active
    summary.title = SHEETS[0]
    _summary(summary, report)
    _attachment(wb.create_sheet(SHEETS[1]), report)
    if report.get("comparison"):
        _comparison(wb.create_sheet(SHEETS[2]), report)
    _findings(wb.create_sheet(SHEETS[3]), report)
    _ignored(wb.create_sheet(SHEETS[4]), report)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
