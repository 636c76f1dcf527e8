"""No log line or message holds a webhook token or a database password (issue 19, item 6).

Webhook robots (钉钉 ``access_token=``, 企业微信 ``key=``, 飞书's hook id in the path) are
served by a real receiver on 127.0.0.1; the logs are captured as structlog renders them.
"""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from crawler.cli import main
from crawler.core.logs import configure
from crawler.service.webhook import WebhookError, build_payload, redact_url, send
from storage.base import StoreError
from storage.dburl import masked, shown, split_db_url
from storage.postgres import parse_url
from tests.crawler.service.test_daemon import _site, daemon_config
from tests.support.localserver import serve

pytestmark = pytest.mark.timeout(120)

TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90aa"  # what a robot's access_token looks like
HOOK_ID = "8f0c2b6a-1d2e-4f3a-9b8c-7d6e5f4a3b2c"  # 飞书: the credential is the path's end
PASSWORD_FORMS = ("Zq9/Wk7?Xv3#Jp5@Yt1", "Hh4@Ww8/Rr2", "Qx6?Lm3", "Nb5#Kc7/Dd9")
STATUS = web.AppKey("status", list[int])


def _receiver() -> web.Application:
    async def hook(request: web.Request) -> web.Response:
        await request.read()
        statuses = request.app[STATUS]
        return web.Response(status=statuses.pop(0) if statuses else 200, text="x")

    app = web.Application()
    app[STATUS] = []
    app.router.add_post("/{tail:.*}", hook)
    return app


PAYLOAD = build_payload([], as_of=None, config="govmon.toml")


def _robots(base: str) -> list[str]:
    return [
        f"{base}/robot/send?access_token={TOKEN}",  # 钉钉
        f"{base}/cgi-bin/webhook/send?key={TOKEN}",  # 企业微信
        f"{base}/open-apis/bot/v2/hook/{HOOK_ID}",  # 飞书
        f"http://user:{TOKEN}@{base.partition('//')[2]}/hook",  # user info
    ]


def _secret_free(text: str) -> None:
    assert TOKEN not in text
    assert HOOK_ID not in text


@pytest.mark.parametrize("status", [200, 403, 500])
async def test_webhook_logs_show_scheme_host_and_path_only(status: int) -> None:
    app = _receiver()
    with serve(app) as port:
        base = f"http://127.0.0.1:{port}"
        for url in _robots(base):
            app[STATUS][:] = [status]
            lines = io.StringIO()
            configure("info", stream=lines)  # the log lines as they are written
            try:
                async with aiohttp.ClientSession() as session:
                    await send(url, PAYLOAD, session=session, retries=0)
                outcome = ""
            except WebhookError as exc:
                outcome = str(exc)
            finally:
                configure("info")
            logged = lines.getvalue()
            want = {200: "webhook.sent", 403: "webhook.refused", 500: "webhook.failed"}[status]
            assert want in logged, logged
            text = logged + outcome
            _secret_free(text)
            assert redact_url(url) in text
            assert f"127.0.0.1:{port}/" in text  # the host and path are still there


def test_redacted_webhook_urls() -> None:
    assert redact_url(f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}") == (
        "https://oapi.dingtalk.com/robot/send"
    )
    assert redact_url(f"https://open.feishu.cn/open-apis/bot/v2/hook/{HOOK_ID}") == (
        "https://open.feishu.cn/open-apis/bot/v2/hook/***"
    )
    assert redact_url("https://u:p@[::1]:8443/hook#x") == "https://[::1]:8443/hook"


def test_daemon_webhook_failure_is_logged_without_the_token(tmp_path: Path) -> None:
    """``daemon.webhook_failed``: a real daemon, a webhook that refuses (403)."""

    app = _site()
    hook = _receiver()
    with serve(app) as port, serve(hook) as hook_port:
        hook[STATUS][:] = [403] * 10
        cfg = tmp_path / "govmon.toml"
        text = daemon_config(f"http://127.0.0.1:{port}")
        url = f"http://127.0.0.1:{hook_port}/open-apis/bot/v2/hook/{HOOK_ID}?access_token={TOKEN}"
        text = text.replace(f'webhook = "http://127.0.0.1:{port}/hook"', f'webhook = "{url}"')
        assert url in text
        cfg.write_text(text, encoding="utf-8")
        proc = subprocess.Popen(
            [sys.executable, "-m", "crawler", "daemon", str(cfg), "--db", str(tmp_path / "g.db")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(hook[STATUS]) == 10 and proc.poll() is None:
            time.sleep(0.1)
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        try:
            err = proc.communicate(timeout=30)[1]
        except subprocess.TimeoutExpired:
            proc.kill()
            err = proc.communicate()[1]
    log = err.decode("utf-8", "replace")
    assert "daemon.webhook_failed" in log, log[-3000:]
    _secret_free(log)
    assert f"127.0.0.1:{hook_port}/open-apis/bot/v2/hook/***" in log


# -- database URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize("password", PASSWORD_FORMS)
def test_a_password_with_url_delimiters_is_refused_without_showing_it(password: str) -> None:
    url = f"postgresql://govmon:{password}@127.0.0.1:5432/gov"
    with pytest.raises(StoreError) as info:
        parse_url(url)
    message = str(info.value)
    assert "percent-encoded" in message
    for piece in password.replace("?", "/").replace("#", "/").replace("@", "/").split("/"):
        assert piece not in message, message
    assert masked(url) == "postgresql://govmon@127.0.0.1:5432/gov"


def test_an_unclosed_ipv6_bracket_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match=r"brackets closed") as info:
        parse_url("postgresql://govmon:hunter2@[::1:5432/gov")
    assert "hunter2" not in str(info.value)


def test_good_urls_still_parse() -> None:
    encoded = "postgresql://govmon:se%2Fcr%3Fe%23t%40x@[::1]:5432/gov?schema=s1"
    dsn, schema, display = parse_url(encoded)
    assert (dsn, schema) == ("postgresql://govmon:se%2Fcr%3Fe%23t%40x@[::1]:5432/gov", "s1")
    assert display == "postgresql://govmon@[::1]:5432/gov?schema=s1"
    assert split_db_url(encoded).password == "se%2Fcr%3Fe%23t%40x"
    assert shown("govmon.db") == "govmon.db"


@pytest.mark.parametrize(
    "db",
    [
        *(f"postgresql://govmon:{p}@127.0.0.1:1/gov" for p in PASSWORD_FORMS),
        "postgresql://govmon:hunter2@[::1:5432/gov",
        "postgresql://govmon:hunter2@127.0.0.1:1/gov",  # nothing listens: a connect error
    ],
)
@pytest.mark.parametrize("command", ["report", "status"])
def test_commands_never_print_the_password(
    db: str, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    password = db.split("govmon:", 1)[1].rsplit("@", 1)[0]
    code = main([command, "--db", db])
    out = capsys.readouterr()
    text = out.out + out.err
    assert code != 0, text
    assert "Traceback" not in text
    assert "store error" in text, text
    assert password not in text, text
    for piece in password.replace("?", "/").replace("#", "/").replace("@", "/").split("/"):
        if len(piece) >= 3:
            assert piece not in text, text


def test_daemon_start_log_hides_the_password(tmp_path: Path) -> None:
    cfg = tmp_path / "govmon.toml"
    cfg.write_text(
        '[[site]]\nid = "t"\nname = "t"\nunit = "t"\nurl = "http://127.0.0.1:1/"\n',
        encoding="utf-8",
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "crawler",
            "daemon",
            str(cfg),
            "--db",
            "postgresql://govmon:hunter2@127.0.0.1:1/gov",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    text: Any = run.stdout + run.stderr
    assert "hunter2" not in text, text
    assert "postgresql://govmon@127.0.0.1:1/gov" in text, text
