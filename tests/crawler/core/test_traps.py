"""End-to-end: `govmon scan` against the trap site, then `govmon report --format json`.

The site (tests/support/govsite.py) is a real aiohttp server on loopback addresses; `TARGETS`
there is the table of every link target and the outcome a correct crawler reports for it. One scan
of the whole site is shared by most tests here (module fixture); the robots = "ignore" and bad
config tests run their own.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from crawler.cli import main as govmon
from tests.support.govsite import (
    BLOCKED_TARGETS,
    BROKEN_TARGETS,
    OK_TARGETS,
    PAGES,
    RETRY_AFTER,
    TARGETS,
    TARGETS_BY_NAME,
    GovSite,
    Hit,
    Target,
    UrlKey,
    url_key,
)

pytestmark = pytest.mark.timeout(90)

LINK_CHECKS = ("link.broken", "link.blocked")
ARTICLES = ("news", "notice", "a1", "a2", "a3")
#: a URL each redirecting target's `detail.redirects` must contain
REDIRECTS_VIA: dict[str, tuple[str, str]] = {
    "redirect_to_404": ("main", "/new/notice-gone.html"),
    "redirect_loop": ("main", "/loop/b.html"),
    "soft404_home_redirect": ("redir", "/"),
}


@dataclass(frozen=True)
class Scan:
    site: GovSite
    report: dict[str, Any]
    hits: list[Hit]  # the server log of this scan

    @property
    def link_findings(self) -> list[dict[str, Any]]:
        return [f for f in self.report["findings"] if f["check"] in LINK_CHECKS]

    def findings_for(self, target: Target) -> list[dict[str, Any]]:
        key = self.site.target_key(target)
        return [f for f in self.link_findings if url_key(f["url"]) == key]

    def requests_for(self, target: Target) -> list[Hit]:
        return self.site.requests_for(target, self.hits)


def run_scan(site: GovSite, folder: Path, config: str) -> tuple[dict[str, Any], list[Hit]]:
    """`govmon scan` then `govmon report --format json`; the report and this scan's hits."""
    cfg = folder / "govmon.toml"
    cfg.write_text(config, encoding="utf-8")
    db = folder / "govmon.db"
    out = folder / "report.json"
    before = len(site.requests)
    assert govmon(["scan", str(cfg), "--db", str(db)]) == 0
    hits = site.requests[before:]
    assert govmon(["report", "--db", str(db), "--format", "json", "--output", str(out)]) == 0
    report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return report, hits


@pytest.fixture(scope="module")
def site() -> Iterator[GovSite]:
    with GovSite() as running:
        yield running


@pytest.fixture(scope="module")
def scan(site: GovSite, tmp_path_factory: pytest.TempPathFactory) -> Scan:
    report, hits = run_scan(site, tmp_path_factory.mktemp("traps"), site.config_toml())
    return Scan(site, report, hits)


def describe(findings: list[dict[str, Any]]) -> str:
    return json.dumps(findings, ensure_ascii=False, indent=1)[:3000]


def page_keys(site: GovSite, pages: tuple[str, ...]) -> set[UrlKey]:
    return {url_key(site.page_url(p)) for p in pages}


# ---------------------------------------------------------------------------------------------
# the report


def test_scan_completes(scan: Scan) -> None:
    assert scan.report["scan"]["status"] == "complete"
    assert isinstance(scan.report["findings"], list)
    assert scan.link_findings, "no link finding at all: the site is full of broken links"


@pytest.mark.parametrize("target", BROKEN_TARGETS, ids=lambda t: t.name)
def test_broken_target_reported(scan: Scan, target: Target) -> None:
    kind, reason = target.kind, target.reason
    assert kind is not None
    assert reason is not None
    found = scan.findings_for(target)
    assert len(found) == 1, f"{target.name}: want one finding for {scan.site.target_url(target)}"
    finding = found[0]
    detail = finding["detail"]
    assert finding["check"] == "link.broken", describe(found)
    assert finding["severity"] == "deduction"
    assert finding["site"] == "main"
    assert detail["kind"] == kind, describe(found)
    assert detail["reason"] == reason, describe(found)
    assert detail["on_homepage"] is target.on_homepage, describe(found)
    expected_pages = page_keys(scan.site, target.linked_from)
    assert {url_key(p) for p in detail["pages"]} == expected_pages, describe(found)
    assert len(detail["pages"]) == len(expected_pages), "a page listed twice"
    assert detail["pages"] == sorted(detail["pages"])
    assert url_key(finding["page"]) in expected_pages
    if reason.startswith("http "):
        assert detail["status"] == int(reason.removeprefix("http ")), describe(found)
    elif reason in ("dns", "connect", "tls", "timeout"):
        assert detail["status"] is None, describe(found)
    elif reason == "soft-404":
        assert detail["status"] == 200, describe(found)
    if target.name in REDIRECTS_VIA:
        host, path = REDIRECTS_VIA[target.name]
        chain = {url_key(u) for u in detail["redirects"]}
        assert url_key(scan.site.url(host, path)) in chain, describe(found)


@pytest.mark.parametrize("target", BLOCKED_TARGETS, ids=lambda t: t.name)
def test_blocked_target_reported_as_blocked(scan: Scan, target: Target) -> None:
    found = scan.findings_for(target)
    assert len(found) == 1, f"{target.name}: want one finding, got {describe(found)}"
    finding = found[0]
    assert finding["check"] == "link.blocked", describe(found)
    assert finding["severity"] == "info"
    assert finding["detail"]["reason"] == target.reason, describe(found)
    assert finding["detail"]["on_homepage"] is target.on_homepage
    expected_pages = page_keys(scan.site, target.linked_from)
    assert {url_key(p) for p in finding["detail"]["pages"]} == expected_pages


@pytest.mark.parametrize("target", OK_TARGETS, ids=lambda t: t.name)
def test_ok_target_not_reported(scan: Scan, target: Target) -> None:
    assert scan.findings_for(target) == []
    requested = scan.requests_for(target)
    if target.fetch == "yes":
        assert requested, f"{scan.site.target_url(target)} was never requested"
    elif target.fetch == "no":
        assert requested == []


def test_every_link_finding_is_expected(scan: Scan) -> None:
    """No finding outside the table (a mojibake URL, the redirect's end, robots.txt ...)."""
    expected = {
        scan.site.target_key(t): ("link.broken" if t.outcome == "broken" else "link.blocked")
        for t in (*BROKEN_TARGETS, *BLOCKED_TARGETS)
    }
    unexpected = [f for f in scan.link_findings if expected.get(url_key(f["url"])) != f["check"]]
    assert unexpected == [], describe(unexpected)


def test_one_finding_per_target(scan: Scan) -> None:
    counts = Counter(url_key(f["url"]) for f in scan.link_findings)
    assert [k for k, n in counts.items() if n > 1] == []


# ---------------------------------------------------------------------------------------------
# what the server saw


def test_failures_were_rechecked(scan: Scan) -> None:
    """Every failure observable by the server was requested at least twice before reporting."""
    once = {
        t.name: len(scan.requests_for(t))
        for t in BROKEN_TARGETS
        if t.fetch == "yes" and len(scan.requests_for(t)) < 2
    }
    assert once == {}, f"reported broken after fewer than two requests: {once}"


def test_retry_after_honoured(scan: Scan) -> None:
    hits = sorted(scan.requests_for(TARGETS_BY_NAME["once_429"]), key=lambda h: h.t)
    assert len(hits) >= 2, "the 429 was not retried"
    assert hits[1].t - hits[0].t >= RETRY_AFTER - 0.05, "retried before Retry-After"
    assert len(scan.requests_for(TARGETS_BY_NAME["once_503"])) >= 2, "the 503 was not retried"


def test_head_refusals_fall_back_to_get(scan: Scan) -> None:
    for name in ("head_405", "head_404"):
        methods = [h.method for h in scan.requests_for(TARGETS_BY_NAME[name])]
        assert "GET" in methods, f"{name}: {methods}"


def test_chinese_path_fetched_exactly_once(scan: Scan) -> None:
    """Linked raw from the GBK page and percent-encoded from a UTF-8 page: one URL."""
    hits = scan.requests_for(TARGETS_BY_NAME["chinese_path"])
    assert len(hits) == 1, hits


def test_gbk_query_sent_in_gbk(scan: Scan) -> None:
    """The query of a link on a GBK page goes out GBK-percent-encoded (%D6%D0%CE%C4)."""
    assert scan.requests_for(TARGETS_BY_NAME["gbk_query"]), "never requested as GBK"
    searches = [h for h in scan.hits if h.host == "127.0.0.1" and h.path_qs.startswith("/search")]
    wrong = [h.path_qs for h in searches if h.path_qs.upper() != "/SEARCH?Q=%D6%D0%CE%C4"]
    assert wrong == []


def test_mislabelled_pages_decoded_right(scan: Scan) -> None:
    """Pages whose <meta> says gb2312 but whose header or BOM says UTF-8 (the header and the
    BOM win): their raw Chinese links are found and requested as UTF-8."""
    for name in ("chinese_catalog", "chinese_guide"):
        assert scan.requests_for(TARGETS_BY_NAME[name]), f"{name}: link not found (mojibake?)"
    assert [h.path_qs for h in scan.hits if h.host == "127.0.0.1" and not _utf8_path(h)] == []


def _utf8_path(hit: Hit) -> bool:
    try:
        unquote(hit.path_qs.partition("?")[0], errors="strict")
    except UnicodeDecodeError:
        return False
    return True


def test_non_http_links_never_requested(scan: Scan) -> None:
    paths = [unquote(h.path_qs).lower() for h in scan.hits]
    for marker in ("mailto:", "tel:", "javascript:", "void(0)", "xxgk@", "0750-12345678", "#"):
        assert [p for p in paths if marker in p] == [], marker
    for page in ARTICLES:  # a3 links "#top": the page itself, not another URL
        gets = [h for h in scan.hits if h.method == "GET" and h.path_qs == PAGES[page]]
        assert len(gets) == 1, f"{page} fetched {len(gets)} times"


def test_robots_obeyed(scan: Scan) -> None:
    assert [h for h in scan.hits if h.path_qs == "/robots.txt"], "robots.txt never read"
    assert scan.requests_for(TARGETS_BY_NAME["robots_private"]) == []


def test_robots_ignored(site: GovSite, tmp_path: Path) -> None:
    config = site.config_toml(site_url=site.page_url("mini"), robots="ignore")
    report, hits = run_scan(site, tmp_path, config)
    secret = TARGETS_BY_NAME["robots_private"]
    assert site.requests_for(secret, hits), "robots = ignore, yet /private/ not requested"
    key = site.target_key(secret)
    found = [
        f for f in report["findings"] if f["check"] in LINK_CHECKS and url_key(f["url"]) == key
    ]
    assert len(found) == 1, describe(report["findings"])
    assert found[0]["check"] == "link.broken"
    assert found[0]["detail"]["reason"] == "http 404"
    assert found[0]["detail"]["kind"] == "page"
    assert found[0]["detail"]["on_homepage"] is True  # the mini page is this site's home page
    assert [url_key(p) for p in found[0]["detail"]["pages"]] == [url_key(site.page_url("mini"))]


# ---------------------------------------------------------------------------------------------
# bad configs: exit 2, the message names the file and the key, nothing is fetched

SECOND_SITE = """
[[site]]
id = "main"
name = "重复站点"
kind = "department"
url = "http://127.0.0.1:9/other/"
"""


def _bad_config(site: GovSite, case: str) -> str:
    if case == "unknown_key":
        return site.config_toml(timout=2)
    if case == "wrong_type":
        return site.config_toml(timeout="fast")
    if case == "duplicate_site_id":
        return site.config_toml() + SECOND_SITE
    if case == "non_http_url":
        return site.config_toml(site_url="ftp://127.0.0.1/pub/")
    raise AssertionError(case)


@pytest.mark.parametrize(
    ("case", "key"),
    [
        ("unknown_key", "timout"),
        ("wrong_type", "timeout"),
        ("duplicate_site_id", "id"),
        ("non_http_url", "url"),
    ],
)
def test_bad_config_exits_2(
    site: GovSite, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, key: str
) -> None:
    cfg = tmp_path / f"bad-{case}.toml"
    cfg.write_text(_bad_config(site, case), encoding="utf-8")
    before = len(site.requests)
    capsys.readouterr()
    status = govmon(["scan", str(cfg), "--db", str(tmp_path / "govmon.db")])
    err = capsys.readouterr().err
    assert status == 2
    assert cfg.name in err, err
    assert re.search(rf"(?<![A-Za-z_]){key}(?![A-Za-z_])", err), err
    assert site.requests[before:] == [], "a bad config started a scan"


def test_table_is_consistent() -> None:
    """Every target is linked from some page and names are unique (guards the fixture)."""
    assert len({t.name for t in TARGETS}) == len(TARGETS)
    for target in TARGETS:
        assert target.linked_from, target.name
        assert all(page in PAGES for page in target.linked_from), target.name
