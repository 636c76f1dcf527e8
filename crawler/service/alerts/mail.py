"""E-mail alerts through an SMTP server (the standard library's smtplib, in a thread).

:func:`build_email` makes the message: a Chinese subject (RFC 2047 encoded by the standard
library's e-mail policy), a plain-text UTF-8 body and, when asked, an HTML alternative.
:func:`send_email` delivers it to every recipient over STARTTLS (the default), implicit TLS
(``ssl``) or a plain connection (``none``, never with a password), logging in when a user is
configured; retried like the other channels on network errors, timeouts and the server's 4xx
answers (try again later), final on its 5xx answers (a wrong password, a refused address) and
on a certificate that does not verify. Recipients the server refused while it took the others
are logged (``email.refused_recipients``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

import structlog

from crawler import __version__
from crawler.service.alerts.delivery import (
    DEFAULT_POLICY,
    Final,
    Policy,
    Retryable,
    with_retries,
)

__all__ = ["SmtpServer", "build_email", "send_email"]

log = structlog.get_logger("govmon.alerts")


class SmtpServer:
    """Where and how to connect: ``security`` is ``starttls``, ``ssl`` or ``none``; ``tls`` the
    context that verifies the server (default: the system's CAs)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: str = "starttls",
        user: str | None = None,
        password: str | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        if security not in ("starttls", "ssl", "none"):
            raise ValueError(f"security must be starttls, ssl or none, not {security!r}")
        if password is not None and security == "none":
            raise ValueError("a password is never sent over a plain connection")
        self.host, self.port, self.security = host, port, security
        self.user, self.password = user, password
        self.tls = tls

    def __repr__(self) -> str:  # never the password
        return f"SmtpServer({self.host}:{self.port}, {self.security}, user={self.user!r})"

    @property
    def shown(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"smtp://{host}:{self.port}"


def build_email(
    *,
    sender: str,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    now: dt.datetime | None = None,
) -> EmailMessage:
    """The message: ``subject`` and ``text`` in UTF-8, ``html`` as an alternative part."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = format_datetime(now or dt.datetime.now(dt.UTC).astimezone())
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    msg["Message-ID"] = make_msgid("govmon", domain=domain)
    msg["X-Mailer"] = f"govmon/{__version__}"
    msg.set_content(text, charset="utf-8")
    if html is not None:
        msg.add_alternative(html, subtype="html", charset="utf-8")
    return msg


async def send_email(
    server: SmtpServer,
    message: EmailMessage,
    *,
    sender: str,
    to: Sequence[str],
    policy: Policy = DEFAULT_POLICY,
) -> int:
    """Deliver ``message`` to ``to`` from ``sender`` (the envelope); the attempts it took.
    Raises :class:`~crawler.service.alerts.delivery.AlertError`."""
    envelope_from = parseaddr(sender)[1]
    recipients = list(to)

    async def attempt() -> dict[str, tuple[int, bytes]]:
        return await asyncio.to_thread(
            _deliver, server, message, envelope_from, recipients, policy.timeout
        )

    refused, attempts = await with_retries(
        attempt,
        kind="email",
        label="smtp",
        shown={"server": server.shown},
        scrub=lambda text: _scrub(text, server),
        policy=policy,
    )
    if refused:
        log.warning(
            "email.refused_recipients",
            server=server.shown,
            refused={addr: code for addr, (code, _) in refused.items()},
        )
    log.info(
        "email.sent",
        server=server.shown,
        recipients=len(recipients) - len(refused),
        attempts=attempts,
    )
    return attempts


def _scrub(text: str, server: SmtpServer) -> str:
    password = server.password
    return text.replace(password, "***") if password and len(password) >= 4 else text


def _deliver(
    server: SmtpServer,
    message: EmailMessage,
    sender: str,
    to: list[str],
    timeout: float,  # blocking, in a thread: each network operation's limit
) -> dict[str, tuple[int, bytes]]:
    """One attempt, blocking: connect, secure, log in, send; the recipients refused."""
    tls = server.tls or ssl.create_default_context()
    try:
        smtp: smtplib.SMTP
        if server.security == "ssl":
            smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=tls)
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=timeout)
        with smtp:
            if server.security == "starttls":
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    raise Final('the server does not offer STARTTLS (security = "starttls")')
                smtp.starttls(context=tls)
                smtp.ehlo()
            if server.user is not None and server.password is not None:
                smtp.login(server.user, server.password)
            return smtp.send_message(message, from_addr=sender, to_addrs=to)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        reason = "every recipient refused: " + ", ".join(
            f"{addr} ({code})" for addr, (code, _) in exc.recipients.items()
        )
        if all(400 <= code < 500 for code in codes):
            raise Retryable(reason) from None
        raise Final(reason) from None
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)  # fmt: skip
        reason = f"{type(exc).__name__} {exc.smtp_code}: {text}"[:300]
        if 400 <= exc.smtp_code < 500:
            raise Retryable(reason, exc.smtp_code) from None
        raise Final(reason, exc.smtp_code) from None
    except ssl.SSLCertVerificationError as exc:
        raise Final(f"the server's certificate does not verify: {exc.verify_message}") from None
    except (smtplib.SMTPException, OSError) as exc:  # disconnected, refused, timed out, TLS
        raise Retryable(f"{type(exc).__name__}: {exc}"[:300]) from None
