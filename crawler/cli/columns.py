"""``govmon columns``: the discovered column tree of each site, as TOML to paste into the config."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

from crawler.cli.common import (
    EXIT_OK,
    Subparsers,
    as_of_argument,
    as_of_option,
    command,
    config_argument,
    selected_sites,
    site_option,
)
from crawler.config import load_config
from crawler.config.columns_toml import render_columns
from crawler.core import Scan
from crawler.core.logs import ScanProgress
from crawler.service.scans import run_coroutine
from storage.sqlite import SQLiteStore

__all__ = ["add_columns"]


def add_columns(sub: Subparsers) -> None:
    columns = command(
        sub,
        "columns",
        summary="print the discovered column tree of each site, pasteable into CONFIG",
        description="""
            Crawl each site a few links deep (into a temporary store) and print the columns
            (栏目) found, with their list pages, as [[site.column]] tables to paste into the
            config and correct by hand: what the column checks judge.
        """,
        example=(
            (
                "govmon columns govmon.toml --site portal",
                "the columns of the site with id portal, as TOML",
            ),
            (
                "govmon columns govmon.toml --depth 2 >> govmon.toml",
                "a quicker, shallower look, appended to the config to edit there",
            ),
        ),
    )
    config_argument(columns)
    site_option(columns)
    as_of_argument(columns)
    columns.add_argument(
        "--depth",
        type=int,
        default=3,
        metavar="N",
        help="how many links deep to look for columns and their lists (default: %(default)s)",
    )
    columns.set_defaults(run=lambda args: run_coroutine(_columns(args)))


async def _columns(args: argparse.Namespace) -> int:
    """A shallow scan into a temporary store, then the column tree as TOML."""
    config = load_config(args.config)
    sites = selected_sites(config, args.site)
    shallow = dataclasses.replace(config.crawl, max_depth=max(1, args.depth))
    config = dataclasses.replace(config, crawl=shallow)
    progress = ScanProgress()
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
