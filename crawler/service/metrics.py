"""``/healthz`` and Prometheus ``/metrics`` for the daemon, on a loopback port by default.

The text exposition format (version 0.0.4) is written here by hand: counters, gauges and
histograms with labels are all the daemon needs, and no dependency is added. A
:class:`Metrics` object holds the daemon's families:

========================================  =========  ==========================================
``govmon_pages_total{site}``              counter    pages fetched and parsed
``govmon_requests_total{status}``         counter    requests by HTTP status or error reason
``govmon_queue_depth``                    gauge      requests queued (the frontier)
``govmon_probe_duration_seconds``         histogram  availability samples' total time
``govmon_probe_samples_total{site,ok}``   counter    availability samples, by outcome
``govmon_probe_failures_total{phase}``    counter    failed samples by phase (dns, connect ...)
``govmon_site_failure_rate{site}``        gauge      failed fraction of the trailing 7 days
``govmon_findings_total{check,severity}`` counter    findings produced
``govmon_scan_running``                   gauge      1 while a scan runs
``govmon_last_probe_timestamp_seconds``   gauge      when the last probe round ended
``govmon_start_time_seconds``             gauge      when the process started
========================================  =========  ==========================================

Everything runs on the event loop's thread: the daemon updates the families and the handlers
read them on the same loop, so no lock is needed.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from aiohttp import web

from storage.base import SampleRow

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DEFAULT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0)
_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

LabelKey = tuple[str, ...]


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: float) -> str:
    """A sample value as the exposition format writes it."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


class _Family:
    kind = "untyped"

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> None:
        if not _NAME.match(name):
            raise ValueError(f"bad metric name {name!r}")
        for label in labelnames:
            if not _LABEL.match(label) or label.startswith("__") or label == "le":
                raise ValueError(f"bad label name {label!r} for {name}")
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)

    def _key(self, labels: Mapping[str, object]) -> LabelKey:
        if set(labels) != set(self.labelnames):
            want = ", ".join(self.labelnames) or "none"
            raise ValueError(f"{self.name} takes the labels ({want}), not {sorted(labels)}")
        return tuple(str(labels[n]) for n in self.labelnames)

    def _labels(self, key: LabelKey, extra: Sequence[tuple[str, str]] = ()) -> str:
        pairs = [*zip(self.labelnames, key, strict=True), *extra]
        if not pairs:
            return ""
        return "{" + ",".join(f'{n}="{_escape_label(v)}"' for n, v in pairs) + "}"

    def header(self) -> list[str]:
        return [
            f"# HELP {self.name} {_escape_help(self.documentation)}",
            f"# TYPE {self.name} {self.kind}",
        ]

    def lines(self) -> list[str]:  # pragma: no cover - every family overrides it
        raise NotImplementedError


class Counter(_Family):
    """A value that only goes up."""

    kind = "counter"

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> None:
        if not name.endswith("_total"):
            raise ValueError(f"a counter's name ends in _total: {name!r}")
        super().__init__(name, documentation, labelnames)
        self._values: dict[LabelKey, float] = {}
        if not self.labelnames:
            self._values[()] = 0.0

    def inc(self, amount: float = 1.0, **labels: object) -> None:
        if amount < 0:
            raise ValueError(f"{self.name}: a counter cannot go down ({amount})")
        key = self._key(labels)
        self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: object) -> float:
        return self._values.get(self._key(labels), 0.0)

    def lines(self) -> list[str]:
        return [
            f"{self.name}{self._labels(k)} {format_value(v)}"
            for k, v in sorted(self._values.items())
        ]


class Gauge(_Family):
    """A value that goes up and down."""

    kind = "gauge"

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, documentation, labelnames)
        self._values: dict[LabelKey, float] = {}
        if not self.labelnames:
            self._values[()] = 0.0

    def set(self, value: float, **labels: object) -> None:
        self._values[self._key(labels)] = float(value)

    def inc(self, amount: float = 1.0, **labels: object) -> None:
        key = self._key(labels)
        self._values[key] = self._values.get(key, 0.0) + amount

    def dec(self, amount: float = 1.0, **labels: object) -> None:
        self.inc(-amount, **labels)

    def remove(self, **labels: object) -> None:
        self._values.pop(self._key(labels), None)

    def value(self, **labels: object) -> float:
        return self._values.get(self._key(labels), 0.0)

    def lines(self) -> list[str]:
        return [
            f"{self.name}{self._labels(k)} {format_value(v)}"
            for k, v in sorted(self._values.items())
        ]


class Histogram(_Family):
    """Observations counted into cumulative buckets, with their sum and count."""

    kind = "histogram"

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        super().__init__(name, documentation, labelnames)
        bounds = sorted(float(b) for b in buckets if not math.isinf(b))
        if not bounds or len(set(bounds)) != len(bounds):
            raise ValueError(f"{name}: buckets must be distinct finite numbers")
        self.buckets = (*bounds, math.inf)
        self._counts: dict[LabelKey, list[int]] = {}
        self._sums: dict[LabelKey, float] = {}
        if not self.labelnames:
            self._counts[()] = [0] * len(self.buckets)
            self._sums[()] = 0.0

    def observe(self, value: float, **labels: object) -> None:
        key = self._key(labels)
        counts = self._counts.setdefault(key, [0] * len(self.buckets))
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                counts[i] += 1
                break
        self._sums[key] = self._sums.get(key, 0.0) + value

    def count(self, **labels: object) -> int:
        return sum(self._counts.get(self._key(labels), []))

    def lines(self) -> list[str]:
        out = []
        for key, counts in sorted(self._counts.items()):
            running = 0
            for bound, n in zip(self.buckets, counts, strict=True):
                running += n
                le = (("le", format_value(bound)),)
                out.append(f"{self.name}_bucket{self._labels(key, le)} {running}")
            out.append(f"{self.name}_sum{self._labels(key)} {format_value(self._sums[key])}")
            out.append(f"{self.name}_count{self._labels(key)} {running}")
        return out


class Metrics:
    """The daemon's metrics; ``render()`` is the ``/metrics`` text."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._families: dict[str, _Family] = {}
        self.pages = self.counter("govmon_pages_total", "Pages fetched and parsed.", ["site"])
        self.requests = self.counter(
            "govmon_requests_total", "HTTP requests by status code or error reason.", ["status"]
        )
        self.queue_depth = self.gauge("govmon_queue_depth", "Requests queued in the frontier.")
        self.probe_latency = self.histogram(
            "govmon_probe_duration_seconds",
            "Total time of availability samples of home pages (15 s is the official limit).",
        )
        self.probe_samples = self.counter(
            "govmon_probe_samples_total",
            "Availability samples by site and outcome.",
            ["site", "ok"],
        )
        self.probe_failures = self.counter(
            "govmon_probe_failures_total", "Failed availability samples by phase.", ["phase"]
        )
        self.failure_rate = self.gauge(
            "govmon_site_failure_rate",
            "Failed fraction of a site's availability samples over the trailing 7 days.",
            ["site"],
        )
        self.findings = self.counter(
            "govmon_findings_total",
            "Findings produced, by check and severity.",
            ["check", "severity"],
        )
        self.scan_running = self.gauge("govmon_scan_running", "1 while a scan runs, else 0.")
        self.last_probe = self.gauge(
            "govmon_last_probe_timestamp_seconds", "Unix time the last probe round ended."
        )
        self.start_time = self.gauge("govmon_start_time_seconds", "Unix time the process started.")
        self.start_time.set(clock())

    # -- families --------------------------------------------------------------------------

    def _add(self, family: _Family) -> None:
        if family.name in self._families:
            raise ValueError(f"metric {family.name} already registered")
        self._families[family.name] = family

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        family = Counter(name, documentation, labels)
        self._add(family)
        return family

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        family = Gauge(name, documentation, labels)
        self._add(family)
        return family

    def histogram(
        self,
        name: str,
        documentation: str,
        labels: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> Histogram:
        family = Histogram(name, documentation, labels, buckets)
        self._add(family)
        return family

    # -- what the daemon reports ----------------------------------------------------------

    def record_request(self, status: int | None, error: str | None = None) -> None:
        """One request's outcome: its HTTP status, or its error reason (``timeout``, ``dns``)."""
        self.requests.inc(status=str(status) if status is not None else (error or "error"))

    def record_page(self, site: str) -> None:
        self.pages.inc(site=site)

    def record_samples(self, rows: Iterable[SampleRow]) -> None:
        """A probe round: latency, outcomes and failure phases."""
        for row in rows:
            if row.total_ms is not None:
                self.probe_latency.observe(row.total_ms / 1000)
            self.probe_samples.inc(site=row.site, ok="true" if row.ok else "false")
            if not row.ok:
                self.probe_failures.inc(phase=row.failed_at or "unknown")
        self.last_probe.set(self._clock())

    def record_findings(self, findings: Iterable[Any]) -> None:
        """Findings as :class:`checks.base.Finding` values or the store's dicts."""
        for f in findings:
            if isinstance(f, Mapping):
                check, severity = f["check"], f.get("severity", "")
            else:
                check, severity = f.check, f.severity
            self.findings.inc(check=check, severity=severity)

    def render(self) -> str:
        lines: list[str] = []
        for family in self._families.values():
            lines.extend(family.header())
            lines.extend(family.lines())
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# the HTTP side


def make_app(metrics: Metrics, health: Callable[[], Mapping[str, Any]]) -> web.Application:
    """``GET /metrics`` (the exposition text) and ``GET /healthz`` (``health()`` as JSON: 200,
    or 503 when it says ``"ok": false`` or raises)."""

    async def metrics_handler(request: web.Request) -> web.Response:
        return web.Response(
            body=metrics.render().encode("utf-8"), headers={"Content-Type": CONTENT_TYPE}
        )

    async def health_handler(request: web.Request) -> web.Response:
        try:
            state = dict(health())
        except Exception as exc:  # a broken health check is itself unhealthy
            state = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        status = 200 if state.get("ok", True) is not False else 503
        text = json.dumps(state, ensure_ascii=False, sort_keys=True, default=str)
        return web.Response(text=text, status=status, content_type="application/json")

    app = web.Application()
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/healthz", health_handler)
    return app


class MetricsServer:
    """``make_app`` served on ``host:port`` (loopback by default; port 0: any free port).

    ``async with MetricsServer(metrics, health) as server: server.port ...``
    """

    def __init__(
        self,
        metrics: Metrics,
        health: Callable[[], Mapping[str, Any]],
        *,
        host: str = "127.0.0.1",
        port: int = 9108,
    ) -> None:
        self._runner = web.AppRunner(
            make_app(metrics, health), access_log=None, shutdown_timeout=1.0
        )
        self.host = host
        self.port = port

    async def start(self) -> int:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self.port

    async def stop(self) -> None:
        await self._runner.cleanup()

    async def __aenter__(self) -> MetricsServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
