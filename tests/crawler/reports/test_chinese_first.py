"""The Chinese report formats of the demo say everything in Chinese, at the config's time.

``govmon demo`` writes the report in every format; this test reads the four that clerks read
(report.md, report.csv, the text of report.html, the cell values of report.xlsx) and fails on
any Latin word that is not on the short allow-list below (URLs, host names, check codes,
finding ids, the config's site ids, file names, and a few words that are Latin in Chinese
text too: IPv6, HTTP, AAAA ...) and on any UTC or ISO time (``+00:00``, ``Z``, ``T08:00``).
The JSON report is the machine form and keeps ISO 8601 with its offset.
"""

from __future__ import annotations

import csv
import datetime as dt
import html.parser
import io
import json
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from checks import catalogue
from crawler.demo import run_demo

pytestmark = pytest.mark.timeout(120)

# what may be Latin in a Chinese report: each pattern is removed before looking for words
_URL = r"https?://[\w\-.~:/?#\[\]@!$&'()*+,;=%]+"
_ALLOWED = (
    _URL,
    r"\b[0-9a-f]{16}\b",  # a finding's id
    r"\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+\b",  # a host name (域名：www.district.test)
    r"\b[\w.-]+\.(?:pdf|html?|jpe?g|png|docx?|xlsx?|csv|json|md|txt|toml|db)\b",  # file names
    r"\bgovmon \d+\.\d+\.\d+\b",  # the version line of the HTML report's footer
    r"\b[0-9a-f]*:[0-9a-f:]*:[0-9a-f]*\b",  # an IPv6 address (2001:db8::1)
)
_WORDS = {"IPv6", "IPv4", "HTTP", "AAAA", "TLS", "robots", "URL", "govmon"}
_UTC_OR_ISO = re.compile(
    r"\+00:00|\bUTC\b|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?\b"
)
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9]*")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("chinese-first")
    assert run_demo(out) == 0
    return out


def _site_ids(demo: Path) -> set[str]:
    report = json.loads((demo / "report.json").read_text(encoding="utf-8"))
    return {s["id"] for s in report["sites"]}


class _Text(html.parser.HTMLParser):
    """The text a reader sees on the page (attributes, such as a link's href, are not text)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self._skip += tag in ("style", "script")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def _texts(demo: Path) -> dict[str, list[str]]:
    """The lines a reader reads, per format."""
    out: dict[str, list[str]] = {}
    out["report.md"] = (demo / "report.md").read_text(encoding="utf-8").splitlines()
    with (demo / "report.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    # the header row names each column in Chinese and English, for scripts: not a reader's text
    header = next(i for i, r in enumerate(rows) if r and r[0] == "编号 id")
    out["report.csv"] = [c for i, r in enumerate(rows) if i != header for c in r]
    parser = _Text()
    parser.feed((demo / "report.html").read_text(encoding="utf-8"))
    out["report.html"] = parser.parts
    wb = load_workbook(demo / "report.xlsx")
    out["report.xlsx"] = [
        str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
        if isinstance(c.value, str)
    ]  # fmt: skip
    return out


def offenders(lines: list[str], allowed_words: set[str]) -> list[str]:
    """The lines with a Latin word not allowed, or with a UTC or ISO time."""
    codes = sorted(catalogue.NAMES, key=len, reverse=True)
    bad: list[str] = []
    for line in lines:
        if _UTC_OR_ISO.search(line):
            bad.append(line)
            continue
        rest = line
        for code in codes:
            rest = rest.replace(code, " ")
        for pattern in _ALLOWED:
            rest = re.sub(pattern, " ", rest)
        words = set(_LATIN.findall(rest)) - _WORDS - allowed_words
        if words:
            bad.append(f"{sorted(words)} in: {line}")
    return bad


def test_the_chinese_formats_have_no_english_word_and_no_utc_time(demo: Path) -> None:
    sites = _site_ids(demo)
    for name, lines in _texts(demo).items():
        assert lines, f"{name} is empty"
        bad = offenders(lines, sites)
        assert not bad, f"{name}: English or UTC in {len(bad)} lines:\n" + "\n".join(bad[:10])


def test_the_scanner_sees_what_it_must_refuse() -> None:
    """The scan above would catch the output the issue saw (each line here is one of them)."""
    seen = [
        "开始时间 2026-12-06T23:15:30+00:00",
        "原因: no AAAA record",
        "alias_loads: 否",
        "（private address）",
        '{"reason": "redated_earlier"}',
        "超时 timeout",
        "2020-06-16 08:00:00Z",
        # letter-free: only the UTC/ISO rule catches these
        "开始时间 2026-12-06 23:15:30+00:00",
        "结束时间 2020-06-16 08:00",
    ]
    for line in seen:
        assert offenders([line], set()) == [line] or offenders([line], set())[0].endswith(line)
    fine = [
        "错链断链：页面（HTTP 404 找不到页面），在首页，1 个页面引用",
        "不支持IPv6：域名没有 IPv6 地址（AAAA 记录）",
        "http://www.district.test/fgj/通知.pdf",
        "1c105bf8f6c41484 link.broken 首页：http://www.district.test/；域名：www.district.test",
        "2020年6月16日 08:00",
    ]
    assert offenders(fine, set()) == []


def test_times_are_in_the_configs_zone(demo: Path) -> None:
    """The scan's start, stored in UTC, is shown as a clerk writes it in 北京时间."""
    report = json.loads((demo / "report.json").read_text(encoding="utf-8"))
    started = dt.datetime.fromisoformat(report["scan"]["started_at"])
    assert started.utcoffset() is not None  # the JSON keeps ISO 8601 with its offset
    assert report["scan"]["timezone"] == "Asia/Shanghai"
    local = started.astimezone(ZoneInfo("Asia/Shanghai"))
    written = f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    md = (demo / "report.md").read_text(encoding="utf-8")
    assert f"开始 {written}" in md
    assert "监测时间点：2020年6月16日 00:00" in md
    html_text = " ".join(_texts(demo)["report.html"])
    assert written in html_text


def test_csv_opens_as_chinese_text_in_a_spreadsheet(demo: Path) -> None:
    """Excel and WPS on Chinese Windows read a CSV as UTF-8 only after a byte order mark."""
    data = (demo / "report.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert not data.startswith(b"\xef\xbb\xbf\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][0] == "编号 id"
    assert any("错链断链" in c for r in rows[1:] for c in r)
