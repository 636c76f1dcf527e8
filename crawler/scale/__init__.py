"""A scan beyond one process: several processes on one machine (``scan --processes``), and
many workers sharing one PostgreSQL job queue (``submit``, ``worker``, ``status``; the
daemon's leadership).

- :mod:`crawler.scale.processes` (the parent) and :mod:`crawler.scale.child` (each child's
  scan), with :mod:`crawler.scale.partition` choosing which sites go to which process;
- :mod:`crawler.scale.jobqueue` (submit and the worker's site jobs, on procrastinate),
  :mod:`crawler.scale.queuedb` (the queue's tables with a scan's config and documents),
  :mod:`crawler.scale.status` (what ``status`` shows) and :mod:`crawler.scale.leadership`
  (one planning daemon among many).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler import lazy_api

if TYPE_CHECKING:
    from crawler.scale.jobqueue import POOL_MAX, pool_size, run_worker, submit
    from crawler.scale.leadership import Leadership
    from crawler.scale.processes import scan_command
    from crawler.scale.queuedb import QueueError, require_postgres
    from crawler.scale.status import (
        ScanStatus,
        estimate_finish,
        format_status,
        parse_duration,
        queued_scan,
        wait_for_scan,
    )

__all__ = [
    "POOL_MAX",
    "Leadership",
    "QueueError",
    "ScanStatus",
    "estimate_finish",
    "format_status",
    "parse_duration",
    "pool_size",
    "queued_scan",
    "require_postgres",
    "run_worker",
    "scan_command",
    "submit",
    "wait_for_scan",
]

__getattr__ = lazy_api(__name__, __file__)
