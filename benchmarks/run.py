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
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    OUT,
    ROOT,
    Measurement,
    SynthServer,
    govmon_config,
    machine,
    measure,
    normalise,
    tail,
)
from benchmarks.suites import main as suite_main
from benchmarks.synth import Site

TOOLS = ("govmon", "scrapy")


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
    m.details["scan_output"] = tail(stdout, 30)
    if m.exit_code != 0:
        m.error = f"govmon scan exited with {m.exit_code}: {tail(stderr)}"
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
        m.error = f"the Scrapy peer exited with {m.exit_code}: {tail(stderr)}"
        return m
    data = json.loads(result_path.read_text())
    m.pages = data["pages"]
    m.requests = data["requests"]
    m.broken_urls = data["broken_urls"]
    m.details = {k: v for k, v in data.items() if k not in ("broken_urls", "tool")}
    return m


# ---- reporting ------------------------------------------------------------------------------


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
