"""Config validation: every error names the file, the key and the reason; nothing starts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest

from crawler.cli import main
from crawler.config import (
    ConfigError,
    ContentSettings,
    CrawlSettings,
    Rules,
    load_config,
    parse_config,
)
from crawler.service.planner import Schedule
from tests.support.paths import REPO_ROOT

GOOD = """
as_of = 2020-06-16
[crawl]
rate = 1
resolve = { "www.district.test" = "127.0.0.1:8080", "b.test" = "127.0.0.2" }
[rules]
news_max_gap_days = 14
[[site]]
id = "fgj"
name = "蓬江区发展和改革局"
unit = "区发展和改革局"
url = "HTTP://www.District.test/fgj/"
  [[site.column]]
  name = "工作动态"
  url = "http://www.district.test/fgj/gzdt/"
  category = "news"
[[site]]
id = "town"
url = "http://b.test/"
kind = "town"
scope = ["http://b.test/", "http://b.test:8080/x/"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "govmon.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config_is_frozen_and_canonical(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, GOOD))
    assert cfg.as_of == dt.datetime(2020, 6, 16, tzinfo=cfg.tz)
    assert cfg.crawl.rate == 1.0
    assert cfg.crawl.concurrency == 2  # default
    assert cfg.crawl.resolve["www.district.test"] == ("127.0.0.1", 8080)
    assert cfg.crawl.resolve["b.test"] == ("127.0.0.2", None)
    assert cfg.rules.news_max_gap_days == 14
    fgj = cfg.site("fgj")
    assert fgj.url == "http://www.district.test/fgj/"
    assert fgj.scope == ("http://www.district.test/fgj/",)
    assert fgj.columns[0].category == "news"
    assert cfg.site("town").unit == "town"  # defaults to the name, which defaults to the id
    home = load_config(write(tmp_path, GOOD.replace('/fgj/"', '/fgj/index.html"', 1)))
    assert home.site("fgj").scope == ("http://www.district.test/fgj/",)
    with pytest.raises(AttributeError):
        fgj.url = "http://x/"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("replace", "by", "key", "reason"),
    [
        ("rate = 1", "rate = 1\nspeed = 3", "crawl.speed", "unknown key"),
        ("rate = 1", 'rate = "fast"', "crawl.rate", "must be a number"),
        ("rate = 1", "rate = -1", "crawl.rate", "must be >= 0"),
        ("rate = 1", "concurrency = true", "crawl.concurrency", "must be an integer"),
        ("rate = 1", 'robots = "maybe"', "crawl.robots", "must be one of obey, ignore"),
        ('id = "town"', 'id = "fgj"', "site[1].id", "duplicate site id 'fgj'"),
        ('url = "http://b.test/"', 'url = "ftp://b.test/"', "site[1].url", "http(s) URL"),
        ('url = "http://b.test/"', "url = 3", "site[1].url", "must be a URL string"),
        ('kind = "town"', 'kind = "village"', "site[1].kind", "must be one of"),
        ('"http://b.test:8080/x/"', '"file:///etc"', "site[1].scope[1]", "http(s) URL"),
        (
            'category = "news"',
            'category = "gossip"',
            "site[0].column[0].category",
            "must be one of",
        ),
        ("news_max_gap_days = 14", "news_max_gap_days = 1.5", "rules.news_max_gap_days", "integer"),
        ("news_max_gap_days = 14", "nws_max_gap_days = 1", "rules.nws_max_gap_days", "unknown key"),
        ('"b.test" = "127.0.0.2"', '"b.test" = "localhost"', "crawl.resolve.b.test", "IP address"),
        ("as_of = 2020-06-16", 'as_of = "yesterday"', "as_of", "not a date"),
        ("as_of = 2020-06-16", 'timezone = "Mars/Olympus"', "timezone", "unknown time zone"),
    ],
)
def test_errors_name_file_key_and_reason(
    tmp_path: Path, replace: str, by: str, key: str, reason: str
) -> None:
    assert replace in GOOD
    path = write(tmp_path, GOOD.replace(replace, by, 1))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == key
    assert reason in info.value.reason
    assert str(path) in str(info.value)


def test_no_site_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least one"):
        load_config(write(tmp_path, "[crawl]\nrate = 1\n"))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[crawl\n"))
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")


def test_cli_exits_2_and_starts_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD.replace("rate = 1", "rate = 1\nspeed = 3"))
    db = tmp_path / "govmon.db"
    assert main(["scan", str(path), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err
    assert "crawl.speed" in err
    assert "unknown key" in err
    assert not db.exists()  # a bad config never starts a scan, not even a store


def test_cli_unknown_site_is_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, GOOD)
    assert main(["scan", str(path), "--db", str(tmp_path / "x.db"), "--site", "nope"]) == 2
    assert "--site nope" in capsys.readouterr().err


def test_a_time_zone_name_too_long_for_a_file_is_a_config_error() -> None:
    site = {"id": "a", "name": "甲", "unit": "甲", "url": "http://a.gov.cn/"}
    with pytest.raises(ConfigError, match="timezone: unknown time zone"):
        parse_config({"timezone": "Asia/" + "X" * 5000, "site": [site]})


def test_the_documented_example_config_loads_and_names_every_key(tmp_path: Path) -> None:
    """docs/config.md is the users' reference: its example is a valid config, and every key the
    config reader knows appears in it."""

    text = (REPO_ROOT / "docs" / "config.md").read_text("utf-8")
    match = re.search(r"```toml\n(.*?)```", text, re.S)
    assert match is not None
    example = match.group(1)
    (tmp_path / "govmon.toml").write_text(example, encoding="utf-8")
    for name, body in (
        ("typos.tsv", "錯字\t错字\n"),
        ("words.txt", "敏感\n"),
        ("allow.txt", "某\n"),
    ):
        (tmp_path / name).write_text(body, encoding="utf-8")
    config = load_config(str(tmp_path / "govmon.toml"))
    assert config.sites[0].columns[0].category == "news"
    for cls in (CrawlSettings, Rules, Schedule, ContentSettings):
        for field in dataclasses.fields(cls):
            assert re.search(rf"^\s*{field.name} = ", example, re.M), f"{cls.__name__}.{field.name}"
