"""The four benchmarks of issue 7: govmon and Scrapy side by side, in one run each.

    python -m benchmarks.run --suite standard   [--pages 5000] [--hosts 4] [--profile]
    python -m benchmarks.run --suite linkheavy  [--pages 2000] [--hosts 4] [--profile]
    python -m benchmarks.run --suite district   [--channels 30] [--profile]
    python -m benchmarks.run --suite growth     [--sizes 10000,100000,1000000]
                                                [--scrapy-sizes 10000,100000]
    common: [--concurrency 64] [--tools govmon,govmon-noresume,scrapy] [--timeout S] [--keep]
    standard, linkheavy: the tool govmon-2proc too (one site per host, scan --processes 2)

(``python -m benchmarks.suites SUITE ...`` is the same.)

* **standard**: the synthetic site of :mod:`benchmarks.synth` (5,000 pages of ~9 KB, 36 links
  each: 30 page links, 3 images, a PDF, a stylesheet; ~600 broken targets) written as static
  files and served by nginx (:mod:`benchmarks.nginx`) on 127.0.0.1 … 127.0.0.H.
* **linkheavy**: the same generator with 264 page links and ~47 KB a page (~270 links), 2,000
  pages, nginx.
* **district**: 30 channel sites on 127.0.0.1 … 127.0.0.30 (:mod:`benchmarks.district`),
  served by nginx once and recorded with ``govmon record CONFIG --warc FILE``; then each tool
  crawls the recording through its own fresh ``govmon replay FILE --listen 127.0.0.1:PORT``:
  govmon with ``scan --proxy``, Scrapy with the replay server as its HTTP proxy (and following
  the ``createPageHTML`` pagination, which govmon reads and a CrawlSpider does not see). The
  findings are compared with the generator's planted problems, and with the recording scan's.
* **growth**: the synthetic site served from its generator (aiohttp, nothing stored) at each
  size; govmon at every size, Scrapy at ``--scrapy-sizes``; peak RSS, CPU per page, and RSS
  sampled every few seconds as the crawl grows.

Tools: ``govmon`` (the default config, ``resumable = true``: the frontier and page bodies are
journalled in the store), ``govmon-noresume`` (``resumable = false``), ``govmon-2proc`` (standard
and linkheavy only, not by default: one ``[[site]]`` per host and ``scan --processes 2``, the
hosts shared between two processes), ``scrapy``
(:mod:`benchmarks.scrapy_peer`). Every tool runs as a child process measured by ``os.wait4``
(user + system CPU, peak RSS) and wall time, killed after ``--timeout`` seconds. Results go to
``benchmarks/out/STAMP-SUITE.json`` and the logs to ``benchmarks/out/STAMP-SUITE/``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import psutil

from benchmarks.district import District
from benchmarks.harness import (
    OUT,
    ROOT,
    CountingServer,
    Measurement,
    SynthServer,
    govmon_config,
    machine,
    measure,
    normalise,
    tail,
)
from benchmarks.nginx import (
    NginxServer,
    VirtualHost,
    find_nginx,
    free_port,
    host_root,
    interrupt_on_signals,
    write_synth_site,
)
from benchmarks.pyspy_summary import load as load_profile
from benchmarks.pyspy_summary import render as render_profile
from benchmarks.pyspy_summary import summary as profile_summary
from benchmarks.synth import Site

SUITES = ("standard", "linkheavy", "district", "growth")
ALL_TOOLS = ("govmon", "govmon-noresume", "govmon-2proc", "scrapy")
DEFAULT_TOOLS = {
    "standard": ("govmon", "govmon-noresume", "scrapy"),
    "linkheavy": ("govmon", "govmon-noresume", "scrapy"),
    "district": ("govmon", "scrapy"),
    "growth": ("govmon", "scrapy"),
}
LINKHEAVY_LINKS = 264  # + 3 images, a PDF, a stylesheet and #top: 270 links a page
LINKHEAVY_BYTES = 47_000
# issue 7's targets for govmon (one process, every check on)
TARGET_PAGES_PER_S = {"standard": 1000.0, "linkheavy": 500.0}
TARGET_RSS_MB = {"standard": 150.0, "growth": 300.0}  # growth: at 1 M URLs


# ---- running the tools ----------------------------------------------------------------------

SOURCE_PACKAGES = ("crawler", "checks", "storage")


def source_digest(root: Path = ROOT) -> str:
    """A digest of govmon's Python sources under ``root`` (an editable install runs what is on
    disk: a commit or an edit during a run changes what the next run measures)."""
    digest = hashlib.sha256()
    for package in SOURCE_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode())
            with contextlib.suppress(OSError):
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _resumable(tool: str) -> bool | None:
    return False if tool == "govmon-noresume" else None


def run_govmon(
    tool: str,
    config_text: str,
    server: CountingServer,
    args: argparse.Namespace,
    work: Path,
    logs: Path,
    extra: Sequence[str] = (),
    sample_every: float | None = None,
    prefix: Sequence[str] = (),
    subcommand: str = "scan",
) -> Measurement:
    """``govmon scan`` (or ``record``; ``prefix``: e.g. py-spy) measured, then its JSON report
    read."""
    config = work / f"{tool}.toml"
    db = work / f"{tool}.db"
    for stale in work.glob(f"{tool}.db*"):
        stale.unlink()
    config.write_text(config_text)
    command = [*prefix, args.govmon, subcommand, str(config), "--db", str(db), *extra]
    m = Measurement(tool, command)
    stdout, stderr = logs / f"{tool}.stdout", logs / f"{tool}.stderr"
    before = source_digest()
    measure(m, server, stdout, stderr, args.timeout, sample_every)
    after = source_digest()
    m.details["source"] = before if before == after else f"{before} -> {after}"
    if before != after:
        print(f"  warning: govmon's sources changed during the {tool} run", flush=True)
    m.details["scan_output"] = tail(stdout, 6)
    if m.exit_code != 0:
        m.error = f"govmon scan exited with {m.exit_code}: {tail(stderr)}"
    with contextlib.suppress(OSError):
        m.details["db_mb"] = round(sum(p.stat().st_size for p in work.glob(f"{tool}.db*")) / 2**20)
    read_govmon_report(m, args, db, logs / f"{tool}-report.json")
    if not args.keep:
        for path in work.glob(f"{tool}.db*"):
            path.unlink()
    return m


def read_govmon_report(m: Measurement, args: argparse.Namespace, db: Path, out: Path) -> None:
    report = subprocess.run(
        [args.govmon, "report", "--db", str(db), "--format", "json", "--output", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=max(600.0, args.timeout),
        check=False,
    )
    if report.returncode != 0 or not out.exists():
        m.error = (m.error or "") + f" | govmon report exited with {report.returncode}: "
        m.error += report.stderr[-2000:]
        return
    data = json.loads(out.read_text())
    scan = data.get("scan", {})
    m.pages = scan.get("pages")
    m.requests = scan.get("requests")
    m.details["scan_status"] = scan.get("status")
    findings: list[dict[str, Any]] = data.get("findings", [])
    m.broken_urls = sorted({f["url"] for f in findings if f.get("check") == "link.broken"})
    m.blocked = sum(1 for f in findings if f.get("check") == "link.blocked")
    by_check: dict[str, list[str]] = {}
    for f in findings:
        by_check.setdefault(str(f.get("check")), []).append(str(f.get("url")))
    m.details["findings"] = {k: len(v) for k, v in sorted(by_check.items())}
    m.details["findings_by_check"] = {k: sorted(v) for k, v in sorted(by_check.items())}
    m.details["verdicts"] = dict(
        Counter(
            f"{s.get('verdict')} {','.join(s.get('vetoes') or [])}".strip()
            for s in data.get("sites", [])
        )
    )


def run_scrapy(
    homes: Sequence[str],
    server: CountingServer,
    args: argparse.Namespace,
    logs: Path,
    proxy: str | None = None,
    script_pagination: bool = False,
    sample_every: float | None = None,
    name: str = "scrapy",
) -> Measurement:
    result_path = logs / f"{name}-result.json"
    command = [sys.executable, "-m", "benchmarks.scrapy_peer"]
    for home in homes:
        command += ["--home", home]
    command += ["--concurrency", str(args.concurrency), "--output", str(result_path)]
    if proxy:
        command += ["--proxy", proxy]
    if script_pagination:
        command.append("--script-pagination")
    m = Measurement("scrapy", command)
    measure(m, server, logs / f"{name}.stdout", logs / f"{name}.stderr", args.timeout, sample_every)
    if m.exit_code != 0 or not result_path.exists():
        m.error = f"the Scrapy peer exited with {m.exit_code}: {tail(logs / f'{name}.stderr')}"
        return m
    data = json.loads(result_path.read_text())
    m.pages = data["pages"]
    m.requests = data["requests"]
    m.broken_urls = data["broken_urls"]
    m.details.update({k: v for k, v in data.items() if k not in ("broken_urls", "tool")})
    return m


# ---- govmon replay as a server --------------------------------------------------------------


def _default_sigint() -> None:  # in the child, before exec: a background shell ignores SIGINT
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class ReplayServer:
    """``govmon replay WARC --listen 127.0.0.1:PORT`` as a child process.

    Its counts (``N served, M not recorded``) are printed when it stops (on SIGINT), so
    :meth:`stats` knows nothing until then and :meth:`stop` returns them."""

    def __init__(self, govmon: str, warc: Path, log: Path) -> None:
        self._out_path = log.with_suffix(".stdout")
        self._err = log.open("wb")
        port = free_port(["127.0.0.1"])
        self.proc = subprocess.Popen(
            [govmon, "replay", str(warc), "--listen", f"127.0.0.1:{port}"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self._err,
            start_new_session=True,
            preexec_fn=_default_sigint,  # noqa: PLW1509 - no threads run the replay server
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 300)
        line = self.proc.stdout.readline().decode(errors="replace") if ready else ""
        found = re.search(r"serving on (http://\S+)", line)
        if found is None:
            self.stop()
            raise RuntimeError(f"govmon replay did not start: {line!r} (see {log})")
        self.banner = line.strip()
        self.url = found.group(1)
        self.process = psutil.Process(self.proc.pid)
        self.counts: dict[str, int] = {}

    def stats(self) -> dict[str, int]:
        return dict(self.counts)

    def cpu(self) -> float:
        with contextlib.suppress(psutil.Error):
            times = self.process.cpu_times()
            return float(times.user + times.system)
        return 0.0

    def stop(self) -> dict[str, int]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rest = self.proc.stdout.read().decode(errors="replace") if self.proc.stdout else ""
        self._out_path.write_text(self.banner + "\n" + rest)
        self._err.close()
        found = re.search(r"(\d+) served, (\d+) not recorded", rest)
        if found:
            self.counts = {
                "requests": int(found.group(1)) + int(found.group(2)),
                "served": int(found.group(1)),
                "not_recorded": int(found.group(2)),
            }
        return self.counts


# ---- figures and tables ---------------------------------------------------------------------


ROWS = (
    ("pages (as reported)", "pages", "{:,.0f}"),
    ("requests (as reported)", "requests", "{:,.0f}"),
    ("wall s", "wall_s", "{:.2f}"),
    ("pages/s", "pages_per_s", "{:,.1f}"),
    ("requests/s", "requests_per_s", "{:,.1f}"),
    ("site pages/s", "site_pages_per_s", "{:,.1f}"),
    ("CPU s (user+sys)", "cpu_s", "{:.2f}"),
    ("CPU s / 1,000 pages", "cpu_s_per_1000_pages", "{:.2f}"),
    ("CPU s / 1,000 site pages", "cpu_s_per_1000_site_pages", "{:.2f}"),
    ("peak RSS MB", "max_rss_mb", "{:.1f}"),
    ("broken found", "broken_found", "{:,.0f}"),
    ("  of which true", "broken_true_positives", "{:,.0f}"),
    ("  missed", "broken_missed", "{:,.0f}"),
    ("  false positives", "broken_false_positives", "{:,.0f}"),
    ("requests seen by server", "server_requests", "{:,.0f}"),
    ("server CPU s", "server_cpu_s", "{:.2f}"),
)


def ratio_block(figures: dict[str, dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Each govmon variant over Scrapy: pages/s and CPU per page (on the site's pages when both
    loaded all of them, else on each tool's own count), requests/s, peak RSS."""
    out: dict[str, dict[str, float | None]] = {}
    scrapy = figures.get("scrapy")
    if scrapy is None:
        return out
    for tool, fig in figures.items():
        if tool == "scrapy":
            continue
        site = fig.get("site_pages_per_s") and scrapy.get("site_pages_per_s")
        pairs = {
            "pages_per_s": "site_pages_per_s" if site else "pages_per_s",
            "cpu_per_page": "cpu_s_per_1000_site_pages" if site else "cpu_s_per_1000_pages",
            "requests_per_s": "requests_per_s",
            "max_rss": "max_rss_mb",
        }
        out[tool] = {}
        for label, key in pairs.items():
            a, b = fig.get(key), scrapy.get(key)
            out[tool][label] = round(a / b, 2) if a and b else None
        out[tool]["on_site_pages"] = 1.0 if site else 0.0
    return out


def table(figures: dict[str, dict[str, Any]]) -> str:
    tools = list(figures)
    lines = [f"{'':28}" + "".join(f"{t:>17}" for t in tools)]
    for label, key, fmt in ROWS:
        cells = []
        for tool in tools:
            value = figures[tool].get(key)
            cells.append(f"{'-' if value is None else fmt.format(value):>17}")
        lines.append(f"{label:28}" + "".join(cells))
    for tool, r in ratio_block(figures).items():
        basis = "site pages" if r.get("on_site_pages") else "own page counts"
        lines.append(
            f"{tool}/Scrapy ({basis}): pages/s × {r['pages_per_s']}, requests/s × "
            f"{r['requests_per_s']}, CPU per page × {r['cpu_per_page']}, peak RSS × {r['max_rss']}"
        )
    return "\n".join(lines)


def targets(suite: str, figures: dict[str, dict[str, Any]]) -> list[str]:
    """issue 7's targets for govmon: met or not, with the figure."""
    lines = []
    for tool, fig in figures.items():
        if not tool.startswith("govmon") or tool == "govmon-record":
            continue
        if suite in TARGET_PAGES_PER_S:
            goal = TARGET_PAGES_PER_S[suite]
            rate = fig.get("site_pages_per_s") or fig.get("pages_per_s") or 0.0
            verdict = "met" if rate >= goal else "NOT met"
            lines.append(f"target {tool}: ≥ {goal:,.0f} pages/s: {rate:,.1f} — {verdict}")
        if suite == "standard":
            goal = TARGET_RSS_MB["standard"]
            rss = fig.get("max_rss_mb") or 0.0
            verdict = "met" if rss <= goal else "NOT met"
            lines.append(f"target {tool}: peak RSS ≤ {goal:.0f} MB: {rss:.1f} MB — {verdict}")
    return lines


def figures_of(
    measurements: dict[str, Measurement], truth: set[str], site_pages: int
) -> dict[str, dict[str, Any]]:
    out = {}
    for tool, m in measurements.items():
        fig = m.figures(truth, site_pages)
        if isinstance(m.details.get("replay"), dict):
            fig["server_requests"] = m.details["replay"].get("requests")
        out[tool] = fig
    return out


def _run_record(m: Measurement) -> dict[str, Any]:
    record = asdict(m)
    record["broken_urls"] = len(m.broken_urls)
    record["details"] = {k: v for k, v in m.details.items() if k != "findings_by_check"}
    return record


def _status(m: Measurement) -> None:
    status = "timed out" if m.timed_out else f"exit {m.exit_code}"
    print(f"  {m.tool}: {status}, {m.wall_s:.1f} s, peak RSS {m.max_rss_mb:.0f} MB", flush=True)
    if m.error:
        print(f"  {m.tool} problem: {m.error}", flush=True)


def _check_tools(tools: Sequence[str], args: argparse.Namespace) -> None:
    if unknown := set(tools) - set(ALL_TOOLS):
        raise SystemExit(f"unknown tools: {', '.join(sorted(unknown))}")
    if any(t.startswith("govmon") for t in tools) and not args.govmon:
        raise SystemExit("govmon not found; pass --govmon PATH")


# ---- profiling ------------------------------------------------------------------------------


def pyspy() -> str | None:
    candidate = Path(sys.executable).parent / "py-spy"
    return str(candidate) if candidate.exists() else shutil.which("py-spy")


def profile_govmon(
    config_text: str,
    server: CountingServer,
    args: argparse.Namespace,
    work: Path,
    logs: Path,
    extra: Sequence[str] = (),
) -> dict[str, Any] | None:
    """One more govmon run under ``py-spy record -f raw`` (not counted in the table)."""
    binary = pyspy()
    if binary is None:
        print("  py-spy not found (.venv/bin/pip install py-spy): no profile", flush=True)
        return None
    raw = logs / "govmon-profile.txt"
    prefix = [binary, "record", "-r", "200", "--nonblocking", "-f", "raw", "-o", str(raw), "--"]
    print("profiling govmon with py-spy …", flush=True)
    m = run_govmon("govmon-profile", config_text, server, args, work, logs, extra, prefix=prefix)
    _status(m)
    if not raw.exists():
        return None
    profile = load_profile(raw)
    text = render_profile(profile, 25)
    (logs / "govmon-profile-summary.txt").write_text(text + "\n")
    print(text, flush=True)
    return {
        "raw": str(raw),
        "samples": profile.samples,
        "wall_s": round(m.wall_s, 2),
        "cpu_s": round(m.cpu_s, 2),
        **profile_summary(profile, 25),
    }


# ---- the suites -----------------------------------------------------------------------------


def suite_static(
    suite: str, args: argparse.Namespace, tools: Sequence[str], work: Path, logs: Path
) -> dict[str, Any]:
    """standard and linkheavy: the synthetic site as files, served by nginx."""
    heavy = suite == "linkheavy"
    addresses = [f"127.0.0.{h + 1}" for h in range(args.hosts)]
    port = free_port(addresses)  # absolute links between hosts carry it: chosen before writing
    site = Site(
        pages=args.pages,
        hosts=args.hosts,
        port=port,
        seed=args.seed,
        page_links=LINKHEAVY_LINKS if heavy else 30,
        page_bytes=LINKHEAVY_BYTES if heavy else 9000,
    )
    started = time.perf_counter()
    files, size = write_synth_site(site, work / "site")
    print(
        f"wrote {files:,} files ({size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    hosts = [VirtualHost(a, host_root(work / "site", i)) for i, a in enumerate(site.addresses())]
    server = NginxServer(hosts, work / "nginx", port=port, binary=args.nginx)
    measurements: dict[str, Measurement] = {}
    profile: dict[str, Any] | None = None
    try:
        homes = server.home_urls()
        print(f"nginx on {', '.join(homes)}", flush=True)
        truth = {normalise(url) for url, _ in site.broken_targets()}
        for tool in tools:
            print(f"running {tool} …", flush=True)
            if tool == "scrapy":
                m = run_scrapy(homes, server, args, logs)
            else:
                # govmon-2proc: two processes share the hosts (a host never spans processes:
                # its politeness is kept in one place), so one site per host
                two = tool == "govmon-2proc"
                config = govmon_config(
                    homes,
                    args.concurrency,
                    args.pages,
                    "per-host" if two else "single",
                    _resumable(tool),
                )
                extra = ("--processes", "2") if two else ()
                m = run_govmon(tool, config, server, args, work, logs, extra=extra)
            measurements[tool] = m
            _status(m)
        if args.profile:
            config = govmon_config(homes, args.concurrency, args.pages, "single")
            profile = profile_govmon(config, server, args, work, logs)
        server_stats = server.stats()
    finally:
        server.stop()
    figures = figures_of(measurements, truth, args.pages)
    ground = site.ground_truth(with_urls=False)
    links = len(site.links(args.hosts + 1).pages) + 5
    return {
        "site": {
            "pages": args.pages,
            "hosts": args.hosts,
            "page_links": site.page_links,
            "links_per_page": links,
            "page_bytes": len(site.render(args.hosts + 1)),
            "files": files,
            "bytes": size,
            "truth": ground,
            "server": "nginx " + _nginx_version(args.nginx),
            "server_requests_total": server_stats.get("requests"),
        },
        "figures": figures,
        "ratios": ratio_block(figures),
        "targets": targets(suite, figures),
        "runs": {tool: _run_record(m) for tool, m in measurements.items()},
        "profile": profile,
        "text": table(figures),
    }


def _nginx_version(binary: str | None) -> str:
    path = binary or find_nginx()
    if path is None:
        return "?"
    out = subprocess.run([path, "-v"], capture_output=True, text=True, check=False)
    return (out.stderr or out.stdout).strip().rsplit("/", 1)[-1]


def suite_district(
    args: argparse.Namespace, tools: Sequence[str], work: Path, logs: Path
) -> dict[str, Any]:
    """Record the district once from nginx, then crawl the recording through govmon replay."""
    addresses = [f"127.0.0.{c + 1}" for c in range(args.channels)]
    port = free_port(addresses)
    district = District(channels=args.channels, seed=args.seed, port=port)
    files, size = district.write(work / "site")
    print(f"wrote {files:,} files ({size / 1e6:.0f} MB) for {args.channels} channels", flush=True)
    hosts = [VirtualHost(a, work / "site" / f"h{c}") for c, a in enumerate(addresses)]
    config = district.config(args.concurrency)
    truth = district.truth()
    warc = work / "district.warc.gz"
    server = NginxServer(hosts, work / "nginx", port=port, binary=args.nginx)
    try:
        print("recording: govmon record CONFIG --warc FILE (from nginx) …", flush=True)
        record = run_govmon(
            "govmon-record",
            config,
            server,
            args,
            work,
            logs,
            extra=["--warc", str(warc)],
            subcommand="record",
        )
        _status(record)
    finally:
        server.stop()
    if not warc.exists():
        raise RuntimeError(f"no recording was written: {record.error}")
    homes = [district.home(c) for c in range(args.channels)]
    measurements: dict[str, Measurement] = {}
    profile: dict[str, Any] | None = None
    for tool in tools:
        print(f"running {tool} through govmon replay …", flush=True)
        replay = ReplayServer(args.govmon, warc, logs / f"replay-{tool}.log")
        try:
            if tool == "scrapy":
                m = run_scrapy(homes, replay, args, logs, proxy=replay.url, script_pagination=True)
            else:
                text = config.replace("[crawl]\n", f"[crawl]\n{_resumable_line(tool)}", 1)
                m = run_govmon(tool, text, replay, args, work, logs, extra=["--proxy", replay.url])
        finally:
            counts = replay.stop()
        m.details["replay"] = {**counts, "cpu_s": round(m.server_cpu_s, 2)}
        measurements[tool] = m
        _status(m)
        print(f"  replay server: {counts}", flush=True)
    if args.profile and args.govmon:
        replay = ReplayServer(args.govmon, warc, logs / "replay-profile.log")
        try:
            profile = profile_govmon(config, replay, args, work, logs, ["--proxy", replay.url])
        finally:
            replay.stop()
    broken = {normalise(u) for u in truth.get("link.broken", set())}
    figures = figures_of(measurements, broken, 0)
    checks = {
        tool: compare_findings(truth, m.details.get("findings_by_check", {}))
        for tool, m in [("govmon-record", record), *measurements.items()]
        if tool.startswith("govmon")
    }
    same = None
    if "govmon" in measurements:
        same = record.details.get("findings_by_check") == measurements["govmon"].details.get(
            "findings_by_check"
        )
    record_fig = record.figures(broken, 0)
    return {
        "site": {
            "channels": args.channels,
            "files": files,
            "bytes": size,
            "warc_mb": round(warc.stat().st_size / 2**20, 1),
            "planted": {k: len(v) for k, v in sorted(truth.items())},
            "scrapy_through": "the same govmon replay server, as its HTTP proxy",
        },
        "recording": {
            "figures": record_fig,
            "findings": record.details.get("findings"),
            "verdicts": record.details.get("verdicts"),
        },
        "replay_findings_equal_recording": same,
        "checks": checks,
        "figures": figures,
        "ratios": ratio_block(figures),
        "targets": [],
        "runs": {tool: _run_record(m) for tool, m in measurements.items()},
        "profile": profile,
        "text": table(figures) + "\n" + checks_table(checks),
    }


def _resumable_line(tool: str) -> str:
    resumable = _resumable(tool)
    return "" if resumable is None else f"resumable = {'true' if resumable else 'false'}\n"


def compare_findings(
    truth: dict[str, set[str]], found: dict[str, list[str]]
) -> dict[str, dict[str, Any]]:
    """Per check code: planted, found, missed and extra subjects."""
    out: dict[str, dict[str, Any]] = {}
    for code in sorted(set(truth) | set(found)):
        want = {normalise(u) for u in truth.get(code, set())}
        got = {normalise(u) for u in found.get(code, [])}
        out[code] = {
            "planted": len(want),
            "found": len(got),
            "missed": sorted(want - got),
            "extra": sorted(got - want),
        }
    return out


def checks_table(checks: dict[str, dict[str, dict[str, Any]]]) -> str:
    lines = []
    for tool, codes in checks.items():
        lines.append(f"{tool}: findings against the planted problems")
        for code, row in codes.items():
            note = ""
            if row["missed"] or row["extra"]:
                note = f"  missed {row['missed'][:3]} extra {row['extra'][:3]}"
            planted = row["planted"] if row["planted"] or code in PLANTED_CODES else "-"
            lines.append(f"  {code:28} planted {planted!s:>4}  found {row['found']:>4}{note}")
    return "\n".join(lines)


PLANTED_CODES = frozenset(
    {
        "link.broken",
        "column.stale",
        "column.blank",
        "content.typo",
        "message.late_reply",
        "message.overdue",
        "message.unanswered",
        "message.incomplete",
        "policy.no_interpretation",
        "service.guide_incomplete",
    }
)


def suite_growth(
    args: argparse.Namespace, tools: Sequence[str], work: Path, logs: Path
) -> dict[str, Any]:
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    scrapy_sizes = {int(s) for s in args.scrapy_sizes.split(",") if s.strip()}
    rows: list[dict[str, Any]] = []
    runs: dict[str, Any] = {}
    texts: list[str] = []
    for size in sizes:
        print(f"size {size:,}: starting the generated site …", flush=True)
        server = SynthServer(size, args.hosts, args.seed, logs / f"synth-{size}.stderr")
        measurements: dict[str, Measurement] = {}
        try:
            site = Site(pages=size, hosts=args.hosts, port=server.port, seed=args.seed)
            truth = {normalise(url) for url, _ in site.broken_targets()}
            for tool in tools:
                if tool == "scrapy" and size not in scrapy_sizes:
                    continue
                print(f"  running {tool} on {size:,} pages …", flush=True)
                name = f"{tool}-{size}"
                if tool == "scrapy":
                    m = run_scrapy(server.homes, server, args, logs, sample_every=5, name=name)
                else:
                    config = govmon_config(
                        server.homes, args.concurrency, size, "single", _resumable(tool)
                    )
                    m = run_govmon(name, config, server, args, work, logs, sample_every=5)
                m.tool = tool
                measurements[tool] = m
                _status(m)
        finally:
            server.stop()
        figures = figures_of(measurements, truth, size)
        for tool, fig in figures.items():
            samples = measurements[tool].details.get("samples", [])
            rows.append(
                {
                    "size": size,
                    "tool": tool,
                    **fig,
                    "timed_out": measurements[tool].timed_out,
                    "rss_by_progress": rss_by_progress(samples, size),
                    "db_mb": measurements[tool].details.get("db_mb"),
                }
            )
            runs[f"{tool}-{size}"] = _run_record(measurements[tool])
        texts.append(f"size {size:,}\n{table(figures)}")
        print(texts[-1], flush=True)
    growth_text = growth_table(rows)
    target = [
        f"target govmon: peak RSS ≤ {TARGET_RSS_MB['growth']:.0f} MB at 1 M URLs: "
        + (
            f"{r['max_rss_mb']:.1f} MB at {r['size']:,} — "
            + ("met" if r["max_rss_mb"] <= TARGET_RSS_MB["growth"] else "NOT met")
        )
        for r in rows
        if r["tool"] == "govmon" and r["size"] == max(sizes)
    ]
    if max(sizes) < 1_000_000:
        target.append(f"(the largest size run was {max(sizes):,}, not 1 M)")
    return {
        "site": {"sizes": sizes, "scrapy_sizes": sorted(scrapy_sizes), "hosts": args.hosts},
        "rows": rows,
        "targets": target,
        "runs": runs,
        "text": "\n\n".join([*texts, growth_text]),
    }


def rss_by_progress(samples: list[list[float]], size: int) -> dict[str, float]:
    """RSS (MB) when the server had served 10 %, 25 %, 50 %, 75 % and 90 % of the pages."""
    out: dict[str, float] = {}
    for share in (0.1, 0.25, 0.5, 0.75, 0.9):
        for _, rss, pages in samples:
            if pages >= share * size:
                out[f"{round(share * 100)}%"] = rss
                break
    return out


def growth_table(rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'size':>10} {'tool':>8} {'pages':>10} {'wall s':>9} {'pages/s':>9} "
        f"{'CPU s/1k':>9} {'peak MB':>9} {'MB@25%':>8} {'MB@50%':>8} {'MB@75%':>8} {'broken':>13}"
    )
    lines = [head]
    for r in rows:
        prog = r.get("rss_by_progress", {})
        cells = [
            f"{r['size']:>10,}",
            f"{r['tool']:>8}",
            f"{r['pages'] or 0:>10,}",
            f"{r['wall_s']:>9.1f}",
            f"{r['pages_per_s'] or 0:>9.1f}",
            f"{r['cpu_s_per_1000_pages'] or 0:>9.2f}",
            f"{r['max_rss_mb']:>9.1f}",
            *(f"{prog[k]:>8.1f}" if k in prog else f"{'-':>8}" for k in ("25%", "50%", "75%")),
            f"{r['broken_true_positives']:>6,}/{r['broken_found']:<6,}",
        ]
        if r.get("timed_out"):
            cells.append(" (timed out)")
        lines.append(" ".join(cells))
    return "\n".join(lines)


SuiteFn = Callable[[argparse.Namespace, Sequence[str], Path, Path], dict[str, Any]]


def main(argv: list[str] | None = None) -> int:
    interrupt_on_signals()
    parser = argparse.ArgumentParser(prog="python -m benchmarks.suites", description=__doc__)
    parser.add_argument("suite", choices=SUITES)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--tools", help="comma-separated, in run order (default: per suite)")
    parser.add_argument("--timeout", type=float, help="seconds per tool run")
    parser.add_argument("--pages", type=int, help="standard: 5000; linkheavy: 2000")
    parser.add_argument("--hosts", type=int, default=4)
    parser.add_argument("--channels", type=int, default=30, help="district: channel sites")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="growth: site sizes")
    parser.add_argument("--scrapy-sizes", default="10000,100000", help="growth: Scrapy's sizes")
    parser.add_argument("--profile", action="store_true", help="also profile govmon (py-spy)")
    parser.add_argument("--nginx", help="the nginx binary (default: on PATH or /usr/sbin)")
    default_govmon = Path(sys.executable).parent / "govmon"
    parser.add_argument(
        "--govmon",
        default=str(default_govmon) if default_govmon.exists() else shutil.which("govmon"),
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    if args.pages is None:
        args.pages = 2000 if args.suite == "linkheavy" else 5000
    if args.timeout is None:
        args.timeout = 2700.0 if args.suite == "growth" else 1800.0
    tools = DEFAULT_TOOLS[args.suite]
    if args.tools:
        tools = tuple(t.strip() for t in args.tools.split(",") if t.strip())
    _check_tools(tools, args)
    if args.suite != "growth" and find_nginx() is None and not args.nginx:
        parser.error("nginx not found: apt-get install -y nginx (Debian), or pass --nginx")

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    logs = OUT / f"{stamp}-{args.suite}"
    logs.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"govmon-{args.suite}-"))
    os.chmod(work, 0o755)
    info = machine()
    print(
        f"suite {args.suite}, concurrency {args.concurrency}, tools {', '.join(tools)}; "
        f"{info['nproc']} CPUs ({info['cpu_model']}); govmon {info['git']} "
        f"(sources {source_digest()}); logs in {logs}",
        flush=True,
    )
    suites: dict[str, SuiteFn] = {
        "standard": lambda a, t, w, lg: suite_static("standard", a, t, w, lg),
        "linkheavy": lambda a, t, w, lg: suite_static("linkheavy", a, t, w, lg),
        "district": suite_district,
        "growth": suite_growth,
    }
    try:
        result = suites[args.suite](args, tools, work, logs)
    finally:
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print(result.pop("text"))
    for line in result.get("targets", []):
        print(line)
    record = {
        "suite": args.suite,
        "stamp": stamp,
        "params": {k: v for k, v in vars(args).items() if k not in ("govmon", "nginx")},
        "tools": list(tools),
        "machine": info,
        "govmon_source": {
            tool: run.get("details", {}).get("source")
            for tool, run in result.get("runs", {}).items()
            if tool.startswith("govmon")
        },
        **result,
    }
    out_file = OUT / f"{stamp}-{args.suite}.json"
    out_file.write_text(json.dumps(record, indent=1, ensure_ascii=False, default=str) + "\n")
    print(f"\nresults: {out_file}")
    runs: dict[str, dict[str, Any]] = result.get("runs", {})
    failed = any(r.get("error") or r.get("timed_out") for r in runs.values())
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
