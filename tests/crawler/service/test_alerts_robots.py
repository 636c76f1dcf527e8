"""钉钉 and 企业微信 robots: a real aiohttp robot on 127.0.0.1 checks each message's format and,
for 钉钉, recomputes the signature from the secret it was set up with (tests/support/alerts.py).

The back-off is injected (a recording ``sleep``) and 钉钉's timestamp comes from a fake clock.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web

from crawler.core.logs import configure
from crawler.service.alerts.delivery import AlertError, Policy
from crawler.service.alerts.robots import WECOM_LIMIT, send_dingtalk, send_wecom, sign
from crawler.service.alerts.text import compose, markdown
from tests.support.alerts import Robot, Sleeps, report, running, stale_home

pytestmark = pytest.mark.timeout(60)

TOKEN = "9f8e7d6c5b4a39281706f5e4d3c2b1a0ffeeddcc"
SECRET = "SECa1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
NOW = 1_796_601_600.0  # 2026-12-07 08:00 Beijing time, in seconds
TZ = ZoneInfo("Asia/Shanghai")


class Clock:
    """A fake clock that moves only when told."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


def test_the_signature_is_the_documented_hmac() -> None:
    # 钉钉's documentation: base64(HMAC-SHA256(key=secret, "{timestamp}\n{secret}")), URL-encoded
    # (computed once with the standard library's hmac and base64, then quote_plus)
    assert sign("SECxyz", 1577808000000) == "iTAi3muMJZGZzU4loEnI1SoKyVbiSKKP0iI9zEcBI5c%3D"
    assert sign("SECxyz", 1577808000005) == (
        "UKjw1QP73LtBLdwnU%2F6xHL5r%2FMBr8AvUZlxG%2BTSGdFM%3D"  # + and / encoded too
    )


async def test_a_signed_markdown_message_reaches_the_dingtalk_robot(
    session: aiohttp.ClientSession,
) -> None:
    clock = Clock()
    robot = Robot("dingtalk", TOKEN, SECRET, now_ms=lambda: int(clock() * 1000))
    message = compose(report(), [stale_home()], TZ)
    async with running(robot.app()) as base:
        attempts = await send_dingtalk(
            robot.url(base), message.heading, markdown(message), secret=SECRET,
            session=session, policy=Policy(sleep=Sleeps()), clock=clock,
        )  # fmt: skip
    assert attempts == 1
    (got,) = robot.delivered()
    assert got["title"] == "政府网站监测：第 12 次检查发现 1 个网站新增单项否决问题"
    assert "首页不更新" in got["text"]
    assert "测试区第0局" in got["text"]
    assert robot.timestamps == [int(NOW * 1000)]


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        ("SECwrong0000000000000000000000000000000000000000000000000000000000", "sign not match"),
        (None, "missing timestamp or sign"),
    ],
)
async def test_a_wrong_or_missing_secret_fails(
    session: aiohttp.ClientSession, secret: str | None, why: str
) -> None:
    clock = Clock()
    robot = Robot("dingtalk", TOKEN, SECRET, now_ms=lambda: int(clock() * 1000))
    sleeps = Sleeps()
    async with running(robot.app()) as base:
        with pytest.raises(AlertError) as info:
            await send_dingtalk(
                robot.url(base), "标题", "正文", secret=secret, session=session,
                policy=Policy(sleep=sleeps), clock=clock,
            )  # fmt: skip
    assert why in str(info.value)  # the robot's errmsg
    assert info.value.attempts == 1  # a refusal is final
    assert sleeps.delays == []
    assert robot.delivered() == []


async def test_a_stale_timestamp_fails(session: aiohttp.ClientSession) -> None:
    robot = Robot("dingtalk", TOKEN, SECRET, now_ms=lambda: int((NOW + 7200) * 1000))
    async with running(robot.app()) as base:
        with pytest.raises(AlertError, match="timestamp too far off"):
            await send_dingtalk(
                robot.url(base), "标题", "正文", secret=SECRET, session=session,
                policy=Policy(sleep=Sleeps()), clock=Clock(),
            )  # fmt: skip


async def test_busy_robots_are_retried_each_attempt_signed_afresh(
    session: aiohttp.ClientSession,
) -> None:
    clock = Clock()
    robot = Robot("dingtalk", TOKEN, SECRET, now_ms=lambda: int(clock() * 1000))
    robot.script = [503, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}]
    delays: list[float] = []

    async def sleep(delay: float) -> None:  # the fake clock moves with the back-off
        delays.append(delay)
        clock.now += delay

    async with running(robot.app()) as base:
        attempts = await send_dingtalk(
            robot.url(base), "标题", "正文", secret=SECRET, session=session,
            policy=Policy(backoff=2, max_backoff=30, sleep=sleep), clock=clock,
        )  # fmt: skip
    assert attempts == 3
    assert delays == [2.0, 30.0]  # exponential, then the rate limit's minute, capped
    assert robot.timestamps == [int(NOW * 1000), int((NOW + 2) * 1000), int((NOW + 32) * 1000)]
    assert len(robot.delivered()) == 1


async def test_robot_failures_log_the_errmsg_and_never_the_token_or_secret(
    session: aiohttp.ClientSession,
) -> None:
    robot = Robot("dingtalk", TOKEN, SECRET, now_ms=lambda: int(NOW * 1000))
    robot.script = [{"errcode": 310000, "errmsg": f"keywords not in content, token {TOKEN}"}]
    lines = io.StringIO()
    configure("info", stream=lines)
    try:
        async with running(robot.app()) as base:
            with pytest.raises(AlertError) as info:
                await send_dingtalk(
                    robot.url(base), "标题", "正文", secret=SECRET, session=session,
                    policy=Policy(sleep=Sleeps()), clock=Clock(),
                )  # fmt: skip
    finally:
        configure("info")
    text = lines.getvalue() + str(info.value)
    assert "dingtalk.refused" in text
    assert "keywords not in content" in text
    assert TOKEN not in text
    assert SECRET not in text
    assert f"127.0.0.1:{base.rpartition(':')[2]}/robot/send" in text


async def test_a_markdown_message_reaches_the_wecom_robot(
    session: aiohttp.ClientSession,
) -> None:
    robot = Robot("wecom", TOKEN)
    message = compose(report(), [stale_home()], TZ, report_url="http://10.0.0.5:8080/")
    async with running(robot.app()) as base:
        await send_wecom(
            robot.url(base), markdown(message, WECOM_LIMIT), session=session,
            policy=Policy(sleep=Sleeps()),
        )  # fmt: skip
        with pytest.raises(AlertError, match="invalid key"):  # a wrong key fails
            await send_wecom(
                robot.url(base).replace(TOKEN, "0" * 40), "正文", session=session,
                policy=Policy(sleep=Sleeps()),
            )  # fmt: skip
    (got,) = robot.delivered()
    assert "首页不更新" in got["content"]
    assert "[完整报告](http://10.0.0.5:8080/scans/12)" in got["content"]


async def test_a_long_alert_is_cut_to_the_wecom_limit_honestly(
    session: aiohttp.ClientSession,
) -> None:
    events = [stale_home("s0", n) for n in range(120)]
    message = compose(report(), events, TZ, report_url="http://10.0.0.5:8080/")
    content = markdown(message, WECOM_LIMIT)
    assert len(markdown(message).encode("utf-8")) > WECOM_LIMIT  # it had to be cut
    robot = Robot("wecom", TOKEN)
    async with running(robot.app()) as base:
        await send_wecom(robot.url(base), content, session=session, policy=Policy(sleep=Sleeps()))
    (got,) = robot.delivered()
    sent = got["content"]
    assert 4000 < len(sent.encode("utf-8")) <= WECOM_LIMIT
    shown = sent.count("\n- ")
    left = int(sent.split("……另有 ")[1].split(" 项未列出")[0])
    assert shown + left == message.items == 121  # 120 vetoes and one availability line
    assert sent.endswith("[完整报告](http://10.0.0.5:8080/scans/12)")
    assert "结论：共 3 个网站" in sent  # the head is never cut
    with pytest.raises(ValueError, match="4096"):
        await send_wecom("http://127.0.0.1:9/", markdown(message), session=session)


async def test_an_answer_that_is_not_json_is_a_failure(session: aiohttp.ClientSession) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="<html>portal login</html>")

    app = web.Application()
    app.router.add_post("/cgi-bin/webhook/send", handler)
    async with running(app) as base:
        with pytest.raises(AlertError, match="not the robot's JSON"):
            await send_wecom(
                f"{base}/cgi-bin/webhook/send?key={TOKEN}", "正文", session=session,
                policy=Policy(sleep=Sleeps()),
            )  # fmt: skip
