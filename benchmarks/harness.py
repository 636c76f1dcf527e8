"""What the benchmarks share: the measured run of a tool, the synthetic site as a child
process, the govmon config for it, and the machine a run was made on.

Used by the synthetic benchmark (:mod:`benchmarks.run`), the suites (:mod:`benchmarks.suites`),
the scripted-pages benchmark and the queue scaling benchmark.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import select
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import psutil

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"


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


def tail(path: Path, lines: int = 15) -> str:
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
