"""The service: govmon running unattended, and what it shows and sends.

* :mod:`~crawler.service.daemon`: ``govmon daemon``: sampling, planned scans, warnings, leadership
  among several daemons on PostgreSQL;
* :mod:`~crawler.service.planner`: when to scan each site so that every scan ends in its window;
* :mod:`~crawler.service.probe`: availability samples of the home pages (``govmon probe``);
* :mod:`~crawler.service.metrics`: ``/healthz`` and Prometheus ``/metrics``;
* :mod:`~crawler.service.alerts`: early warnings and veto-level findings sent to a JSON webhook,
  钉钉 and 企业微信 robots and e-mail (:mod:`~crawler.service.webhook` is its old name);
* :mod:`~crawler.service.web`: ``govmon serve``, the web view of the store (read-only
  without a token).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler import lazy_api

if TYPE_CHECKING:
    from crawler.service.alerts import WebhookError, build_payload, send, veto_events, warnings
    from crawler.service.daemon import Daemon, run_daemon
    from crawler.service.metrics import Metrics, MetricsServer
    from crawler.service.planner import Plan, PlannedScan, SiteSize, plan_scans, site_sizes
    from crawler.service.probe import SystemClock, probe_round, run_rounds, run_sampling, sample
    from crawler.service.web import ServeError, run_server

__all__ = [
    "Daemon",
    "Metrics",
    "MetricsServer",
    "Plan",
    "PlannedScan",
    "ServeError",
    "SiteSize",
    "SystemClock",
    "WebhookError",
    "build_payload",
    "plan_scans",
    "probe_round",
    "run_daemon",
    "run_rounds",
    "run_sampling",
    "run_server",
    "sample",
    "send",
    "site_sizes",
    "veto_events",
    "warnings",
]

__getattr__ = lazy_api(__name__, __file__)
