"""Who may read and who may write.

Without a token (``govmon serve`` on loopback) the view is read-only: it shows no write controls
and refuses every change (403). With a token, every request must carry it: ``Authorization:
Bearer TOKEN``, ``?token=TOKEN``, or the session cookie that ``/login`` gives for it. Only a
session may write (mark a finding as a false positive, undo it), and each change must come
from a form of this view: it carries the session's own CSRF token (compared in constant time),
the request comes from this server's own pages (``Origin``, ``Sec-Fetch-Site``, ``Referer``),
and the cookie is ``HttpOnly; SameSite=Strict``. The name given at login is the *who* of
every change logged.

Sessions live in the server's memory (a restart logs everyone out), for :data:`SESSION_HOURS`
hours, at most :data:`MAX_SESSIONS` at once (the oldest go first).
"""

from __future__ import annotations

import hmac
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from crawler.net.serving import token_matches
from crawler.service.web.common import CLOCK_KEY, TOKEN_KEY, render

__all__ = ["COOKIE", "SESSIONS_KEY", "Session", "Sessions", "add_login", "check_write",
           "session_of"]  # fmt: skip

COOKIE = "govmon_session"
SESSION_HOURS = 12
MAX_SESSIONS = 256
MAX_NAME = 40


@dataclass(slots=True)
class Session:
    name: str
    csrf: str
    created: float
    remote: str


class Sessions:
    """The logged-in sessions: id -> :class:`Session`, expiring by the app's clock."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._by_id: OrderedDict[str, Session] = OrderedDict()

    def open(self, name: str, remote: str) -> tuple[str, Session]:
        sid = secrets.token_urlsafe(32)
        session = Session(name, secrets.token_urlsafe(32), self._clock(), remote)
        self._by_id[sid] = session
        while len(self._by_id) > MAX_SESSIONS:
            self._by_id.popitem(last=False)
        return sid, session

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        session = self._by_id.get(sid)
        if session is not None and self._clock() - session.created > SESSION_HOURS * 3600:
            del self._by_id[sid]
            return None
        return session

    def close(self, sid: str | None) -> None:
        if sid:
            self._by_id.pop(sid, None)


SESSIONS_KEY = web.AppKey("sessions", Sessions)


def session_of(request: web.Request) -> Session | None:
    """The request's session, when the view has a token and the cookie names a live session."""
    if TOKEN_KEY not in request.app:
        return None
    return request.app[SESSIONS_KEY].get(request.cookies.get(COOKIE))


def _same_origin(request: web.Request) -> bool:
    """Whether the request comes from a page of this server: its ``Origin`` names this host and
    port; or, where the browser hides the origin (``Origin: null`` under the pages'
    ``no-referrer`` policy), it says ``Sec-Fetch-Site: same-origin`` (a header no other site's
    page can set); or, lacking both, its ``Referer`` names this host and port."""
    origin = request.headers.get("Origin")
    if origin in (None, "null") and request.headers.get("Sec-Fetch-Site") == "same-origin":
        return True
    source = origin if origin not in (None, "null") else request.headers.get("Referer")
    if not source:
        return False
    parts = urlsplit(source)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == request.host.lower()


async def check_write(request: web.Request) -> Session:
    """The session allowed to make the change ``request`` asks for; raises 403 otherwise."""
    if TOKEN_KEY not in request.app:
        raise web.HTTPForbidden(
            text="只读：govmon serve 没有设置令牌，不能在网页上修改（启动时加 --token-file）。"
        )
    session = session_of(request)
    if session is None:
        raise web.HTTPForbidden(text="请先登录（输入令牌和您的姓名）再修改。")
    form = await request.post()
    given = str(form.get("csrf", ""))
    if not hmac.compare_digest(given.encode(), session.csrf.encode()):
        raise web.HTTPForbidden(text="表单已失效（CSRF 校验未通过）：请刷新页面后再提交。")
    if not _same_origin(request):
        raise web.HTTPForbidden(text="请求不是从本页面发出的（来源校验未通过）。")
    return session


def local_path(value: str | None) -> str:
    """``value`` if it is a path on this server (``/…``, not ``//host``), else ``/``."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


async def login_form(request: web.Request) -> web.Response:
    return render(
        request, "login.html", next=local_path(request.query.get("next")), error=None,
        name="",
    )  # fmt: skip


async def login(request: web.Request) -> web.StreamResponse:
    """``POST /login``: the token and a name; a session cookie, then back to ``next``."""
    form = await request.post()
    target = local_path(str(form.get("next", "/")))
    name = str(form.get("name", "")).strip()[:MAX_NAME]
    expected = request.app.get(TOKEN_KEY)
    if expected is None:
        raise web.HTTPForbidden(text="只读：govmon serve 没有设置令牌，无需登录，也不能修改。")
    if not _same_origin(request):
        raise web.HTTPForbidden(text="请求不是从本页面发出的（来源校验未通过）。")
    error = None
    if not token_matches(str(form.get("token", "")), expected):
        error = "令牌不正确。"
    elif not name:
        error = "请填写您的姓名：每次修改都会记下是谁、为什么。"
    if error:
        return render(request, "login.html", status=403, next=target, error=error, name=name)
    sid, _ = request.app[SESSIONS_KEY].open(name, request.remote or "")
    response = web.HTTPSeeOther(target)
    response.set_cookie(COOKIE, sid, httponly=True, samesite="Strict", path="/",
                        max_age=SESSION_HOURS * 3600, secure=request.secure)  # fmt: skip
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    await check_write(request)
    request.app[SESSIONS_KEY].close(request.cookies.get(COOKIE))
    response = web.HTTPSeeOther("/")
    response.del_cookie(COOKIE, path="/")
    raise response


def add_login(app: web.Application) -> None:
    app[SESSIONS_KEY] = Sessions(app[CLOCK_KEY])
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
