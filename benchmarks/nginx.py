"""Static sites on disk, served by nginx on loopback addresses for the benchmarks.

:func:`write_synth_site` writes every existing target of a :class:`benchmarks.synth.Site` (pages,
pictures, attachments, logo, stylesheet) as files under ``root/h0 … root/h{H-1}``; broken targets
are simply absent, so nginx answers them 404. :class:`NginxServer` starts the Debian ``nginx``
binary with a config of its own in a temporary folder (``daemon off`` under a child process, its
own pid file, error log and temp paths), one ``server`` block per host listening on that host's
address (``127.0.0.1 … 127.0.0.H``, one port), and stops it afterwards. Every request is logged
as ``METHOD STATUS URI`` to the folder's access log, which :meth:`NginxServer.stats` counts the
same way as the synthetic server's counters (``requests``, ``method.GET``, ``GET.page.200`` …).

    python -m benchmarks.nginx --pages 5000 --hosts 4 [--links 30] [--page-bytes 9000]

writes the site to a temporary folder and serves it until Ctrl-C (to look at it by hand).
"""

from __future__ import annotations

import argparse
import contextlib
import grp
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from benchmarks.synth import (
    CSS_BODY,
    CSS_PATH,
    IMAGE_BODY,
    LOGO_PATH,
    PAGE_LINKS,
    PDF_BODY,
    RESOURCE_SUFFIXES,
    TARGET_PAGE_BYTES,
    Site,
)

NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
MIME_TYPES = {
    "text/html": "html htm shtml",
    "text/css": "css",
    "application/javascript": "js",
    "text/plain": "txt",
    "application/xml": "xml",
    "image/jpeg": "jpg jpeg",
    "image/png": "png",
    "image/gif": "gif",
    "application/pdf": "pdf",
    "application/msword": "doc",
    "application/vnd.ms-excel": "xls",
    "application/zip": "zip",
}


def find_nginx() -> str | None:
    """The nginx binary (``apt-get install -y nginx`` on Debian), or None."""
    found = shutil.which("nginx")
    if found:
        return found
    return next((c for c in NGINX_CANDIDATES if os.access(c, os.X_OK)), None)


# ---- writing a synthetic site as files ------------------------------------------------------


class _Writer:
    """Writes files under a root, creating folders once, hard-linking repeated bodies."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dirs: set[Path] = set()
        self.blobs: dict[bytes, Path] = {}
        self.files = 0
        self.bytes = 0
        (root / "_blobs").mkdir(parents=True, exist_ok=True)

    def _parent(self, path: Path) -> None:
        parent = path.parent
        if parent not in self.dirs:
            parent.mkdir(parents=True, exist_ok=True)
            self.dirs.add(parent)

    def write(self, path: Path, body: bytes) -> None:
        self._parent(path)
        path.write_bytes(body)
        self.files += 1
        self.bytes += len(body)

    def link(self, path: Path, body: bytes) -> None:
        """``path`` with ``body``, as a hard link to one stored copy (a copy past the file
        system's link limit)."""
        self._parent(path)
        blob = self.blobs.get(body)
        if blob is None:
            blob = self.root / "_blobs" / f"b{len(self.blobs)}"
            blob.write_bytes(body)
            self.blobs[body] = blob
        try:
            os.link(blob, path)
        except OSError:
            shutil.copyfile(blob, path)
        self.files += 1
        self.bytes += len(body)


def host_root(root: Path, host: int) -> Path:
    return root / f"h{host}"


def write_synth_site(site: Site, root: Path) -> tuple[int, int]:
    """Every existing target of ``site`` as a file under ``root/h{host}``; (files, bytes).

    A home page is ``h{host}/index.html`` (nginx serves it for ``/``); an article is at its
    path; each article's two pictures (``_1``, ``_2``) and its PDF (``_1``) exist, the targets the
    generator draws as deleted do not."""
    writer = _Writer(root)
    for host in range(site.hosts):
        base = host_root(root, host)
        writer.link(base / LOGO_PATH.lstrip("/"), IMAGE_BODY)
        writer.link(base / CSS_PATH.lstrip("/"), CSS_BODY)
    for pid in range(site.pages):
        base = host_root(root, site.host_of(pid))
        path = "/index.html" if pid < site.hosts else site.page_path(pid)
        writer.write(base / path.lstrip("/"), site.render(pid))
        writer.link(base / site.image_path(pid, 1).lstrip("/"), IMAGE_BODY)
        writer.link(base / site.image_path(pid, 2).lstrip("/"), IMAGE_BODY)
        writer.link(base / site.pdf_path(pid, 1).lstrip("/"), PDF_BODY)
    _readable(root)
    return writer.files, writer.bytes


def _readable(root: Path) -> None:
    """Folders 0755 and files 0644 up from ``root`` (nginx's workers run as ``nobody``)."""
    top = Path(tempfile.gettempdir())
    for path in (root, *root.parents):
        if path == top or path == Path("/"):
            break
        mode = path.stat().st_mode & 0o777
        if mode & 0o005 != 0o005:
            path.chmod(mode | 0o005)
    for dirpath, _, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)


# ---- nginx ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VirtualHost:
    """One ``server`` block: the loopback address it listens on and its document root."""

    address: str
    root: Path


def free_port(addresses: Sequence[str]) -> int:
    """A port that is free on the first address right now (checked on the others too)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((addresses[0], 0))
            port = int(sock.getsockname()[1])
        if all(_bindable(a, port) for a in addresses):
            return port
    raise RuntimeError("no free port found on the loopback addresses")


def _bindable(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((address, port))
        except OSError:
            return False
    return True


def nginx_config(prefix: Path, hosts: Sequence[VirtualHost], port: int, workers: int = 1) -> str:
    """The whole nginx.conf: everything it writes stays under ``prefix``."""
    user = ""
    if os.geteuid() == 0:
        group = "nogroup"
        try:
            grp.getgrnam(group)
        except KeyError:
            group = "nobody"
        user = f"user nobody {group};\n"
    types = "\n".join(f"    {ctype} {exts};" for ctype, exts in MIME_TYPES.items())
    temp = "\n".join(
        f"  {name}_temp_path {prefix / 'tmp' / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    servers = "\n".join(
        f"  server {{\n    listen {h.address}:{port} backlog=4096;\n"
        f"    server_name _;\n    root {h.root};\n    index index.html;\n  }}"
        for h in hosts
    )
    return f"""# generated by benchmarks.nginx
{user}daemon off;
master_process on;
worker_processes {workers};
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{
  worker_connections 4096;
  multi_accept on;
}}
http {{
  types {{
{types}
  }}
  default_type application/octet-stream;
  charset utf-8;
  server_tokens off;
  log_format bench '$request_method $status $request_uri';
  access_log {prefix / "access.log"} bench;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  open_file_cache max=20000 inactive=60s;
  open_file_cache_valid 600s;
  open_file_cache_errors on;
{temp}
{servers}
}}
"""


class NginxServer:
    """nginx serving ``hosts`` on one port; counts requests from its access log.

    ``port`` 0 picks a free one (tried again on another port when nginx cannot bind it)."""

    def __init__(
        self,
        hosts: Sequence[VirtualHost],
        prefix: Path,
        port: int = 0,
        workers: int = 1,
        binary: str | None = None,
    ) -> None:
        found = binary or find_nginx()
        if found is None:
            raise RuntimeError(
                "nginx not found: install it (Debian: apt-get install -y nginx) or pass --nginx"
            )
        self.binary = found
        self.hosts = list(hosts)
        self.prefix = prefix
        (prefix / "tmp").mkdir(parents=True, exist_ok=True)
        _readable(prefix)
        self.config_path = prefix / "nginx.conf"
        self.access_log = prefix / "access.log"
        self.error_log = prefix / "error.log"
        self._counts: Counter[str] = Counter()
        self._offset = 0
        self._partial = b""
        self.proc: subprocess.Popen[bytes] | None = None
        for attempt in range(5):
            self.port = port or free_port([h.address for h in self.hosts])
            self.config_path.write_text(nginx_config(prefix, self.hosts, self.port, workers))
            if self._start():
                break
            if port or attempt == 4:
                raise RuntimeError(f"nginx did not start: {self._error_tail()}")
        self.process = psutil.Process(self._pid())

    def _start(self) -> bool:
        self.access_log.touch()
        self.proc = subprocess.Popen(
            [self.binary, "-p", str(self.prefix), "-c", str(self.config_path), "-e", "stderr"],
            stdout=subprocess.DEVNULL,
            stderr=self.error_log.open("ab"),
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if all(_listening(h.address, self.port) for h in self.hosts):
                return True
            time.sleep(0.05)
        self._terminate()
        return False

    def _pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def _error_tail(self) -> str:
        try:
            return "\n".join(self.error_log.read_text(errors="replace").splitlines()[-5:])
        except OSError:
            return "(no error log)"

    def url(self, host: int, path: str = "/") -> str:
        return f"http://{self.hosts[host].address}:{self.port}{path}"

    def home_urls(self) -> list[str]:
        return [self.url(i) for i in range(len(self.hosts))]

    def stats(self) -> dict[str, int]:
        """The counters so far, from the access log (waiting until it stops growing)."""
        size = -1
        for _ in range(20):
            now = self.access_log.stat().st_size
            if now == size:
                break
            size = now
            time.sleep(0.05)
        with self.access_log.open("rb") as f:
            f.seek(self._offset)
            data = self._partial + f.read()
        self._offset += len(data) - len(self._partial)
        lines = data.split(b"\n")
        self._partial = lines.pop()
        counts = self._counts
        for raw in lines:
            method, _, rest = raw.decode("latin-1").partition(" ")
            status, _, uri = rest.partition(" ")
            path = uri.split("?", 1)[0]
            kind = "resource" if path.endswith(RESOURCE_SUFFIXES) else "page"
            counts["requests"] += 1
            counts[f"method.{method}"] += 1
            counts[f"status.{status}"] += 1
            counts[f"{method}.{kind}.{status}"] += 1
        return dict(counts)

    def cpu(self) -> float:
        """User + system seconds of the master and its workers so far."""
        total = 0.0
        with contextlib.suppress(psutil.Error):
            for proc in (self.process, *self.process.children(recursive=True)):
                with contextlib.suppress(psutil.Error):
                    times = proc.cpu_times()
                    total += times.user + times.system
        return total

    def _terminate(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # nginx: fast shutdown
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        self._terminate()


def _listening(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=0.5):
            return True
    except OSError:
        return False


def interrupt_on_signals() -> None:
    """SIGTERM (and SIGINT, even when inherited as ignored) raise KeyboardInterrupt, so that
    ``finally`` blocks stop the servers a benchmark started."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def main(argv: list[str] | None = None) -> int:
    interrupt_on_signals()
    parser = argparse.ArgumentParser(prog="python -m benchmarks.nginx", description=__doc__)
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--hosts", type=int, default=4)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--links", type=int, default=PAGE_LINKS)
    parser.add_argument("--page-bytes", type=int, default=TARGET_PAGE_BYTES)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="govmon-nginx-"))
    try:
        site = Site(args.pages, args.hosts, seed=args.seed, page_links=args.links,
                    page_bytes=args.page_bytes)  # fmt: skip
        files, size = write_synth_site(site, work / "site")
        hosts = [
            VirtualHost(a, host_root(work / "site", i)) for i, a in enumerate(site.addresses())
        ]
        server = NginxServer(hosts, work / "nginx", args.port)
        print(f"{files} files, {size / 1e6:.1f} MB; serving {' '.join(server.home_urls())}")
        try:
            with contextlib.suppress(KeyboardInterrupt):
                signal.pause()
        finally:
            server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
