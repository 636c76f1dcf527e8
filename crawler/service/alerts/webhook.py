"""The generic webhook: one JSON document of the events, POSTed with retries.

:func:`build_payload` makes the document and :func:`send` POSTs it, retrying (tenacity,
exponential back-off, ``Retry-After`` honoured up to a cap) on network errors, timeouts, 408,
429 and 5xx; any other 4xx is final. Every attempt carries the same body and the same
``X-Govmon-Delivery`` id, so a receiver can drop a repeat. ``[schedule] webhook`` and
``[[alerts]] kind = "webhook"`` both send it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog

from crawler import __version__
from crawler.service.alerts.delivery import (
    AlertError,
    Policy,
    Sleep,
    post,
    redact_url,
    scrub_url,
    with_retries,
)
from crawler.service.alerts.events import Event

__all__ = ["Delivery", "WebhookError", "build_payload", "send"]

log = structlog.get_logger("govmon.webhook")

#: the name the webhook's failures had before the other channels: every channel raises it
WebhookError = AlertError


def build_payload(
    events: Iterable[Event],
    *,
    as_of: dt.datetime | dt.date | None = None,
    config: str | None = None,
    sent_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The JSON document POSTed to the webhook."""
    items = list(events)
    return {
        "source": "govmon",
        "version": __version__,
        "sent_at": (sent_at or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        "as_of": as_of.isoformat() if as_of is not None else None,
        "config": config,
        "counts": {
            "veto": sum(1 for e in items if e.get("type") == "veto"),
            "early_warning": sum(1 for e in items if e.get("type") == "early_warning"),
        },
        "events": items,
    }


@dataclass(frozen=True, slots=True)
class Delivery:
    status: int
    attempts: int
    delivery_id: str


async def send(
    url: str,
    payload: Mapping[str, Any],
    *,
    session: aiohttp.ClientSession,
    timeout: float = 10.0,  # noqa: ASYNC109 - per attempt; the retries are the point
    retries: int = 5,
    backoff: float = 1.0,
    max_backoff: float = 60.0,
    sleep: Sleep = asyncio.sleep,
) -> Delivery:
    """POST ``payload`` as JSON to ``url``; retry up to ``retries`` more times.

    Waits ``backoff``, ``2 * backoff``, ``4 * backoff`` ... (capped at ``max_backoff``; a
    ``Retry-After`` in seconds is honoured up to the same cap) between attempts, through
    ``sleep`` (tests pass a recording one). Raises :class:`WebhookError` when the last attempt
    fails or the receiver answers a 4xx that is not worth repeating.
    """
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    delivery_id = hashlib.sha256(body).hexdigest()[:24]
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"govmon/{__version__} webhook",
        "X-Govmon-Delivery": delivery_id,
    }
    shown = redact_url(url)
    (status, _), attempts = await with_retries(
        lambda: post(session, url, body, headers, timeout),
        kind="webhook",
        label="webhook",
        shown={"url": shown},
        scrub=lambda text: scrub_url(text, url),
        policy=Policy(timeout, retries, backoff, max_backoff, sleep),
    )
    log.info("webhook.sent", url=shown, status=status, attempts=attempts, delivery=delivery_id)
    return Delivery(status=status, attempts=attempts, delivery_id=delivery_id)
