"""Fakes of the places alerts go, for tests: a 钉钉 robot and a 企业微信 robot (aiohttp on
127.0.0.1) that check the payload and, for 钉钉, recompute the signature; an SMTP server
(aiosmtpd on 127.0.0.1) that keeps what it received; a scan's report to alert about.

The robots answer as the real ones do: HTTP 200 and ``{"errcode": 0, "errmsg": "ok"}``, or an
error code with its message. Their checks are written here from the robots' documentation,
not with govmon's code: a signature govmon computes wrongly fails here.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import re
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast
from urllib.parse import parse_qs

from aiohttp import web
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from crawler.reports import Report

__all__ = [
    "Mail",
    "Mailbox",
    "Robot",
    "Sleeps",
    "report",
    "running",
    "smtp_server",
    "stale_home",
]


class Sleeps:
    """The injected back-off: records each wait, waits for nothing."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(round(delay, 6))
        await asyncio.sleep(0)


@contextlib.asynccontextmanager
async def running(app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 in this event loop; its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


# ---------------------------------------------------------------------------------------------
# the robots


@dataclass
class Hit:
    query: str  # raw, as sent
    body: dict[str, Any]
    answer: dict[str, Any] | int


@dataclass
class Robot:
    """A 钉钉 (``kind="dingtalk"``) or 企业微信 (``"wecom"``) robot.

    ``token`` is the URL's ``access_token`` / ``key``; ``secret`` the 钉钉 signing secret the
    robot was set up with (then every request must be signed with it, within an hour of
    ``now_ms()``); ``script`` the answers after the checks pass (an HTTP status, or a JSON
    reply), then ``{"errcode": 0}``.
    """

    kind: str
    token: str
    secret: str | None = None
    now_ms: Callable[[], int] = lambda: 0
    script: list[dict[str, Any] | int] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    timestamps: list[int] = field(default_factory=list)

    @property
    def path(self) -> str:
        return "/robot/send" if self.kind == "dingtalk" else "/cgi-bin/webhook/send"

    def url(self, base: str) -> str:
        name = "access_token" if self.kind == "dingtalk" else "key"
        return f"{base}{self.path}?{name}={self.token}"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(self.path, self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        raw = request.rel_url.raw_query_string  # as sent, percent-escapes kept
        reply = self._check(raw, request.headers.get("Content-Type", ""), await request.read())
        body: dict[str, Any] = {}
        with contextlib.suppress(ValueError):
            body = json.loads(await request.read())
        if reply is None and self.script:
            step = self.script.pop(0)
            if isinstance(step, int):
                self.hits.append(Hit(raw, body, step))
                return web.Response(status=step, text="busy")
            reply = step
        reply = reply or {"errcode": 0, "errmsg": "ok"}
        self.hits.append(Hit(raw, body, reply))
        return web.json_response(reply)

    def _check(self, raw: str, content_type: str, data: bytes) -> dict[str, Any] | None:
        """The robot's refusal of a request (an error reply), or None when it is good."""
        query = parse_qs(raw, keep_blank_values=True)
        name = "access_token" if self.kind == "dingtalk" else "key"
        if query.get(name) != [self.token]:
            code = 300001 if self.kind == "dingtalk" else 93000
            return {"errcode": code, "errmsg": f"invalid {name}"}
        if self.kind == "dingtalk" and self.secret is not None:
            refusal = self._check_signature(raw, query)
            if refusal is not None:
                return refusal
        if "application/json" not in content_type:
            return {"errcode": 40035, "errmsg": "content-type must be application/json"}
        try:
            body = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return {"errcode": 40035, "errmsg": "body is not JSON"}
        return self._check_body(body)

    def _check_signature(self, raw: str, query: dict[str, list[str]]) -> dict[str, Any] | None:
        assert self.secret is not None
        signs, stamps = query.get("sign", []), query.get("timestamp", [])
        if len(signs) != 1 or len(stamps) != 1 or not stamps[0].isdigit():
            return {"errcode": 310000, "errmsg": "sign not match: missing timestamp or sign"}
        raw_sign = re.search(r"(?:^|&)sign=([^&]*)", raw)
        if raw_sign is None or not re.fullmatch(r"[A-Za-z0-9%]+", raw_sign.group(1)):
            return {"errcode": 310000, "errmsg": "sign not match: sign is not URL-encoded"}
        stamp = int(stamps[0])
        self.timestamps.append(stamp)
        if abs(stamp - self.now_ms()) > 3600 * 1000:
            return {"errcode": 310000, "errmsg": "sign not match: timestamp too far off"}
        expected = base64.b64encode(
            hmac.new(
                self.secret.encode(), f"{stamp}\n{self.secret}".encode(), hashlib.sha256
            ).digest()
        ).decode()
        if not hmac.compare_digest(signs[0], expected):
            return {"errcode": 310000, "errmsg": "sign not match"}
        return None

    def _check_body(self, body: Any) -> dict[str, Any] | None:
        if not isinstance(body, dict) or body.get("msgtype") != "markdown":
            return {"errcode": 40008, "errmsg": "invalid message type"}
        markdown = body.get("markdown")
        want = {"title", "text"} if self.kind == "dingtalk" else {"content"}
        if set(body) != {"msgtype", "markdown"} or not isinstance(markdown, dict) \
                or set(markdown) != want:  # fmt: skip
            return {"errcode": 40035, "errmsg": f"markdown must be {sorted(want)}"}
        if not all(isinstance(v, str) and v for v in markdown.values()):
            return {"errcode": 40035, "errmsg": "empty markdown"}
        if self.kind == "wecom" and len(markdown["content"].encode("utf-8")) > 4096:
            return {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
        return None

    def delivered(self) -> list[dict[str, Any]]:
        """The markdown of every message the robot accepted."""
        return [h.body["markdown"] for h in self.hits if h.answer == {"errcode": 0, "errmsg": "ok"}]


# ---------------------------------------------------------------------------------------------
# the mail server


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    data: bytes
    tls: bool
    login: str | None

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)


@dataclass
class Mailbox:
    """What the SMTP server received, and how it answers: ``user``/``password`` accepted by
    AUTH; ``data_script`` the answers to DATA (e.g. ``"451 4.3.0 try later"``) before 250."""

    user: str = "govmon"
    password: str = "mail-secret-1"
    data_script: list[str] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # recipients answered 550
    mails: list[Mail] = field(default_factory=list)
    logins: list[tuple[str, bool]] = field(default_factory=list)  # (user, accepted)

    async def handle_RCPT(  # aiosmtpd's hook names
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # aiosmtpd's hook names
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        if self.data_script:
            return self.data_script.pop(0)
        login = session.login_data
        self.mails.append(
            Mail(
                sender=str(envelope.mail_from),
                recipients=list(envelope.rcpt_tos),
                data=bytes(cast(bytes, envelope.original_content)),
                tls=session.ssl is not None  # STARTTLS, or TLS from the start
                or (
                    server.transport is not None
                    and server.transport.get_extra_info("ssl_object") is not None
                ),
                login=login.decode() if isinstance(login, bytes) else None,
            )
        )
        return "250 OK"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        user, password = data.login.decode(), data.password.decode()
        ok = user == self.user and password == self.password
        self.logins.append((user, ok))
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)


@contextlib.asynccontextmanager
async def smtp_server(
    box: Mailbox, *, tls: ssl.SSLContext | None = None, implicit: bool = False
) -> AsyncIterator[int]:
    """An SMTP server on 127.0.0.1 in this event loop, its port: with ``tls``, STARTTLS is
    required before AUTH and mail (or, ``implicit``, the connection is TLS from the start)."""

    def protocol() -> SMTP:
        return SMTP(
            box,
            hostname="mail.test",
            authenticator=box.authenticate,
            # over implicit TLS aiosmtpd does not see the TLS: it is there all the same
            auth_require_tls=tls is not None and not implicit,
            tls_context=None if implicit else tls,
            require_starttls=tls is not None and not implicit,
        )

    loop = asyncio.get_running_loop()
    server = await loop.create_server(protocol, "127.0.0.1", 0, ssl=tls if implicit else None)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


# ---------------------------------------------------------------------------------------------
# a scan to alert about


def report(*, sites: int = 3, scan_id: int = 12) -> Report:
    """A complete scan of ``sites`` sites (the first unqualified, the last unchecked), run on
    2026-12-07 from 08:00 to 11:32 Beijing time, with a home page that failed 6 of 140
    samples."""
    entries: list[dict[str, Any]] = []
    for i in range(sites):
        verdict = "unqualified" if i == 0 else "unchecked" if i == sites - 1 else "qualified"
        entries.append(
            {
                "id": f"s{i}", "name": f"测试区第{i}局", "unit": f"第{i}局",
                "kind": "department", "url": f"http://www.example.gov.cn/s{i}/",
                "verdict": verdict, "vetoes": ["homepage.stale"] if i == 0 else [],
                "score": None if verdict == "unchecked" else 90.0, "deductions": {},
                "counts": {}, "coverage": None,
                "availability": {"samples": 140, "failures": 6 if i == 1 else 0, "judged": True},
            }
        )  # fmt: skip
    return cast(
        Report,
        {
            "scan": {
                "id": scan_id,
                "as_of": "2026-12-07T00:00:00+00:00",
                "started_at": "2026-12-07T00:00:03.123456+00:00",
                "finished_at": "2026-12-07T03:32:40+00:00",
                "status": "complete",
                "pages": 100,
                "requests": 120,
            },
            "sites": entries,
            "units": [],
            "columns": [],
            "findings": [],
            "ignored": [],
        },
    )


def stale_home(site: str = "s0", n: int = 0) -> dict[str, Any]:
    """A 首页不更新 veto event of ``site`` (as :func:`veto_events` makes it)."""
    return {
        "id": f"veto-{site}-{n}", "type": "veto", "check": "homepage.stale", "site": site,
        "unit": "第0局", "column": None, "url": f"http://www.example.gov.cn/{site}/",
        "message": f"{site}: homepage.stale",
        "detail": {"newest": "2026-11-01", "days_since": 36, "max_age_days": 14},
    }  # fmt: skip
