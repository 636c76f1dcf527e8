"""The application: routes, and the middlewares every request passes (security headers, the
token or session, error pages)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from crawler.net.serving import ServeError, token_matches
from crawler.service.web.auth import add_login, session_of
from crawler.service.web.common import (
    CLOCK_KEY,
    DB_KEY,
    PG_KEY,
    QUERY_TOKEN,
    SESSION,
    TOKEN_KEY,
    TOKEN_PARAM,
    NotFound,
    Unavailable,
    render,
)
from crawler.service.web.ignoring import add_ignoring
from crawler.service.web.pages import add_pages

__all__ = ["make_app"]

log = logging.getLogger("govmon.web")

_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_OPEN_PATHS = ("/login",)  # reachable without the token: where one gives it

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def make_app(
    db_path: str, token: str | None, *, clock: Callable[[], float] = time.time
) -> web.Application:
    """The web view of the store at ``db_path``; with ``token``, every request must carry it
    (or a session opened with it), and logged-in sessions may mark false positives.
    ``clock`` (seconds since the epoch) dates sessions and a running scan's progress."""
    if token is not None and not token.strip():
        raise ServeError("the token is empty")
    app = web.Application(middlewares=[_security_headers, _require_token, _error_pages])
    app[DB_KEY] = str(db_path)
    app[PG_KEY] = {}
    app[CLOCK_KEY] = clock
    app.on_cleanup.append(_close_pg)
    if token is not None:
        app[TOKEN_KEY] = token
    add_pages(app)
    add_login(app)
    add_ignoring(app)
    return app


async def _close_pg(app: web.Application) -> None:
    store = app[PG_KEY].pop("store", None)
    if store is not None:
        await store.close()


@web.middleware
async def _security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # redirects
        for name, value in _SECURITY_HEADERS.items():
            exc.headers.setdefault(name, value)
        raise
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _given_token(request: web.Request) -> tuple[str | None, bool]:
    """The token a request carries and whether it came in the query string."""
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    query = request.query.get(TOKEN_PARAM)
    return (query, True) if query else (None, False)


@web.middleware
async def _require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
    expected = request.app.get(TOKEN_KEY)
    session = session_of(request)
    if expected is None or request.path in _OPEN_PATHS:
        return await handler(request)
    given, in_query = _given_token(request)
    if session is None and not token_matches(given, expected):
        response = render(
            request,
            "error.html",
            status=401,
            title="需要令牌",
            message=(
                "此页面需要访问令牌：请先登录（输入令牌），或在请求头加 Authorization: Bearer "
                "TOKEN，或在地址后加 ?token=TOKEN。"
            ),
            login=True,
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="govmon"'
        return response
    reset = QUERY_TOKEN.set(given if in_query and given else None)
    mine = SESSION.set({"name": session.name, "csrf": session.csrf} if session else None)
    try:
        return await handler(request)
    finally:
        QUERY_TOKEN.reset(reset)
        SESSION.reset(mine)


@web.middleware
async def _error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except NotFound as exc:
        return render(request, "error.html", status=404, title="未找到", message=str(exc))
    except Unavailable as exc:
        return render(request, "error.html", status=503, title="数据库不可用", message=str(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        titles = {400: "请求有误", 403: "不允许", 404: "未找到", 405: "不支持的请求方法"}
        message = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else ""
        response = render(request, "error.html", status=exc.status,
                          title=titles.get(exc.status, f"{exc.status} {exc.reason}"),
                          message=message)  # fmt: skip
        if exc.status == 405 and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("govmon serve: %s %s failed", request.method, request.path)
        with contextlib.suppress(Exception):
            return render(request, "error.html", status=500, title="内部错误",
                          message="处理请求时出错，详情见服务日志。")  # fmt: skip
        return web.Response(status=500, text="内部错误")
