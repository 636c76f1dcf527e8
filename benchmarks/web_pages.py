"""Page sizes of the web view at a province's size: ``python -m benchmarks.web_pages``.

:func:`make_store` writes a store of ``sites`` sites (1,000 by default) in ``units`` units with
four complete scans a quarter apart, a handful of findings per site and a week of availability
samples, through the store's own API. :func:`measure` serves it in-process and returns the size
in bytes of each page a clerk opens first: the dashboard, a scan, a site, the scan list, a
filtered scan page, the comparison of the last two scans and a filtered comparison. Sizes, not
times: they do not depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from checks.base import Finding
from crawler.service.web import make_app
from storage.base import FindingRow, SampleRow
from storage.sqlite import SQLiteStore

__all__ = ["PAGES", "make_store", "measure"]

_CHECKS = (
    ("link.broken", "deduction", {"status": 404, "kind": "page"}),
    ("column.stale", "deduction", {"newest": "2020-01-02", "days_since": 166, "max_age_days": 90}),
    ("content.typo", "deduction", {"text": "中华人民共和国", "suggestion": "中华人民共和国"}),
    ("column.blank", "veto", {"items": 0}),
    ("link.broken", "deduction", {"status": 500, "kind": "attachment"}),
)
TZ = dt.timezone(dt.timedelta(hours=8))
# the pages measured: name -> path
PAGES = {
    "dashboard /": "/",
    "scan /scans/latest": "/scans/latest",
    "site /scans/latest/sites/s0001": "/scans/latest/sites/s0001",
    "scans /scans": "/scans",
    "filtered scan (unqualified, one unit)": "/scans/latest?verdict=unqualified&unit=单位007",
    "compare /scans/4/compare/3": "/scans/4/compare/3",
    "filtered compare (new, one unit)": "/scans/4/compare/3?change=new&unit=单位007",
}


def _sites(count: int, units: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"s{i:04d}",
            "name": f"第{i}号政府网站",
            "unit": f"单位{i % units:03d}",
            "kind": "department",
            "url": f"http://s{i:04d}.gov.test/",
        }
        for i in range(1, count + 1)
    ]


def _findings(sites: list[dict[str, Any]], rng: random.Random) -> list[Finding]:
    out: list[Finding] = []
    for s in sites:
        for n in range(rng.randint(0, 6)):
            code, severity, detail = _CHECKS[rng.randrange(len(_CHECKS))]
            if severity == "veto" and rng.random() < 0.8:
                continue  # few vetoes: most sites stay qualified
            out.append(
                Finding(
                    check=code, site=s["id"], unit=s["unit"], severity=severity,
                    column=f"栏目{n}", url=f"{s['url']}p/{n}.html",
                    page=f"{s['url']}index.html", detail=dict(detail),
                )
            )  # fmt: skip
    return out


async def make_store(db: Path, sites: int = 1000, units: int = 60, seed: int = 7) -> None:
    """A store with four complete scans of ``sites`` sites a quarter apart, and samples."""
    rng = random.Random(seed)
    table = _sites(sites, units)
    store = await SQLiteStore.open(db)
    try:
        for quarter in range(4):
            as_of = dt.datetime(2020, 3 + 3 * quarter, 16, tzinfo=TZ).isoformat()
            await store.begin_scan(
                config_path="province.toml", config_digest=f"{quarter:016d}", as_of=as_of,
                sites=table, settings={"timezone": "Asia/Shanghai"},
            )  # fmt: skip
            for f in _findings(table, rng):
                await store.put(FindingRow(f, as_of))
            await store.finish_scan("complete", 20 * sites, 25 * sites)
        start = dt.datetime(2020, 12, 9, tzinfo=TZ)
        samples = [
            SampleRow(
                site=s["id"], url=s["url"], ok=rng.random() > 0.02, status=200,
                at=(start + dt.timedelta(hours=h)).isoformat(), total_ms=rng.randint(80, 900),
            )
            for s in table[:50]
            for h in range(0, 24 * 7, 6)
        ]  # fmt: skip
        await store.add_samples(samples)
    finally:
        await store.close()


async def measure(db: Path) -> dict[str, int]:
    """Bytes of each page of :data:`PAGES`, served by the web view of ``db``."""
    sizes: dict[str, int] = {}
    async with TestClient(TestServer(make_app(str(db), None))) as client:
        for name, path in PAGES.items():
            async with client.get(path) as resp:
                body = await resp.read()
                sizes[name] = len(body) if resp.status == 200 else -resp.status
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=1000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "province.db"
        asyncio.run(make_store(db, args.sites))
        for name, size in asyncio.run(measure(db)).items():
            print(f"{size:>10,} bytes  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
