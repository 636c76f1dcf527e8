"""The group robots offices read: 钉钉 (DingTalk) custom robots and 企业微信 (WeCom) group robots.

* :func:`send_dingtalk`: ``{"msgtype": "markdown", "markdown": {"title", "text"}}`` POSTed to
  the robot's URL (``https://oapi.dingtalk.com/robot/send?access_token=…``). With a signing
  secret (加签, ``SEC…``) each attempt adds ``timestamp`` (ms) and ``sign``: the URL-encoded
  base64 of HMAC-SHA256 over ``"{timestamp}\\n{secret}"`` keyed by the secret (:func:`sign`).
* :func:`send_wecom`: ``{"msgtype": "markdown", "markdown": {"content"}}`` POSTed to
  ``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…``; the content is at most 4096
  bytes (:data:`WECOM_LIMIT`), cut honestly by :func:`crawler.service.alerts.text.markdown`.

Both robots answer HTTP 200 with ``{"errcode": 0, "errmsg": "ok"}`` on success; any other
``errcode`` is a failure whose ``errmsg`` is logged, final except the robots' rate limits (20
messages a minute), which are retried. HTTP failures are retried as the webhook's are.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import aiohttp
import structlog
from yarl import URL

from crawler import __version__
from crawler.service.alerts.delivery import (
    DEFAULT_POLICY,
    Final,
    Policy,
    Retryable,
    post,
    redact_url,
    scrub_url,
    with_retries,
)

__all__ = ["DINGTALK_LIMIT", "WECOM_LIMIT", "send_dingtalk", "send_wecom", "sign", "signed_url"]

log = structlog.get_logger("govmon.alerts")

#: 企业微信: a markdown message's content, in bytes of UTF-8
WECOM_LIMIT = 4096
#: 钉钉: govmon keeps a markdown message's text under this many bytes
DINGTALK_LIMIT = 18000
# the robots' "too many messages" codes: worth waiting for (20 messages a minute)
_RATE_LIMITED = {"dingtalk": frozenset({130101}), "wecom": frozenset({45009})}
_HEADERS = {
    "Content-Type": "application/json; charset=utf-8",
    "User-Agent": f"govmon/{__version__} alerts",
}


def sign(secret: str, timestamp_ms: int) -> str:
    """钉钉's ``sign``: HMAC-SHA256 over ``"{timestamp}\\n{secret}"`` keyed by the secret,
    base64, URL-encoded (``+``, ``/`` and ``=`` percent-encoded)."""
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return quote(base64.b64encode(digest).decode("ascii"), safe="")


def signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """``url`` with ``timestamp`` and ``sign`` added to its query."""
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={sign(secret, timestamp_ms)}"


async def send_dingtalk(
    url: str,
    title: str,
    text: str,
    *,
    secret: str | None,
    session: aiohttp.ClientSession,
    policy: Policy = DEFAULT_POLICY,
    clock: Callable[[], float] = time.time,
) -> int:
    """Send one markdown message to a 钉钉 robot; the number of attempts it took.

    Each attempt is signed afresh (钉钉 refuses a timestamp more than an hour off) with the
    time of ``clock`` when ``secret`` is given. Raises :class:`AlertError`.
    """
    body = {"msgtype": "markdown", "markdown": {"title": title, "text": text}}

    def target() -> str:
        if secret is None:
            return url
        return signed_url(url, secret, int(clock() * 1000))

    return await _send("dingtalk", "dingtalk robot", url, target, body, (secret,), session, policy)


async def send_wecom(
    url: str,
    content: str,
    *,
    session: aiohttp.ClientSession,
    policy: Policy = DEFAULT_POLICY,
) -> int:
    """Send one markdown message to a 企业微信 group robot; the number of attempts it took.

    ``content`` over :data:`WECOM_LIMIT` bytes is refused here (the robot would refuse it):
    render it with that limit. Raises :class:`AlertError`.
    """
    size = len(content.encode("utf-8"))
    if size > WECOM_LIMIT:
        raise ValueError(f"a 企业微信 markdown message holds {WECOM_LIMIT} bytes, not {size}")
    body = {"msgtype": "markdown", "markdown": {"content": content}}
    return await _send("wecom", "wecom robot", url, lambda: url, body, (), session, policy)


async def _send(
    kind: str,
    label: str,
    url: str,
    target: Callable[[], str],
    payload: Mapping[str, Any],
    secrets: tuple[str | None, ...],
    session: aiohttp.ClientSession,
    policy: Policy,
) -> int:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    shown = redact_url(url)

    def scrub(text: str) -> str:
        return scrub_url(text, url, *(s for s in secrets if s))

    async def attempt() -> None:
        # the signature is already percent-encoded: the URL goes out as it is
        address = URL(target(), encoded=True)
        _, answer = await post(session, address, body, _HEADERS, policy.timeout)
        try:
            reply = json.loads(answer.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise Final(f"an answer that is not the robot's JSON: {answer[:80]!r}") from None
        code = reply.get("errcode") if isinstance(reply, dict) else None
        if code == 0:
            return
        message = str(reply.get("errmsg") if isinstance(reply, dict) else reply)[:300]
        if code in _RATE_LIMITED[kind]:
            raise Retryable(f"errcode {code}: {message}", retry_after=60.0)
        raise Final(f"errcode {code}: {message}")

    _, attempts = await with_retries(
        attempt,
        kind=kind,
        label=label,
        shown={"url": shown},
        scrub=scrub,
        policy=policy,
    )
    log.info(f"{kind}.sent", url=shown, attempts=attempts, bytes=len(body))
    return attempts
