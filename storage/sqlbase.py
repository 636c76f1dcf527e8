"""The store protocol once, in SQL both backends speak.

:class:`SQLStore` writes every method of :class:`storage.base.Store` with ``?`` placeholders
and runs it through a few hooks a backend gives (:class:`storage.sqlhooks.SQLBackend`:
``_rows``, ``_execute``, ``_executemany``, ``_insert_id``, ``_insert``): SQLite runs the
statements as they are, PostgreSQL numbers the placeholders (``$1``, ``$2``, …). A backend
keeps its connections, its schema and migrations, and the SQL that truly differs between the
two. The batching writer is :class:`storage.writer.BatchWriter`; the rows it writes are grouped
by :mod:`storage.rows`. The ignores (single findings, rules by URL pattern, the log of their
changes) are :class:`storage.sqlignores.IgnoreSQL`.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections.abc import Sequence
from typing import Any

from crawler import __version__
from storage.base import (
    ColumnRecord,
    CoverageRecord,
    FindingRecord,
    FrontierRow,
    ItemRow,
    Journal,
    NotInStore,
    Progress,
    SampleRow,
    ScanInfo,
    resumable_alone,
)
from storage.rows import SAMPLES, TARGETS, group, sample_row
from storage.sqlhooks import now_iso
from storage.sqlignores import IgnoreSQL

__all__ = ["SQLStore", "now_iso"]

_SCANS = (
    "SELECT id, config_path, as_of, started_at, finished_at, status, pages, requests, sites,"
    " settings FROM scans "
)
_CHUNK = 500  # ids or URLs in one IN (…) list


class SQLStore(IgnoreSQL):
    """What the SQLite and PostgreSQL stores share: every protocol method but the opening
    (the backend's hooks: :class:`storage.sqlhooks.SQLBackend`; the ignores:
    :class:`storage.sqlignores.IgnoreSQL`)."""

    # -- writing -----------------------------------------------------------------------------

    async def begin_scan(
        self,
        *,
        config_path: str,
        config_digest: str,
        as_of: str,
        sites: list[dict[str, Any]],
        settings: dict[str, Any] | None = None,
    ) -> int:
        scan_id = await self._insert_id(
            "INSERT INTO scans (config_path, config_digest, as_of, started_at, status, sites,"
            " version, settings) VALUES (?,?,?,?,?,?,?,?)",
            (
                config_path,
                config_digest,
                as_of,
                now_iso(),
                "running",
                json.dumps(sites, ensure_ascii=False),
                __version__,
                json.dumps(settings or {}, ensure_ascii=False),
            ),
        )
        await self._start_writer(scan_id)
        return scan_id

    async def _write_batch(self, batch: list[object]) -> None:
        grouped = group(batch, self.scan_id, self._row)
        if not grouped:
            return
        statements = [(self._insert(table), rows) for table, rows in grouped.tables]
        if grouped.progress is not None:
            p = grouped.progress
            statements.append(
                ("UPDATE scans SET pages = ?, requests = ? WHERE id = ?",
                 [(p.pages, p.requests, self.scan_id)])
            )  # fmt: skip
        await self._executemany(statements, writer=True)

    async def finish_scan(self, status: str, pages: int, requests: int) -> None:
        await self.put(Progress(pages, requests))
        await self.flush()
        await self._execute(
            "UPDATE scans SET status = ?, finished_at = ?, pages = ?, requests = ? WHERE id = ?",
            (status, now_iso(), pages, requests, self.scan_id),
        )

    async def close(self) -> None:
        await self._stop_writer()
        await self._close_quietly()

    async def reopen_scan(self, scan_id: int) -> None:
        """Continue writing into ``scan_id`` (``scan --resume``)."""
        await self._execute(
            "UPDATE scans SET status = 'running', finished_at = NULL WHERE id = ?", (scan_id,)
        )
        await self._start_writer(scan_id)

    async def join_scan(self, scan_id: int) -> None:
        """Write into ``scan_id`` without touching its status (a site job of a queued scan)."""
        await self._start_writer(scan_id)

    async def withdraw_findings(
        self, scan_id: int, check: str, site: str, urls: Sequence[str]
    ) -> int:
        """Delete ``check`` findings of ``site`` about ``urls`` from a scan; how many went."""
        await self.flush()
        gone = 0
        for chunk in _chunks(list(dict.fromkeys(urls))):
            gone += await self._execute(
                "DELETE FROM findings WHERE scan_id = ? AND check_code = ? AND site = ?"
                f" AND url IN ({','.join('?' * len(chunk))})",
                (scan_id, check, site, *chunk),
            )
        return gone

    async def add_target(self, scan_id: int, url: str, title: str, final_host: str) -> None:
        """What an external link's target was at a scan (for ``link.hijacked`` next time)."""
        await self._execute(self._insert(TARGETS), (scan_id, url, title, final_host))

    async def add_samples(self, samples: Sequence[SampleRow]) -> None:
        """Availability samples, committed in one transaction (outside any scan)."""
        rows = [self._row(sample_row(s)) for s in samples]
        if rows:
            await self._executemany([(self._insert(SAMPLES), rows)], writer=False)

    # -- reading -----------------------------------------------------------------------------

    async def scan_info(self, ref: str | int = "latest") -> ScanInfo:
        if ref == "latest":
            rows = await self._fetch(_SCANS + "ORDER BY id DESC LIMIT 1")
        else:
            try:
                scan_id = int(ref)
            except ValueError:
                raise NotInStore(f"scan {ref!r}: expected a scan number or 'latest'") from None
            if not -(2**63) <= scan_id < 2**63:  # beyond what either database numbers
                raise NotInStore(f"{self.path}: no scan {ref} in the store")
            rows = await self._fetch(_SCANS + "WHERE id = ?", (scan_id,))
        if not rows:
            raise NotInStore(f"{self.path}: no scan {ref} in the store")
        return _scan_info(rows[0])

    async def scans(self) -> list[ScanInfo]:
        """Every scan in the store, newest first."""
        return [_scan_info(r) async for r in self._rows(_SCANS + "ORDER BY id DESC")]

    async def resumable(self, config_digest: str) -> ScanInfo | None:
        """The newest scan of this config that did not complete, if it can be resumed."""
        rows = await self._fetch(
            _SCANS + "WHERE config_digest = ? AND status IN ('running', 'interrupted')"
            " AND id = (SELECT max(id) FROM scans WHERE config_digest = ?)",
            (config_digest, config_digest),
        )
        if not rows:
            return None
        info = _scan_info(rows[0])
        return info if resumable_alone(info) else None

    async def findings(self, scan_id: int) -> list[FindingRecord]:
        return [
            FindingRecord(
                id=r[0],
                check=r[1],
                severity=r[2],
                site=r[3],
                unit=r[4],
                column=r[5],
                url=r[6],
                page=r[7],
                detail=json.loads(r[8]),
                observed_at=r[9],
            )
            async for r in self._rows(
                "SELECT identity, check_code, severity, site, unit, column_name, url, page,"
                " detail, observed_at FROM findings WHERE scan_id = ?"
                " ORDER BY site, check_code, url, identity",
                (scan_id,),
            )
        ]

    async def journal(self, scan_id: int) -> Journal:
        """What a scan had done before it stopped: its frontier, the pages fetched (with their
        bodies) and the targets checked, in the order they were first seen."""
        journal = Journal()
        async for r in self._rows(
            "SELECT url_id, url, kind, site, depth, link_kind, follow FROM frontier"
            " WHERE scan_id = ? ORDER BY url_id",
            (scan_id,),
        ):
            journal.frontier.append(
                FrontierRow(int(r[0]), r[1], int(r[2]), int(r[3]), int(r[4]), r[5], bool(r[6]))
            )
        async for r in self._rows(
            "SELECT p.url_id, p.final_url, p.status, p.error, p.content_type, b.redirects, b.body"
            " FROM pages p LEFT JOIN bodies b ON b.scan_id = p.scan_id AND b.url_id = p.url_id"
            " WHERE p.scan_id = ? ORDER BY p.url_id",
            (scan_id,),
        ):
            body = zlib.decompress(r[6]) if r[6] is not None else b""
            redirects = json.loads(r[5]) if r[5] is not None else []
            journal.pages[int(r[0])] = (r[1], r[2], r[3], r[4], redirects, body)
        async for r in self._rows(
            "SELECT url_id, outcome, reason, status, final_url, method, attempts FROM links"
            " WHERE scan_id = ? ORDER BY url_id",
            (scan_id,),
        ):
            journal.links[int(r[0])] = (r[1], r[2], r[3], r[4], r[5], int(r[6]))
        return journal

    async def items(self, scan_id: int, site: str | None = None) -> list[ItemRow]:
        """The dated items each column listed at a scan (what ``content.backdated`` compares)."""
        sql = "SELECT site, column_url, url, title, date FROM items WHERE scan_id = ?"
        args: list[Any] = [scan_id]
        if site is not None:
            sql += " AND site = ?"
            args.append(site)
        rows = self._rows(sql + " ORDER BY site, column_url, url", args)
        return [ItemRow(r[0], r[1], r[2], r[3], r[4]) async for r in rows]

    async def site_sizes(self, scan_id: int) -> dict[str, int]:
        """Requests each site needed at a scan (its frontier: pages and checked targets), for
        the daemon's planner; the pages fetched when the scan kept no frontier."""
        info = await self.scan_info(scan_id)
        ids = [s["id"] for s in info.sites]
        rows = await self._fetch(
            "SELECT site, count(*) FROM frontier WHERE scan_id = ? GROUP BY site", (scan_id,)
        )
        sizes = {ids[int(r[0])]: int(r[1]) for r in rows if 0 <= int(r[0]) < len(ids)}
        if sizes:
            return sizes
        rows = await self._fetch(
            "SELECT site, count(*) FROM pages WHERE scan_id = ? GROUP BY site", (scan_id,)
        )
        return {str(r[0]): int(r[1]) for r in rows}

    async def previous_target(self, before_scan: int, url: str) -> tuple[str, str] | None:
        """``(title, final_host)`` of ``url`` at the newest earlier complete scan that saw it."""
        rows = await self._fetch(
            "SELECT t.title, t.final_host FROM targets t JOIN scans s ON s.id = t.scan_id"
            " WHERE t.url = ? AND t.scan_id < ? AND s.status = 'complete'"
            " ORDER BY t.scan_id DESC LIMIT 1",
            (url, before_scan),
        )
        return (str(rows[0][0]), str(rows[0][1])) if rows else None

    async def samples(
        self, site: str | None = None, since: str | None = None, until: str | None = None
    ) -> list[SampleRow]:
        """Samples in time order; ``since``/``until`` are ISO times (inclusive)."""
        where, args = [], []
        for clause, value in (("site = ?", site), ("at >= ?", since), ("at <= ?", until)):
            if value is not None:
                where.append(clause)
                args.append(value)
        sql = f"SELECT {', '.join(SAMPLES.columns)} FROM samples"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [
            SampleRow(site=r[0], url=r[1], at=r[2], ok=bool(r[3]), status=r[4], total_ms=r[5],
                      dns_ms=r[6], connect_ms=r[7], tls_ms=r[8], first_byte_ms=r[9],
                      failed_at=r[10], error=r[11])
            async for r in self._rows(sql + " ORDER BY at, id", args)
        ]  # fmt: skip

    async def columns(self, scan_id: int) -> list[ColumnRecord]:
        """Every column of every site in a scan: category, items, newest date, how it was read."""
        return [
            ColumnRecord(
                site=r[0],
                url=r[1],
                name=r[2],
                category=r[3],
                unit=r[4],
                top_level=bool(r[5]),
                configured=bool(r[6]),
                parent=r[7],
                items=r[8],
                dated_items=r[9],
                newest=r[10],
                pages=r[11],
                is_list=bool(r[12]),
                why=r[13],
            )
            async for r in self._rows(
                "SELECT site, url, name, category, unit, top_level, configured, parent, items,"
                " dated_items, newest, pages, is_list, why FROM columns WHERE scan_id = ?"
                " ORDER BY site, url",
                (scan_id,),
            )
        ]

    async def coverage(self, scan_id: int) -> dict[str, CoverageRecord]:
        """Site id -> how much of it the scan read (the JSON written from a CoverageRow)."""
        out: dict[str, CoverageRecord] = {}
        async for r in self._rows(
            "SELECT site, detail FROM coverage WHERE scan_id = ? ORDER BY site", (scan_id,)
        ):
            out[str(r[0])] = json.loads(r[1])
        return out

    async def page_urls(self, scan_id: int, url_ids: Sequence[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        for chunk in _chunks(list(url_ids)):
            async for r in self._rows(
                f"SELECT url_id, url FROM pages WHERE scan_id = ?"
                f" AND url_id IN ({','.join('?' * len(chunk))})",
                (scan_id, *chunk),
            ):
                out[int(r[0])] = str(r[1])
        return out

    # -- read-only queries of the web view (issue 18) ------------------------------------------

    async def scan_activity(self, scan_id: int) -> str | None:
        """When scan ``scan_id`` last wrote a page or a link (its own ISO time), or ``None``:
        how the web view tells a running scan from one whose process has died."""
        rows = await self._fetch(
            "SELECT (SELECT MAX(fetched_at) FROM pages WHERE scan_id = ?),"
            " (SELECT MAX(checked_at) FROM links WHERE scan_id = ?)",
            (scan_id, scan_id),
        )
        times = [str(t) for t in (rows[0] if rows else ()) if t]
        return max(times, key=lambda t: dt.datetime.fromisoformat(t).timestamp()) if times else None

    async def sample_days(
        self, site: str | None = None, since: str | None = None
    ) -> list[dict[str, Any]]:
        """Availability samples counted per day (the date of each sample's own local time, the
        config's zone), oldest first: ``day``, ``samples``, ``ok``, and ``avg_ms`` and ``max_ms``
        of the samples that loaded. ``site`` narrows to one site, ``since`` to days from it."""
        where, args = [], []
        if site is not None:
            where.append("site = ?")
            args.append(site)
        if since is not None:
            where.append("at >= ?")
            args.append(since)
        sql = (
            "SELECT SUBSTR(at, 1, 10) AS day, COUNT(*), SUM(CASE WHEN ok THEN 1 ELSE 0 END),"
            " AVG(CASE WHEN ok THEN total_ms END), MAX(CASE WHEN ok THEN total_ms END)"
            f" FROM samples {'WHERE ' + ' AND '.join(where) if where else ''}"
            " GROUP BY SUBSTR(at, 1, 10) ORDER BY day"
        )
        return [
            {"day": str(r[0]), "samples": int(r[1]), "ok": int(r[2] or 0),
             "avg_ms": None if r[3] is None else round(float(r[3])),
             "max_ms": None if r[4] is None else int(r[4])}
            for r in await self._fetch(sql, args)
        ]  # fmt: skip


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[i : i + _CHUNK] for i in range(0, len(values), _CHUNK)]


def _scan_info(row: Sequence[Any]) -> ScanInfo:
    status = row[5]
    if status == "running":
        status = "incomplete"
    return ScanInfo(
        id=int(row[0]),
        config_path=row[1],
        as_of=row[2],
        started_at=row[3],
        finished_at=row[4],
        status=status,
        pages=int(row[6]),
        requests=int(row[7]),
        sites=json.loads(row[8]),
        settings=json.loads(row[9]),
    )
