"""What the dashboard and the charts read of the store, beyond one scan's report.

* :func:`scan_state`: what a scan is doing now, in words a clerk reads: complete, stopped on
  purpose (已中断), running with its progress, or left ``running`` by a process that died;
* :func:`history`: each scan's verdicts, scores and problems per unit (a small summary per scan,
  kept in memory while the scan and the ignore list stay as they are);
* :func:`quarters`: problems per unit in the last scan of each quarter;
* :func:`uptime_days`: the probe's samples counted per day, with Chinese labels.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from crawler.reports import Report, build_report
from crawler.service.web.common import cn_duration, cn_time, scan_zone
from storage.base import ScanInfo, Store

__all__ = ["STALE_AFTER", "Summaries", "history", "quarters", "scan_state", "uptime_days"]

# a scan that wrote no page nor link for this long is no longer taken for running
STALE_AFTER = 600.0
HISTORY_SCANS = 8  # scans in a score trend
QUARTERS = 4  # quarters in the units chart
_CACHED = 64  # scan summaries kept


def scan_state(
    info: ScanInfo, summary: Mapping[str, Any], activity: str | None, now: dt.datetime
) -> dict[str, Any]:
    """``kind`` (complete | interrupted | running | stalled) and a Chinese ``text`` with the
    progress: sites done, pages, elapsed time (and for a running scan, when it last wrote)."""
    zone = scan_zone(info)
    sites = summary["sites"]
    done = sum(1 for s in sites if s["done"])
    try:
        started = dt.datetime.fromisoformat(info.started_at)
    except ValueError:
        started = now
    last = dt.datetime.fromisoformat(activity) if activity else started
    progress = f"已完成网站 {done}/{len(sites)} 个，已抓取页面 {info.pages} 个"
    if info.status == "complete":
        kind = "complete"
        text = f"检查已完成（{cn_time(info.finished_at, zone)} 结束），共抓取页面 {info.pages} 个。"
    elif info.status == "interrupted":
        kind = "interrupted"
        text = (f"检查已中断（{cn_time(info.finished_at, zone)} 停止）：{progress}。"
                "可用 govmon scan --resume 接着检查。")  # fmt: skip
    elif (now - last).total_seconds() <= STALE_AFTER:
        kind = "running"
        text = (f"正在检查：{progress}，已用时 {cn_duration((now - started).total_seconds())}"
                f"（最近一次进展 {cn_time(last, zone)}）。")  # fmt: skip
    else:
        kind = "stalled"
        text = (f"检查没有正常结束：{cn_duration((now - last).total_seconds())}没有任何进展"
                f"（最近一次 {cn_time(last, zone)}），检查进程可能已被终止。{progress}。"
                "可用 govmon scan --resume 接着检查。")  # fmt: skip
    return {"kind": kind, "text": text, "done": done, "sites": len(sites), "pages": info.pages}


def summarise(report: Report) -> dict[str, Any]:
    """What the dashboard and the trends need of one scan: a row per site (verdict, score,
    problems, whether its part is done) and problems per unit."""
    sites = [
        {"id": s["id"], "name": s["name"], "unit": s["unit"], "verdict": s["verdict"],
         "score": s["score"], "problems": sum(s["counts"].values()),
         "checks": sorted(s["counts"]),
         "reason": s["unchecked"]["text"] if "unchecked" in s else None,
         "done": bool(s["coverage"] and s["coverage"]["done"])}
        for s in report["sites"]
    ]  # fmt: skip
    verdicts = [s["verdict"] for s in sites]
    return {
        "id": report["scan"]["id"],
        "as_of": report["scan"]["as_of"],
        "status": report["scan"]["status"],
        "sites": sites,
        "scores": {s["id"]: s["score"] for s in sites},
        "counts": {v: verdicts.count(v) for v in ("qualified", "unqualified", "unchecked")},
        "findings": len(report["findings"]),
        "vetoes": sum(1 for f in report["findings"] if f["severity"] == "veto"),
        "ignored": len(report["ignored"]),
        "units": {u["unit"]: len(u["problems"]) for u in report["units"]},
    }


async def ignore_state(store: Store) -> str:
    """A digest of everything that sets findings aside in a report (single ignores and the
    rules by URL pattern, with their changes): a summary built under another one is stale."""
    rules = [(r["id"], r.get("changed")) for r in await store.ignore_rules()]
    state = {"ignores": sorted(await store.ignores()), "rules": rules}
    return hashlib.sha256(json.dumps(state, ensure_ascii=False).encode("utf-8")).hexdigest()


class Summaries:
    """Scan summaries kept in memory, keyed by the scan's state and the ignores (findings and
    rules), so that a scan that changed, or a finding set aside, is summarised anew."""

    def __init__(self) -> None:
        self._cache: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()

    @staticmethod
    def key(info: ScanInfo, ignoring: str) -> tuple[Any, ...]:
        return (info.id, info.status, info.finished_at, info.pages, ignoring)

    def put(self, key: tuple[Any, ...], summary: dict[str, Any]) -> None:
        self._cache[key] = summary
        self._cache.move_to_end(key)
        while len(self._cache) > _CACHED:
            self._cache.popitem(last=False)

    async def get(
        self, store: Store, info: ScanInfo, ignoring: str, now: dt.datetime
    ) -> dict[str, Any]:
        """``ignoring``: :func:`ignore_state` of the store, read once for the request."""
        key = self.key(info, ignoring)
        found = self._cache.get(key)
        if found is None:
            found = summarise(await build_report(store, info.id, now=now))
            self.put(key, found)
        return found


async def history(
    store: Store, scans: Sequence[ScanInfo], cache: Summaries, now: dt.datetime
) -> list[dict[str, Any]]:
    """The summaries of the last :data:`HISTORY_SCANS` scans up to the first of ``scans``
    (newest first), oldest first."""
    ignoring = await ignore_state(store)
    chosen = list(scans[:HISTORY_SCANS])
    return [await cache.get(store, info, ignoring, now) for info in reversed(chosen)]


def scan_label(summary: Mapping[str, Any], zone: dt.tzinfo) -> str:
    """A scan on a chart's axis: 第 N 次 with its date (``6月16日``)."""
    moment = dt.datetime.fromisoformat(str(summary["as_of"])).astimezone(zone)
    return f"第{summary['id']}次 {moment.month}/{moment.day}"


def _quarter(as_of: str, zone: dt.tzinfo) -> str:
    moment = dt.datetime.fromisoformat(as_of).astimezone(zone)
    return f"{moment.year}年第{(moment.month - 1) // 3 + 1}季度"


async def quarters(
    store: Store, scans: Sequence[ScanInfo], cache: Summaries, now: dt.datetime, top: int = 10
) -> tuple[list[str], list[str], dict[str, list[int]]]:
    """Problems per unit in the last complete scan of each of the last :data:`QUARTERS`
    quarters: ``(units, quarter labels, counts per unit)``, the ``top`` units with the most
    problems in the latest quarter first."""
    zone = scan_zone(scans[0]) if scans else scan_zone(None)
    last: dict[str, ScanInfo] = {}
    for info in scans:  # newest first: the first complete scan of a quarter is its last
        if info.status == "complete":
            last.setdefault(_quarter(info.as_of, zone), info)
    labels = sorted(last)[-QUARTERS:]
    ignoring = await ignore_state(store)
    per = [(await cache.get(store, last[q], ignoring, now))["units"] for q in labels]
    units = {u for p in per for u, n in p.items() if n}
    ranked = sorted(units, key=lambda u: (-(per[-1].get(u, 0) if per else 0), u))[:top]
    return ranked, labels, {u: [p.get(u, 0) for p in per] for u in ranked}


async def uptime_days(
    store: Store, site: str | None, now: dt.datetime, zone: dt.tzinfo, days: int = 30
) -> list[dict[str, Any]]:
    """``days`` days, each with its samples counted: those ending today in ``zone``, or, when
    none of them has a sample, those ending on the last day that has one (an old store)."""
    counted = {d["day"]: d for d in await store.sample_days(site)}
    last = now.astimezone(zone).date()
    first = last - dt.timedelta(days=days - 1)
    if counted and not any(first.isoformat() <= day <= last.isoformat() for day in counted):
        last = dt.date.fromisoformat(max(counted))
        first = last - dt.timedelta(days=days - 1)
    out = []
    for n in range(days):
        day = first + dt.timedelta(days=n)
        row = counted.get(day.isoformat(), {"samples": 0, "ok": 0, "avg_ms": None, "max_ms": None})
        out.append({**row, "day": day.isoformat(), "label": f"{day.month}月{day.day}日"})
    return out
