"""``/metrics`` and ``/healthz`` from a real server on 127.0.0.1, the exposition text parsed."""

from __future__ import annotations

import json
import math
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from checks.base import Finding
from crawler.service.metrics import (
    CONTENT_TYPE,
    Counter,
    Gauge,
    Histogram,
    Metrics,
    MetricsServer,
    format_value,
)
from storage.base import SampleRow

pytestmark = pytest.mark.timeout(60)

# ---------------------------------------------------------------------------------------------
# a strict parser of the text exposition format (0.0.4)

_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})? (?P<value>\S+)$")
_PAIR = re.compile(r'(?P<k>[a-zA-Z_][a-zA-Z0-9_]*)="(?P<v>(?:[^"\\\n]|\\[\\n"])*)"(?:,|$)')
_UNESCAPE = {"\\\\": "\\", "\\n": "\n", '\\"': '"'}


def _unescape(text: str) -> str:
    return re.sub(r"\\[\\n\"]", lambda m: _UNESCAPE[m.group(0)], text)


@dataclass
class Exposition:
    types: dict[str, str] = field(default_factory=dict)
    helps: dict[str, str] = field(default_factory=dict)
    samples: list[tuple[str, dict[str, str], float]] = field(default_factory=list)

    def value(self, name: str, **labels: str) -> float:
        found = [v for n, ls, v in self.samples if n == name and ls == labels]
        assert len(found) == 1, (name, labels, found)
        return found[0]

    def series(self, name: str) -> list[tuple[dict[str, str], float]]:
        return [(ls, v) for n, ls, v in self.samples if n == name]


def parse(text: str) -> Exposition:
    assert text.endswith("\n")
    out = Exposition()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, doc = line[7:].partition(" ")
            out.helps[name] = doc
            continue
        if line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped")
            assert name not in out.types, f"TYPE twice for {name}"
            out.types[name] = kind
            continue
        m = _SAMPLE.match(line)
        assert m is not None, f"not a sample line: {line!r}"
        labels: dict[str, str] = {}
        raw = m.group("labels") or ""
        pos = 0
        while pos < len(raw):
            pair = _PAIR.match(raw, pos)
            assert pair is not None, f"bad labels in {line!r}"
            labels[pair.group("k")] = _unescape(pair.group("v"))
            pos = pair.end()
        name = m.group("name")
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        family = family if family in out.types else name
        assert family in out.types, f"{name} has no TYPE line before it"
        assert family in out.helps, f"{name} has no HELP line"
        value = m.group("value")
        number = {"+Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan}.get(value)
        out.samples.append((name, labels, float(value) if number is None else number))
    return out


# ---------------------------------------------------------------------------------------------
# the server


@pytest.fixture
async def server() -> AsyncIterator[tuple[Metrics, dict[str, Any], str]]:
    metrics = Metrics(clock=lambda: 1_592_265_600.0)
    state: dict[str, Any] = {"ok": True, "scan": None}

    def health() -> dict[str, Any]:
        if state.get("raise"):
            raise RuntimeError("store is gone")
        return dict(state)

    async with MetricsServer(metrics, health, port=0) as srv:
        assert srv.host == "127.0.0.1"  # loopback by default
        yield metrics, state, f"http://127.0.0.1:{srv.port}"


async def fetch(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, resp.headers["Content-Type"], await resp.text()


def sample_row(site: str, ok: bool, ms: int | None, phase: str | None = None) -> SampleRow:
    return SampleRow(
        site=site,
        url=f"http://{site}.test/",
        at="2020-06-16T09:00:00+08:00",
        ok=ok,
        total_ms=ms,
        failed_at=phase,
    )


async def test_metrics_answer_with_what_the_daemon_recorded(
    server: tuple[Metrics, dict[str, Any], str],
) -> None:
    metrics, _, base = server
    for _ in range(3):
        metrics.record_page("fgj")
    metrics.record_page("jyj")
    for status in (200, 200, 404):
        metrics.record_request(status)
    metrics.record_request(None, "timeout")
    metrics.queue_depth.set(17)
    metrics.record_samples(
        [
            sample_row("fgj", True, 80),
            sample_row("fgj", True, 300),
            sample_row("jyj", False, 15_000, "first byte"),
            sample_row("jyj", False, None, "dns"),
        ]
    )
    metrics.record_findings(
        [
            Finding(check="link.broken", site="fgj", unit="u", url="http://x/"),
            {"check": "link.broken", "severity": "deduction"},
            {"check": "homepage.stale", "severity": "veto"},
        ]
    )
    metrics.failure_rate.set(0.5, site="jyj")
    status, content_type, text = await fetch(f"{base}/metrics")
    assert status == 200
    assert content_type == CONTENT_TYPE
    exp = parse(text)

    assert exp.types["govmon_pages_total"] == "counter"
    assert exp.value("govmon_pages_total", site="fgj") == 3
    assert exp.value("govmon_pages_total", site="jyj") == 1
    assert exp.value("govmon_requests_total", status="200") == 2
    assert exp.value("govmon_requests_total", status="404") == 1
    assert exp.value("govmon_requests_total", status="timeout") == 1
    assert exp.types["govmon_queue_depth"] == "gauge"
    assert exp.value("govmon_queue_depth") == 17
    assert exp.value("govmon_findings_total", check="link.broken", severity="deduction") == 2
    assert exp.value("govmon_findings_total", check="homepage.stale", severity="veto") == 1
    assert exp.value("govmon_probe_samples_total", site="fgj", ok="true") == 2
    assert exp.value("govmon_probe_samples_total", site="jyj", ok="false") == 2
    assert exp.value("govmon_probe_failures_total", phase="first byte") == 1
    assert exp.value("govmon_probe_failures_total", phase="dns") == 1
    assert exp.value("govmon_site_failure_rate", site="jyj") == 0.5
    assert exp.value("govmon_last_probe_timestamp_seconds") == 1_592_265_600
    assert exp.value("govmon_start_time_seconds") == 1_592_265_600

    # the probe latency histogram: 3 timed samples (0.08 s, 0.3 s, 15 s), cumulative buckets
    assert exp.types["govmon_probe_duration_seconds"] == "histogram"
    buckets = {ls["le"]: v for ls, v in exp.series("govmon_probe_duration_seconds_bucket")}
    assert buckets["0.05"] == 0
    assert buckets["0.1"] == 1
    assert buckets["0.5"] == 2
    assert buckets["10"] == 2
    assert buckets["15"] == 3
    assert buckets["+Inf"] == 3
    values = list(buckets.values())
    assert values == sorted(values)
    assert exp.value("govmon_probe_duration_seconds_count") == 3
    assert exp.value("govmon_probe_duration_seconds_sum") == pytest.approx(15.38)


async def test_metrics_change_between_scrapes(server: tuple[Metrics, dict[str, Any], str]) -> None:
    metrics, _, base = server
    metrics.queue_depth.set(5)
    first = parse((await fetch(f"{base}/metrics"))[2])
    metrics.queue_depth.set(2)
    metrics.scan_running.set(1)
    second = parse((await fetch(f"{base}/metrics"))[2])
    assert first.value("govmon_queue_depth") == 5
    assert second.value("govmon_queue_depth") == 2
    assert first.value("govmon_scan_running") == 0
    assert second.value("govmon_scan_running") == 1


async def test_label_values_are_escaped_and_read_back(
    server: tuple[Metrics, dict[str, Any], str],
) -> None:
    metrics, _, base = server
    odd = 'a "quoted" \\ back\nslash 蓬江'
    metrics.record_page(odd)
    exp = parse((await fetch(f"{base}/metrics"))[2])
    assert exp.value("govmon_pages_total", site=odd) == 1


async def test_healthz_reports_the_daemon_state(
    server: tuple[Metrics, dict[str, Any], str],
) -> None:
    _, state, base = server
    status, content_type, text = await fetch(f"{base}/healthz")
    assert status == 200
    assert content_type.startswith("application/json")
    assert json.loads(text) == {"ok": True, "scan": None}
    state.update(ok=False, reason="writer stalled")
    status, _, text = await fetch(f"{base}/healthz")
    assert status == 503
    assert json.loads(text)["reason"] == "writer stalled"
    state.update(ok=True, **{"raise": True})
    status, _, text = await fetch(f"{base}/healthz")
    assert status == 503
    assert "store is gone" in json.loads(text)["error"]


async def test_unknown_paths_are_404(server: tuple[Metrics, dict[str, Any], str]) -> None:
    status, _, _ = await fetch(f"{server[2]}/")
    assert status == 404


# ---------------------------------------------------------------------------------------------
# the families


def test_families_check_their_labels_and_values() -> None:
    metrics = Metrics()
    with pytest.raises(ValueError, match="labels"):
        metrics.pages.inc()  # the site label is missing
    with pytest.raises(ValueError, match="labels"):
        metrics.queue_depth.set(1, site="x")
    with pytest.raises(ValueError, match="cannot go down"):
        metrics.requests.inc(-1, status="200")
    with pytest.raises(ValueError, match="already registered"):
        metrics.counter("govmon_pages_total", "again")
    with pytest.raises(ValueError, match="_total"):
        Counter("govmon_pages", "no suffix")
    with pytest.raises(ValueError, match="label name"):
        Gauge("govmon_x", "bad label", ["le"])
    with pytest.raises(ValueError, match="metric name"):
        Gauge("govmon-x", "bad name")
    with pytest.raises(ValueError, match="buckets"):
        Histogram("govmon_h", "no buckets", buckets=[])


def test_a_gauge_goes_both_ways_and_series_can_be_removed() -> None:
    gauge = Gauge("govmon_g", "g", ["site"])
    gauge.inc(3, site="a")
    gauge.dec(1, site="a")
    assert gauge.value(site="a") == 2
    gauge.remove(site="a")
    assert gauge.lines() == []


def test_a_labelled_histogram_keeps_series_apart() -> None:
    hist = Histogram("govmon_h", "h", ["site"], buckets=[1, 2])
    hist.observe(0.5, site="a")
    hist.observe(1.5, site="b")
    hist.observe(9, site="b")
    assert hist.count(site="a") == 1
    assert hist.count(site="b") == 2
    text = "# HELP govmon_h h\n# TYPE govmon_h histogram\n" + "\n".join(hist.lines()) + "\n"
    exp = parse(text)
    assert exp.value("govmon_h_bucket", site="b", le="1") == 0
    assert exp.value("govmon_h_bucket", site="b", le="2") == 1
    assert exp.value("govmon_h_bucket", site="b", le="+Inf") == 2
    assert exp.value("govmon_h_sum", site="b") == 10.5


@pytest.mark.parametrize(
    ("value", "text"),
    [(3.0, "3"), (0.25, "0.25"), (math.inf, "+Inf"), (-math.inf, "-Inf"), (math.nan, "NaN"),
     (1e20, "1e+20"), (-2.0, "-2")],
)  # fmt: skip
def test_values_are_written_as_the_format_wants(value: float, text: str) -> None:
    assert format_value(value) == text
