"""The queue at 1, 2 and 4 worker processes on the 30-site district (issue 10).

    python -m benchmarks.queue_scaling [--workers 1,2,4] [--jobs 4] [--channels 30]
        [--concurrency 64] [--pg postgresql://postgres@127.0.0.1:5432/test] [--timeout 900]
        [--snapshot REV] [--settle 300] [--no-reference] [--keep]

Writes the district of :mod:`benchmarks.district` (30 channel sites on 127.0.0.1 … 127.0.0.30)
and serves it with nginx (:mod:`benchmarks.nginx`), as the district suite does when it records.
Then, one after the other against the same nginx:

* ``scan-sqlite``: one ``govmon scan CONFIG --db FILE.db`` (the reference: one process, SQLite);
* ``scan-pg``: one ``govmon scan CONFIG --db postgresql://…?schema=…`` (one process, no queue);
* for each N of ``--workers``: a fresh schema, ``govmon submit CONFIG --db URL``, then N
  ``govmon worker --db URL --jobs J --until-idle`` processes started at once.

Measured for each run, from the outside:

* wall time: from starting ``submit`` (or ``scan``) to the last process's exit, and to the last
  site's ``finished_at`` in ``queue_sites`` (workers with ``--until-idle`` notice that nothing
  is left only on their next poll, every 5 s by default);
* each govmon process's user + system CPU and peak RSS, from ``os.wait4``;
* pages and requests: ``sum(pages), sum(requests)`` of ``queue_sites`` (the scan's totals in the
  report for the single-process scans);
* PostgreSQL's CPU: the postmaster's own ``utime + stime`` plus its ``cutime + cstime`` (the
  CPU of every child it has reaped: backends are one process per connection, and a pool that
  closes ends them) plus ``utime + stime + cutime + cstime`` of each of its live children, read
  from ``/proc/PID/stat`` right before and right after the run. A backend that comes and goes
  within the run is in the postmaster's ``cutime`` by the end, one alive at both ends counts its
  difference, so nothing is lost between samples; background processes (WAL writer,
  checkpointer, autovacuum …) are included. A thread also samples every second which backends
  serve our processes (their client ports, from the socket table) to count our connections and
  to notice other clients of the same server (their CPU would be in the total: it is reported
  and taken out when seen);
* nginx's CPU (master and worker), and the machine's busy CPU from ``/proc/stat`` (what the
  rest of the machine did shows as "other");
* the store: ``pg_total_relation_size`` of every table of the schema (tables, indexes, TOAST),
  rows written (``n_tup_ins`` of ``pg_stat_user_tables``) and WAL bytes
  (``pg_current_wal_lsn()`` before and after; the whole server's);
* findings: the set of (check, site, url) of ``govmon report --format json`` of each run,
  compared with the SQLite scan's.

Before each run it waits (at most ``--settle`` s) for the machine to be idle for 10 s: on a small
machine shared with other work the wall times are otherwise meaningless. ``--snapshot HEAD`` runs
govmon from a copy of that commit's ``crawler``, ``checks`` and ``storage`` (with this
interpreter), so that edits to the working tree during the runs do not change what is measured.

Prints one table and writes ``benchmarks/out/STAMP-queue.json`` (logs in
``benchmarks/out/STAMP-queue/``). Only loopback addresses; every run is killed (its processes'
groups: SIGTERM, then SIGKILL) after ``--timeout`` seconds; the schemas are dropped afterwards
unless ``--keep``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
import psycopg

from benchmarks.district import District
from benchmarks.harness import OUT, ROOT, machine
from benchmarks.nginx import NginxServer, VirtualHost, find_nginx, free_port, interrupt_on_signals
from benchmarks.suites import SOURCE_PACKAGES, _nginx_version
from benchmarks.suites import source_digest as digest_of

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
TICK = os.sysconf("SC_CLK_TCK")
SOURCE = ROOT  # where the govmon that runs has its packages (--snapshot: a copy of a commit)


def source_digest() -> str:
    """A digest of the sources govmon runs (others may edit the working tree meanwhile)."""
    return digest_of(SOURCE)


def snapshot(rev: str, work: Path) -> tuple[str, Path, Path]:
    """``crawler``, ``checks`` and ``storage`` of commit ``rev`` copied under ``work/src``, and a
    ``govmon`` script that runs them with this interpreter (and its dependencies): the runs
    then measure one commit even while the working tree changes. (commit, src, script)."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", rev],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    src = work / "src"
    src.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", commit, *SOURCE_PACKAGES], cwd=ROOT, capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive.stdout, check=True)
    script = work / "govmon"
    code = (
        f"import sys; sys.path.insert(0, {str(src)!r}); sys.argv[0] = 'govmon'; "
        "import crawler; "
        f"assert crawler.__file__.startswith({str(src)!r}), crawler.__file__; "
        "from crawler.cli import main; sys.exit(main())"
    )
    script.write_text(f'#!/bin/sh\nexec {sys.executable} -c "{code}" "$@"\n')
    script.chmod(0o755)
    check = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise RuntimeError(f"the snapshot of {commit} does not run: {check.stderr[-800:]}")
    return commit, src, script


# ---- PostgreSQL's CPU from /proc ------------------------------------------------------------


def _stat_ticks(pid: int) -> tuple[int, int, int] | None:
    """(ppid, own utime + stime, reaped children's cutime + cstime) of ``pid``, in ticks."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # fields[0] is field 3 (state)
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def find_postmaster(port: int) -> int:
    """The pid of the PostgreSQL server listening on ``port`` (the postmaster)."""
    for conn in psutil.net_connections(kind="inet"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
            if conn.pid is None:
                break
            proc = psutil.Process(conn.pid)
            while proc.parent() is not None and proc.parent().name() == proc.name():
                proc = proc.parent()
            return int(proc.pid)
    raise RuntimeError(f"no PostgreSQL server found listening on port {port} (run as root?)")


def postgres_cpu(postmaster: int) -> float:
    """CPU seconds of the postmaster and every child it has had, so far."""
    own = _stat_ticks(postmaster)
    if own is None:
        raise RuntimeError(f"the PostgreSQL server (pid {postmaster}) is gone")
    ticks = own[1] + own[2]
    for child in psutil.Process(postmaster).children():
        stat = _stat_ticks(child.pid)
        if stat is not None and stat[0] == postmaster:
            ticks += stat[1] + stat[2]
    return ticks / TICK


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (not idle, not waiting for I/O)."""
    parts = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(parts[:8])  # guest time is already in user
    return (total - parts[3] - parts[4]) / TICK


_CLIENT = re.compile(r"\((\d+)\)|\[local\]")


class BackendSampler(threading.Thread):
    """Every ``every`` s: the postmaster's children, each from its process title
    (``postgres: 15/main: USER DB 127.0.0.1(PORT) STATE``), as a backend of one of our processes
    (its client port is one of theirs), a backend of another client, or a background process;
    and the CPU each has used so far. Backends that end between two samples lose up to
    ``every`` s of CPU here: the totals come from :func:`postgres_cpu`, these figures split them
    and notice other clients."""

    def __init__(self, postmaster: int, port: int, every: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.postmaster = postmaster
        self.port = port
        self.every = every
        self.ours: set[int] = set()  # our client processes' pids
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.our_ports: set[int] = set()  # every client port of ours seen in the run
        # backend pid -> [client port, CPU s first seen, CPU s last seen, title]
        self.backends: dict[int, list[Any]] = {}
        self.seen: list[list[int]] = []  # the client ports of each sample's backends

    def add(self, pid: int) -> None:
        with self.lock:
            self.ours.add(pid)

    def run(self) -> None:
        while not self.stop_event.is_set():
            with contextlib.suppress(psutil.Error, OSError):
                self._sample()
            self.stop_event.wait(self.every)

    def _sample(self) -> None:
        with self.lock:
            ours = set(self.ours)
        for pid in ours:
            with contextlib.suppress(psutil.Error, OSError):
                for c in psutil.Process(pid).net_connections(kind="tcp"):
                    if c.raddr and c.raddr.port == self.port:
                        self.our_ports.add(c.laddr.port)
        ports = []
        for child in psutil.Process(self.postmaster).children():
            try:
                title = Path(f"/proc/{child.pid}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            client = _CLIENT.search(title)
            stat = _stat_ticks(child.pid)
            if client is None or stat is None or stat[0] != self.postmaster:
                continue  # a background process (or gone)
            port = int(client.group(1)) if client.group(1) else 0  # 0: a Unix socket
            cpu = (stat[1] + stat[2]) / TICK
            entry = self.backends.setdefault(child.pid, [port, cpu, cpu, ""])
            entry[2] = cpu
            entry[3] = " ".join(title.replace("\0", " ").split())[:120]
            ports.append(port)
        self.seen.append(ports)

    def stop(self) -> None:
        self.stop_event.set()
        self.join(10)

    @property
    def peak_ours(self) -> int:
        return max((sum(1 for p in ports if p in self.our_ports) for ports in self.seen), default=0)

    def our_cpu(self) -> float:
        """Our backends' CPU as last seen (they all began in the run)."""
        return sum(float(e[2]) for e in self.backends.values() if e[0] in self.our_ports)

    @property
    def foreign(self) -> dict[int, list[Any]]:
        return {pid: e for pid, e in self.backends.items() if e[0] not in self.our_ports}

    def foreign_cpu(self) -> float:
        return sum(float(e[2]) - float(e[1]) for e in self.foreign.values())


# ---- the database's side ----------------------------------------------------------------------


def pg_url(base: str, schema: str) -> str:
    return f"{base}{'&' if '?' in base else '?'}schema={schema}"


def pg_query(base: str, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(base, autocommit=True, application_name="govmon-bench") as conn:
        return conn.execute(query, params).fetchall()


def wal_lsn(base: str) -> str:
    return str(pg_query(base, "SELECT pg_current_wal_lsn()::text")[0][0])


def store_figures(base: str, schema: str, lsn_before: str) -> dict[str, Any]:
    """Size by table (with indexes and TOAST), rows written, WAL written since ``lsn_before``."""
    time.sleep(0.6)  # backends flush their table statistics at most once a second, and on exit
    sizes = dict(
        pg_query(
            base,
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind IN ('r', 'p')",
            (schema,),
        )
    )
    rows = {
        name: {"ins": int(ins), "upd": int(upd), "del": int(dele)}
        for name, ins, upd, dele in pg_query(
            base,
            "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables"
            " WHERE schemaname = %s",
            (schema,),
        )
    }
    wal = pg_query(base, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", (lsn_before,))
    queue_bytes = sum(v for k, v in sizes.items() if k.startswith(("procrastinate", "queue_")))
    return {
        "bytes": int(sum(sizes.values())),
        "bytes_bodies": int(sizes.get("bodies", 0)),
        "bytes_queue": int(queue_bytes),
        "bytes_by_table": {k: int(v) for k, v in sorted(sizes.items(), key=lambda kv: -kv[1])},
        "rows_inserted": sum(r["ins"] for r in rows.values()),
        "rows_updated": sum(r["upd"] for r in rows.values()),
        "rows_deleted": sum(r["del"] for r in rows.values()),
        "rows_by_table": {k: v for k, v in sorted(rows.items()) if any(v.values())},
        "wal_bytes": int(wal[0][0]),
    }


def drop_schema(base: str, schema: str) -> None:
    with contextlib.suppress(psycopg.Error):
        pg_query(base, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# ---- processes ----------------------------------------------------------------------------------


@dataclass
class Proc:
    """One govmon child process and what ``os.wait4`` said of it."""

    role: str
    command: list[str]
    pid: int = 0
    exit_code: int | None = None
    user_s: float = 0.0
    sys_s: float = 0.0
    max_rss_mb: float = 0.0
    started: float = 0.0
    ended: float = 0.0
    stdout: str = ""
    stderr: str = ""

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s


def _ended(p: Proc, status: int, usage: Any) -> None:
    """Record a reaped child's end, exit code and rusage (``os.wait4``'s)."""
    p.ended = time.perf_counter()
    p.exit_code = os.waitstatus_to_exitcode(status)
    p.user_s, p.sys_s = usage.ru_utime, usage.ru_stime
    p.max_rss_mb = usage.ru_maxrss / 1024  # Linux: KiB


class Group:
    """Child processes started now and reaped one by one with ``os.wait4``; all killed (their
    process groups) on timeout or on the way out."""

    def __init__(self, logs: Path, sampler: BackendSampler | None) -> None:
        self.logs = logs
        self.sampler = sampler
        self.procs: list[Proc] = []
        self.running: dict[int, Proc] = {}
        self.timed_out = False

    def start(self, role: str, command: list[str]) -> Proc:
        p = Proc(role, command)
        out, err = self.logs / f"{role}.stdout", self.logs / f"{role}.stderr"
        p.stdout, p.stderr = str(out), str(err)
        with out.open("wb") as o, err.open("wb") as e:
            popen = subprocess.Popen(command, cwd=ROOT, stdout=o, stderr=e, start_new_session=True)
        popen.returncode = 0  # reaped by os.wait4 below, not by Popen
        p.pid = popen.pid
        p.started = time.perf_counter()
        self.procs.append(p)
        self.running[p.pid] = p
        if self.sampler is not None:
            self.sampler.add(p.pid)
        return p

    def wait(self, deadline: float) -> None:
        """Reap every running child, or kill them all at ``deadline`` (perf_counter)."""
        while self.running:
            for pid, p in list(self.running.items()):
                waited, status, usage = os.wait4(pid, os.WNOHANG)
                if waited == 0:
                    continue
                _ended(p, status, usage)
                del self.running[pid]
            if self.running and time.perf_counter() > deadline:
                self.timed_out = True
                self.kill()
                return
            time.sleep(0.02)

    def kill(self) -> None:
        for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 0.0)):
            for pid in self.running:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, sig)
            end = time.monotonic() + grace
            while self.running and time.monotonic() < end:
                self._reap_quietly()
                time.sleep(0.1)
        while self.running:
            self._reap_quietly()
            time.sleep(0.05)

    def _reap_quietly(self) -> None:
        for pid, p in list(self.running.items()):
            with contextlib.suppress(ChildProcessError):
                waited, status, usage = os.wait4(pid, os.WNOHANG)
                if waited == 0:
                    continue
                _ended(p, status, usage)
            del self.running[pid]


def tail(path: str, lines: int = 12) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# ---- one run ------------------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    kind: str  # "scan-sqlite" | "scan-pg" | "queue"
    workers: int = 1
    jobs: int = 1
    schema: str | None = None
    scan_id: int | None = None
    wall_s: float = 0.0
    busy_wall_s: float | None = None  # submit to the last site's finished_at
    pages: int | None = None
    requests: int | None = None
    govmon_cpu_s: float = 0.0  # workers (or the scan)
    submit_cpu_s: float = 0.0
    postgres_cpu_s: float | None = None
    postgres_foreign_cpu_s: float = 0.0
    postgres_foreign: list[str] = field(default_factory=list)
    postgres_backends_cpu_s: float | None = None
    postgres_peak_connections: int | None = None
    nginx_cpu_s: float = 0.0
    machine_busy_s: float = 0.0
    bench_cpu_s: float = 0.0  # this process (the sampler thread)
    rss_mb: list[float] = field(default_factory=list)
    exit_codes: list[int | None] = field(default_factory=list)
    timed_out: bool = False
    store: dict[str, Any] = field(default_factory=dict)
    sites: dict[str, Any] = field(default_factory=dict)
    findings: list[list[str]] = field(default_factory=list)
    findings_by_check: dict[str, int] = field(default_factory=dict)
    scan_status: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    settle: dict[str, float] = field(default_factory=dict)
    processes: list[dict[str, Any]] = field(default_factory=list)
    source: str = ""

    def figures(
        self, base: Run | None, sqlite_findings: set[tuple[str, ...]] | None
    ) -> dict[str, Any]:
        pages = self.pages or 0

        def per_k(seconds: float | None) -> float | None:
            return round(seconds / pages * 1000, 3) if pages and seconds is not None else None

        others = self.machine_busy_s - self.govmon_cpu_s - self.submit_cpu_s - self.nginx_cpu_s
        others -= (self.postgres_cpu_s or 0.0) + self.bench_cpu_s
        out: dict[str, Any] = {
            "processes": self.workers,
            "jobs": self.jobs,
            "pages": self.pages,
            "requests": self.requests,
            "wall_s": round(self.wall_s, 2),
            "busy_wall_s": None if self.busy_wall_s is None else round(self.busy_wall_s, 2),
            "pages_per_s": round(pages / self.wall_s, 1) if self.wall_s else None,
            "requests_per_s": round((self.requests or 0) / self.wall_s, 1) if self.wall_s else None,
            "busy_pages_per_s": round(pages / self.busy_wall_s, 1) if self.busy_wall_s else None,
            "govmon_cpu_s": round(self.govmon_cpu_s, 2),
            "submit_cpu_s": round(self.submit_cpu_s, 2),
            "postgres_cpu_s": None
            if self.postgres_cpu_s is None
            else round(self.postgres_cpu_s, 2),
            "nginx_cpu_s": round(self.nginx_cpu_s, 2),
            "govmon_cpu_per_1000_pages": per_k(self.govmon_cpu_s + self.submit_cpu_s),
            "postgres_cpu_per_1000_pages": per_k(self.postgres_cpu_s),
            "postgres_backends_cpu_per_1000_pages": per_k(self.postgres_backends_cpu_s),
            "postgres_foreign_cpu_s": round(self.postgres_foreign_cpu_s, 2),
            "nginx_cpu_per_1000_pages": per_k(self.nginx_cpu_s),
            "total_cpu_per_1000_pages": per_k(
                self.govmon_cpu_s
                + self.submit_cpu_s
                + (self.postgres_cpu_s or 0)
                + self.nginx_cpu_s
            ),
            "govmon_cpu_per_1000_requests": (
                round((self.govmon_cpu_s + self.submit_cpu_s) / self.requests * 1000, 3)
                if self.requests
                else None
            ),
            "postgres_cpu_per_1000_requests": (
                round(self.postgres_cpu_s / self.requests * 1000, 3)
                if self.requests and self.postgres_cpu_s is not None
                else None
            ),
            "machine_busy_s": round(self.machine_busy_s, 2),
            "bench_cpu_s": round(self.bench_cpu_s, 2),
            "other_busy_s": round(others, 2),
            "cpu_utilisation": (
                round(self.machine_busy_s / (self.wall_s * len(os.sched_getaffinity(0))), 2)
                if self.wall_s
                else None
            ),
            "peak_rss_mb_max": round(max(self.rss_mb), 1) if self.rss_mb else None,
            "peak_rss_mb": [round(r, 1) for r in self.rss_mb],
            "postgres_peak_connections": self.postgres_peak_connections,
            "store_mb": round(self.store.get("bytes", 0) / 2**20, 1) if self.store else None,
            "store_bytes_per_page": round(self.store["bytes"] / pages)
            if self.store and pages
            else None,
            "store_bytes_per_request": (
                round(self.store["bytes"] / self.requests) if self.store and self.requests else None
            ),
            "bodies_mb": round(self.store.get("bytes_bodies", 0) / 2**20, 1)
            if self.store
            else None,
            "rows_inserted": self.store.get("rows_inserted"),
            "rows_per_page": (
                round(self.store["rows_inserted"] / pages, 1)
                if self.store.get("rows_inserted") is not None and pages
                else None
            ),
            "rows_per_s": (
                round(self.store["rows_inserted"] / self.wall_s)
                if self.store.get("rows_inserted") is not None and self.wall_s
                else None
            ),
            "wal_mb": round(self.store["wal_bytes"] / 2**20, 1)
            if "wal_bytes" in self.store
            else None,
            "findings": len(self.findings),
            "speedup_vs_1_worker": None,
            "findings_equal_sqlite": None,
        }
        if base is not None and base.wall_s and self.wall_s and self.kind == "queue":
            out["speedup_vs_1_worker"] = round(base.wall_s / self.wall_s, 2)
            if base.busy_wall_s and self.busy_wall_s:
                out["busy_speedup_vs_1_worker"] = round(base.busy_wall_s / self.busy_wall_s, 2)
        if sqlite_findings is not None:
            out["findings_equal_sqlite"] = {tuple(f) for f in self.findings} == sqlite_findings
        return out


def read_report(govmon: str, db: str, scan: int | None, out: Path, run: Run) -> None:
    command = [govmon, "report", "--db", db, "--format", "json", "--output", str(out)]
    if scan is not None:
        command += ["--scan", str(scan)]
    done = subprocess.run(
        command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0 or not out.exists():
        run.errors.append(f"govmon report exited with {done.returncode}: {done.stderr[-1500:]}")
        return
    data = json.loads(out.read_text())
    scan_info = data.get("scan", {})
    run.scan_status = scan_info.get("status")
    if run.pages is None:
        run.pages, run.requests = scan_info.get("pages"), scan_info.get("requests")
    findings = data.get("findings", [])
    run.findings = sorted([str(f["check"]), str(f["site"]), str(f["url"])] for f in findings)
    by_check: dict[str, int] = {}
    for f in findings:
        by_check[str(f["check"])] = by_check.get(str(f["check"]), 0) + 1
    run.findings_by_check = dict(sorted(by_check.items()))


class Bench:
    def __init__(self, args: argparse.Namespace, logs: Path, work: Path) -> None:
        self.args = args
        self.logs = logs
        self.work = work
        self.govmon: str = args.govmon
        self.base: str = args.pg
        self.pg_port = urlsplit(self.base).port or 5432
        self.postmaster = find_postmaster(self.pg_port)
        self.server: NginxServer | None = None
        self.config = work / "district.toml"
        self.schemas: list[str] = []
        self.stamp = dt.datetime.now().strftime("%Y%m%d_%H%M%S")

    def schema(self, name: str) -> str:
        schema = f"qbench_{self.stamp}_{name}"
        self.schemas.append(schema)
        drop_schema(self.base, schema)
        return schema

    def _counters(self) -> tuple[float, float, float, float]:
        assert self.server is not None
        own = resource.getrusage(resource.RUSAGE_SELF)
        return (
            postgres_cpu(self.postmaster),
            self.server.cpu(),
            machine_busy(),
            own.ru_utime + own.ru_stime,
        )

    def _finish(
        self, run: Run, before: tuple[float, float, float, float], sampler: BackendSampler
    ) -> None:
        pg, ngx, busy, own = self._counters()
        sampler.stop()
        run.bench_cpu_s = own - before[3]
        run.postgres_foreign_cpu_s = sampler.foreign_cpu()
        run.postgres_foreign = [str(e[3]) for e in sampler.foreign.values()]
        run.postgres_cpu_s = pg - before[0] - run.postgres_foreign_cpu_s
        run.postgres_backends_cpu_s = sampler.our_cpu()
        run.nginx_cpu_s = ngx - before[1]
        run.machine_busy_s = busy - before[2]
        run.postgres_peak_connections = sampler.peak_ours
        if sampler.foreign:
            run.warnings.append(
                f"{len(sampler.foreign)} backend(s) of other PostgreSQL clients seen during the"
                f" run ({run.postgres_foreign_cpu_s:.2f} CPU s seen, taken out of PostgreSQL's"
                f" figure), e.g. {run.postgres_foreign[:3]}"
            )

    def settle(self, run: Run) -> None:
        """Wait (up to ``--settle`` s) until the machine has been nearly idle (under 10 %
        busy) for 10 s in a row: other work on a 2-CPU machine would be in the wall times."""
        nproc = len(os.sched_getaffinity(0))
        started = time.monotonic()
        share, quiet = 1.0, 0
        while quiet < 5:
            before = machine_busy()
            time.sleep(2.0)
            share = (machine_busy() - before) / (2.0 * nproc)
            quiet = quiet + 1 if share < 0.1 else 0
            if time.monotonic() - started > self.args.settle:
                break
        run.settle = {"waited_s": round(time.monotonic() - started, 1), "busy": round(share, 2)}
        if quiet < 5:
            run.warnings.append(
                f"the machine was still {share:.0%} busy after {self.args.settle:.0f} s"
                " of waiting for it to settle"
            )

    def _start_sampler(self) -> BackendSampler:
        sampler = BackendSampler(self.postmaster, self.pg_port)
        sampler.start()
        return sampler

    def _record(self, run: Run, group: Group) -> None:
        for p in group.procs:
            run.processes.append(
                {k: v for k, v in asdict(p).items() if k not in ("command",)}
                | {"command": " ".join(p.command), "cpu_s": round(p.cpu_s, 2)}
            )
            if p.exit_code != 0:
                run.errors.append(f"{p.role} exited with {p.exit_code}: {tail(p.stderr, 6)}")
        run.exit_codes = [p.exit_code for p in group.procs]
        run.timed_out = group.timed_out
        if group.timed_out:
            run.errors.append(f"timed out after {self.args.timeout} s: every process killed")

    # -- the single-process scans --

    def scan(self, kind: str) -> Run:
        run = Run(kind, kind)
        if kind == "scan-sqlite":
            db = str(self.work / "scan.db")
            for stale in self.work.glob("scan.db*"):
                stale.unlink()
        else:
            run.schema = self.schema("scan")
            db = pg_url(self.base, run.schema)
        lsn = wal_lsn(self.base)
        group = Group(self.logs, None)
        self.settle(run)
        sampler = self._start_sampler()
        run.source = source_digest()
        before = self._counters()
        started = time.perf_counter()
        p = group.start(kind, [self.govmon, "scan", str(self.config), "--db", db])
        sampler.add(p.pid)
        group.wait(started + self.args.timeout)
        run.wall_s = time.perf_counter() - started
        self._finish(run, before, sampler)
        if kind == "scan-sqlite":
            run.postgres_cpu_s = None
            run.postgres_peak_connections = None
            run.postgres_backends_cpu_s = None
            run.warnings = [w for w in run.warnings if "PostgreSQL clients" not in w]
            size = sum(f.stat().st_size for f in self.work.glob("scan.db*"))
            run.store = {"bytes": size}
        run.govmon_cpu_s = p.cpu_s
        run.rss_mb = [p.max_rss_mb]
        self._record(run, group)
        if kind == "scan-pg" and run.schema:
            run.store = store_figures(self.base, run.schema, lsn)
        read_report(self.govmon, db, None, self.logs / f"{kind}-report.json", run)
        return run

    # -- the queue --

    def queue(self, workers: int) -> Run:
        jobs = self.args.jobs
        run = Run(f"queue-{workers}x{jobs}", "queue", workers=workers, jobs=jobs)
        run.schema = self.schema(f"w{workers}")
        db = pg_url(self.base, run.schema)
        lsn = wal_lsn(self.base)
        group = Group(self.logs, None)
        self.settle(run)
        sampler = self._start_sampler()
        group.sampler = sampler
        run.source = source_digest()
        before = self._counters()
        started_wall = dt.datetime.now(dt.UTC)
        started = time.perf_counter()
        deadline = started + self.args.timeout
        submit = group.start(
            f"w{workers}-submit", [self.govmon, "submit", str(self.config), "--db", db]
        )
        group.wait(deadline)
        out = Path(submit.stdout).read_text().strip()
        if submit.exit_code != 0 or not out.isdigit():
            self._finish(run, before, sampler)
            self._record(run, group)
            run.errors.append(f"submit printed {out!r}")
            return run
        run.scan_id = int(out)
        for i in range(workers):
            group.start(
                f"w{workers}-worker{i + 1}",
                [self.govmon, "worker", "--db", db, "--jobs", str(jobs), "--until-idle"],
            )
        group.wait(deadline)
        run.wall_s = time.perf_counter() - started
        self._finish(run, before, sampler)
        self._record(run, group)
        worker_procs = [p for p in group.procs if p.role != submit.role]
        run.submit_cpu_s = submit.cpu_s
        run.govmon_cpu_s = sum(p.cpu_s for p in worker_procs)
        run.rss_mb = [p.max_rss_mb for p in worker_procs]
        rows = pg_query(
            self.base,
            f"SELECT site, status, worker, attempts, pages, requests, started_at, finished_at,"
            f' error FROM "{run.schema}".queue_sites WHERE scan_id = %s ORDER BY position',
            (run.scan_id,),
        )
        run.pages = sum(int(r[4]) for r in rows)
        run.requests = sum(int(r[5]) for r in rows)
        finished = [r[7] for r in rows if r[7] is not None]
        if finished and len(finished) == len(rows):
            run.busy_wall_s = (max(finished) - started_wall).total_seconds()
        by_worker: dict[str, dict[str, int]] = {}
        for r in rows:
            w = by_worker.setdefault(str(r[2]), {"sites": 0, "pages": 0})
            w["sites"] += 1
            w["pages"] += int(r[4])
        statuses: dict[str, int] = {}
        for r in rows:
            statuses[str(r[1])] = statuses.get(str(r[1]), 0) + 1
        run.sites = {
            "status": statuses,
            "by_worker": by_worker,
            "retried": [
                {"site": r[0], "attempts": r[3], "error": r[8]} for r in rows if int(r[3]) > 1
            ],
            "errors": [{"site": r[0], "error": r[8]} for r in rows if r[8]],
            "site_seconds": [
                round((r[7] - r[6]).total_seconds(), 2) for r in rows if r[6] and r[7]
            ],
        }
        if statuses != {"done": len(rows)}:
            run.errors.append(f"sites not all done: {statuses}")
        if run.sites["retried"]:
            run.errors.append(f"sites retried: {run.sites['retried']}")
        run.store = store_figures(self.base, run.schema, lsn)
        read_report(self.govmon, db, run.scan_id, self.logs / f"{run.name}-report.json", run)
        return run

    def idle_worker(self) -> Run:
        """One ``worker --until-idle`` on an empty queue: the fixed cost of a worker process
        (start, connect, create the queue's tables, one idle poll, exit)."""
        run = Run("idle-worker", "idle", jobs=self.args.jobs)
        run.schema = self.schema("idle")
        db = pg_url(self.base, run.schema)
        group = Group(self.logs, None)
        self.settle(run)
        sampler = self._start_sampler()
        group.sampler = sampler
        before = self._counters()
        started = time.perf_counter()
        p = group.start("idle-worker", [self.govmon, "worker", "--db", db, "--until-idle"])
        group.wait(started + min(self.args.timeout, 120))
        run.wall_s = time.perf_counter() - started
        self._finish(run, before, sampler)
        self._record(run, group)
        run.govmon_cpu_s = p.cpu_s
        run.rss_mb = [p.max_rss_mb]
        return run

    def cleanup(self) -> None:
        if not self.args.keep:
            for schema in self.schemas:
                drop_schema(self.base, schema)


# ---- the table ----------------------------------------------------------------------------------

ROWS: tuple[tuple[str, str, str], ...] = (
    ("processes × --jobs", "shape", "{}"),
    ("pages", "pages", "{:,}"),
    ("requests", "requests", "{:,}"),
    ("wall s (to last exit)", "wall_s", "{:.2f}"),
    ("wall s (to last site done)", "busy_wall_s", "{:.2f}"),
    ("pages/s", "pages_per_s", "{:,.1f}"),
    ("requests/s", "requests_per_s", "{:,.1f}"),
    ("pages/s (to last site done)", "busy_pages_per_s", "{:,.1f}"),
    ("speed-up vs 1 worker", "speedup_vs_1_worker", "× {:.2f}"),
    ("  (to last site done)", "busy_speedup_vs_1_worker", "× {:.2f}"),
    ("govmon CPU s (+ submit)", "govmon_cpu", "{}"),
    ("PostgreSQL CPU s", "postgres_cpu_s", "{:.2f}"),
    ("nginx CPU s", "nginx_cpu_s", "{:.2f}"),
    ("CPU s / 1,000 pages: govmon", "govmon_cpu_per_1000_pages", "{:.2f}"),
    ("  PostgreSQL", "postgres_cpu_per_1000_pages", "{:.2f}"),
    ("    of which our backends", "postgres_backends_cpu_per_1000_pages", "{:.2f}"),
    ("  nginx", "nginx_cpu_per_1000_pages", "{:.2f}"),
    ("  all three", "total_cpu_per_1000_pages", "{:.2f}"),
    ("CPU s / 1,000 requests: govmon", "govmon_cpu_per_1000_requests", "{:.2f}"),
    ("  PostgreSQL", "postgres_cpu_per_1000_requests", "{:.2f}"),
    ("machine busy / (wall × CPUs)", "cpu_utilisation", "{:.0%}"),
    ("other CPU s on the machine", "other_busy_s", "{:.2f}"),
    ("peak RSS MB per process", "rss", "{}"),
    ("PostgreSQL connections (peak)", "postgres_peak_connections", "{}"),
    ("store MB (bodies MB)", "store", "{}"),
    ("store bytes / request", "store_bytes_per_request", "{:,}"),
    ("rows inserted", "rows_inserted", "{:,}"),
    ("rows inserted / page", "rows_per_page", "{:.1f}"),
    ("rows inserted / s", "rows_per_s", "{:,}"),
    ("WAL MB", "wal_mb", "{:.1f}"),
    ("findings", "findings", "{:,}"),
    ("findings = SQLite scan's", "findings_equal_sqlite", "{}"),
)


def _cell(fig: dict[str, Any], key: str, fmt: str) -> str:
    if key == "shape":
        return f"{fig['processes']} × {fig['jobs']}" if fig.get("kind") == "queue" else "1 (scan)"
    if key == "govmon_cpu":
        extra = f" + {fig['submit_cpu_s']:.2f}" if fig.get("submit_cpu_s") else ""
        return f"{fig['govmon_cpu_s']:.2f}{extra}"
    if key == "rss":
        rss = fig["peak_rss_mb"]
        if not rss:
            return "-"
        return (
            f"{min(rss):.0f}"
            if round(min(rss)) == round(max(rss))
            else f"{min(rss):.0f}–{max(rss):.0f}"
        )
    if key == "store":
        if fig.get("store_mb") is None:
            return "-"
        bodies = f" ({fig['bodies_mb']:.1f})" if fig.get("bodies_mb") else ""
        return f"{fig['store_mb']:.1f}{bodies}"
    value = fig.get(key)
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    return fmt.format(value)


def table(figures: dict[str, dict[str, Any]]) -> str:
    names = list(figures)
    width = max(16, *(len(n) + 2 for n in names))
    head = f"{'':32}" + "".join(f"{n:>{width}}" for n in names)
    lines = [head]
    for label, key, fmt in ROWS:
        lines.append(
            f"{label:32}" + "".join(f"{_cell(figures[n], key, fmt):>{width}}" for n in names)
        )
    return "\n".join(lines)


# ---- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    interrupt_on_signals()
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.queue_scaling",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--workers", default="1,2,4", help="worker process counts, in run order")
    parser.add_argument("--jobs", type=int, default=4, help="worker --jobs: sites at once each")
    parser.add_argument("--channels", type=int, default=30)
    parser.add_argument("--concurrency", type=int, default=64, help="[crawl] concurrency, workers")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--pg", default=PG_DEFAULT, help="PostgreSQL URL, without ?schema=")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per run")
    parser.add_argument("--no-reference", action="store_true", help="skip the two plain scans")
    parser.add_argument(
        "--settle", type=float, default=300, help="seconds to wait at most for an idle machine"
    )
    parser.add_argument("--keep", action="store_true", help="keep the schemas and the SQLite db")
    parser.add_argument("--nginx", default=None, help="the nginx binary")
    parser.add_argument(
        "--snapshot",
        metavar="REV",
        help="run govmon from a copy of commit REV (e.g. HEAD), not from the working tree",
    )
    default_govmon = Path(sys.executable).parent / "govmon"
    parser.add_argument(
        "--govmon",
        default=str(default_govmon) if default_govmon.exists() else shutil.which("govmon"),
    )
    args = parser.parse_args(argv)
    counts = [int(x) for x in args.workers.split(",") if x.strip()]
    if not counts or min(counts) < 1 or args.jobs < 1:
        parser.error("--workers wants positive counts, --jobs at least 1")
    if not args.govmon:
        parser.error("govmon not found; pass --govmon PATH")
    if find_nginx() is None and args.nginx is None:
        parser.error("nginx not found: apt-get install -y nginx (or pass --nginx PATH)")

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    logs = OUT / f"{stamp}-queue"
    logs.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="govmon-queue-bench-"))
    global SOURCE  # set once, before any run
    commit = None
    if args.snapshot:
        commit, SOURCE, script = snapshot(args.snapshot, work)
        args.govmon = str(script)
        print(f"govmon from a copy of commit {commit} ({SOURCE})", flush=True)
    info = machine()
    info["postgresql"] = str(pg_query(args.pg, "SHOW server_version")[0][0])
    info["postgresql_settings"] = {
        name: str(pg_query(args.pg, f"SHOW {name}")[0][0])
        for name in ("max_connections", "shared_buffers", "synchronous_commit", "fsync")
    }
    info["nginx"] = _nginx_version(args.nginx)
    info["govmon_source"] = {
        "snapshot": commit,
        "path": str(SOURCE),
        "digest": source_digest(),
    }
    print(
        f"{info['nproc']} CPUs ({info['cpu_model']}), {info['memory_gb']} GB, PostgreSQL "
        f"{info['postgresql']}, nginx {info['nginx']}; logs in {logs}",
        flush=True,
    )
    if info["nproc"] <= 2:
        print(
            f"note: {info['nproc']} CPUs here: workers, PostgreSQL and nginx share them, so expect"
            " little speed-up past 2 processes; CPU per page and the overheads are the figures",
            flush=True,
        )
    addresses = [f"127.0.0.{c + 1}" for c in range(args.channels)]
    port = free_port(addresses)
    district = District(channels=args.channels, seed=args.seed, port=port)
    files, size = district.write(work / "site")
    (work / "district.toml").write_text(district.config(args.concurrency))
    print(f"wrote {files:,} files ({size / 1e6:.0f} MB) for {args.channels} channels", flush=True)
    hosts = [VirtualHost(a, work / "site" / f"h{c}") for c, a in enumerate(addresses)]
    runs: list[Run] = []
    bench = Bench(args, logs, work)
    try:
        bench.server = NginxServer(hosts, work / "nginx", port=port, binary=args.nginx)
        plan: list[tuple[str, int]] = []
        if not args.no_reference:
            plan += [("scan-sqlite", 0), ("scan-pg", 0)]
        plan.append(("idle", 0))
        plan += [("queue", n) for n in counts]
        for kind, n in plan:
            label = f"{n} worker(s) × --jobs {args.jobs}" if kind == "queue" else kind
            print(f"running {label} …", flush=True)
            if kind == "queue":
                run = bench.queue(n)
            elif kind == "idle":
                run = bench.idle_worker()
            else:
                run = bench.scan(kind)
            runs.append(run)
            if run.source and source_digest() != run.source:
                run.warnings.append("govmon's sources changed on disk during this run")
            print(
                f"  {run.wall_s:.1f} s, {run.pages} pages, exit {run.exit_codes}"
                f" (waited {run.settle.get('waited_s', 0):.0f} s for an idle machine)"
                + (f"; problems: {run.errors}" if run.errors else "")
                + (f"; warnings: {run.warnings}" if run.warnings else ""),
                flush=True,
            )
    finally:
        if bench.server is not None:
            bench.server.stop()
        bench.cleanup()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    sqlite = next((r for r in runs if r.kind == "scan-sqlite"), None)
    reference = {tuple(f) for f in sqlite.findings} if sqlite and sqlite.findings else None
    base = next((r for r in runs if r.kind == "queue" and r.workers == 1), None)
    figures: dict[str, dict[str, Any]] = {}
    for r in runs:
        if r.kind == "idle":
            continue
        name = f"{r.workers} worker{'s' if r.workers > 1 else ''}" if r.kind == "queue" else r.name
        figures[name] = r.figures(base, reference if r is not sqlite else None) | {"kind": r.kind}
    differences: dict[str, dict[str, list[list[str]]]] = {}
    if reference is not None:
        for r in runs:
            if r is sqlite or r.kind == "idle":
                continue
            got = {tuple(f) for f in r.findings}
            if got != reference:
                differences[r.name] = {
                    "missing": sorted(list(f) for f in reference - got)[:30],
                    "extra": sorted(list(f) for f in got - reference)[:30],
                }
    idle = next((r for r in runs if r.kind == "idle"), None)
    text = table(figures)
    print()
    print(text)
    if idle is not None:
        print(
            f"an idle worker (empty queue, --until-idle): {idle.wall_s:.1f} s, "
            f"{idle.govmon_cpu_s:.2f} CPU s, peak RSS {max(idle.rss_mb or [0]):.0f} MB, "
            f"PostgreSQL {idle.postgres_cpu_s or 0:.2f} CPU s"
        )
    if sqlite is not None:
        print(f"findings of the SQLite scan: {len(sqlite.findings)} {sqlite.findings_by_check}")
    for name, diff in differences.items():
        print(f"{name}: findings differ from the SQLite scan's: {json.dumps(diff)[:1500]}")
    for r in runs:
        for e in r.errors:
            print(f"{r.name}: problem: {e[:600]}")
        for w in r.warnings:
            print(f"{r.name}: warning: {w[:600]}")
    result = {
        "stamp": stamp,
        "params": {
            "workers": counts,
            "jobs": args.jobs,
            "channels": args.channels,
            "concurrency": args.concurrency,
            "seed": args.seed,
            "timeout": args.timeout,
            "pg": args.pg,
        },
        "machine": info,
        "site": {"channels": args.channels, "files": files, "bytes": size},
        "figures": figures,
        "findings_differences": differences,
        "idle_worker": None if idle is None else asdict(idle),
        "runs": {r.name: asdict(r) | {"findings": len(r.findings)} for r in runs},
        "text": text,
    }
    out_file = OUT / f"{stamp}-queue.json"
    out_file.write_text(json.dumps(result, indent=1, ensure_ascii=False, default=str) + "\n")
    print(f"\nresults: {out_file}")
    failed = any(r.errors or r.timed_out for r in runs) or bool(differences)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
