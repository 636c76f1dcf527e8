"""Several channels at once, as the daemon sends them: ``[schedule] webhook`` beside
``[[alerts]]`` 钉钉, 企业微信 and e-mail, each a real fake on 127.0.0.1; a channel that fails
gets its events again next round, the others only what is new to them."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from crawler.config import load_config
from crawler.core.logs import configure
from crawler.service.daemon import Daemon
from tests.support.alerts import Mailbox, Robot, report, running, smtp_server, stale_home

pytestmark = pytest.mark.timeout(60)

TOKEN = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"
KEY = "693a91f6-7b2c-4bc4-97a0-0ec2f1fa5aaa"
SECRET = "SEC1f2e3d4c5b6a79887766554433221100ffeeddccbbaa99887766554433221100"
WEBHOOK = web.AppKey("posts", list[dict[str, Any]])


def _webhook() -> web.Application:
    async def hook(request: web.Request) -> web.Response:
        request.app[WEBHOOK].append(json.loads(await request.read()))
        return web.Response(text="ok")

    app = web.Application()
    app[WEBHOOK] = []
    app.router.add_post("/hook", hook)
    return app


async def test_every_channel_gets_each_event_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ding = Robot("dingtalk", TOKEN, SECRET, now_ms=lambda: int(time.time() * 1000))
    wecom = Robot("wecom", KEY, script=[{"errcode": 93000, "errmsg": "invalid webhook url"}])
    box = Mailbox()
    hook = _webhook()
    async with (
        running(ding.app()) as ding_base,
        running(wecom.app()) as wecom_base,
        running(hook) as hook_base,
        smtp_server(box) as smtp_port,
    ):
        monkeypatch.setenv("GOVMON_TEST_DINGTALK", ding.url(ding_base))
        monkeypatch.setenv("GOVMON_TEST_SECRET", SECRET)
        (tmp_path / "wecom.url").write_text(wecom.url(wecom_base) + "\n", encoding="utf-8")
        cfg = tmp_path / "govmon.toml"
        cfg.write_text(
            f"""
[schedule]
webhook = "{hook_base}/hook"
webhook_retries = 0

[[alerts]]
kind = "dingtalk"
name = "区政务公开办"
url_env = "GOVMON_TEST_DINGTALK"
secret_env = "GOVMON_TEST_SECRET"
retries = 0

[[alerts]]
kind = "wecom"
url_file = "wecom.url"
retries = 0

[[alerts]]
kind = "email"
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from = "政府网站监测 <govmon@example.gov.cn>"
to = ["office@example.gov.cn"]
retries = 0

[[site]]
id = "s0"
url = "http://www.example.gov.cn/s0/"
""",
            encoding="utf-8",
        )
        daemon = Daemon(load_config(cfg), str(tmp_path / "g.db"))
        assert [c.kind for c in daemon.channels] == ["webhook", "dingtalk", "wecom", "email"]
        lines = io.StringIO()
        configure("info", stream=lines)
        try:
            first = stale_home("s0", 0)
            await daemon.alert(report(), [first])  # 企业微信 refuses this round
            await daemon.alert(report(), [first, stale_home("s1", 1)])
            await daemon.alert(report(), [first, stale_home("s1", 1)])  # nothing new: silence
        finally:
            configure("info")
    logged = lines.getvalue()

    posts = hook[WEBHOOK]
    assert [[e["id"] for e in p["events"]] for p in posts] == [["veto-s0-0"], ["veto-s1-1"]]
    texts = [m["text"] for m in ding.delivered()]
    assert len(texts) == 2
    assert "测试区第0局：首页不更新" in texts[0]
    assert "测试区第1局：首页不更新" in texts[1]
    assert "测试区第0局：首页不更新" not in texts[1]  # sent before
    (content,) = [m["content"] for m in wecom.delivered()]  # the second round, both events
    assert "测试区第0局：首页不更新" in content
    assert "测试区第1局：首页不更新" in content
    subjects = [mail.message["Subject"] for mail in box.mails]
    assert subjects == ["【政府网站监测】第 12 次检查发现 1 个网站新增单项否决问题"] * 2

    assert "daemon.wecom_failed" in logged
    assert "invalid webhook url" in logged
    assert f"127.0.0.1:{wecom_base.rpartition(':')[2]}/cgi-bin/webhook/send" in logged
    for secret in (TOKEN, KEY, SECRET):
        assert secret not in logged
