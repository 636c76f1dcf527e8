"""The crawl: frontier, scheduler, the scan engine and its parts (preflight, referrers, the check
runner, site tools), and how a scan begins and ends in the store.

The public API: :class:`Scan` runs one inspection into a store and returns a
:class:`ScanResult`; the caller chooses how it starts (:class:`FreshStart`, :class:`Resume` of an
interrupted scan, :class:`JoinQueued` for a site job of a shared scan). :func:`config_digest`
and :func:`scan_settings` describe a config as a stored scan keeps it.
"""

from crawler.core.engine import Scan
from crawler.core.scheduler import Clock, RealClock
from crawler.core.spill import SpillLimits
from crawler.core.start import FreshStart, JoinQueued, Resume, Start, config_digest, scan_settings
from crawler.core.state import ScanResult

__all__ = [
    "Clock",
    "FreshStart",
    "JoinQueued",
    "RealClock",
    "Resume",
    "Scan",
    "ScanResult",
    "SpillLimits",
    "Start",
    "config_digest",
    "scan_settings",
]
