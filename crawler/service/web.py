"""The read-only web view: ``govmon serve [--db PATH] [--listen 127.0.0.1:8080]``.

Pages (aiohttp + Jinja2, rendered with the HTML report's templates and macros):

* ``/``: the scans in the store, newest first;
* ``/scans/{id}``: one scan (``latest`` works too): verdicts, counts per check, the per-unit
  attachment, a link per site;
* ``/scans/{id}/sites/{site}``: a site's findings with their evidence, filtered by ``check``
  (a code such as ``link.broken`` or a family such as ``link``), ``severity`` and ``column``
  (each may repeat: any of the values matches), its ignored findings and its columns;
* ``/scans/{id}/compare/{other}``: new, persisting and resolved findings since scan ``other``;
* ``/scans/{id}/report.{html,xlsx,json,csv,md}``: the report of the scan as a file;
* ``/healthz``: ``{"status": "ok", ...}`` when the store opens, 503 otherwise.

It never writes: each request opens the SQLite store read-only (``mode=ro``, ``query_only``) and
closes it. It listens on loopback by default; :func:`run_server` refuses any other address
unless a token is given, and with a token every request must carry ``Authorization: Bearer
TOKEN`` or ``?token=TOKEN`` (compared in constant time). Every string from a crawled site is
escaped by the templates; unknown scans and sites get a 404 page, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import quote

from aiohttp import web
from yarl import URL

from crawler.net.serving import (
    MIN_REMOTE_TOKEN,
    ServeError,
    check_listen,
    is_loopback,
    token_matches,
)
from crawler.reports import (
    FindingEntry,
    ReportError,
    build_report,
    environment,
    render,
    report_context,
)
from storage.base import ScanInfo, Store, StoreError
from storage.open import is_server_url, open_store
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

log = logging.getLogger("govmon.web")

DEFAULT_LISTEN = "127.0.0.1:8080"
DB_KEY = web.AppKey("db_path", str)
PG_KEY = web.AppKey("pg_store", dict[str, Store])  # the PostgreSQL store, once opened
TOKEN_KEY = web.AppKey("token", str)  # absent: no token required
_TOKEN_PARAM = "token"
# the token of the request being handled when it came in the query string: links carry it on
_QUERY_TOKEN: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "govmon_query_token", default=None
)
_REPORT_TYPES = {
    "html": "text/html",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "csv": "text/csv",
    "md": "text/markdown",
}
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _NotFound(Exception):
    """A scan, site or page that does not exist: a 404 page saying which."""


class _Unavailable(Exception):
    """The store cannot be opened: a 503 page."""


# -- the application ----------------------------------------------------------------------


def make_app(db_path: str, token: str | None) -> web.Application:
    """The web view of the store at ``db_path``; with ``token``, every request must carry it."""
    if token is not None and not token.strip():
        raise ServeError("the token is empty")
    app = web.Application(middlewares=[_security_headers, _require_token, _error_pages])
    app[DB_KEY] = str(db_path)
    app[PG_KEY] = {}
    app.on_cleanup.append(_close_pg)
    if token is not None:
        app[TOKEN_KEY] = token
    app.router.add_get("/", _scans_page)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get(r"/scans/{scan:\d+|latest}", _scan_page)
    app.router.add_get(r"/scans/{scan:\d+|latest}/sites/{site}", _site_page)
    app.router.add_get(r"/scans/{scan:\d+|latest}/compare/{other:\d+|latest}", _compare_page)
    app.router.add_get(r"/scans/{scan:\d+|latest}/report.{fmt:html|xlsx|json|csv|md}", _report)
    return app


@web.middleware
async def _security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _given_token(request: web.Request) -> tuple[str | None, bool]:
    """The token a request carries and whether it came in the query string."""
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    query = request.query.get(_TOKEN_PARAM)
    return (query, True) if query else (None, False)


@web.middleware
async def _require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
    expected = request.app.get(TOKEN_KEY)
    if expected is None:
        return await handler(request)
    given, in_query = _given_token(request)
    if not token_matches(given, expected):
        response = _render(
            request,
            "error.html",
            status=401,
            title="需要令牌 token required",
            message=(
                "此页面需要访问令牌：请求头 Authorization: Bearer TOKEN，或地址参数 ?token=TOKEN。"
            ),
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="govmon"'
        return response
    reset = _QUERY_TOKEN.set(given if in_query else None)
    try:
        return await handler(request)
    finally:
        _QUERY_TOKEN.reset(reset)


@web.middleware
async def _error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except _NotFound as exc:
        return _render(
            request, "error.html", status=404, title="未找到 not found", message=str(exc)
        )
    except _Unavailable as exc:
        return _render(
            request, "error.html", status=503, title="数据库不可用 store unavailable",
            message=str(exc),
        )  # fmt: skip
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        title = "未找到 not found" if exc.status == 404 else f"{exc.status} {exc.reason}"
        response = _render(request, "error.html", status=exc.status, title=title, message="")
        if exc.status == 405 and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("govmon serve: %s %s failed", request.method, request.path)
        return _render(
            request, "error.html", status=500, title="内部错误 internal error",
            message="处理请求时出错，详情见服务日志。",
        )  # fmt: skip


def _href_for(request: web.Request) -> Callable[..., str]:
    """``href(path, **query)``: a link inside the view, carrying a query-string token along."""
    token = _QUERY_TOKEN.get()

    def href(path: str, **query: Any) -> str:
        params: dict[str, Any] = {k: v for k, v in query.items() if v not in (None, "", [])}
        if token:
            params[_TOKEN_PARAM] = token
        url = URL(path)
        return str(url.with_query(params)) if params else str(url)

    return href


def _render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    html = (
        environment()
        .get_template(template)
        .render(href=_href_for(request), token=_QUERY_TOKEN.get(), **context)
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


@contextlib.asynccontextmanager
async def _open_store(request: web.Request) -> AsyncIterator[Store]:
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
            raise _Unavailable(str(exc)) from None
        return
    try:
        sqlite_store = await ReadOnlyStore.open(db, create=False, busy_timeout=5.0)
    except StoreError as exc:
        raise _Unavailable(str(exc)) from None
    try:
        yield sqlite_store
    finally:
        await sqlite_store.close()


async def _close_pg(app: web.Application) -> None:
    store = app[PG_KEY].pop("store", None)
    if store is not None:
        await store.close()


async def _scan(store: Store, ref: str) -> ScanInfo:
    try:
        return await store.scan_info(ref)
    except StoreError:
        raise _NotFound(f"没有第 {ref} 次检查 (no scan {ref} in the store)") from None


def _site_path(scan_id: int, site: str) -> str:
    return f"/scans/{scan_id}/sites/{quote(site, safe='')}"


# -- pages --------------------------------------------------------------------------------


async def _healthz(request: web.Request) -> web.Response:
    try:
        async with _open_store(request) as store:
            try:
                latest: int | None = (await store.scan_info("latest")).id
            except StoreError:
                latest = None
    except _Unavailable as exc:
        return web.json_response({"status": "error", "error": str(exc)}, status=503)
    return web.json_response({"status": "ok", "latest_scan": latest})


async def _scans_page(request: web.Request) -> web.Response:
    async with _open_store(request) as store:
        scans = await store.scans()
    rows = [
        {"scan": s, "previous": scans[i + 1].id if i + 1 < len(scans) else None}
        for i, s in enumerate(scans)
    ]
    return _render(request, "scans.html", rows=rows)


async def _scan_page(request: web.Request) -> web.Response:
    async with _open_store(request) as store:
        info = await _scan(store, request.match_info["scan"])
        report = await build_report(store, info.id)
        # a scan is compared with earlier ones only (a later one is refused: 400)
        others = [s for s in await store.scans() if s.id < info.id]
    scan_id = info.id
    return _render(
        request,
        "scan.html",
        others=others,
        site_href=lambda site: _href_for(request)(_site_path(scan_id, site)),
        **report_context(report),
    )


def _matches(
    finding: FindingEntry, checks: list[str], severities: list[str], columns: list[str]
) -> bool:
    code = str(finding["check"])
    if checks and not any(code == c or code.startswith(c + ".") for c in checks):
        return False
    if severities and str(finding["severity"]) not in severities:
        return False
    return not columns or (finding["column"] or "") in columns


def _wanted(request: web.Request, name: str) -> list[str]:
    return [v for v in request.query.getall(name, []) if v]


async def _site_page(request: web.Request) -> web.Response:
    site_id = request.match_info["site"]
    async with _open_store(request) as store:
        info = await _scan(store, request.match_info["scan"])
        report = await build_report(store, info.id)
    site = next((s for s in report["sites"] if s["id"] == site_id), None)
    if site is None:
        raise _NotFound(f"第 {info.id} 次检查没有网站 {site_id!r} (no such site in scan {info.id})")
    mine = [f for f in report["findings"] if f["site"] == site_id]
    checks, severities, columns = (_wanted(request, k) for k in ("check", "severity", "column"))
    shown = [f for f in mine if _matches(f, checks, severities, columns)]
    context = report_context(report)
    return _render(
        request,
        "site.html",
        site=site,
        findings=shown,
        total=len(mine),
        ignored=[f for f in report["ignored"] if f["site"] == site_id],
        columns=[c for c in report["columns"] if c["site"] == site_id],
        options={
            "check": sorted({str(f["check"]) for f in mine} | set(checks)),
            "severity": [
                s
                for s in ("veto", "deduction", "warning", "info")
                if any(f["severity"] == s for f in mine)
            ],
            "column": sorted({str(f["column"]) for f in mine if f["column"]} | set(columns)),
        },
        selected={"check": checks, "severity": severities, "column": columns},
        path=_site_path(info.id, site_id),
        site_names=context["site_names"],
        scan=context["scan"],
    )


async def _compare_page(request: web.Request) -> web.Response:
    async with _open_store(request) as store:
        info = await _scan(store, request.match_info["scan"])
        other = await _scan(store, request.match_info["other"])
        try:
            report = await build_report(store, info.id, compare=other.id)
        except ReportError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
    scan_id = info.id
    return _render(
        request,
        "compare.html",
        site_href=lambda site: _href_for(request)(_site_path(scan_id, site)),
        **report_context(report),
    )


async def _report(request: web.Request) -> web.Response:
    fmt = request.match_info["fmt"]
    async with _open_store(request) as store:
        info = await _scan(store, request.match_info["scan"])
        report = await build_report(store, info.id)
    body = render(report, fmt)
    data = body.encode("utf-8") if isinstance(body, str) else body
    response = web.Response(body=data, content_type=_REPORT_TYPES[fmt])
    if fmt in ("html", "json", "csv", "md"):
        response.charset = "utf-8"
    if fmt != "html":
        response.headers["Content-Disposition"] = (
            f'attachment; filename="govmon-scan-{info.id}.{fmt}"'
        )
    return response


# -- serving ------------------------------------------------------------------------------


def parse_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[V6]:PORT`` or a bare ``PORT`` (on 127.0.0.1); ``:PORT`` is every
    interface."""
    text = listen.strip()
    if text.isdigit():
        host, port_text = "127.0.0.1", text
    elif text.startswith("["):
        end = text.find("]")
        if end < 0 or text[end + 1 : end + 2] != ":":
            raise ServeError(f"--listen {listen!r}: expected [ADDRESS]:PORT")
        host, port_text = text[1:end], text[end + 2 :]
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep or ":" in host:
            raise ServeError(f"--listen {listen!r}: expected HOST:PORT (IPv6 as [ADDRESS]:PORT)")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ServeError(f"--listen {listen!r}: the port must be a number from 0 to 65535")
    return host, int(port_text)


async def run_server(db_path: str, listen: str, token: str | None) -> None:
    """Serve the web view of ``db_path`` on ``listen`` until cancelled.

    Raises :class:`ServeError` before binding anything when ``listen`` is malformed, names a
    non-loopback address without a token (or with one shorter than 16 characters), or the store
    does not open.
    """
    host, port = parse_listen(listen)
    await check_listen(host, token, "the web view")
    try:
        store = await ReadOnlyStore.open(db_path, create=False, busy_timeout=5.0)
    except StoreError as exc:
        raise ServeError(str(exc)) from None
    await store.close()
    # no access log: a query-string token would be written to it
    runner = web.AppRunner(make_app(db_path, token), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host or None, port)
        try:
            await site.start()
        except OSError as exc:
            raise ServeError(f"--listen {listen}: cannot bind: {exc}") from None
        for address in runner.addresses:
            shown = f"[{address[0]}]" if ":" in str(address[0]) else str(address[0])
            print(f"govmon serve: http://{shown}:{address[1]}/ (store {db_path}, read-only)",
                  flush=True)  # fmt: skip
        if not await is_loopback(host):
            print(
                "govmon serve: not on loopback: plain HTTP, the token travels in clear text;"
                " put a TLS proxy in front",
                flush=True,
            )
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
