"""Reports as files: the report of a scan in a format, written where it was asked for. Used by
``govmon report`` and the demo; apart from :mod:`crawler.service.scans` so that a scan does not
load the report formats' libraries (Jinja2, openpyxl)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from crawler.reports.build import build_report
from crawler.reports.formats import render
from crawler.service.scans import EXIT_FAILURE, EXIT_OK
from storage.open import open_store

__all__ = ["report_bytes", "write_report"]


async def report_bytes(
    db: str, fmt: str, *, scan: str = "latest", compare: str | None = None
) -> bytes:
    """The report of ``scan`` (an id or ``latest``) in the store ``db``, in ``fmt`` (json, csv,
    md, html, xlsx); with ``compare``, what is new, persisting and resolved since that scan.
    Raises :class:`ReportError` for a report that cannot be made as asked, :class:`StoreError`
    for a store that cannot be read."""
    store = await open_store(db, create=False)
    try:
        report = await build_report(store, scan, compare)
    finally:
        await store.close()
    out = render(report, fmt)
    return out.encode("utf-8") if isinstance(out, str) else out


async def write_report(data: bytes, output: str) -> int:
    """Write a report to the file ``output``; the exit status (1, said on stderr, when it
    cannot)."""
    try:
        await asyncio.to_thread(Path(output).write_bytes, data)
    except OSError as exc:
        print(f"govmon: cannot write {output}: {exc.strerror}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK
