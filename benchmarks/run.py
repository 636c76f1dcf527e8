"""govmon and Scrapy side by side on the same synthetic multi-host site, in one run.

    python -m benchmarks.run [--pages 5000] [--hosts 4] [--concurrency 64] [--tools govmon,scrapy]
    python -m benchmarks.run --suite standard|linkheavy|district|growth [...]   (benchmarks.suites)

Starts the synthetic site (`benchmarks.synth`) in its own process on 127.0.0.1 … 127.0.0.H,
then runs ``govmon scan`` and the Scrapy peer (`benchmarks.scrapy_peer`) one after the other as
child processes, each measured by ``os.wait4`` (user + system CPU, peak RSS) and wall time. It
prints a table and the govmon/Scrapy ratios, and writes everything as JSON to
``benchmarks/out/``. All traffic stays on loopback; every tool run is bounded by ``--timeout``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import psutil

from benchmarks.synth import Site

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
TOOLS = ("govmon", "scrapy")


@dataclass
class Measurement:
    """One tool's run: what the OS measured and what the tool reported."""

    tool: str
    command: list[str]
    exit_code: int | None = None
    timed_out: bool = False
    wall_s: float = 0.0
    user_s: float = 0.0
    sys_s: float = 0.0
    max_rss_mb: float = 0.0
    server_cpu_s: float = 0.0
    server_counts: dict[str, int] = field(default_factory=dict)
    pages: int | None = None
    requests: int | None = None
    broken_urls: list[str] = field(default_factory=list)
    blocked: int | None = None
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s

    def figures(self, truth: set[str], site_pages: int) -> dict[str, Any]:
        found = {normalise(u) for u in self.broken_urls}
        pages = self.pages or 0
        # The site's pages count only when the tool loaded every one of them.
        complete = site_pages > 0 and self.server_counts.get("GET.page.200", 0) >= site_pages
        return {
            "pages": self.pages,
            "requests": self.requests,
            "wall_s": round(self.wall_s, 2),
            "pages_per_s": round(pages / self.wall_s, 1) if self.wall_s else None,
            "requests_per_s": (
                round(self.requests / self.wall_s, 1) if self.wall_s and self.requests else None
            ),
            "cpu_s": round(self.cpu_s, 2),
            "cpu_s_per_1000_pages": round(self.cpu_s / pages * 1000, 2) if pages else None,
            "site_pages_per_s": (
                round(site_pages / self.wall_s, 1) if complete and self.wall_s else None
            ),
            "cpu_s_per_1000_site_pages": (
                round(self.cpu_s / site_pages * 1000, 2) if complete else None
            ),
            "max_rss_mb": round(self.max_rss_mb, 1),
            "broken_found": len(found),
            "broken_true_positives": len(found & truth),
            "broken_missed": len(truth - found),
            "broken_false_positives": len(found - truth),
            "server_requests": self.server_counts.get("requests", 0),
            "server_get_page_200": self.server_counts.get("GET.page.200", 0),
            "server_get_404": self.server_counts.get("GET.page.404", 0)
            + self.server_counts.get("GET.resource.404", 0),
            "server_head": self.server_counts.get("method.HEAD", 0),
            "server_cpu_s": round(self.server_cpu_s, 2),
        }


def normalise(url: str) -> str:
    """Lower-case scheme and host, no fragment: enough to compare the tools' URLs."""
    parts = urlsplit(url)
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, "")
    )


# ---- the server -----------------------------------------------------------------------------


class CountingServer(Protocol):
    """What `measure` needs of a server: its request counters and its CPU seconds so far."""

    def stats(self) -> dict[str, int]: ...

    def cpu(self) -> float: ...


class SynthServer:
    """`python -m benchmarks.synth serve` as a child process."""

    def __init__(
        self, pages: int, hosts: int, seed: int, log: Path, access_log: Path | None = None
    ) -> None:
        self._log = log.open("wb")
        command = [
            *(sys.executable, "-m", "benchmarks.synth", "serve"),
            *("--pages", str(pages), "--hosts", str(hosts), "--seed", str(seed)),
        ]
        if access_log is not None:
            command += ["--access-log", str(access_log)]
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self._log,
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline() if ready else b""
        if not line:
            self.stop()
            raise RuntimeError(f"the synthetic site did not start (see {log})")
        info = json.loads(line)
        self.port: int = info["port"]
        self.homes: list[str] = info["homes"]
        self.process = psutil.Process(self.proc.pid)

    def stats(self) -> dict[str, int]:
        url = f"http://127.0.0.1:{self.port}/_bench/stats"
        with urllib.request.urlopen(url, timeout=10) as response:
            data: dict[str, int] = json.load(response)
        return data

    def cpu(self) -> float:
        times = self.process.cpu_times()
        return float(times.user + times.system)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


# ---- measuring a child ----------------------------------------------------------------------


def measure(
    m: Measurement,
    server: CountingServer,
    stdout: Path,
    stderr: Path,
    timeout: float,
    sample_every: float | None = None,
) -> None:
    """Run ``m.command`` to its end (or ``timeout``), filling the OS-measured fields of ``m``.

    With ``sample_every`` (seconds), a thread also records the child's resident memory and the
    server's count of pages served (``GET.page.200``) as it goes, in ``m.details["samples"]``:
    ``[seconds, RSS MB, pages served]`` rows."""
    before_counts = server.stats()
    before_cpu = server.cpu()
    samples: list[list[float]] = []
    done = threading.Event()
    with stdout.open("wb") as out, stderr.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(m.command, cwd=ROOT, stdout=out, stderr=err, start_new_session=True)
        timer = threading.Timer(timeout, _kill_group, args=(proc.pid, m))
        timer.start()
        sampler = None
        if sample_every:
            sampler = threading.Thread(
                target=_sample,
                args=(proc.pid, server, before_counts, started, sample_every, done, samples),
                daemon=True,
            )
            sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # Ctrl-C: the child is in its own session, end it too
            os.killpg(proc.pid, signal.SIGKILL)
            os.waitpid(proc.pid, 0)
            proc.returncode = -signal.SIGKILL
            raise
        finally:
            timer.cancel()
            done.set()
            if sampler is not None:
                sampler.join(30)
        m.wall_s = time.perf_counter() - started
    if samples:
        m.details["samples"] = samples
    proc.returncode = os.waitstatus_to_exitcode(status)
    m.exit_code = proc.returncode
    m.user_s = usage.ru_utime
    m.sys_s = usage.ru_stime
    m.max_rss_mb = usage.ru_maxrss / 1024  # Linux: KiB
    m.server_cpu_s = server.cpu() - before_cpu
    after_counts = server.stats()
    m.server_counts = {k: v - before_counts.get(k, 0) for k, v in sorted(after_counts.items())}


def _sample(
    pid: int,
    server: CountingServer,
    before: dict[str, int],
    started: float,
    every: float,
    done: threading.Event,
    out: list[list[float]],
) -> None:
    try:
        process = psutil.Process(pid)
    except psutil.Error:
        return
    while not done.wait(every):
        try:
            rss = process.memory_info().rss / 2**20
            pages = server.stats().get("GET.page.200", 0) - before.get("GET.page.200", 0)
        except (psutil.Error, OSError):
            return
        out.append([round(time.perf_counter() - started, 1), round(rss, 1), pages])


def _kill_group(pid: int, m: Measurement) -> None:
    m.timed_out = True
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 0.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        time.sleep(grace)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


# ---- the tools ------------------------------------------------------------------------------


def govmon_config(
    homes: list[str], concurrency: int, pages: int, layout: str, resumable: bool | None = None
) -> str:
    big = max(10 * pages, 100_000)
    lines = [
        "# generated by benchmarks.run",
        "[crawl]",
        "rate = 0",
        f"concurrency = {concurrency}",
        f"workers = {concurrency}",
        "allow_private = true",
        "resolve_only = true",
        "recheck_delay = 1",
        'robots = "ignore"',
        f"max_pages = {big}",
        f"max_depth = {big}",
    ]
    if resumable is not None:
        lines.append(f"resumable = {'true' if resumable else 'false'}")
    lines.append("")
    sites = [("synth", homes[0], homes)] if layout == "single" else []
    if layout == "per-host":
        sites = [(f"h{i + 1}", home, [home]) for i, home in enumerate(homes)]
    for site_id, url, scope in sites:
        lines += [
            "[[site]]",
            f'id = "{site_id}"',
            f'name = "合成区门户网站 {site_id}"',
            'unit = "合成区人民政府办公室"',
            'kind = "portal"',
            f'url = "{url}"',
            "scope = [" + ", ".join(f'"{s}"' for s in scope) + "]",
            "",
        ]
    return "\n".join(lines)


def run_govmon(
    args: argparse.Namespace, server: SynthServer, work: Path, logs: Path
) -> Measurement:
    config = work / "govmon.toml"
    db = work / "govmon.db"
    config.write_text(govmon_config(server.homes, args.concurrency, args.pages, args.layout))
    m = Measurement("govmon", [args.govmon, "scan", str(config), "--db", str(db)])
    if args.processes > 1:
        m.command += ["--processes", str(args.processes)]
    stdout, stderr = logs / "govmon.stdout", logs / "govmon.stderr"
    measure(m, server, stdout, stderr, args.timeout)
    m.details["scan_output"] = _tail(stdout, 30)
    if m.exit_code != 0:
        m.error = f"govmon scan exited with {m.exit_code}: {_tail(stderr)}"
    report_path = logs / "govmon-report.json"
    report = subprocess.run(
        [args.govmon, "report", "--db", str(db), "--format", "json", "--output", str(report_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if report.returncode != 0 or not report_path.exists():
        m.error = (
            (m.error or "")
            + f" | govmon report exited with {report.returncode}: "
            + (report.stderr[-2000:])
        )
        return m
    data = json.loads(report_path.read_text())
    scan = data.get("scan", {})
    m.pages = scan.get("pages")
    m.requests = scan.get("requests")
    m.details["scan_status"] = scan.get("status")
    findings = data.get("findings", [])
    m.broken_urls = sorted({f["url"] for f in findings if f.get("check") == "link.broken"})
    m.blocked = sum(1 for f in findings if f.get("check") == "link.blocked")
    reasons: dict[str, int] = {}
    for f in findings:
        key = f"{f.get('check')} {f.get('detail', {}).get('reason', '')}".strip()
        reasons[key] = reasons.get(key, 0) + 1
    m.details["findings"] = dict(sorted(reasons.items()))
    return m


def run_scrapy(
    args: argparse.Namespace, server: SynthServer, work: Path, logs: Path
) -> Measurement:
    result_path = logs / "scrapy-result.json"
    command = [sys.executable, "-m", "benchmarks.scrapy_peer"]
    for home in server.homes:
        command += ["--home", home]
    command += ["--concurrency", str(args.concurrency), "--output", str(result_path)]
    m = Measurement("scrapy", command)
    stdout, stderr = logs / "scrapy.stdout", logs / "scrapy.stderr"
    measure(m, server, stdout, stderr, args.timeout)
    if m.exit_code != 0 or not result_path.exists():
        m.error = f"the Scrapy peer exited with {m.exit_code}: {_tail(stderr)}"
        return m
    data = json.loads(result_path.read_text())
    m.pages = data["pages"]
    m.requests = data["requests"]
    m.broken_urls = data["broken_urls"]
    m.details = {k: v for k, v in data.items() if k not in ("broken_urls", "tool")}
    return m


# ---- reporting ------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for name in ("govmon", "scrapy", "aiohttp", "twisted"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "git": _git_revision(),
    }


def _git_revision() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    return out.stdout.strip() or None


ROWS = (
    ("pages", "pages", "{:.0f}"),
    ("requests", "requests", "{:.0f}"),
    ("wall s", "wall_s", "{:.2f}"),
    ("pages/s", "pages_per_s", "{:.1f}"),
    ("requests/s", "requests_per_s", "{:.1f}"),
    ("CPU s (user+sys)", "cpu_s", "{:.2f}"),
    ("CPU s / 1,000 pages", "cpu_s_per_1000_pages", "{:.2f}"),
    ("site pages/s", "site_pages_per_s", "{:.1f}"),
    ("CPU s / 1,000 site pages", "cpu_s_per_1000_site_pages", "{:.2f}"),
    ("peak RSS MB", "max_rss_mb", "{:.1f}"),
    ("broken found", "broken_found", "{:.0f}"),
    ("  of which true", "broken_true_positives", "{:.0f}"),
    ("  missed", "broken_missed", "{:.0f}"),
    ("  false positives", "broken_false_positives", "{:.0f}"),
    ("requests seen by server", "server_requests", "{:.0f}"),
    ("  GET page 200", "server_get_page_200", "{:.0f}"),
    ("  GET 404", "server_get_404", "{:.0f}"),
    ("  HEAD", "server_head", "{:.0f}"),
    ("server CPU s", "server_cpu_s", "{:.2f}"),
)


def ratios(figures: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """govmon over Scrapy: pages/s and CPU per page, by each tool's own page count and by the
    site's N pages (the tools count differently: govmon counts a broken page link it fetched
    as a page, Scrapy counts only the pages that loaded)."""
    g, s = figures.get("govmon"), figures.get("scrapy")
    keys = (
        "pages_per_s",
        "cpu_s_per_1000_pages",
        "site_pages_per_s",
        "cpu_s_per_1000_site_pages",
    )
    out: dict[str, float | None] = dict.fromkeys(keys)
    if g is None or s is None:
        return out
    for key in keys:
        a, b = g.get(key), s.get(key)
        out[key] = round(a / b, 2) if a and b else None
    return out


def table(figures: dict[str, dict[str, Any]], truth: dict[str, Any]) -> str:
    tools = list(figures)
    lines = [f"{'':26}" + "".join(f"{t:>14}" for t in tools)]
    for label, key, fmt in ROWS:
        cells = []
        for tool in tools:
            value = figures[tool].get(key)
            cells.append(f"{'-' if value is None else fmt.format(value):>14}")
        lines.append(f"{label:26}" + "".join(cells))
    lines.append(
        f"ground truth: {truth['pages']} pages, {truth['targets']} distinct targets, "
        f"{truth['broken']} broken ({truth['broken_by_kind']})"
    )
    r = ratios(figures)
    if r["site_pages_per_s"] is not None:
        lines.append(
            f"govmon/Scrapy on the site's {truth['pages']} pages: "
            f"pages/s × {r['site_pages_per_s']}, CPU per page × {r['cpu_s_per_1000_site_pages']}"
            " (below 1: govmon uses less CPU)"
        )
    if r["pages_per_s"] is not None:
        lines.append(
            f"govmon/Scrapy on their own page counts: pages/s × {r['pages_per_s']}, "
            f"CPU per page × {r['cpu_s_per_1000_pages']}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--suite")
    known, rest = pre.parse_known_args(argv)
    if known.suite not in (None, "synth"):
        from benchmarks.suites import main as suite_main

        return suite_main([known.suite, *rest])
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument(
        "--suite",
        choices=("synth", "standard", "linkheavy", "district", "growth"),
        default="synth",
        help="synth (default): this benchmark; the others: benchmarks.suites (--suite X --help)",
    )
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--hosts", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated, in run order")
    parser.add_argument(
        "--layout",
        choices=("single", "per-host"),
        default="single",
        help="govmon config: one site whose scope lists every host, or one site per host",
    )
    parser.add_argument("--processes", type=int, default=1, help="govmon scan --processes N")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per tool run")
    default_govmon = Path(sys.executable).parent / "govmon"
    parser.add_argument(
        "--govmon",
        default=str(default_govmon) if default_govmon.exists() else shutil.which("govmon"),
    )
    parser.add_argument("--keep", action="store_true", help="keep the config and database")
    parser.add_argument(
        "--access-log", action="store_true", help="the server logs every request (slower)"
    )
    args = parser.parse_args(argv)
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    if unknown := set(tools) - set(TOOLS):
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")
    if "govmon" in tools and not args.govmon:
        parser.error("govmon not found; pass --govmon PATH")

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    logs = OUT / f"{stamp}-p{args.pages}-h{args.hosts}-c{args.concurrency}"
    logs.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="govmon-bench-"))
    info = machine()
    print(
        f"synthetic site: {args.pages} pages on {args.hosts} hosts, concurrency {args.concurrency}"
        f"; {info['nproc']} CPUs ({info['cpu_model']}); logs in {logs}",
        flush=True,
    )
    server = SynthServer(
        args.pages,
        args.hosts,
        args.seed,
        logs / "synth.stderr",
        logs / "access.log" if args.access_log else None,
    )
    try:
        site = Site(pages=args.pages, hosts=args.hosts, port=server.port, seed=args.seed)
        truth = site.ground_truth(with_urls=False)
        truth_urls = {normalise(url) for url, _ in site.broken_targets()}
        measurements: dict[str, Measurement] = {}
        for tool in tools:
            print(f"running {tool} …", flush=True)
            runner = run_govmon if tool == "govmon" else run_scrapy
            m = runner(args, server, work, logs)
            measurements[tool] = m
            status = "timed out" if m.timed_out else f"exit {m.exit_code}"
            print(f"  {tool}: {status}, {m.wall_s:.1f} s", flush=True)
            if m.error:
                print(f"  {tool} problem: {m.error}", flush=True)
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    figures = {tool: m.figures(truth_urls, args.pages) for tool, m in measurements.items()}
    print()
    print(table(figures, truth))
    for tool, m in measurements.items():
        found = {normalise(u) for u in m.broken_urls}
        missed = sorted(truth_urls - found)
        extra = sorted(found - truth_urls)
        if missed:
            print(f"{tool} missed {len(missed)} broken targets, e.g. {missed[:3]}")
        if extra:
            print(f"{tool} reported {len(extra)} targets that are not broken, e.g. {extra[:3]}")
    result = {
        "stamp": stamp,
        "params": {
            "pages": args.pages,
            "hosts": args.hosts,
            "concurrency": args.concurrency,
            "seed": args.seed,
            "layout": args.layout,
            "processes": args.processes,
            "timeout": args.timeout,
        },
        "machine": info,
        "truth": truth,
        "figures": figures,
        "ratio_govmon_over_scrapy": ratios(figures),
        "runs": {tool: _run_record(m, truth_urls) for tool, m in measurements.items()},
    }
    out_file = OUT / f"{logs.name}.json"
    out_file.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print(f"\nresults: {out_file}")
    failed = any(m.error or m.timed_out for m in measurements.values())
    return 1 if failed else 0


def _run_record(m: Measurement, truth_urls: set[str]) -> dict[str, Any]:
    record = asdict(m)
    found = {normalise(u) for u in m.broken_urls}
    record["broken_urls"] = len(m.broken_urls)
    record["missed_sample"] = sorted(truth_urls - found)[:20]
    record["false_positive_sample"] = sorted(found - truth_urls)[:20]
    return record


if __name__ == "__main__":
    raise SystemExit(main())
