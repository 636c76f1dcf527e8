"""Hostile servers: every scan completes within its limits, with bounded memory, gives each
hostile target a sensible finding, and still checks the rest of the site.

The servers are real (tests/support/hostile.py: raw asyncio on 127.0.0.1). Each case is one
`govmon scan` (in this process, `crawler.cli.main`) of a small normal site whose home page links
the case's hostile target(s); the limits of the test config are small (`BASE_CRAWL`: 1 s timeout,
256 KiB bodies, 40 pages, depth 4). Around every scan the test samples this process's resident
memory and asserts how much it grew (`RSS_GROWTH_MB`), and asserts how long the scan took
(`SCAN_BUDGET`).

What a sensible result is, case by case:

==================== ===========================================================================
drip                 `link.broken` reason `timeout` (the whole-response timeout, not a read
                     timeout: a byte a second never trips a per-read timer)
endless, big         the page is read up to `max_body` (bytes == max_body), parsed, and the link
                     in its first bytes followed; no finding; the server sends megabytes, not GBs
big_attachment       a checked (not crawled) 1 GiB PDF whose HEAD is refused: a GET reads a
                     prefix only; no finding
gzip_bomb(_attach.)  as endless/big, and memory stays bounded while GBs wait to be inflated
bad_gzip, broken_chunked, reset, short_body, endless_headers, many_headers
                     `link.broken` reason `body`: the response could not be read
redirects            a chain of 50: `link.broken` reason `too many redirects`, after
                     `max_redirects` + 1 requests per attempt
slow_redirects       the same chain, each hop 0.4 s: `link.broken` reason `timeout`, because the
                     timeout bounds the whole response, redirects included
redirect_private     links that redirect into the network (127.0.0.2, its IPv4-mapped IPv6 form,
                     `localhost`) with `allow_private` off: never connected, `link.blocked`
                     reason `private address`
calendar, deep       crawler traps: `max_pages` / `max_depth` hold, nothing reported
session              `;jsessionid=` in every link: one URL per page, every page of the site
                     crawled once, one finding for the one broken link
million              a million links on one page: only what `max_body` holds is read and checked
malformed, charsets, binary
                     read without an internal error (`check.error`), links a browser would
                     follow are followed (a charset label naming a Python codec that is no web
                     charset, such as rot13 or punycode, included)
silent               accepts and never answers: `link.broken` reason `timeout` (external)
==================== ===========================================================================

Set `GOVMON_HOSTILE_REPORT=FILE` to append one JSON line per case (time, memory, findings).
"""

from __future__ import annotations

import json
import os
import re
import resource
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import psutil
import pytest

from crawler.cli import main as govmon
from tests.support.hostile import (
    CALENDAR_START,
    CHARSETS,
    MILLION,
    MISSING,
    NORMAL_PAGES,
    REDIRECT_CHAIN,
    SESSION_CHAIN,
    SESSION_NAV,
    HostileServer,
    Served,
    charset_pages,
    crawl_settings,
)

pytestmark = pytest.mark.timeout(60)

MIB = 1 << 20
RSS_GROWTH_MB = 40  # a scan may grow this process's resident memory by at most this much
SCAN_BUDGET = 10.0  # seconds a case's scan may take (1 s timeouts; the slowest needs ~3 s)
SERVER_SENT_MAX = 16 * MIB  # what a capped body may cost the server (socket buffers included)
TIMEOUT_SLACK = 0.75  # seconds a timed-out request may outlive the configured timeout

LINK_CHECKS = ("link.broken", "link.blocked")
_SESSION = re.compile(r";jsessionid=[^/?#]*", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# measuring


class PeakRss:
    """The peak resident memory of this process while the block runs.

    A thread samples RSS every 2 ms; ``ru_maxrss`` (the kernel's own high-water mark) also
    counts when it rose during the block, so a spike between two samples is not missed.
    """

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self.base = 0
        self.peak = 0
        self._maxrss_before = 0

    def __enter__(self) -> PeakRss:
        self.base = self.peak = int(self._process.memory_info().rss)
        self._maxrss_before = _maxrss()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(5)
        after = _maxrss()
        if after > self._maxrss_before:
            self.peak = max(self.peak, after)

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, int(self._process.memory_info().rss))

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.base) / MIB


def _maxrss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


# ---------------------------------------------------------------------------------------------
# one case's scan


@dataclass(frozen=True)
class Outcome:
    case: str
    server: HostileServer
    status: int
    elapsed: float
    growth_mb: float
    report: dict[str, Any]
    pages: dict[str, tuple[int | None, str | None, int, int]]  # url -> status, error, bytes, depth
    served: list[Served]  # this scan's requests to the case's site
    silent: list[Served]  # this scan's connections to the silent listener
    private: list[Served]  # this scan's connections to the address inside the network

    @property
    def settings(self) -> dict[str, Any]:
        return crawl_settings(self.case)

    @property
    def findings(self) -> list[dict[str, Any]]:
        return list(self.report["findings"])

    def url(self, rest: str) -> str:
        return self.server.url(f"/{self.case}/{rest}")

    def findings_for(self, rest: str) -> list[dict[str, Any]]:
        want = self.url(rest)
        return [f for f in self.findings if f["check"] in LINK_CHECKS and _strip(f["url"]) == want]

    def page(self, rest: str) -> tuple[int | None, str | None, int, int] | None:
        return self.pages.get(self.url(rest))

    def requests_to(self, rest: str) -> list[Served]:
        want = f"/{self.case}/{rest}"
        return [s for s in self.served if _strip(s.target) == want]

    def describe(self) -> str:
        return json.dumps(
            {"findings": self.findings, "pages": sorted(self.pages)}, ensure_ascii=False
        )[:4000]


def _strip(url: str) -> str:
    return _SESSION.sub("", url)


def _read_pages(db: Path) -> dict[str, tuple[int | None, str | None, int, int]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT url, status, error, bytes, depth FROM pages").fetchall()
    return {_strip(str(r[0])): (r[1], r[2], int(r[3]), int(r[4])) for r in rows}


def run_case(server: HostileServer, folder: Path, case: str) -> Outcome:
    cfg = folder / f"{case}.toml"
    cfg.write_text(server.config_toml(case), encoding="utf-8")
    db = folder / f"{case}.db"
    out = folder / f"{case}.json"
    mark = len(server.log())
    with PeakRss() as rss:
        started = time.monotonic()
        status = govmon(["--log-level", "error", "scan", str(cfg), "--db", str(db)])
        elapsed = time.monotonic() - started
    assert govmon(["report", "--db", str(db), "--format", "json", "--output", str(out)]) == 0
    outcome = Outcome(
        case=case,
        server=server,
        status=status,
        elapsed=elapsed,
        growth_mb=rss.growth_mb,
        report=json.loads(out.read_text(encoding="utf-8")),
        pages=_read_pages(db),
        served=server.served(case, mark),
        silent=server.silent_connections(mark),
        private=server.private_connections(mark),
    )
    _log_outcome(outcome)
    return outcome


def _log_outcome(o: Outcome) -> None:
    target = os.environ.get("GOVMON_HOSTILE_REPORT")
    if not target:
        return
    line = {
        "case": o.case,
        "seconds": round(o.elapsed, 2),
        "rss_growth_mb": round(o.growth_mb, 1),
        "pages": len(o.pages),
        "requests": len(o.served) + len(o.silent) + len(o.private),
        "server_sent_bytes": sum(s.sent for s in o.served),
        "findings": sorted(
            f"{f['check']} {_strip(f['url']).split('/', 3)[-1]} {f['detail'].get('reason', '')}"
            for f in o.findings
        ),
    }
    with Path(target).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, ensure_ascii=False) + "\n")


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer() as running:
        yield running


@pytest.fixture(scope="module")
def warmed(server: HostileServer, tmp_path_factory: pytest.TempPathFactory) -> HostileServer:
    """One scan first, so that imports and lexicons are not counted as a case's growth."""
    run_case(server, tmp_path_factory.mktemp("warm"), "plain")
    return server


@pytest.fixture
def scan(warmed: HostileServer, tmp_path: Path) -> Callable[[str], Outcome]:
    def run(case: str) -> Outcome:
        outcome = run_case(warmed, tmp_path, case)
        assert_contained(outcome)
        assert_rest_of_site_checked(outcome)
        return outcome

    return run


# ---------------------------------------------------------------------------------------------
# what holds for every case


def assert_contained(o: Outcome) -> None:
    """The scan finished, in time, within its limits and its memory bound, without a bug."""
    assert o.status == 0, f"{o.case}: govmon scan exited {o.status}"
    assert o.report["scan"]["status"] == "complete"
    assert o.elapsed < SCAN_BUDGET, f"{o.case}: the scan took {o.elapsed:.1f}s"
    assert o.growth_mb < RSS_GROWTH_MB, f"{o.case}: RSS grew {o.growth_mb:.0f} MB"
    assert len(o.pages) <= o.settings["max_pages"], f"{o.case}: {len(o.pages)} pages"
    assert all(depth <= o.settings["max_depth"] for *_, depth in o.pages.values())
    errors = [f for f in o.findings if f["check"] == "check.error"]
    assert errors == [], f"{o.case}: internal errors: {json.dumps(errors, ensure_ascii=False)}"
    broken = [s.how for s in o.served if s.how.startswith("server error")]
    assert broken == [], f"{o.case}: the test server itself failed: {broken}"
    lingering = [s for s in o.served if s.duration > SCAN_BUDGET]
    assert lingering == [], f"{o.case}: connections outlived the scan: {lingering}"


def assert_rest_of_site_checked(o: Outcome) -> None:
    """Every normal page was crawled, and the site's ordinary broken link was reported."""
    for rest in NORMAL_PAGES:
        page = o.page(rest)
        assert page is not None, f"{o.case}: normal page /{rest} not crawled\n{o.describe()}"
        assert page[:2] == (200, None), f"{o.case}: /{rest}: {page}"
    missing = o.findings_for(MISSING)
    assert len(missing) == 1, f"{o.case}: want one finding for {MISSING}\n{o.describe()}"
    assert missing[0]["check"] == "link.broken"
    assert missing[0]["detail"]["reason"] == "http 404"


def assert_broken(
    o: Outcome, rest: str, reason: str | tuple[str, ...], kind: str = "page"
) -> dict[str, Any]:
    """One `link.broken` finding for /rest, for ``reason`` (or one of them)."""
    found = o.findings_for(rest)
    assert len(found) == 1, f"{o.case}: want one finding for /{rest}\n{o.describe()}"
    finding = found[0]
    assert finding["check"] == "link.broken", o.describe()
    reasons = (reason,) if isinstance(reason, str) else reason
    assert finding["detail"]["reason"] in reasons, o.describe()
    assert finding["detail"]["kind"] == kind, o.describe()
    assert finding["detail"]["on_homepage"] is True
    return finding


def assert_capped_page(o: Outcome, rest: str, after: str) -> None:
    """Read up to `max_body`, parsed, its first link followed, not reported."""
    page = o.page(rest)
    assert page is not None, o.describe()
    status, error, size, _ = page
    assert (status, error) == (200, None), page
    assert size == o.settings["max_body"], f"{o.case}: read {size} bytes"
    assert o.findings_for(rest) == [], o.describe()
    followed = o.page(after)
    assert followed is not None, f"{o.case}: the link at the top of /{rest} not followed"
    assert followed[:2] == (200, None), followed


def server_sent(o: Outcome, rest: str) -> int:
    return sum(s.sent for s in o.requests_to(rest))


# ---------------------------------------------------------------------------------------------
# the cases


def test_peak_rss_sees_a_short_spike() -> None:
    """The memory probe itself: 64 MiB held for 50 ms and freed is seen."""
    with PeakRss() as rss:
        block = b"x" * (64 * MIB)  # written, so resident
        time.sleep(0.05)
        del block
    assert rss.growth_mb >= 56, rss.growth_mb


def test_plain_site_is_the_control(scan: Callable[[str], Outcome]) -> None:
    o = scan("plain")
    assert {_strip(f["url"]) for f in o.findings if f["check"] in LINK_CHECKS} == {o.url(MISSING)}
    assert len(o.pages) == len(NORMAL_PAGES) + 1  # + the 404 page itself


def test_drip_hits_the_whole_response_timeout(scan: Callable[[str], Outcome]) -> None:
    o = scan("drip")
    finding = assert_broken(o, "drip.html", "timeout")
    assert finding["detail"]["status"] in (None, 200)
    gets = o.requests_to("drip.html")
    assert len(gets) == 2, gets  # the first try and the confirming re-check
    limit = o.settings["timeout"] + TIMEOUT_SLACK
    assert all(g.duration < limit for g in gets), [g.duration for g in gets]
    assert all(g.how == "client gone" for g in gets), gets


def test_endless_body_is_capped(scan: Callable[[str], Outcome]) -> None:
    o = scan("endless")
    assert_capped_page(o, "endless.html", "after-endless.html")
    assert server_sent(o, "endless.html") < SERVER_SENT_MAX
    assert all(s.how == "client gone" for s in o.requests_to("endless.html"))


def test_one_gigabyte_body_is_not_read(scan: Callable[[str], Outcome]) -> None:
    o = scan("big")
    assert_capped_page(o, "big.html", "after-big.html")
    sent = server_sent(o, "big.html")
    assert sent < SERVER_SENT_MAX, f"the crawler read {sent / MIB:.0f} MB of a 1 GiB body"


def test_one_gigabyte_attachment_read_as_a_prefix(scan: Callable[[str], Outcome]) -> None:
    o = scan("big_attachment")
    methods = [s.method for s in o.requests_to("big.pdf")]
    assert methods == ["HEAD", "GET"], methods
    assert o.findings_for("big.pdf") == [], o.describe()
    assert o.page("big.pdf") is None  # checked, not crawled
    assert server_sent(o, "big.pdf") < SERVER_SENT_MAX


def test_gzip_bomb_page_memory_bounded(scan: Callable[[str], Outcome]) -> None:
    o = scan("gzip_bomb")
    assert_capped_page(o, "bomb.html", "after-bomb.html")
    # a MiB of spaces is ~1 KB compressed: the crawler inflated a few MB at most
    assert server_sent(o, "bomb.html") < MIB


def test_gzip_bomb_attachment_memory_bounded(scan: Callable[[str], Outcome]) -> None:
    o = scan("gzip_bomb_attachment")
    assert [s.method for s in o.requests_to("bomb.doc")] == ["HEAD", "GET"]
    assert o.findings_for("bomb.doc") == [], o.describe()
    assert server_sent(o, "bomb.doc") < MIB


@pytest.mark.parametrize(
    ("case", "rest"),
    [
        ("bad_gzip", "badgzip.html"),
        ("broken_chunked", "chunked.html"),
        ("reset", "reset.html"),
        ("short_body", "short.html"),
        ("endless_headers", "headers.html"),
        ("many_headers", "headers.html"),
    ],
)
def test_unreadable_response_is_broken_body(
    scan: Callable[[str], Outcome], case: str, rest: str
) -> None:
    o = scan(case)
    # aiohttp 3.14 raises on a bad chunk size only when it arrives in the same read as the
    # chunk before it; arriving later, the response hangs until the timeout (both seen here,
    # depending on how the two writes reach the socket): either is an honest "broken"
    assert_broken(o, rest, ("body", "timeout") if case == "broken_chunked" else "body")
    requests = o.requests_to(rest)
    assert len(requests) == 2, requests  # the first try and the confirming re-check
    assert server_sent(o, rest) < SERVER_SENT_MAX


def test_redirect_chain_of_fifty(scan: Callable[[str], Outcome]) -> None:
    o = scan("redirects")
    finding = assert_broken(o, "r/0.html", "too many redirects")
    hops = o.settings["max_redirects"] + 1
    assert len(finding["detail"]["redirects"]) == hops, finding
    chain = [s for s in o.served if s.path.startswith("/redirects/r/")]
    assert len(chain) == 2 * hops, len(chain)  # each of the two tries stops at the limit
    assert o.requests_to(f"r/{REDIRECT_CHAIN}.html") == []


def test_slow_redirect_chain_is_one_response(scan: Callable[[str], Outcome]) -> None:
    """The timeout bounds the whole response, redirects included: a chain of hops that each
    answer within the timeout must not add up to `max_redirects` + 1 timeouts."""
    o = scan("slow_redirects")
    assert_broken(o, "r/0.html", "timeout")
    limit = o.settings["timeout"] + TIMEOUT_SLACK
    chain = sorted(
        (s for s in o.served if s.path.startswith("/slow_redirects/r/")), key=lambda s: s.started
    )
    starts = [s.started for s in chain if s.path == "/slow_redirects/r/0.html"]
    assert len(starts) == 2, starts  # the first try and the confirming re-check
    for begin, end in zip(starts, [*starts[1:], float("inf")], strict=True):
        hops = [s for s in chain if begin <= s.started < end]
        span = max(s.ended or s.started for s in hops) - begin
        assert span < limit, f"one fetch took {span:.1f}s over {len(hops)} hops"


def test_endless_calendar_is_bounded(scan: Callable[[str], Outcome]) -> None:
    o = scan("calendar")
    calendar = [url for url in o.pages if "/cal/" in url]
    assert calendar, "the calendar was not crawled at all"
    assert o.findings_for(f"cal/?date={CALENDAR_START}") == []
    assert not [f for f in o.findings if "/cal/" in f["url"]], o.describe()
    requested = {s.target for s in o.served if s.path == "/calendar/cal/"}
    # crawled pages, plus at most one check per link (six) of each crawled calendar page
    assert len(requested) <= len(calendar) * 7, len(requested)


def test_session_ids_do_not_multiply_pages(scan: Callable[[str], Outcome]) -> None:
    """`;jsessionid=` in every link: each page is one URL, crawled once; the site is whole."""
    o = scan("session")
    real = list(NORMAL_PAGES) + [f"c/{i}.html" for i in range(1, SESSION_CHAIN + 1)]
    real += [f"n/{i}.html" for i in range(1, SESSION_NAV + 1)]
    not_crawled = [rest for rest in real if o.page(rest) is None]
    assert not_crawled == [], f"pages never crawled: {not_crawled}"
    fetched = {rest: len([s for s in o.requests_to(rest) if s.method == "GET"]) for rest in real}
    assert {rest: n for rest, n in fetched.items() if n != 1} == {}, fetched
    missing = [f for f in o.findings if f["check"] in LINK_CHECKS and MISSING in f["url"]]
    assert len(missing) == 1, f"{len(missing)} findings for one broken link"


def test_ever_deeper_paths_stop_at_max_depth(scan: Callable[[str], Outcome]) -> None:
    o = scan("deep")
    depth = o.settings["max_depth"]
    levels = [s.path.count("a/") for s in o.served if s.path.startswith("/deep/deep/")]
    assert levels, "the deep path was not followed"
    # /deep/deep/ is at depth 1, so the deepest crawled page holds max_depth - 1 "a/" and its
    # one link beyond max_depth is checked, not crawled
    assert max(levels) == depth, levels
    assert not [f for f in o.findings if "/deep/deep/" in f["url"]], o.describe()


def test_million_links_read_only_within_max_body(scan: Callable[[str], Outcome]) -> None:
    o = scan("million")
    max_body = o.settings["max_body"]
    page = o.page("million.html")
    assert page is not None
    assert page[:3] == (200, None, max_body), page
    shortest = len('<li><a href="/million/m/0.html">0</a></li>')
    linked = {s.path for s in o.served if s.path.startswith("/million/m/")}
    assert 0 < len(linked) <= max_body // shortest, len(linked)
    assert server_sent(o, "million.html") < SERVER_SENT_MAX
    assert len(linked) < MILLION


def test_malformed_html_still_read(scan: Callable[[str], Outcome]) -> None:
    o = scan("malformed")
    page = o.page("malformed.html")
    assert page is not None
    assert page[:2] == (200, None)
    for n in (1, 2, 3, 4):
        assert o.page(f"mal/{n}.html") is not None, f"mal/{n}.html not followed\n{o.describe()}"
    assert o.findings_for("malformed.html") == []
    unwanted = [s.target for s in o.served if "nowhere" in s.target]
    assert unwanted == [], "a link inside a comment was followed"


def test_invalid_bytes_in_every_charset(scan: Callable[[str], Outcome]) -> None:
    o = scan("charsets")
    assert len(charset_pages("charsets")) == 2 * len(CHARSETS)
    problems = []
    for path, _label in charset_pages("charsets"):
        rest = path.removeprefix("/charsets/")
        page = o.page(rest)
        if page is None or page[:2] != (200, None):
            problems.append(f"{rest}: {page}")
            continue
        if o.page(rest.removesuffix(".html") + "-ok.html") is None:
            problems.append(f"{rest}: its link was not found")
    assert problems == [], problems


def test_binary_served_as_html(scan: Callable[[str], Outcome]) -> None:
    o = scan("binary")
    page = o.page("binary.html")
    assert page is not None
    assert page[:2] == (200, None), page
    assert o.findings_for("binary.html") == []


def test_server_that_never_answers(scan: Callable[[str], Outcome]) -> None:
    o = scan("silent")
    url = o.server.silent_url
    found = [f for f in o.findings if f["url"] == url]
    assert len(found) == 1, o.describe()
    assert found[0]["check"] == "link.broken"
    assert found[0]["detail"]["reason"] == "timeout"
    assert found[0]["detail"]["kind"] == "external"
    assert 2 <= len(o.silent) <= 4, o.silent  # HEAD, GET, and the re-check
    limit = o.settings["timeout"] + TIMEOUT_SLACK
    assert all(c.duration < limit for c in o.silent), [c.duration for c in o.silent]


def test_redirects_into_the_network_are_not_followed(scan: Callable[[str], Outcome]) -> None:
    """A compromised site's links redirect to an address inside the network (an IP literal,
    an IPv4-mapped IPv6 literal, a name that resolves to loopback): with allow_private off,
    nothing connects there, and each link is reported as blocked."""
    o = scan("redirect_private")
    connections = [(c.method, c.target) for c in o.private]
    assert connections == [], f"the crawler connected inside the network: {connections}"
    for name in o.server.private_urls():
        found = o.findings_for(name)
        assert len(found) == 1, f"{name}: want one finding\n{o.describe()}"
        assert found[0]["check"] == "link.blocked", f"{name}: {found[0]}"
        assert found[0]["detail"]["reason"] == "private address", f"{name}: {found[0]}"
    direct = o.server.private_urls()["go-literal.html"].replace("/latest/", "/direct/")
    found = [f for f in o.findings if f["url"] == direct]
    assert [f["detail"]["reason"] for f in found] == ["private address"], o.describe()
