"""A child process of ``scan --processes``: one event loop, one :class:`Scan` that joins the
parent's scan over the child's sites; its progress and outcome go back to the parent over a
pipe (see :mod:`crawler.scale.processes`)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import resource
import signal
import sys
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, NamedTuple

import structlog

from checks.page_checks import doc_to_json, policy_documents
from crawler.config import Config
from crawler.core import JoinQueued, Scan
from crawler.core.logs import configure
from storage.base import StoreError
from storage.open import open_store

__all__ = ["ChildSpec", "Snapshot", "child_main"]

log = structlog.get_logger("govmon.multiproc")


@dataclass(frozen=True, slots=True)
class ChildSpec:
    """What a child process needs (pickled to it)."""

    number: int
    config: Config
    site_ids: tuple[str, ...]
    scan_id: int
    id_base: int
    as_of: str
    db: str
    proxy: str | None
    log_level: str


class Snapshot(NamedTuple):
    """A child's progress as it reports it to the parent, about once a second."""

    pages: int = 0
    requests: int = 0
    queued: int = 0  # URLs waiting, delayed ones included
    broken: int = 0
    blocked: int = 0
    sites: tuple[tuple[str, int], ...] = ()  # (site id, pages) for each of the child's sites


def child_main(spec: ChildSpec, conn: Connection) -> None:
    """The child process: one event loop, one joined :class:`Scan`; its outcome goes back over
    ``conn`` as ``("result", dict)`` or ``("error", text)``."""
    stop_requested: list[bool] = []

    def early_stop(signum: int, frame: object) -> None:  # until the loop's handlers are in
        stop_requested.append(True)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, early_stop)
    configure(spec.log_level)
    code = 0
    try:
        result = _run(_child(spec, conn, stop_requested))
        _send(conn, ("result", result))
    except BaseException as exc:  # every failure goes to the parent, in words
        text = str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"
        log.error("multiproc.child_failed", process=spec.number, error=text)
        _send(conn, ("error", text))
        code = 1
    finally:
        conn.close()
    sys.exit(code)


def _run(coro: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    try:
        import uvloop  # noqa: PLC0415  optional: not built on every platform
    except ImportError:  # pragma: no cover - uvloop is a dependency, but not on every platform
        return asyncio.run(coro)
    return uvloop.run(coro)


def _send(conn: Connection, message: tuple[str, Any]) -> bool:
    try:
        conn.send(message)
    except (OSError, ValueError):  # the parent is gone: nobody to tell
        return False
    return True


async def _child(spec: ChildSpec, conn: Connection, stop_requested: list[bool]) -> dict[str, Any]:
    # nothing can resume a scan run by several processes: no journal to write
    config = dataclasses.replace(
        spec.config, crawl=dataclasses.replace(spec.config.crawl, resumable=False)
    )
    sites = tuple(s for s in config.sites if s.id in spec.site_ids)
    store = await open_store(spec.db)
    loop = asyncio.get_running_loop()
    reporting = [True]
    last = [0.0]

    def progress(scan: Scan) -> None:
        now = time.monotonic()
        if not reporting[0] or now - last[0] < 1.0:
            return
        last[0] = now
        s, f = scan.stats, scan.frontier
        snapshot = Snapshot(s.pages, s.requests, f.queued + f.delayed, s.broken, s.blocked,
                            tuple((st.site.id, st.pages) for st in scan.sites))  # fmt: skip
        reporting[0] = _send(conn, ("progress", snapshot))
        if not reporting[0]:  # the parent is gone: nobody can finish the scan, stop
            log.warning("multiproc.parent_lost", process=spec.number)
            scan.stop()

    try:
        scan = Scan(
            config,
            store,
            sites=sites,
            as_of=dt.datetime.fromisoformat(spec.as_of),
            progress=progress,
            proxy=spec.proxy,
            start=JoinQueued(spec.scan_id, id_base=spec.id_base),
        )
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, scan.stop)
        if stop_requested:
            scan.stop()
        try:
            result = await scan.run()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
    finally:
        await store.close()
    s = scan.stats
    policies, interpretations = policy_documents(scan.checks)
    return {
        "policies": {k: [doc_to_json(d) for d in v] for k, v in policies.items()},
        "interpretations": [doc_to_json(d) for d in interpretations],
        "status": result.status,
        "pages": result.pages,
        "requests": result.requests,
        "broken": result.broken,
        "blocked": result.blocked,
        "retries": s.retries,
        "rechecks": s.rechecks,
        "elapsed": result.elapsed,
        "sites": [(st.site.id, st.pages, st.errors) for st in scan.sites],
        "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
