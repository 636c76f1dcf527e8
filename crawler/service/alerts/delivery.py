"""What every alert channel shares: retries with back-off, one HTTP POST, secrets kept out.

* :func:`with_retries`: an attempt repeated (tenacity, exponential back-off, a ``Retry-After``
  honoured up to a cap) while it raises :class:`Retryable`; :class:`Final` stops at once. The
  wait goes through an injected ``sleep`` (tests pass one that records and does not wait).
  The outcome is logged as ``KIND.sent``, ``KIND.failed`` (retries spent) or ``KIND.refused``
  (a final answer), and a failure raised as :class:`AlertError`.
* :func:`post`: one POST with a time limit; 2xx returns the body, 408/425/429/5xx, a timeout or
  a network error is :class:`Retryable`, any other status :class:`Final`.
* :func:`redact_url` and :func:`scrub_url`: what logs and errors show of a URL whose query or
  path holds a robot's token.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)
from yarl import URL

__all__ = [
    "DEFAULT_POLICY",
    "AlertError",
    "Final",
    "Policy",
    "Retryable",
    "Sleep",
    "post",
    "redact_url",
    "scrub_url",
    "with_retries",
]

log = structlog.get_logger("govmon.alerts")

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

_RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
# a path segment that is a credential (飞书's hook id, Slack's secret): long, letters and digits
_TOKENISH = re.compile(r"(?=[^/]*[0-9])(?=[^/]*[A-Za-z])[A-Za-z0-9_.~%=-]{16,}")


class AlertError(Exception):
    """A channel did not take the alert (after the retries, or a final answer)."""

    def __init__(self, message: str, *, attempts: int, status: int | None = None) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.status = status


class Final(Exception):
    """An answer that another attempt would not change (a 4xx, a robot's error code)."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


class Retryable(Exception):
    """A failure worth another attempt (a 5xx, a timeout, a robot's rate limit)."""

    def __init__(
        self, reason: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Policy:
    """How hard a channel tries: ``timeout`` seconds for one attempt, ``retries`` more attempts
    after the first, waiting ``backoff``, ``2 * backoff`` ... (capped at ``max_backoff``)
    through ``sleep`` (tests pass one that records and does not wait)."""

    timeout: float = 10.0
    retries: int = 5
    backoff: float = 1.0
    max_backoff: float = 60.0
    sleep: Sleep = asyncio.sleep


DEFAULT_POLICY = Policy()


async def with_retries(
    attempt: Callable[[], Awaitable[T]],
    *,
    kind: str,
    label: str,
    shown: Mapping[str, str],
    scrub: Callable[[str], str] = str,
    policy: Policy = DEFAULT_POLICY,
) -> tuple[T, int]:
    """``attempt()``'s result and the number of attempts it took, up to ``retries + 1``.

    Waits as ``policy`` says between attempts (a ``Retry-After`` is honoured up to its
    ``max_backoff``). ``kind`` names the log events (``webhook.sent`` ...), ``label`` and
    ``shown`` (what the log may show of the target: ``{"url": redacted}``) the error;
    ``scrub`` cleans a reason of secrets.
    """
    backoff, max_backoff = policy.backoff, policy.max_backoff
    exponential = wait_exponential(multiplier=backoff, min=backoff, max=max_backoff)

    def wait(state: RetryCallState) -> float:
        base = float(exponential(state))
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, Retryable) and exc.retry_after is not None:
            return min(max(base, exc.retry_after), max_backoff)
        return base

    attempts = 0
    target = " ".join(shown.values())
    try:
        async for state in AsyncRetrying(
            stop=stop_after_attempt(policy.retries + 1),
            wait=wait,
            retry=retry_if_exception_type(Retryable),
            sleep=policy.sleep,
            reraise=True,
        ):
            with state:
                attempts += 1
                result = await attempt()
    except Retryable as exc:
        reason = scrub(str(exc))
        log.warning(f"{kind}.failed", **shown, attempts=attempts, reason=reason)
        raise AlertError(
            f"{label} {target}: {reason} (after {attempts} attempts)",
            attempts=attempts,
            status=exc.status,
        ) from None
    except Final as exc:
        reason = scrub(str(exc))
        log.warning(f"{kind}.refused", **shown, status=exc.status, reason=reason)
        raise AlertError(
            f"{label} {target}: {reason} (a final answer: not retried)",
            attempts=attempts,
            status=exc.status,
        ) from None
    return result, attempts


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return None  # an HTTP date: the exponential back-off is good enough


async def post(
    session: aiohttp.ClientSession,
    url: str | URL,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,  # noqa: ASYNC109 - one attempt's limit
) -> tuple[int, bytes]:
    """POST ``body`` once; the status and body of a 2xx answer."""
    try:
        async with (
            asyncio.timeout(timeout),
            session.post(url, data=body, headers=headers, allow_redirects=False) as resp,
        ):
            content = await resp.read()
            status = resp.status
            if 200 <= status < 300:
                return status, content
            if status in _RETRY_STATUSES:
                raise Retryable(
                    f"http {status}", status, _retry_after(resp.headers.get("Retry-After"))
                )
            raise Final(f"http {status}", status)
    except TimeoutError:
        raise Retryable(f"no answer within {timeout:g} s") from None
    except aiohttp.ClientError as exc:
        raise Retryable(f"{type(exc).__name__}: {exc}"[:200]) from None


def redact_url(url: str) -> str:
    """What logs and messages show of a webhook URL: scheme, host (and port) and path. The
    robots of 钉钉, 企业微信 and 飞书 carry their only credential in the query
    (``access_token=``, ``key=``) or the path's last segment; user info and query go, and so
    does any path segment that looks like a token (long, with digits and letters mixed)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return "(a webhook URL that does not parse)"
    if ":" in host:
        host = f"[{host}]"
    path = "/".join("***" if _TOKENISH.fullmatch(seg) else seg for seg in parts.path.split("/"))
    return f"{parts.scheme}://{host}{port}{path}"


def scrub_url(text: str, url: str, *extra: str) -> str:
    """``text`` (an error message) with ``url`` shown redacted, and without the URL's query
    values or user info anywhere in it (nor any of the ``extra`` secrets)."""
    text = text.replace(url, redact_url(url))
    secrets = list(extra)
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is not None:
        secrets += [value for _, value in parse_qsl(parts.query, keep_blank_values=True)]
        secrets += [parts.query, parts.password or "", parts.username or ""]
        secrets += [seg for seg in parts.path.split("/") if _TOKENISH.fullmatch(seg)]
    for secret in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
