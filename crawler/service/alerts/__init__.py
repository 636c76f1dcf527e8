"""Alerts where officials are: the daemon's early warnings and new veto-level findings, sent to
a generic JSON webhook, 钉钉 (DingTalk) custom robots, 企业微信 (WeCom) group robots and e-mail.

* :mod:`~crawler.service.alerts.events`: the events (pure): :func:`warnings`, :func:`veto_events`;
* :mod:`~crawler.service.alerts.text`: the alert in Chinese for an official (Markdown, text, HTML);
* :mod:`~crawler.service.alerts.webhook`: the JSON document and its POST;
* :mod:`~crawler.service.alerts.robots`: 钉钉 (signed) and 企业微信 robots;
* :mod:`~crawler.service.alerts.mail`: e-mail over SMTP;
* :mod:`~crawler.service.alerts.delivery`: retries with back-off, secrets kept out of logs;
* :mod:`~crawler.service.alerts.channels`: the configured channels, their secrets read.
"""

from crawler.service.alerts.channels import Channel, resolve_channels
from crawler.service.alerts.delivery import AlertError, redact_url, scrub_url
from crawler.service.alerts.events import Event, veto_events, warnings
from crawler.service.alerts.webhook import Delivery, WebhookError, build_payload, send

__all__ = [
    "AlertError",
    "Channel",
    "Delivery",
    "Event",
    "WebhookError",
    "build_payload",
    "redact_url",
    "resolve_channels",
    "scrub_url",
    "send",
    "veto_events",
    "warnings",
]
