"""Pages built by script: a script-built district against its static twin, and the standard site.

    python -m benchmarks.scripted [--channels 6] [--standard-pages 2000] [--concurrency 16]
                                  [--timeout 900] [--keep]

1. **District**: `benchmarks.district` writes a district of ``--channels`` channel sites (the
   demo's templates: columns of TRS list pages, a 政务咨询 board, articles, guides). Its
   *script-built twin* holds the same items, built the way the platforms build them: every
   工作动态 list page carries its rows in a Hanweb ``<script type="text/xml"><datastore>`` (a
   static reader), every 通知公告 list page and every page of the 政务咨询 board is an empty list
   filled by ``fetch()`` from a JSON file beside it (only a browser reads it). Both are served
   from files by a small aiohttp server on 127.0.0.1 … 127.0.0.N (one process, ``serve``), and
   scanned with ``render = "auto"`` (the twin also with ``render = "never"``).
2. **Standard site**: `benchmarks.synth` (``--standard-pages`` pages on 4 hosts, the first
   benchmark's site), scanned with ``render = "auto"`` and ``"never"``: it must render no page,
   and its speed must not depend on the setting.

Every ``govmon scan`` is a child process. A thread samples it and all its descendants (the
Playwright driver and Chromium's processes) every 0.2 s: peak memory is the largest sum of their
PSS (shared pages shared out; the sum of RSS, which counts Chromium's shared pages once per
process, is shown too), CPU the sum of each process's last user + system time. A page rendered
once is not rendered again under its other address (``dir/`` and ``dir/index.html``). Pages,
rendered and unreadable counts come from the scan's summary; the judged findings of the twin
are compared with the static district's (they must be the same). Prints a table and writes JSON to
``benchmarks/out/STAMP-scripted.json``. Only loopback addresses are used; every run is bounded
by ``--timeout``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import html
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil
from aiohttp import web

from benchmarks.district import District
from benchmarks.harness import ROOT, SynthServer, govmon_config

OUT = ROOT / "benchmarks" / "out"
JUDGED = (
    "homepage.stale", "column.stale", "column.blank", "column.irregular", "column.unreadable",
    "message.unanswered", "message.late_reply", "message.overdue", "message.incomplete",
)  # fmt: skip
_LIST = re.compile(r'<ul class="list">\n(.*?)\n</ul>', re.DOTALL)
_ROW = re.compile(
    r'<li><a href="([^"]*)" target="_blank" title="([^"]*)">[^<]*</a>'
    r'<span class="date">([^<]*)</span></li>'
)
_BOARD = re.compile(r'(<table class="board">\n<tr>.*?</tr>\n)(.*?)\n</table>', re.DOTALL)
_BOARD_ROW = re.compile(
    r'<tr><td>([0-9]+)</td><td class="t"><a href="([^"]*)" target="_blank">([^<]*)</a></td>'
    r"<td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>"
)
_FILL_LIST = """<ul class="list" id="rows"></ul>
<script>
fetch('{json}').then(function (r) {{ return r.json(); }}).then(function (rows) {{
  document.getElementById('rows').innerHTML = rows.map(function (it) {{
    return '<li><a href="' + it.url + '" target="_blank" title="' + it.title + '">' + it.title +
      '</a><span class="date">' + it.date + '</span></li>';
  }}).join('\\n');
}});
</script>"""
_FILL_BOARD = """<tbody id="rows"></tbody></table>
<script>
var xhr = new XMLHttpRequest();
xhr.open('GET', '{json}');
xhr.onload = function () {{
  document.getElementById('rows').innerHTML = JSON.parse(xhr.responseText).map(function (m) {{
    return '<tr><td>' + m.n + '</td><td class="t"><a href="' + m.url + '" target="_blank">' +
      m.title + '</a></td><td>' + m.asked + '</td><td>' + m.replied + '</td><td>' + m.status +
      '</td></tr>';
  }}).join('\\n');
}};
xhr.send();
</script>"""


# ---- the script-built twin -----------------------------------------------------------------


def _hanweb(match: re.Match[str]) -> str:
    records = "\n".join(f"<record><![CDATA[{row}]]></record>" for row in match.group(1).split("\n"))
    return (
        '<div class="list" id="4953"><script type="text/xml"><datastore>\n'
        f"<recordset>\n{records}\n</recordset>\n</datastore></script></div>"
    )


def _xhr_list(text: str, json_name: str) -> tuple[str, list[dict[str, str]]]:
    found = _LIST.search(text)
    if found is None:
        return text, []
    rows = [
        {"url": html.unescape(u), "title": html.unescape(t), "date": d}
        for u, t, d in _ROW.findall(found.group(1))
    ]
    return text[: found.start()] + _FILL_LIST.format(json=json_name) + text[found.end() :], rows


def _xhr_board(text: str, json_name: str) -> tuple[str, list[dict[str, str]]]:
    found = _BOARD.search(text)
    if found is None:
        return text, []
    rows = [
        {"n": n, "url": u, "title": html.unescape(t), "asked": a, "replied": r, "status": s}
        for n, u, t, a, r, s in _BOARD_ROW.findall(found.group(2))
    ]
    filled = found.group(1) + _FILL_BOARD.format(json=json_name)
    return text[: found.start()] + filled + text[found.end() :], rows


def script_twin(static: Path, twin: Path) -> dict[str, int]:
    """Copy the district at ``static`` to ``twin`` with its lists built by script; counts."""
    shutil.copytree(static, twin)
    counts = {"hanweb": 0, "xhr_list": 0, "xhr_board": 0}
    for page in sorted(twin.glob("h*/*/index*.html")):
        folder = page.parent.name
        text = page.read_text(encoding="utf-8")
        json_name = page.stem + ".json"
        if folder == "gzdt" and _LIST.search(text):
            page.write_text(_LIST.sub(_hanweb, text, count=1), encoding="utf-8")
            counts["hanweb"] += 1
        elif folder in ("tzgg", "hdjl"):
            if folder == "tzgg":
                new, rows = _xhr_list(text, json_name)
            else:
                new, rows = _xhr_board(text, json_name)
            if rows:
                page.write_text(new, encoding="utf-8")
                (page.parent / json_name).write_text(json.dumps(rows, ensure_ascii=False))
                counts["xhr_board" if folder == "hdjl" else "xhr_list"] += 1
    return counts


# ---- serving files on 127.0.0.1 … 127.0.0.N -----------------------------------------------


async def _serve(root: Path, channels: int, port: int) -> None:
    async def handle(request: web.Request) -> web.StreamResponse:
        host = (request.transport.get_extra_info("sockname") if request.transport else None) or ()
        index = int(str(host[0]).rsplit(".", 1)[1]) - 1 if host else 0
        parts = [p for p in request.path.split("/") if p]
        if ".." in parts:
            return web.Response(status=404, text="not found")
        path = root.joinpath(f"h{index}", *parts)
        if request.path.endswith("/"):
            path = path / "index.html"
        if not path.is_file():
            return web.Response(status=404, text="not found")
        return web.FileResponse(path)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    for c in range(channels):
        await web.TCPSite(runner, f"127.0.0.{c + 1}", port, reuse_address=True).start()
    print(json.dumps({"ready": True}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


class FileServer(SynthServer):
    """``python -m benchmarks.scripted serve`` as a child process (stopped like the site's)."""

    def __init__(self, root: Path, channels: int, port: int, log: Path) -> None:
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.scripted", "serve", str(root),
             "--channels", str(channels), "--port", str(port)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=self._log, start_new_session=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        if not self.proc.stdout.readline():
            self.stop()
            raise RuntimeError(f"the file server did not start (see {log})")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# ---- measuring a scan and its descendants -------------------------------------------------


@dataclass
class Run:
    name: str
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0  # the largest sum of the processes' RSS (shared pages counted twice)
    peak_pss_mb: float = 0.0  # the largest sum of their PSS (shared pages shared out)
    peak_processes: int = 0
    pages: int = 0
    static_read: int = 0
    needed_browser: int = 0
    rendered: int = 0
    unreadable: int = 0
    exit_code: int | None = None
    findings: list[list[str]] = field(default_factory=list)

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.wall_s if self.wall_s else 0.0

    @property
    def cpu_ms_per_page(self) -> float:
        return 1000 * self.cpu_s / self.pages if self.pages else 0.0


_SUMMARY = re.compile(r"scan [0-9]+ complete: ([0-9]+) pages")
_SCRIPTED = re.compile(
    r"built by script: ([0-9]+) pages read without a browser, ([0-9]+) needed a browser: "
    r"([0-9]+) rendered, ([0-9]+) could not be read"
)


def scan(name: str, config: str, work: Path, timeout: float) -> Run:
    work.mkdir(parents=True, exist_ok=True)
    (work / "govmon.toml").write_text(config, encoding="utf-8")
    db = work / "govmon.db"
    govmon = str(Path(sys.executable).with_name("govmon"))
    run = Run(name)
    started = time.monotonic()
    with (work / "stdout").open("wb") as out, (work / "stderr").open("wb") as err:
        proc = subprocess.Popen(
            [govmon, "scan", str(work / "govmon.toml"), "--db", str(db)],
            cwd=work, stdout=out, stderr=err, start_new_session=True,
        )  # fmt: skip
        cpu: dict[int, float] = {}
        done = threading.Event()

        def sample() -> None:
            root = psutil.Process(proc.pid)
            while not done.is_set():
                try:
                    tree = [root, *root.children(recursive=True)]
                except psutil.Error:
                    break
                rss = pss = 0
                for p in tree:
                    try:
                        times = p.cpu_times()
                        cpu[p.pid] = times.user + times.system
                        full = p.memory_full_info()
                        rss += full.rss
                        pss += full.pss
                    except psutil.Error:
                        continue
                run.peak_rss_mb = max(run.peak_rss_mb, rss / 2**20)
                run.peak_pss_mb = max(run.peak_pss_mb, pss / 2**20)
                run.peak_processes = max(run.peak_processes, len(tree))
                done.wait(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            run.exit_code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            run.exit_code = proc.wait()
        done.set()
        sampler.join()
    run.wall_s = time.monotonic() - started
    run.cpu_s = sum(cpu.values())
    text = (work / "stdout").read_text(encoding="utf-8", errors="replace")
    if (found := _SUMMARY.search(text)) is not None:
        run.pages = int(found.group(1))
    if (found := _SCRIPTED.search(text)) is not None:
        run.static_read, run.needed_browser, run.rendered, run.unreadable = map(int, found.groups())
    report = work / "report.json"
    subprocess.run(
        [govmon, "report", "--db", str(db), "--format", "json", "--output", str(report)],
        cwd=work, check=False, capture_output=True,
    )  # fmt: skip
    if report.exists():
        data = json.loads(report.read_text(encoding="utf-8"))
        run.findings = sorted(
            [f["check"], f["site"], f["url"]] for f in data["findings"] if f["check"] in JUDGED
        )
    return run


def _config(base: str, render: str) -> str:
    return base.replace("[crawl]\n", f'[crawl]\nrender = "{render}"\n', 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scripted", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    serve_p = commands.add_parser("serve", help="serve a district's files (internal)")
    serve_p.add_argument("root", type=Path)
    serve_p.add_argument("--channels", type=int, required=True)
    serve_p.add_argument("--port", type=int, required=True)
    parser.add_argument("--channels", type=int, default=6)
    parser.add_argument("--standard-pages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.command == "serve":
        asyncio.run(_serve(args.root, args.channels, args.port))
        return 0
    work = Path(tempfile.mkdtemp(prefix="govmon-scripted-"))
    runs: list[Run] = []
    try:
        port = _free_port()
        district = District(channels=args.channels, port=port)
        files, size = district.write(work / "static")
        twin = script_twin(work / "static", work / "twin")
        print(f"district: {args.channels} channels, {files} files, {size / 2**20:.1f} MB; "
              f"twin: {twin}", flush=True)  # fmt: skip
        config = district.config(args.concurrency)
        for name, root, render in (
            ("district static, auto", work / "static", "auto"),
            ("district script-built, auto", work / "twin", "auto"),
            ("district script-built, never", work / "twin", "never"),
        ):
            server = FileServer(root, args.channels, port, work / f"{len(runs)}-server.log")
            try:
                runs.append(scan(name, _config(config, render), work / str(len(runs)),
                                 args.timeout))  # fmt: skip
            finally:
                server.stop()
            print(f"  {name}: done", flush=True)
        synth = SynthServer(args.standard_pages, 4, 2020, work / "synth.log")
        try:
            base = govmon_config(synth.homes, args.concurrency, args.standard_pages, "single")
            for render in ("auto", "never"):
                name = f"standard {args.standard_pages} pages, {render}"
                runs.append(scan(name, _config(base, render), work / str(len(runs)),
                                 args.timeout))  # fmt: skip
                print(f"  {name}: done", flush=True)
        finally:
            synth.stop()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print_table(runs)
    same = runs[0].findings == runs[1].findings
    print(f"script-built twin (auto) reports the static district's findings: {same} "
          f"({len(runs[0].findings)} judged findings)")  # fmt: skip
    if not same:
        a = {tuple(f) for f in runs[0].findings}
        b = {tuple(f) for f in runs[1].findings}
        print("  only static:", sorted(a - b)[:10], "\n  only twin:", sorted(b - a)[:10])
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = OUT / f"{stamp}-scripted.json"
    data: dict[str, Any] = {
        "args": vars(args) | {"command": None},
        "runs": [asdict(r) | {"pages_per_s": r.pages_per_s, "cpu_ms_per_page": r.cpu_ms_per_page}
                 for r in runs],
        "twin_same_findings": same,
    }  # fmt: skip
    for run in data["runs"]:
        run["findings"] = len(run["findings"])
    out.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str))
    print(f"written: {out}")
    return 0


def print_table(runs: list[Run]) -> None:
    head = (
        f"{'run':<32} {'pages':>6} {'wall s':>7} {'pages/s':>8} {'CPU ms/page':>11} "
        f"{'RSS MB':>7} {'PSS MB':>7} {'procs':>5} {'static':>6} {'browser':>7} {'rendered':>8} "
        f"{'unread':>6} {'findings':>8}"
    )
    print(head)
    for r in runs:
        print(
            f"{r.name:<32} {r.pages:>6} {r.wall_s:>7.1f} {r.pages_per_s:>8.1f} "
            f"{r.cpu_ms_per_page:>11.2f} {r.peak_rss_mb:>7.0f} {r.peak_pss_mb:>7.0f} "
            f"{r.peak_processes:>5} "
            f"{r.static_read:>6} {r.needed_browser:>7} {r.rendered:>8} {r.unreadable:>6} "
            f"{len(r.findings):>8}"
        )


if __name__ == "__main__":
    sys.exit(main())
