"""Per-host politeness, judged from the server's own clock.

Each scan starts at a list page of `BULK_PAGES` articles under /bulk/ on the main host (scope:
the whole main site), so it stays small and free of the slow traps.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.cli import main as govmon
from tests.support.govsite import BULK_PAGES, MAIN_IP, GovSite, Hit

pytestmark = pytest.mark.timeout(60)

#: How much earlier than the ideal spacing a request may arrive at the server: both ends share
#: one process (and its GIL), so scheduling jitter of a few milliseconds is expected.
JITTER = 0.3  # how late a loaded machine may handle a request (server-side timestamps)


@pytest.fixture(scope="module")
def site() -> Iterator[GovSite]:
    with GovSite() as running:
        yield running


def scan_bulk(site: GovSite, tmp_path: Path, kind: str, **crawl: object) -> list[Hit]:
    """Scan /bulk/KIND/index.html; the requests the main host served, in order."""
    cfg = tmp_path / "govmon.toml"
    start = site.url("main", f"/bulk/{kind}/index.html")
    cfg.write_text(site.config_toml(site_url=start, **crawl), encoding="utf-8")
    site.clear()
    assert govmon(["scan", str(cfg), "--db", str(tmp_path / "govmon.db")]) == 0
    hits = sorted((h for h in site.requests if h.host == MAIN_IP), key=lambda h: h.t)
    pages = {h.path_qs for h in hits if h.path_qs.startswith(f"/bulk/{kind}/p")}
    assert len(pages) == BULK_PAGES, f"only {len(pages)} of {BULK_PAGES} pages fetched"
    return hits


def test_rate_limit_spaces_requests(site: GovSite, tmp_path: Path) -> None:
    """rate = 5 per second: consecutive requests to the host start >= 0.2 s apart."""
    hits = scan_bulk(site, tmp_path, "fast", rate=5, concurrency=1)
    # The server's clock sees when a request was handled, which a loaded machine delays by up to
    # a tenth of a second or so; such a delay shortens the next gap, but never accumulates. So:
    # every 5 consecutive requests span at least 4 intervals less that jitter (a crawler without
    # the limit sends 5 within a few ms), and the whole crawl keeps the average rate.
    times = [h.t for h in hits]
    windows = [
        (round(times[i + 4] - times[i], 3), hits[i + 4].path_qs) for i in range(len(times) - 4)
    ]
    bursts = [(span, path) for span, path in windows if span < 4 / 5 - JITTER]
    assert bursts == [], f"5 requests within less than 0.8 s: {bursts}"
    assert times[-1] - times[0] >= (len(times) - 1) / 5 - JITTER
    # and the limit is a spacing, not a stall: the whole scan is not much slower than needed
    assert hits[-1].t - hits[0].t < (len(hits) - 1) / 5 + 3.0


def test_concurrency_caps_requests_in_flight(site: GovSite, tmp_path: Path) -> None:
    """concurrency = 2, rate = 0, 8 workers: never more than 2 requests in flight to the host,
    and 2 are used (each page takes 0.3 s, so a serial crawl shows up too)."""
    scan_bulk(site, tmp_path, "slow", rate=0, concurrency=2)
    assert site.max_in_flight(MAIN_IP) == 2
