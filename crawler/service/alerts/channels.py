"""The configured channels, their secrets read, and one round of alerts sent to each.

:func:`resolve_channels` reads every secret when the daemon starts (``[schedule] webhook`` is a
channel too, as it always was): a variable that is not set, a file that cannot be read, a robot
URL without its ``access_token=`` / ``key=`` or a 钉钉 secret that is not ``SEC…`` is a
:class:`~crawler.config.ConfigError` naming the file and the key, before anything is sampled.
:meth:`Channel.send` sends one round: the webhook its JSON document, the robots Markdown and
e-mail text in Chinese (:mod:`crawler.service.alerts.text`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import aiohttp

from crawler.config import Config
from crawler.config.alerts import read_secret
from crawler.config.model import (
    AlertChannel,
    DingTalkAlert,
    EmailAlert,
    SecretRef,
    WebhookAlert,
    WeComAlert,
)
from crawler.reports import Report
from crawler.service.alerts.delivery import Policy, Sleep, redact_url
from crawler.service.alerts.events import Event
from crawler.service.alerts.mail import SmtpServer, build_email, send_email
from crawler.service.alerts.robots import DINGTALK_LIMIT, WECOM_LIMIT, send_dingtalk, send_wecom
from crawler.service.alerts.text import compose, html_page, markdown, plain
from crawler.service.alerts.webhook import build_payload, send

__all__ = ["Channel", "resolve_channels"]


@dataclass(frozen=True, slots=True)
class Channel:
    """A channel ready to send: its settings and its secrets, read (``repr`` shows neither)."""

    settings: AlertChannel
    url: str | None = None  # the webhook's or the robot's URL (it may hold a token)
    secret: str | None = None  # 钉钉's signing secret
    smtp: SmtpServer | None = None

    def __repr__(self) -> str:
        return f"Channel({self.kind} {self.name!r} → {self.shown})"

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def kind(self) -> str:
        return self.settings.kind

    @property
    def shown(self) -> str:
        """What logs show of where it goes: never a token, a key or a password."""
        if self.smtp is not None:
            return self.smtp.shown
        return redact_url(self.url or "")

    async def send(
        self,
        report: Report,
        events: Sequence[Event],
        *,
        tz: dt.tzinfo,
        config_path: str | None,
        session: aiohttp.ClientSession,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> int:
        """Send the round's ``events`` of the scan ``report`` describes; the attempts it
        took. Raises :class:`~crawler.service.alerts.delivery.AlertError`."""
        s = self.settings
        policy = Policy(s.timeout, s.retries, sleep=sleep)
        if isinstance(s, WebhookAlert):
            assert self.url is not None
            as_of = dt.datetime.fromisoformat(report["scan"]["as_of"])
            payload = build_payload(events, as_of=as_of, config=config_path)
            delivery = await send(
                self.url, payload, session=session, timeout=s.timeout, retries=s.retries,
                sleep=sleep,
            )  # fmt: skip
            return delivery.attempts
        message = compose(report, events, tz, report_url=s.report_url)
        if isinstance(s, DingTalkAlert):
            assert self.url is not None
            return await send_dingtalk(
                self.url,
                message.heading,
                markdown(message, DINGTALK_LIMIT),
                secret=self.secret,
                session=session,
                policy=policy,
                clock=clock,
            )
        if isinstance(s, WeComAlert):
            assert self.url is not None
            content = markdown(message, WECOM_LIMIT)
            return await send_wecom(self.url, content, session=session, policy=policy)
        assert self.smtp is not None
        email = build_email(
            sender=s.sender,
            to=s.to,
            subject=message.subject,
            text=plain(message),
            html=html_page(message) if s.html else None,
            now=dt.datetime.fromtimestamp(clock(), tz),
        )
        return await send_email(self.smtp, email, sender=s.sender, to=s.to, policy=policy)


def resolve_channels(config: Config) -> list[Channel]:
    """Every channel of ``config``, its secrets read now (a :class:`ConfigError` if not)."""
    out: list[Channel] = []
    schedule = config.schedule
    if schedule.webhook:
        legacy = WebhookAlert(
            key="schedule.webhook",
            name="webhook",
            url=schedule.webhook,
            timeout=schedule.webhook_timeout,
            retries=schedule.webhook_retries,
        )
        out.append(Channel(legacy, url=schedule.webhook))
    for settings in config.alerts:
        out.append(_resolve(settings, config.path))
    return out


def _resolve(s: AlertChannel, path: str) -> Channel:
    if isinstance(s, EmailAlert):
        password = read_secret(s.password, path) if s.password is not None else None
        server = SmtpServer(s.host, s.port, security=s.security, user=s.user, password=password)
        return Channel(s, smtp=server)
    if isinstance(s, WebhookAlert):
        url = s.url or _url(s.url_secret, path, None)
        return Channel(s, url=url)
    if isinstance(s, WeComAlert):
        return Channel(s, url=_url(s.url_secret, path, "key"))
    url = _url(s.url_secret, path, "access_token")
    secret = None
    if s.secret is not None:
        secret = read_secret(s.secret, path, check=_dingtalk_secret)
    return Channel(s, url=url, secret=secret)


def _url(ref: SecretRef | None, path: str, credential: str | None) -> str:
    assert ref is not None  # the config requires url, url_env or url_file

    def check(value: str) -> str | None:
        if not value.isascii() or any(c.isspace() for c in value):
            return "the URL must be one line of ASCII (as the robot's settings show it)"
        try:
            parts = urlsplit(value)
        except ValueError:
            return "does not hold a URL"
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "does not hold an http(s) URL"
        if credential is not None:
            query = dict(parse_qsl(parts.query))
            if not query.get(credential):
                return (
                    f"the robot's URL has no {credential}=…: copy the whole Webhook address"
                    " from the robot's settings"
                )
        return None

    return read_secret(ref, path, check=check)


def _dingtalk_secret(value: str) -> str | None:
    if not value.startswith("SEC"):
        return (
            "钉钉's signing secret (加签) starts with SEC; this value does not (is it the"
            " access token?)"
        )
    return None
