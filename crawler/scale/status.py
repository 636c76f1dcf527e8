"""What ``govmon status`` shows of queued scans, and what the daemon waits for.

Every queued scan's sites (queued, running, done, failed), per worker, with an estimated finish
against the sampling window (:func:`status`, :func:`format_status`); a queued scan's end
(:func:`wait_for_scan`) and the newest queued scan of a config (:func:`queued_scan`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from crawler.scale.queuedb import QueueDB, QueueError, require_postgres

__all__ = [
    "ScanStatus",
    "estimate_finish",
    "format_status",
    "parse_duration",
    "queued_scan",
    "status",
    "wait_for_scan",
]


@dataclass(frozen=True)
class ScanStatus:
    scan_id: int
    config_path: str
    status: str
    submitted_at: dt.datetime
    window_end: dt.datetime | None
    counts: dict[str, int]  # queued | running | done | failed -> sites
    pages: int
    requests: int
    workers: dict[str, dict[str, int]]  # worker -> {"running": n, "done": n, "pages": n}
    eta: dt.datetime | None
    finished_at: str | None

    @property
    def sites(self) -> int:
        return sum(self.counts.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "scan": self.scan_id,
            "config": self.config_path,
            "status": self.status,
            "submitted_at": self.submitted_at.isoformat(timespec="seconds"),
            "window_end": self.window_end.isoformat(timespec="seconds")
            if self.window_end
            else None,
            "sites": self.sites,
            **self.counts,
            "pages": self.pages,
            "requests": self.requests,
            "workers": self.workers,
            "eta": self.eta.isoformat(timespec="seconds") if self.eta else None,
            "on_time": None
            if self.eta is None or self.window_end is None
            else self.eta <= self.window_end,
            "finished_at": self.finished_at,
        }


def estimate_finish(
    now: dt.datetime, started: dt.datetime | None, done: int, remaining: int
) -> dt.datetime | None:
    """When the remaining sites should be done at the pace the done ones took."""
    if remaining == 0:
        return now
    if started is None or done == 0:
        return None
    elapsed = (now - started).total_seconds()
    return now + dt.timedelta(seconds=elapsed / done * remaining)


async def status(db: str, scan: int | None = None, limit: int = 10) -> list[ScanStatus]:
    require_postgres(db, "status")
    async with QueueDB(db) as qdb:
        scans = await qdb.queued_scans(scan, limit)
        if scan is not None and not scans:
            raise QueueError(f"{qdb.display}: scan {scan} was not submitted to the queue")
        now = dt.datetime.now(dt.UTC)
        out = []
        for row in scans:
            sites = await qdb.sites(row["scan_id"])
            counts = {"queued": 0, "running": 0, "done": 0, "failed": 0}
            workers: dict[str, dict[str, int]] = {}
            for s in sites:
                counts[s["status"]] = counts.get(s["status"], 0) + 1
                if s["worker"] and s["status"] in ("running", "done"):
                    w = workers.setdefault(s["worker"], {"running": 0, "done": 0, "pages": 0})
                    w[s["status"]] += 1
                    w["pages"] += int(s["pages"])
            starts = [s["started_at"] for s in sites if s["started_at"] is not None]
            remaining = counts["queued"] + counts["running"]
            out.append(
                ScanStatus(
                    scan_id=row["scan_id"],
                    config_path=row["config_path"],
                    status=row["status"],
                    submitted_at=row["submitted_at"],
                    window_end=row["window_end"],
                    counts=counts,
                    pages=sum(int(s["pages"]) for s in sites),
                    requests=sum(int(s["requests"]) for s in sites),
                    workers=workers,
                    eta=estimate_finish(now, min(starts, default=None), counts["done"], remaining)
                    if row["status"] == "running"
                    else None,
                    finished_at=row["finished_at"],
                )
            )
        return out


def format_status(rows: list[ScanStatus], now: dt.datetime | None = None) -> str:
    """The text ``govmon status`` prints."""
    now = now or dt.datetime.now(dt.UTC)
    if not rows:
        return "no scan in the queue"
    lines = []
    for r in rows:
        lines.append(
            f"scan {r.scan_id}  {r.status}  {r.config_path}  submitted "
            f"{r.submitted_at.astimezone().isoformat(timespec='minutes')}"
        )
        lines.append(
            f"  sites {r.sites}: {r.counts['queued']} queued, {r.counts['running']} running, "
            f"{r.counts['done']} done, {r.counts['failed']} failed; "
            f"{r.pages} pages, {r.requests} requests"
        )
        for name, w in sorted(r.workers.items()):
            lines.append(
                f"  worker {name}: {w['running']} running, {w['done']} done, {w['pages']} pages"
            )
        if r.status == "running":
            window = (
                f"window ends {r.window_end.astimezone().isoformat(timespec='minutes')}"
                if r.window_end
                else "no window given"
            )
            if r.eta is None:
                lines.append(f"  estimated finish: unknown until a site is done; {window}")
            else:
                verdict = ""
                if r.window_end is not None:
                    late = (r.eta - r.window_end).total_seconds()
                    verdict = "  (on time)" if late <= 0 else f"  (LATE by {_duration(late)})"
                lines.append(
                    f"  estimated finish {r.eta.astimezone().isoformat(timespec='minutes')} "
                    f"(in {_duration((r.eta - now).total_seconds())}); {window}{verdict}"
                )
        elif r.finished_at:
            lines.append(f"  finished {r.finished_at}")
    return "\n".join(lines)


_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> dt.timedelta:
    """``5d``, ``36h``, ``90m``, ``1w``, or a sum such as ``1d12h``."""
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*(min|[smhdw])", text.strip().lower())
    joined = "".join(f"{n}{u}" for n, u in parts)
    if not parts or joined != re.sub(r"\s+", "", text.strip().lower()):
        raise ValueError(f"{text!r}: expected a duration such as 5d, 36h or 90m")
    return dt.timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in parts))


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else f"{seconds} s"


async def wait_for_scan(db: str, scan_id: int, stop: asyncio.Event, every: float = 5.0) -> str:
    """Wait until a queued scan is no longer running; its final status (or ``running`` when
    ``stop`` came first)."""
    async with QueueDB(db) as qdb:
        while True:
            state = await qdb.scan_status(scan_id)
            if state != "running" or stop.is_set():
                return state
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)


async def queued_scan(
    db: str, digest: str, since: dt.datetime | None = None
) -> tuple[int, str] | None:
    """The newest queued scan of a config, with its status: one still running (a daemon
    restarted, or another took over, while the workers went on), or one begun since ``since``
    (the current window's scan, already done)."""
    async with QueueDB(db) as qdb:
        return await qdb.newest_scan(digest, since)
