"""Marking a finding as a false positive (误报) from the page, and undoing it.

``POST /findings/{id}/ignore`` with a reason and ``POST /findings/{id}/unignore`` (with a reason
too), each from a logged-in session (:func:`crawler.service.web.auth.check_write`). The change
goes to the store's ignore list (:meth:`storage.base.Store.ignore`, whose record keeps the reason
with who made it and when) and to the log (``web.ignore``/``web.unignore`` with who, from where
and why). A finding ignored drops out of every verdict, count and list from then on.
"""

from __future__ import annotations

import structlog
from aiohttp import web

from crawler.service.web.auth import check_write, local_path
from crawler.service.web.common import DB_KEY
from storage.base import IgnoreError, StoreError
from storage.open import open_store

__all__ = ["add_ignoring", "ignore_reason"]

log = structlog.get_logger("govmon.web")
MAX_REASON = 200


def ignore_reason(reason: str, who: str) -> str:
    """The reason kept in the store's ignore record: the reason and who gave it."""
    return f"{reason}（{who}，网页标记）"


async def _change(request: web.Request, ignore: bool) -> web.StreamResponse:
    session = await check_write(request)
    form = await request.post()
    identity = request.match_info["finding"]
    reason = " ".join(str(form.get("reason", "")).split())[:MAX_REASON]
    target = local_path(str(form.get("next", "/")))
    if not reason:
        raise web.HTTPBadRequest(text="请填写理由：为什么这是误报（或为什么撤销）。")
    try:
        store = await open_store(request.app[DB_KEY], create=False)
    except StoreError as exc:
        raise web.HTTPServiceUnavailable(text=f"数据库不可用：{exc}") from None
    try:
        if ignore:
            await store.ignore(identity, ignore_reason(reason, session.name), by=session.name)
            changed = True
        else:
            changed = await store.unignore(identity, by=session.name, reason=reason)
    except IgnoreError as exc:  # ignored meanwhile with another reason: say so, change nothing
        raise web.HTTPConflict(text=f"没有改动：{exc}") from None
    except StoreError:
        raise web.HTTPNotFound(text=f"数据库中没有问题 {identity}。") from None
    finally:
        await store.close()
    # an audit line: at warning, so that govmon serve's default level (warning) writes it
    log.warning(
        "web.ignore" if ignore else "web.unignore",
        finding=identity,
        who=session.name,
        remote=request.remote,
        reason=reason,
        changed=changed,
    )
    raise web.HTTPSeeOther(target)


async def ignore_finding(request: web.Request) -> web.StreamResponse:
    return await _change(request, ignore=True)


async def unignore_finding(request: web.Request) -> web.StreamResponse:
    return await _change(request, ignore=False)


def add_ignoring(app: web.Application) -> None:
    app.router.add_post(r"/findings/{finding:[0-9a-f]{6,64}}/ignore", ignore_finding)
    app.router.add_post(r"/findings/{finding:[0-9a-f]{6,64}}/unignore", unignore_finding)
