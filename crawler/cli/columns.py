"""``govmon columns``: the discovered column tree of each site, as TOML to paste into the config."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

from crawler.cli.common import EXIT_OK, Subparsers, as_of_option, selected_sites
from crawler.config import load_config
from crawler.config.columns_toml import render_columns
from crawler.core import Scan
from crawler.core.logs import ProgressLine
from crawler.service.scans import run_coroutine
from storage.sqlite import SQLiteStore

__all__ = ["add_columns"]


def add_columns(sub: Subparsers) -> None:
    columns = sub.add_parser(
        "columns", help="print the discovered column tree of each site, pasteable into CONFIG"
    )
    columns.add_argument("config")
    columns.add_argument("--site", action="append", default=[], metavar="ID", help="only this site")
    columns.add_argument("--as-of", dest="as_of", metavar="WHEN", help="monitoring time point")
    columns.add_argument(
        "--depth", type=int, default=3, help="how deep to look for columns and their lists (3)"
    )
    columns.set_defaults(run=lambda args: run_coroutine(_columns(args)))


async def _columns(args: argparse.Namespace) -> int:
    """A shallow scan into a temporary store, then the column tree as TOML."""
    config = load_config(args.config)
    sites = selected_sites(config, args.site)
    shallow = dataclasses.replace(config.crawl, max_depth=max(1, args.depth))
    config = dataclasses.replace(config, crawl=shallow)
    progress = ProgressLine()
    with tempfile.TemporaryDirectory(prefix="govmon-columns-") as tmp:
        store = await SQLiteStore.open(Path(tmp) / "columns.db")
        try:
            scan = Scan(config, store, sites=sites, as_of=as_of_option(config, args.as_of),
                        progress=progress)  # fmt: skip
            result = await scan.run()
            rows = await store.columns(result.scan_id)
        finally:
            progress.done()
            await store.close()
    sys.stdout.write(render_columns(sites, rows))
    return EXIT_OK
