"""Reports of a scan: built from the store (:mod:`~crawler.reports.build`), shaped by
:mod:`~crawler.reports.model`, worded in Chinese by :mod:`~crawler.reports.words`, and rendered
one file per format (:mod:`~crawler.reports.formats`: JSON, CSV, Markdown, HTML, XLSX)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler import lazy_api

if TYPE_CHECKING:
    from crawler.reports.build import ReportError, assemble, availability, build_report, comparison
    from crawler.reports.formats import FORMATS, render
    from crawler.reports.htmlpage import environment, report_context
    from crawler.reports.model import FindingEntry, Report
    from crawler.reports.words import CHECK_NAMES, describe

__all__ = [
    "CHECK_NAMES",
    "FORMATS",
    "FindingEntry",
    "Report",
    "ReportError",
    "assemble",
    "availability",
    "build_report",
    "comparison",
    "describe",
    "environment",
    "render",
    "report_context",
]

__getattr__ = lazy_api(__name__, __file__)
