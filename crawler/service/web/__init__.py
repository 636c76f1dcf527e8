"""The web view: ``govmon serve [--db PATH] [--listen 127.0.0.1:8080] [--token-file FILE]``.

Pages (aiohttp + Jinja2, rendered with the HTML report's templates and macros):

* ``/``: the dashboard: the latest scan's 合格 / 不合格 / 未完成检查 counts, whether it is running
  (with its progress), was stopped or died, its sites (paged, filtered by unit, verdict and
  check, each with a line of its scores), and charts drawn on the server as SVG: scores across
  scans, availability per day from the probe's samples, problems per unit across quarters;
* ``/scans``: every scan, newest first;
* ``/scans/{id}``: one scan (``latest`` works too): verdicts (paged and filtered as on ``/``),
  counts per check, the per-unit attachment, a link per site;
* ``/scans/{id}/sites/{site}``: a site's findings with their evidence, filtered by ``check``,
  ``severity`` and ``column``, its score and availability charts, its ignored findings and its
  columns; with a login, a form on each finding marks it a false positive (and undoes it);
* ``/scans/{id}/compare/{other}``: new, persisting and resolved findings since scan ``other``;
* ``/scans/{id}/report.{html,xlsx,json,csv,md}``: the report of the scan as a file;
* ``/login`` and ``/logout``; ``POST /findings/{id}/ignore`` and ``…/unignore``;
* ``/healthz``: ``{"status": "ok", ...}`` when the store opens, 503 otherwise.

Reading never writes: each request opens the SQLite store read-only. It listens on loopback by
default; :func:`run_server` refuses any other address unless a token is given, and with a token
every request must carry it (see :mod:`crawler.service.web.auth`, which also says who may write).
Every string from a crawled site is escaped by the templates; unknown scans and sites get a 404
page, never a traceback.
"""

from crawler.net.serving import (
    MIN_REMOTE_TOKEN,
    ServeError,
    check_listen,
    is_loopback,
    token_matches,
)
from crawler.service.web.app import make_app
from crawler.service.web.serve import DEFAULT_LISTEN, parse_listen, run_server
from storage.sqlite import ReadOnlyStore

__all__ = [
    "DEFAULT_LISTEN",
    "MIN_REMOTE_TOKEN",
    "ReadOnlyStore",
    "ServeError",
    "check_listen",
    "is_loopback",
    "make_app",
    "parse_listen",
    "run_server",
    "token_matches",
]
