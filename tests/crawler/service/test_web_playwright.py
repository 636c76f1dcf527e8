"""The working web view in Chromium, driven by Playwright (Debian's ``/usr/bin/chromium``):
the dashboard with its SVG charts, logging in and marking a false positive with the token,
and a filtered, paged scan page. Each step saves a screenshot (``GOVMON_SCREENSHOTS``, default
a temporary folder) for a person to look at; the tests check the page as Chromium laid it out
(the charts have a size on screen, the verdict changed) and that the PNG is not blank.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.crawler.reports.test_reports_formats import write_scan
from tests.crawler.service.test_web_browser import CHROMIUM, _chromium, read_png, serving
from tests.crawler.service.test_web_work import MINOR, SITES, TOKEN, VETO

async_api = pytest.importorskip("playwright.async_api")

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    _chromium()
    folder = Path(os.environ.get("GOVMON_SCREENSHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _not_blank(png: bytes) -> None:
    width, height, rows, bpp = read_png(png)
    assert width > 100
    assert height > 100
    colours = {
        row[i : i + 3]
        for row in rows[:: max(1, height // 50)]
        for i in range(0, width * bpp, bpp * 7)
    }
    assert len(colours) > 5, "a blank screenshot"


async def _store(tmp_path: Path) -> Path:
    db = tmp_path / "browser.db"
    await write_scan(db, [VETO, MINOR], SITES, as_of="2020-03-16T00:00:00+08:00")
    await write_scan(db, [VETO], SITES, as_of="2020-06-16T00:00:00+08:00")
    return db


async def test_dashboard_ignore_flow_and_filters_in_chromium(tmp_path: Path, shots: Path) -> None:
    db = await _store(tmp_path)
    async with serving(db, TOKEN) as base, async_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM),
                                           args=["--no-sandbox", "--disable-gpu"])  # fmt: skip
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 1000})
            # without a login the view asks for one
            await page.goto(f"{base}/")
            assert "需要令牌" in await page.inner_text("h1")
            await page.click("#login-link")
            await page.fill("#login-name", "王小明")
            await page.fill("#login-token", TOKEN)
            await page.click("#login button[type=submit]")
            await page.wait_for_url(f"{base}/")
            # the dashboard: counts and the charts, laid out with a size
            assert "已登录：王小明" in await page.inner_text("#userbar")
            assert "不合格\n1\n个网站" in await page.inner_text("#verdict-counts")
            box = await page.locator("#score-chart svg").bounding_box()
            assert box is not None
            assert box["width"] > 300
            assert box["height"] > 100
            assert await page.locator("#uptime-chart svg rect").count() == 30
            png = await page.screenshot(path=str(shots / "dashboard.png"), full_page=True)
            _not_blank(png)
            # a site: mark its veto finding a false positive, and see the verdict change
            await page.click("#verdicts a[href$='/sites/a']")
            assert "不合格" in await page.inner_text("#site-verdict")
            row = page.locator(f"tr.finding[data-id='{VETO.identity}']")
            await row.locator("input[name=reason]").fill("栏目已停用，属误报")
            await page.screenshot(path=str(shots / "site-before.png"), full_page=True)
            await row.locator("button").click()
            await page.wait_for_load_state()
            assert (await page.inner_text("#site-verdict")).strip() == "合格"
            assert "栏目已停用，属误报（王小明，网页标记）" in await page.inner_text("#ignored")
            png = await page.screenshot(path=str(shots / "site-after.png"), full_page=True)
            _not_blank(png)
            # a filtered scan page
            await page.goto(f"{base}/scans/2")
            await page.select_option("#site-filters select[name=verdict]", "qualified")
            await page.click("#site-filters button[type=submit]")
            await page.wait_for_url("**verdict=qualified**")
            sites = await page.locator("#verdicts tbody tr").evaluate_all(
                "rows => rows.map(r => r.dataset.site)"
            )
            assert sites == ["a", "b"]  # both qualified now that the veto is ignored
            png = await page.screenshot(path=str(shots / "filtered.png"), full_page=True)
            _not_blank(png)
        finally:
            await browser.close()
