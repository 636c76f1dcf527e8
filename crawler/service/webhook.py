"""The old home of the webhook, kept so that ``crawler.service.webhook`` imports keep working:
everything now lives in :mod:`crawler.service.alerts` (the webhook beside 钉钉, 企业微信 and
e-mail)."""

from crawler.service.alerts.delivery import AlertError, redact_url, scrub_url
from crawler.service.alerts.events import Event, veto_events, warnings
from crawler.service.alerts.webhook import Delivery, WebhookError, build_payload, send

__all__ = [
    "AlertError",
    "Delivery",
    "Event",
    "WebhookError",
    "build_payload",
    "redact_url",
    "scrub_url",
    "send",
    "veto_events",
    "warnings",
]
