"""What every page of the web view shares: the application's keys, rendering with the report's
templates, the store opened for one request, Chinese times, and the errors that become pages."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote

from aiohttp import web
from yarl import URL

from crawler.reports import environment
from crawler.reports.words import cn_time, zone_named
from storage.base import ScanInfo, Store, StoreError
from storage.open import is_server_url, open_store
from storage.sqlite import ReadOnlyStore

__all__ = [
    "CLOCK_KEY",
    "DB_KEY",
    "PG_KEY",
    "TOKEN_KEY",
    "NotFound",
    "Unavailable",
    "cn_duration",
    "cn_time",
    "href_for",
    "open_read_store",
    "render",
    "scan_or_404",
    "scan_zone",
    "site_path",
]

DB_KEY = web.AppKey("db_path", str)
PG_KEY = web.AppKey("pg_store", dict[str, Store])  # the PostgreSQL store, once opened
TOKEN_KEY = web.AppKey("token", str)  # absent: no token required, and no writes
Clock = Callable[[], float]
CLOCK_KEY: web.AppKey[Clock] = web.AppKey("clock")  # seconds since the epoch (tests: fake)
TOKEN_PARAM = "token"
# the token of the request being handled when it came in the query string: links carry it on
QUERY_TOKEN: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "govmon_query_token", default=None
)
# what the templates need to show write controls: the session's name and CSRF token, or None
SESSION: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "govmon_session", default=None
)


class NotFound(Exception):
    """A scan, site or page that does not exist: a 404 page saying which."""


class Unavailable(Exception):
    """The store cannot be opened: a 503 page."""


def href_for(request: web.Request) -> Callable[..., str]:
    """``href(path, **query)``: a link inside the view, carrying a query-string token along."""
    token = QUERY_TOKEN.get()

    def href(path: str, **query: Any) -> str:
        params: dict[str, Any] = {k: v for k, v in query.items() if v not in (None, "", [])}
        if token:
            params[TOKEN_PARAM] = token
        url = URL(path)
        return str(url.with_query(params)) if params else str(url)

    return href


def render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    """A page of the view from ``template`` (the report's Jinja2 environment, autoescaped)."""
    html = (
        environment()
        .get_template(template)
        .render(
            href=href_for(request),
            token=QUERY_TOKEN.get(),
            session=SESSION.get(),
            writable=TOKEN_KEY in request.app,
            here=request.path_qs,
            **context,
        )
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


@contextlib.asynccontextmanager
async def open_read_store(request: web.Request) -> AsyncIterator[Store]:
    """The store for one request: SQLite opened read-only per request; PostgreSQL through one
    read-only connection pool kept for the server's life (reopened after a failure)."""
    db = request.app[DB_KEY]
    if is_server_url(db):
        store = request.app[PG_KEY].get("store")
        try:
            if store is None:
                store = await open_store(db, read_only=True, create=False, pool_size=4)
                request.app[PG_KEY]["store"] = store
            yield store
        except StoreError as exc:
            request.app[PG_KEY].pop("store", None)
            if store is not None:
                with contextlib.suppress(Exception):
                    await store.close()
            raise Unavailable(str(exc)) from None
        return
    try:
        sqlite_store = await ReadOnlyStore.open(db, create=False, busy_timeout=5.0)
    except StoreError as exc:
        raise Unavailable(str(exc)) from None
    try:
        yield sqlite_store
    finally:
        await sqlite_store.close()


async def scan_or_404(store: Store, ref: str | int) -> ScanInfo:
    try:
        return await store.scan_info(ref)
    except StoreError:
        raise NotFound(f"没有第 {ref} 次检查 (no scan {ref} in the store)") from None


def site_path(scan_id: int, site: str) -> str:
    return f"/scans/{scan_id}/sites/{quote(site, safe='')}"


def scan_zone(info: ScanInfo | None) -> dt.tzinfo:
    """The time zone of the config a scan ran (``[schedule] timezone``), else 北京时间."""
    return zone_named((info.settings or {}).get("timezone") if info else None)


def cn_duration(seconds: float) -> str:
    """A duration in Chinese: ``2 小时 5 分``, ``3 分 10 秒``, ``40 秒``."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} 小时 {minutes} 分"
    if minutes:
        return f"{minutes} 分 {secs} 秒"
    return f"{secs} 秒"
