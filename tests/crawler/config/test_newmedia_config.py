"""``[newmedia]`` and ``[[site.newmedia]]``: an account by page or feed URL, or by RSSHub route
at the configured instance; every mistake is a config error naming the file, key and problem."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from crawler.cli import main
from crawler.config import ConfigError, NewMediaSettings, load_config
from tests.support.paths import REPO_ROOT

BASE = """
[newmedia]
rsshub = "http://127.0.0.1:1200/"
rsshub_key_env = "RSSHUB_KEY"
[[site]]
id = "fgj"
url = "http://www.district.test/fgj/"
  [[site.newmedia]]
  name = "蓬江发布 微博"
  rsshub = "/weibo/user/1195230310"
  [[site.newmedia]]
  name = "发改 公众号 (page)"
  url = "http://www.district.test/fgj/wx/"
"""
NO_INSTANCE = 'rsshub = "http://127.0.0.1:1200/"\nrsshub_key_env = "RSSHUB_KEY"\n'


def _load(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "govmon.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_route_is_read_at_the_instance(tmp_path: Path) -> None:
    cfg = load_config(_load(tmp_path, BASE))
    weibo, page = cfg.site("fgj").newmedia
    assert weibo.route == "/weibo/user/1195230310"
    assert weibo.url == "http://127.0.0.1:1200/weibo/user/1195230310"
    assert page.route is None
    assert page.url == "http://www.district.test/fgj/wx/"
    assert cfg.newmedia == NewMediaSettings("http://127.0.0.1:1200", "RSSHUB_KEY")


def test_the_key_comes_from_the_environment_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = load_config(_load(tmp_path, BASE))
    monkeypatch.delenv("RSSHUB_KEY", raising=False)
    assert cfg.newmedia.rsshub_key() == ""
    monkeypatch.setenv("RSSHUB_KEY", "s3cret")
    assert cfg.newmedia.rsshub_key() == "s3cret"
    assert "s3cret" not in repr(cfg)  # the config holds the variable's name, never the key


@pytest.mark.parametrize(
    ("replace", "by", "key", "reason"),
    [
        ('rsshub = "/weibo/user/1195230310"',
         'rsshub = "/weibo/user/1195230310"\n  url = "http://x.test/"',
         "site[0].newmedia[0].rsshub", "mutually exclusive"),
        ('rsshub = "/weibo/user/1195230310"', 'rsshub = "weibo/user/1"',
         "site[0].newmedia[0].rsshub", "must be an RSSHub route"),
        ('rsshub = "/weibo/user/1195230310"', 'rsshub = "//evil.test/x"',
         "site[0].newmedia[0].rsshub", "must be an RSSHub route"),
        ('rsshub = "/weibo/user/1195230310"', 'rsshub = "http://127.0.0.1:1200/weibo/user/1"',
         "site[0].newmedia[0].rsshub", "must be an RSSHub route"),
        ('rsshub = "/weibo/user/1195230310"', 'rsshub = "/weibo/../admin"',
         "site[0].newmedia[0].rsshub", "must be an RSSHub route"),
        ('rsshub = "/weibo/user/1195230310"', 'rsshub = "/weibo/user/1 2"',
         "site[0].newmedia[0].rsshub", "must be an RSSHub route"),
        ('rsshub = "/weibo/user/1195230310"', 'rsshub = "/weibo/user/1?key=abc"',
         "site[0].newmedia[0].rsshub", "rsshub_key_env"),
        ('rsshub = "/weibo/user/1195230310"', "rsshub = 3",
         "site[0].newmedia[0].rsshub", "must be a string"),
        ('rsshub = "/weibo/user/1195230310"', 'rsshub = ""',
         "site[0].newmedia[0].rsshub", "must not be empty"),
        ('  name = "蓬江发布 微博"\n  rsshub = "/weibo/user/1195230310"', '  name = "x"',
         "site[0].newmedia[0].url", "or rsshub"),
        (NO_INSTANCE, "", "site[0].newmedia[0].rsshub", "needs the instance"),
        ('rsshub = "http://127.0.0.1:1200/"', 'rsshub = "ftp://127.0.0.1/"', "newmedia.rsshub",
         "http(s) URL"),
        ('rsshub = "http://127.0.0.1:1200/"', 'rsshub = "http://127.0.0.1:1200/?x=1"',
         "newmedia.rsshub", "without a query"),
        ('rsshub_key_env = "RSSHUB_KEY"', 'rsshub_key_env = "s3cret key!"',
         "newmedia.rsshub_key_env", "name of an environment variable"),
        ('rsshub_key_env = "RSSHUB_KEY"', 'rsshub_key = "s3cret"', "newmedia.rsshub_key",
         "unknown key"),
    ],
)  # fmt: skip
def test_mistakes_name_file_key_and_problem(
    tmp_path: Path, replace: str, by: str, key: str, reason: str
) -> None:
    assert replace in BASE
    path = _load(tmp_path, BASE.replace(replace, by, 1))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == key
    assert reason in info.value.reason
    assert str(path) in str(info.value)


def test_a_key_variable_needs_the_instance(tmp_path: Path) -> None:
    text = BASE.replace('rsshub = "http://127.0.0.1:1200/"\n', "").replace(
        '  rsshub = "/weibo/user/1195230310"', '  url = "http://x.test/"'
    )
    with pytest.raises(ConfigError) as info:
        load_config(_load(tmp_path, text))
    assert info.value.key == "newmedia.rsshub_key_env"


def test_the_cli_says_it_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _load(tmp_path, BASE.replace(NO_INSTANCE, ""))
    db = tmp_path / "govmon.db"
    assert main(["scan", str(path), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert not db.exists()
    assert "site[0].newmedia[0].rsshub" in err
    assert "needs the instance" in err
    assert "Traceback" not in err


def test_the_documented_example_names_the_newmedia_keys() -> None:
    example = re.search(
        r"```toml\n(.*?)```", (REPO_ROOT / "docs" / "config.md").read_text("utf-8"), re.S
    )
    assert example is not None
    for field in dataclasses.fields(NewMediaSettings):
        assert re.search(rf"^\s*{field.name} = ", example.group(1), re.M), field.name
    assert re.search(r'^\s*rsshub = "/', example.group(1), re.M)  # a route in [[site.newmedia]]
