"""The bundled demo district: a virtual-host static server, its recording and ``govmon demo``.

``site/<hostname>/...`` holds the static files of a small district: the portal and two
department channels on ``www.district.test``, a town on ``town.district.test`` and an outside
site on ``ext.test``. :func:`serve` serves them on loopback, choosing the folder by the request's
``Host`` header, so that a scan with ``[crawl] resolve`` pointing the three names at the server
sees three hosts.

``district.warc.gz`` is the recording of a scan of that server (``govmon record``; made again by
:func:`record_demo`, ``make demo-recording``). :func:`run_demo` replays it on loopback
(:func:`serve_recording`, the ``govmon replay`` application), scans the district through it
(``scan --proxy``) as of 2020-06-16 and writes the reports; with ``live`` it scans the static
server instead. Both give the same findings. ``EXPECTED.md`` lists the problems planted in the
district.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import posixpath
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from crawler.config import load_config
from crawler.core.logs import configure
from crawler.recordings import WarcError
from crawler.recordings.replay import INDEX
from crawler.recordings.replay import make_app as replay_app
from crawler.service.reporting import report_bytes, write_report
from crawler.service.scans import (
    FAILURES,
    exit_status,
    finish_scan,
    run_coroutine,
    run_scan,
)

__all__ = [
    "HOSTS",
    "RECORDING",
    "SITE_ROOT",
    "TEMPLATE",
    "DemoServer",
    "content_type",
    "demo_config",
    "make_app",
    "record_demo",
    "run_demo",
    "serve",
    "serve_recording",
]

HERE = Path(__file__).resolve().parent
SITE_ROOT = HERE / "site"
TEMPLATE = HERE / "district.toml"
RECORDING = HERE / "district.warc.gz"  # a scan of SITE_ROOT, made by record_demo
HOSTS = ("www.district.test", "town.district.test", "ext.test")
REPORT_FORMATS = ("json", "md", "csv", "html", "xlsx")  # every format: the demo writes each
_PORT = "@PORT@"  # placeholder in the config template

_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".shtml": "text/html",
    ".css": "text/css",
    ".js": "application/javascript",
    ".txt": "text/plain",
    ".xml": "application/xml",
    ".json": "application/json",
    ".png": "image/png",
    ".gif": "image/gif",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".ico": "image/x-icon",
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".wps": "application/vnd.ms-works",
    ".ofd": "application/ofd",
    ".zip": "application/zip",
    ".rar": "application/vnd.rar",
}
_TEXT_TYPES = {"text/css", "text/plain", "application/javascript", "application/xml"}
_META_CHARSET = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)

_NOT_FOUND = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>404 Not Found</title></head>
<body><h1>404 Not Found</h1><p>您访问的页面不存在或已被删除。</p></body></html>
""".encode()


def content_type(path: str, data: bytes) -> str:
    """The ``Content-Type`` of a file: HTML carries the charset its own ``<meta>`` declares."""
    ctype = _TYPES.get(posixpath.splitext(path)[1].lower(), "application/octet-stream")
    if ctype == "text/html":
        match = _META_CHARSET.search(data[:2048])
        charset = match.group(1).decode("ascii").lower() if match else "utf-8"
        return f"text/html; charset={charset}"
    if ctype in _TEXT_TYPES:
        return f"{ctype}; charset=utf-8"
    return ctype


class _Files:
    """Every file under ``root``, read once: ``(host, "/url/path")`` -> (body, content type)."""

    def __init__(self, root: Path) -> None:
        self.files: dict[tuple[str, str], tuple[bytes, str]] = {}
        self.dirs: set[tuple[str, str]] = set()
        for host_dir in sorted(p for p in root.iterdir() if p.is_dir()):
            host = host_dir.name.lower()
            self.dirs.add((host, "/"))
            for path in sorted(host_dir.rglob("*")):
                url_path = "/" + path.relative_to(host_dir).as_posix()
                if path.is_dir():
                    self.dirs.add((host, url_path + "/"))
                elif path.is_file():
                    data = path.read_bytes()
                    self.files[(host, url_path)] = (data, content_type(url_path, data))


def make_app(root: Path) -> web.Application:
    """A static virtual-host application serving ``root/<host>/...``.

    The folder is chosen by the ``Host`` header (port ignored). A directory path serves its
    ``index.html``; a directory named without its trailing slash is redirected (301) to it, as
    web servers do; a missing file or an unknown host answers 404. GET and HEAD only.
    """
    files = _Files(root)

    async def handle(request: web.Request) -> web.StreamResponse:
        host = (request.url.host or "").lower().rstrip(".")
        path = request.path
        if not path.startswith("/"):
            path = "/" + path
        trailing = path.endswith("/")
        path = posixpath.normpath(path)
        if path.startswith("//"):
            path = "/" + path.lstrip("/")
        if trailing and not path.endswith("/"):
            path += "/"
        key = (host, path + "index.html" if path.endswith("/") else path)
        found = files.files.get(key)
        if found is not None:
            body, ctype = found
            return web.Response(body=body, headers={"Content-Type": ctype})
        if not path.endswith("/") and (host, path + "/") in files.dirs:
            location = path + "/"
            if request.query_string:
                location += "?" + request.query_string
            raise web.HTTPMovedPermanently(location)
        return web.Response(
            status=404, body=_NOT_FOUND, headers={"Content-Type": "text/html; charset=utf-8"}
        )

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle, allow_head=True)
    return app


class DemoServer:
    """:func:`make_app` (or ``app``) served from a background thread with its own event loop.

    ``with DemoServer(root) as server: ...`` (or :func:`serve`) starts it; :attr:`port` is the
    port it listens on (an ephemeral one when ``port`` is 0).
    """

    def __init__(
        self,
        root: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        app: web.Application | None = None,
    ) -> None:
        self.root = Path(root)
        self.host = host
        self.app = app if app is not None else make_app(self.root)
        self._requested_port = port
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the demo server is not running")
        return self._port

    def start(self) -> DemoServer:
        if self._thread is not None:
            raise RuntimeError("the demo server is already started")
        self._thread = threading.Thread(target=self._run, name="govmon-demo-server", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            raise self._error
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
        self._port = None

    def __enter__(self) -> DemoServer:
        return self.start() if self._thread is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        try:
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, self.host, self._requested_port)
            loop.run_until_complete(site.start())
            address: Any = runner.addresses[0]
            self._port = int(address[1])
            self._loop = loop
        except BaseException as exc:
            self._error = exc
            loop.run_until_complete(runner.cleanup())
            loop.close()
            self._ready.set()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.close()


def serve(root: Path, host: str = "127.0.0.1", port: int = 0) -> DemoServer:
    """Start the virtual-host static server on ``host:port`` in a background thread.

    Returns the running :class:`DemoServer` (its ``port`` is the one chosen when ``port`` is
    0); call ``stop()`` or use it as a context manager.
    """
    return DemoServer(root, host, port).start()


def serve_recording(
    recording: Path = RECORDING, host: str = "127.0.0.1", port: int = 0
) -> DemoServer:
    """Replay ``recording`` (the ``govmon replay`` application) on ``host:port`` in a background
    thread: a scan with ``--proxy http://HOST:PORT`` crawls the recorded district. Raises
    :class:`crawler.recordings.WarcError` for a file that is not a recording."""
    return DemoServer(recording, host, port, app=replay_app([recording])).start()


def demo_config(port: int, host: str = "127.0.0.1") -> str:
    """The demo's ``govmon.toml``: the template with every demo host resolved to the server."""
    return TEMPLATE.read_text(encoding="utf-8").replace(f"127.0.0.1:{_PORT}", f"{host}:{port}")


def _call(run: Callable[[], int]) -> int:
    """``run()``, from a worker thread when this thread already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def _command(work: Callable[[], Coroutine[Any, Any, int]]) -> int:
    """Run ``work()`` as a govmon command would: on its own event loop (in a worker thread when
    this one runs a loop), logging warnings only, a failure said on stderr as its exit status."""
    configure("warning")

    def run() -> int:
        try:
            return run_coroutine(work())
        except FAILURES as exc:
            return exit_status(exc)

    return _call(run)


def _scan(config: Path, db: str, *, proxy: str | None = None, record: str | None = None) -> int:
    """``govmon scan CONFIG --db DB [--proxy PROXY]`` (``govmon record`` with ``record``)."""

    async def work() -> int:
        loaded = load_config(str(config))
        outcome = await run_scan(loaded, db, record=record, proxy=proxy)
        return finish_scan(outcome, config_path=str(config), db=db, record=record)

    return _command(work)


def _report(db: Path, fmt: str, target: Path) -> int:
    """``govmon report --db DB --format FMT --output TARGET``."""

    async def work() -> int:
        return await write_report(await report_bytes(str(db), fmt), str(target))

    return _command(work)


def _summary(report: Path) -> list[str]:
    """Two lines about the scan in ``report`` (the JSON report)."""
    try:
        data: Any = json.loads(report.read_text(encoding="utf-8"))
        scan: dict[str, Any] = data.get("scan") or {}
        sites: list[dict[str, Any]] = data.get("sites") or []
        findings: list[dict[str, Any]] = data.get("findings") or []
    except (OSError, ValueError, AttributeError) as exc:
        return [f"(no summary: cannot read {report}: {exc})", ""]
    verdicts = ", ".join(
        f"{s.get('id')} {s.get('verdict', '?')}"
        + (f" ({s['score']:g})" if isinstance(s.get("score"), int | float) else "")
        for s in sites
    )
    counts: dict[str, int] = {}
    for finding in findings:
        check = str(finding.get("check"))
        counts[check] = counts.get(check, 0) + 1
    by_check = ", ".join(f"{n} {check}" for check, n in sorted(counts.items()))
    return [
        f"Scan {scan.get('id', '?')} as of {scan.get('as_of', '?')}: {len(sites)} sites, "
        f"{scan.get('pages', '?')} pages, {scan.get('requests', '?')} requests; {verdicts}",
        f"{len(findings)} findings" + (f": {by_check}" if by_check else ""),
    ]


def run_demo(output: Path, *, live: bool = False, recording: Path = RECORDING) -> int:
    """Replay the recorded demo district (or, ``live``, serve its static files), scan it as of
    2020-06-16, write the reports into ``output``.

    Writes ``govmon.toml``, ``govmon.db`` and the report in every format
    (``report.{json,md,csv,html,xlsx}``: :data:`REPORT_FORMATS`); returns the exit status
    (0 when the scan and every report succeeded, otherwise the first failure's status).
    """
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    config = output / "govmon.toml"
    db = output / "govmon.db"
    proxy = None
    try:
        server = serve(SITE_ROOT) if live else serve_recording(recording)
    except WarcError as exc:
        print(f"govmon demo: {exc} (try `govmon demo --live`)", file=sys.stderr)
        return 1
    with server:
        config.write_text(demo_config(server.port), encoding="utf-8")
        if live:
            print(f"govmon demo: serving {', '.join(HOSTS)} on 127.0.0.1:{server.port}")
        else:
            proxy = f"http://127.0.0.1:{server.port}"
            print(f"govmon demo: replaying {recording} ({', '.join(HOSTS)}) on {proxy}")
        status = _scan(config, str(db), proxy=proxy)
        if not live and server.app[INDEX].misses:
            print(
                f"govmon demo: {server.app[INDEX].misses} requests were not in the recording:"
                " it is older than the crawler (make it again: make demo-recording)",
                file=sys.stderr,
            )
        if status != 0:
            print(f"govmon demo: the scan failed (exit status {status})", file=sys.stderr)
            return status
        for fmt in REPORT_FORMATS:
            target = output / f"report.{fmt}"
            rc = _report(db, fmt, target)
            if rc != 0:
                print(f"govmon demo: the {fmt} report failed (exit status {rc})", file=sys.stderr)
                status = status or rc
    others = ", ".join(str(output / f"report.{fmt}") for fmt in REPORT_FORMATS if fmt != "html")
    print(
        f"Report: {output / 'report.html'} (also {others}); the planted problems:"
        f" {HERE / 'EXPECTED.md'}"
    )
    for line in _summary(output / "report.json"):
        print(line)
    return status


def record_demo(warc: Path = RECORDING) -> int:
    """Record a scan of the static demo district into ``warc`` (``govmon record``), replacing
    it only once the recording is complete; returns the exit status."""
    warc = Path(warc)
    with tempfile.TemporaryDirectory(prefix="govmon-demo-record-") as tmp:
        config = Path(tmp) / "govmon.toml"
        partial = Path(tmp) / warc.name
        with serve(SITE_ROOT) as server:
            config.write_text(demo_config(server.port), encoding="utf-8")
            status = _scan(config, f"{tmp}/govmon.db", record=str(partial))
        if status != 0:
            print(f"govmon demo: the recording failed (exit status {status})", file=sys.stderr)
            return status
        warc.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(partial, warc)
    print(f"govmon demo: recorded the demo district into {warc} ({warc.stat().st_size} bytes)")
    return 0
