"""Every report format, by name: ``govmon report --format`` and the web view's downloads."""

from __future__ import annotations

import json

from crawler.reports.csvformat import render_csv
from crawler.reports.htmlpage import render_html
from crawler.reports.markdown import render_markdown
from crawler.reports.model import Report
from crawler.reports.xlsx import render_xlsx

__all__ = ["FORMATS", "render"]

FORMATS = ("json", "csv", "md", "html", "xlsx")


def render(report: Report, fmt: str) -> str | bytes:
    """``report`` in ``fmt`` (one of :data:`FORMATS`): text, or bytes for XLSX."""
    if fmt == "json":
        return json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return render_csv(report)
    if fmt == "md":
        return render_markdown(report)
    if fmt == "html":
        return render_html(report)
    if fmt == "xlsx":
        return render_xlsx(report)
    raise ValueError(f"unknown format {fmt!r}")
