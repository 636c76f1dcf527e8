"""Golden reports: the demo district's report in every format, compared with committed copies.

A change that alters what a report says, in any format, fails here; a change meant to alter
it regenerates the copies
(``GOVMON_UPDATE_GOLDEN=1 pytest tests/crawler/reports/test_golden_reports.py``) and the diff of
``tests/crawler/reports/golden/`` shows the reader what changed. The scan's clock times (start,
finish, when each finding was observed) are set to fixed values first: they are the only
things that differ between two scans of the recording. XLSX is a zip whose members carry their
own times: its worksheets, shared strings and styles are compared as canonical XML, not the
zip's bytes.
"""

from __future__ import annotations

import io
import os
import sqlite3
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from crawler.cli import main as govmon
from crawler.demo import run_demo

pytestmark = pytest.mark.timeout(120)

GOLDEN = Path(__file__).resolve().parent / "golden" / "demo"
UPDATE = os.environ.get("GOVMON_UPDATE_GOLDEN") == "1"
TEXT_FORMATS = ("json", "md", "csv", "html")
STARTED = "2020-06-16T09:00:00+08:00"
FINISHED = "2020-06-16T09:05:00+08:00"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("golden")
    assert run_demo(out) == 0
    db = out / "govmon.db"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE scans SET started_at = ?, finished_at = ?", (STARTED, FINISHED))
        conn.execute("UPDATE findings SET observed_at = ?", (FINISHED,))
    return db


def _render(db: Path, fmt: str, folder: Path) -> bytes:
    out = folder / f"report.{fmt}"
    assert govmon(["report", "--db", str(db), "--format", fmt, "--output", str(out)]) == 0
    return out.read_bytes()


def _xlsx_parts(data: bytes) -> dict[str, str]:
    """The workbook's parts as canonical XML (C14N): the same workbook written with or without
    lxml installed (openpyxl's serialiser differs: ``<x />`` or ``<x/>``) compares equal."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {
            n: ET.canonicalize(z.read(n).decode("utf-8"))
            for n in sorted(z.namelist())
            if n.startswith("xl/") and n.endswith((".xml", ".rels"))
        }


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_demo_report_is_unchanged(demo_db: Path, fmt: str, tmp_path: Path) -> None:
    got = _render(demo_db, fmt, tmp_path)
    golden = GOLDEN / f"report.{fmt}"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(got)
    assert golden.is_file(), f"{golden} is missing: run with GOVMON_UPDATE_GOLDEN=1"
    assert got == golden.read_bytes(), f"report.{fmt} differs from {golden}"


def test_demo_xlsx_is_unchanged(demo_db: Path, tmp_path: Path) -> None:
    got = _xlsx_parts(_render(demo_db, "xlsx", tmp_path))
    golden = GOLDEN / "report.xlsx"
    if UPDATE:
        golden.write_bytes(_render(demo_db, "xlsx", tmp_path))
    assert golden.is_file(), f"{golden} is missing: run with GOVMON_UPDATE_GOLDEN=1"
    want = _xlsx_parts(golden.read_bytes())
    assert sorted(got) == sorted(want)
    for name, data in want.items():
        assert got[name] == data, f"report.xlsx: {name} differs"
