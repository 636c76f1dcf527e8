"""``[[alerts]]``: every channel's keys, secrets only from the environment or a file, and the
config errors (file, key, problem; never the secret) when a secret is misplaced or missing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crawler.cli import main
from crawler.config import ConfigError, load_config, parse_config
from crawler.config.model import DingTalkAlert, EmailAlert, WebhookAlert, WeComAlert
from crawler.service.alerts import resolve_channels

SITE = {"id": "a", "name": "甲", "unit": "甲", "url": "http://a.gov.cn/"}
ROBOT = "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef0123456789abcdef"
WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"


def parse(*alerts: dict[str, Any], schedule: dict[str, Any] | None = None) -> Any:
    data: dict[str, Any] = {"site": [SITE], "alerts": list(alerts)}
    if schedule:
        data["schedule"] = schedule
    return parse_config(data, "/etc/govmon/govmon.toml")


def error_of(*alerts: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse(*alerts)
    return info.value


def test_every_kind_parses(tmp_path: Path) -> None:
    config = parse(
        {"kind": "webhook", "url": "https://hooks.example/govmon", "name": "运维"},
        {"kind": "dingtalk", "url_env": "GOVMON_DINGTALK_URL", "secret_file": "secrets/ding"},
        {"kind": "wecom", "url_file": "/run/secrets/wecom", "retries": 2, "timeout": 5},
        {
            "kind": "email", "host": "smtp.example.gov.cn", "user": "govmon",
            "password_env": "GOVMON_SMTP_PASSWORD", "from": "政府网站监测 <govmon@example.gov.cn>",
            "to": ["office@example.gov.cn", "chief@example.gov.cn"], "html": True,
            "report_url": "http://10.0.0.5:8080/",
        },
    )  # fmt: skip
    webhook, ding, wecom, email = config.alerts
    assert isinstance(webhook, WebhookAlert)
    assert (webhook.name, webhook.url, webhook.url_secret) == (
        "运维",
        "https://hooks.example/govmon",
        None,
    )
    assert isinstance(ding, DingTalkAlert)
    assert ding.name == "alerts[1]"
    assert ding.url_secret.env == "GOVMON_DINGTALK_URL"
    assert ding.secret is not None
    assert ding.secret.file == Path("/etc/govmon/secrets/ding")  # beside the config file
    assert isinstance(wecom, WeComAlert)
    assert (wecom.retries, wecom.timeout) == (2, 5.0)
    assert isinstance(email, EmailAlert)
    assert (email.port, email.security, email.to) == (
        587,
        "starttls",
        ("office@example.gov.cn", "chief@example.gov.cn"),
    )
    assert email.report_url == "http://10.0.0.5:8080/"


@pytest.mark.parametrize(
    ("alert", "key", "words"),
    [
        ({"kind": "dingtalk", "url_env": "U", "secret": SECRET}, "alerts[0].secret",
         "does not belong in the config file"),
        ({"kind": "dingtalk", "url": ROBOT}, "alerts[0].url", "url_env"),
        ({"kind": "wecom", "url": WECOM}, "alerts[0].url", "does not belong"),
        ({"kind": "wecom", "url_env": "U", "key": "693a91f6"}, "alerts[0].key", "does not belong"),
        ({"kind": "webhook", "url": "https://hooks.example/x?token=abcdef"}, "alerts[0].url",
         "credential (token=…)"),
        ({"kind": "webhook", "url": "https://u:pw@hooks.example/x"}, "alerts[0].url",
         "credential (password=…)"),
        ({"kind": "email", "host": "smtp.x.cn", "from": "a@x.cn", "to": "b@x.cn", "user": "u",
          "password": "hunter22"}, "alerts[0].password", "password_env"),
        ({"kind": "dingtalk"}, "alerts[0].url_env", "is required"),
        ({"kind": "dingtalk", "url_env": "U", "url_file": "/f"}, "alerts[0].url_file", "not both"),
        ({"kind": "dingtalk", "url_env": "GOVMON-URL"}, "alerts[0].url_env",
         "name of an environment variable"),
        ({"kind": "feishu", "url_env": "U"}, "alerts[0].kind", "webhook, dingtalk, wecom, email"),
        ({"kind": "wecom", "url_env": "U", "retries": 50}, "alerts[0].retries", "between 0 and 20"),
        ({"kind": "email", "host": "smtp.x.cn", "from": "a@x.cn", "to": []}, "alerts[0].to",
         "is required"),
        ({"kind": "email", "host": "smtp.x.cn", "from": "a@x.cn", "to": ["b@x.cn", "nobody"]},
         "alerts[0].to[1]", "e-mail address"),
        ({"kind": "email", "host": "smtp.x.cn", "from": "a@x.cn", "to": "b@x.cn",
          "security": "none", "user": "u", "password_env": "P"}, "alerts[0].user", "plain"),
        ({"kind": "email", "host": "smtp.x.cn:25", "from": "a@x.cn", "to": "b@x.cn"},
         "alerts[0].host", "port ="),
    ],
)  # fmt: skip
def test_misplaced_secrets_and_bad_keys_are_config_errors(
    alert: dict[str, Any], key: str, words: str
) -> None:
    error = error_of(alert)
    assert error.path == "/etc/govmon/govmon.toml"
    assert error.key == key
    assert words in error.reason
    for secret in (SECRET, ROBOT, WECOM, "hunter22", "abcdef", "pw@"):
        assert secret not in str(error)


def test_two_channels_of_one_name_are_an_error() -> None:
    error = error_of(
        {"kind": "wecom", "url_env": "A", "name": "办公室"},
        {"kind": "wecom", "url_env": "B", "name": "办公室"},
    )
    assert error.key == "alerts[1].name"


# ---------------------------------------------------------------------------------------------
# the secrets, read when the daemon starts


def test_secrets_are_read_from_the_environment_and_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ding").write_text(SECRET + "\n", encoding="utf-8")
    monkeypatch.setenv("GOVMON_DINGTALK_URL", ROBOT)
    monkeypatch.setenv("GOVMON_SMTP_PASSWORD", "mail-secret-1")
    config = parse(
        {"kind": "dingtalk", "url_env": "GOVMON_DINGTALK_URL",
         "secret_file": str(tmp_path / "ding")},
        {"kind": "email", "host": "smtp.x.cn", "from": "a@x.cn", "to": "b@x.cn", "user": "u",
         "password_env": "GOVMON_SMTP_PASSWORD"},
        schedule={"webhook": "https://hooks.example/legacy", "webhook_retries": 1},
    )  # fmt: skip
    legacy, ding, email = resolve_channels(config)
    assert (legacy.kind, legacy.url, legacy.settings.retries) == (
        "webhook", "https://hooks.example/legacy", 1,
    )  # fmt: skip
    assert ding.url == ROBOT
    assert ding.secret == SECRET  # the file's newline dropped
    assert email.smtp is not None
    assert email.smtp.password == "mail-secret-1"
    shown = repr([legacy, ding, email]) + repr(config) + ding.shown
    for secret in (SECRET, "0123456789abcdef0123456789abcdef", "mail-secret-1"):
        assert secret not in shown
    assert "https://oapi.dingtalk.com/robot/send" in shown


@pytest.mark.parametrize(
    ("alert", "env", "key", "words"),
    [
        ({"kind": "dingtalk", "url_env": "GOVMON_T_URL"}, {}, "alerts[0].url_env",
         "GOVMON_T_URL is not set"),
        ({"kind": "dingtalk", "url_env": "GOVMON_T_URL"}, {"GOVMON_T_URL": "  "},
         "alerts[0].url_env", "is empty"),
        ({"kind": "dingtalk", "url_file": "/nonexistent/ding"}, {}, "alerts[0].url_file",
         "cannot read /nonexistent/ding: No such file or directory"),
        ({"kind": "dingtalk", "url_env": "GOVMON_T_URL"},
         {"GOVMON_T_URL": "https://oapi.dingtalk.com/robot/send"}, "alerts[0].url_env",
         "no access_token="),
        ({"kind": "wecom", "url_env": "GOVMON_T_URL"}, {"GOVMON_T_URL": ROBOT},
         "alerts[0].url_env", "no key="),
        ({"kind": "dingtalk", "url_env": "GOVMON_T_URL", "secret_env": "GOVMON_T_SECRET"},
         {"GOVMON_T_URL": ROBOT, "GOVMON_T_SECRET": "0123456789abcdef"}, "alerts[0].secret_env",
         "starts with SEC"),
        ({"kind": "webhook", "url_env": "GOVMON_T_URL"}, {"GOVMON_T_URL": "ftp://x/y"},
         "alerts[0].url_env", "http(s) URL"),
    ],
)  # fmt: skip
def test_a_secret_that_cannot_be_read_is_a_config_error(
    alert: dict[str, Any],
    env: dict[str, str],
    key: str,
    words: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("GOVMON_T_URL", "GOVMON_T_SECRET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = parse(alert)
    with pytest.raises(ConfigError) as info:
        resolve_channels(config)
    assert info.value.key == key
    assert words in info.value.reason
    assert "0123456789abcdef" not in str(info.value)


def test_an_unreadable_secret_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "wecom").mkdir()  # (root reads any file: a folder cannot be read by anyone)
    with pytest.raises(ConfigError, match=r"alerts\[0\].url_file: cannot read .*: Is a directory"):
        resolve_channels(parse({"kind": "wecom", "url_file": str(tmp_path / "wecom")}))


def test_the_daemon_stops_at_a_missing_secret_before_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GOVMON_T_SECRET", raising=False)
    monkeypatch.setenv("GOVMON_T_URL", ROBOT)
    cfg = tmp_path / "govmon.toml"
    cfg.write_text(
        '[[site]]\nid = "a"\nurl = "http://a.gov.cn/"\n\n[[alerts]]\nkind = "dingtalk"\n'
        'url_env = "GOVMON_T_URL"\nsecret_env = "GOVMON_T_SECRET"\n',
        encoding="utf-8",
    )
    load_config(cfg)  # loading needs no secret: `govmon report` on another machine works
    db = tmp_path / "govmon.db"
    assert main(["daemon", str(cfg), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert f"config error: {cfg}: alerts[0].secret_env:" in err
    assert "GOVMON_T_SECRET is not set" in err
    assert "Traceback" not in err
    assert not db.exists()  # nothing was started
