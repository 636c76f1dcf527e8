"""E-mail alerts against a real SMTP server on 127.0.0.1 (aiosmtpd, tests/support/alerts.py):
STARTTLS or implicit TLS with a test CA (trustme), AUTH, the headers, the UTF-8 Chinese subject
and body, the envelope's recipients; retries on the server's 4xx with an injected back-off."""

from __future__ import annotations

import io
import socket
import ssl
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
import trustme

from crawler.core.logs import configure
from crawler.service.alerts.delivery import AlertError, Policy
from crawler.service.alerts.mail import SmtpServer, build_email, send_email
from crawler.service.alerts.text import compose, html_page, plain
from tests.support.alerts import Mailbox, Sleeps, report, smtp_server, stale_home

pytestmark = pytest.mark.timeout(60)

TZ = ZoneInfo("Asia/Shanghai")
SENDER = "政府网站监测 <govmon@example.gov.cn>"
TO = ("office@example.gov.cn", "chief@example.gov.cn")


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    return ctx


@pytest.fixture(scope="module")
def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


def _message(html: bool = False) -> tuple[str, EmailMessage]:
    msg = compose(report(), [stale_home()], TZ)
    email = build_email(
        sender=SENDER, to=TO, subject=msg.subject, text=plain(msg),
        html=html_page(msg) if html else None,
    )  # fmt: skip
    return msg.subject, email


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "ssl"])
async def test_an_alert_arrives_encrypted_in_chinese(
    server_tls: ssl.SSLContext, client_tls: ssl.SSLContext, implicit: bool
) -> None:
    box = Mailbox()
    subject, email = _message(html=True)
    async with smtp_server(box, tls=server_tls, implicit=implicit) as port:
        server = SmtpServer(
            "127.0.0.1", port, security="ssl" if implicit else "starttls",
            user=box.user, password=box.password, tls=client_tls,
        )  # fmt: skip
        attempts = await send_email(
            server, email, sender=SENDER, to=TO, policy=Policy(timeout=10, sleep=Sleeps())
        )
    assert attempts == 1
    (mail,) = box.mails
    assert mail.tls
    assert box.logins == [("govmon", True)]
    assert mail.sender == "govmon@example.gov.cn"  # the envelope: the address only
    assert mail.recipients == list(TO)
    raw = mail.data.decode("ascii")  # every header and part encoded for 7-bit transport
    assert "=?utf-8?" in raw.split("\n\n", 1)[0].lower()  # RFC 2047 subject and sender
    message = mail.message
    assert (
        message["Subject"] == subject == "【政府网站监测】第 12 次检查发现 1 个网站新增单项否决问题"
    )
    assert message["From"] == SENDER
    assert message["To"] == ", ".join(TO)
    assert message["Message-ID"].endswith("@example.gov.cn>")
    text = message.get_body(("plain",))
    assert text is not None
    assert text.get_content_charset() == "utf-8"
    body = text.get_content()
    assert "监测时间点 2026年12月7日 08:00" in body
    assert "结论：共 3 个网站，合格 1 个，不合格 1 个，未完成检查 1 个" in body
    assert "测试区第0局：首页不更新" in body
    html = message.get_body(("html",))
    assert html is not None
    assert "<h3>新的单项否决问题（1 个网站）</h3>" in html.get_content()


async def test_plain_text_only_unless_html_is_asked() -> None:
    box = Mailbox()
    _, email = _message(html=False)
    async with smtp_server(box) as port:
        await send_email(
            SmtpServer("127.0.0.1", port, security="none"), email, sender=SENDER, to=TO,
            policy=Policy(sleep=Sleeps()),
        )  # fmt: skip
    (mail,) = box.mails
    assert not mail.tls
    assert box.logins == []
    assert mail.message.get_body(("html",)) is None
    assert mail.message.get_content_type() == "text/plain"


async def test_a_wrong_password_is_final_and_never_logged(
    server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    box = Mailbox()
    _, email = _message()
    lines = io.StringIO()
    configure("info", stream=lines)
    sleeps = Sleeps()
    try:
        async with smtp_server(box, tls=server_tls) as port:
            server = SmtpServer(
                "127.0.0.1", port, user="govmon", password="wrong-password-9", tls=client_tls
            )
            with pytest.raises(AlertError) as info:
                await send_email(server, email, sender=SENDER, to=TO,
                                 policy=Policy(sleep=sleeps))  # fmt: skip
    finally:
        configure("info")
    assert info.value.status == 535
    assert info.value.attempts == 1
    assert sleeps.delays == []
    assert box.logins  # refused (smtplib tries PLAIN, then LOGIN, in the one attempt)
    assert all(user == "govmon" and not ok for user, ok in box.logins)
    assert box.mails == []
    text = lines.getvalue() + str(info.value) + repr(server)
    assert "email.refused" in text
    assert "wrong-password-9" not in text


async def test_a_busy_server_is_retried(
    server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    box = Mailbox(data_script=["451 4.3.0 mailbox busy, try later"])
    _, email = _message()
    sleeps = Sleeps()
    async with smtp_server(box, tls=server_tls) as port:
        server = SmtpServer("127.0.0.1", port, user=box.user, password=box.password,
                            tls=client_tls)  # fmt: skip
        attempts = await send_email(server, email, sender=SENDER, to=TO,
                                    policy=Policy(backoff=5, sleep=sleeps))  # fmt: skip
    assert attempts == 2
    assert sleeps.delays == [5.0]
    assert len(box.mails) == 1


async def test_refused_recipients_are_logged_and_the_others_served(
    server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    box = Mailbox(refuse={"chief@example.gov.cn"})
    _, email = _message()
    lines = io.StringIO()
    configure("info", stream=lines)
    try:
        async with smtp_server(box, tls=server_tls) as port:
            server = SmtpServer("127.0.0.1", port, user=box.user, password=box.password,
                                tls=client_tls)  # fmt: skip
            await send_email(server, email, sender=SENDER, to=TO, policy=Policy(sleep=Sleeps()))
            box.refuse = set(TO)
            with pytest.raises(AlertError, match="every recipient refused"):
                await send_email(server, email, sender=SENDER, to=TO,
                                 policy=Policy(sleep=Sleeps()))  # fmt: skip
    finally:
        configure("info")
    (mail,) = box.mails
    assert mail.recipients == ["office@example.gov.cn"]
    assert "email.refused_recipients" in lines.getvalue()
    assert "chief@example.gov.cn" in lines.getvalue()


async def test_a_certificate_that_does_not_verify_is_final(server_tls: ssl.SSLContext) -> None:
    box = Mailbox()
    _, email = _message()
    sleeps = Sleeps()
    async with smtp_server(box, tls=server_tls) as port:
        server = SmtpServer("127.0.0.1", port, user=box.user, password=box.password)
        with pytest.raises(AlertError, match="certificate does not verify") as info:
            await send_email(server, email, sender=SENDER, to=TO, policy=Policy(sleep=sleeps))
    assert info.value.attempts == 1
    assert box.logins == []  # the password never left


async def test_a_server_that_is_down_is_retried_then_reported() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    _, email = _message()
    sleeps = Sleeps()
    with pytest.raises(AlertError, match="after 3 attempts") as info:
        await send_email(
            SmtpServer("127.0.0.1", port), email, sender=SENDER, to=TO,
            policy=Policy(retries=2, backoff=1, sleep=sleeps),
        )  # fmt: skip
    assert info.value.status is None
    assert sleeps.delays == [1.0, 2.0]


def test_a_password_is_never_sent_in_the_clear() -> None:
    with pytest.raises(ValueError, match="plain connection"):
        SmtpServer("127.0.0.1", 25, security="none", user="u", password="p")
