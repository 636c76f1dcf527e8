"""Reading and validating a config file: the only code that reads TOML.

The file is validated once, completely, into the frozen value objects of
:mod:`crawler.config.model`. Any problem raises :class:`ConfigError` naming the file, the key (a
dotted path such as ``site[2].url``) and what is wrong; a bad config never starts a scan.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import ipaddress
import math
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from checks.catalogue import declare_checks
from checks.readers.boards import check_selectors
from checks.readers.wordlists import LexiconError, read_typo_lexicon, read_word_list
from checks.scoring import ScoringTable
from crawler.config.alerts import parse_alerts
from crawler.config.errors import ConfigError, describe
from crawler.config.model import (
    CATEGORIES,
    SITE_KINDS,
    ChecksSettings,
    Column,
    Config,
    ContentSettings,
    CrawlSettings,
    NewMedia,
    NewMediaSettings,
    Rules,
    Schedule,
    Site,
)
from crawler.config.schedule import parse_schedule
from crawler.net.urls import canonicalize

__all__ = ["ConfigError", "load_config", "parse_config", "parse_when"]

_SITE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

T = TypeVar("T")
_UNSET: Any = object()


# ---------------------------------------------------------------------------------------------
# validation helpers


class _Reader:
    """Reads one table of the file, remembering which keys were used."""

    def __init__(self, path: str, prefix: str, table: Mapping[str, Any]) -> None:
        self.path = path
        self.prefix = prefix
        self.table = table

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, reason: str) -> ConfigError:
        return ConfigError(self.path, self.key(name), reason)

    def check_unknown(self, allowed: set[str]) -> None:
        for name in self.table:
            if name not in allowed:
                hint = ", ".join(sorted(allowed))
                raise self.error(name, f"unknown key (known keys: {hint})")

    def get(self, name: str, kind: type[T], default: T, what: str) -> T:
        if name not in self.table:
            return default
        value = self.table[name]
        ok = isinstance(value, kind)
        if kind is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if ok:
                value = float(value)
        elif kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        if not ok:
            raise self.error(name, f"must be {what}, not {describe(value)}")
        return value  # type: ignore[no-any-return]

    def number(self, name: str, default: float, *, minimum: float, positive: bool = False) -> float:
        value = self.get(name, float, default, "a number")
        if not math.isfinite(value):
            raise self.error(name, f"must be a finite number, not {value}")
        if value < minimum or (positive and value <= 0):
            bound = f"> {minimum:g}" if positive else f">= {minimum:g}"
            raise self.error(name, f"must be {bound}, not {value:g}")
        return value

    def integer(self, name: str, default: int, *, minimum: int) -> int:
        value = self.get(name, int, default, "an integer")
        if value < minimum:
            raise self.error(name, f"must be >= {minimum}, not {value}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        return self.get(name, bool, default, "true or false")

    def string(self, name: str, default: str | None = None, *, required: bool = False) -> str:
        if required and name not in self.table:
            raise self.error(name, "is required")
        value = self.get(name, str, default if default is not None else "", "a string")
        if required and not value.strip():
            raise self.error(name, "must not be empty")
        return value

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.string(name, default)
        if value not in choices:
            raise self.error(name, f"must be one of {', '.join(choices)}, not {value!r}")
        return value

    def url(self, name: str, *, required: bool = True, value: object = _UNSET) -> str:
        raw = self.table.get(name) if value is _UNSET else value
        if raw is None:
            if required:
                raise self.error(name, "is required")
            return ""
        if not isinstance(raw, str):
            raise self.error(name, f"must be a URL string, not {describe(raw)}")
        return _check_url(raw, lambda reason: self.error(name, reason))

    def tables(self, name: str) -> list[Mapping[str, Any]]:
        value = self.table.get(name, [])
        if isinstance(value, Mapping):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.error(name, f"must be a table or an array of tables ([[{name}]])")
        return value

    def sub(self, name: str) -> _Reader:
        value = self.table.get(name, {})
        if not isinstance(value, Mapping):
            raise self.error(name, f"must be a table ([{name}]), not {describe(value)}")
        return _Reader(self.path, self.key(name), value)


def _check_url(raw: str, error: Callable[[str], ConfigError]) -> str:
    text = raw.strip()
    scheme = text.split(":", 1)[0].lower() if ":" in text else ""
    if scheme not in ("http", "https"):
        raise error(f"must be an http(s) URL, not {raw!r}")
    canon = canonicalize(text)
    if canon is None:
        raise error(f"is not a valid URL: {raw!r}")
    return canon


def _parse_resolve(reader: _Reader) -> dict[str, tuple[str, int | None]]:
    raw = reader.table.get("resolve", {})
    if not isinstance(raw, Mapping):
        raise reader.error("resolve", 'must be a table of host = "IP" or "IP:port"')
    out: dict[str, tuple[str, int | None]] = {}
    for host, target in raw.items():
        key = f"resolve.{host}"
        if not isinstance(target, str):
            raise reader.error(key, f'must be "IP" or "IP:port", not {describe(target)}')
        addr, port = target, None
        if target.count(":") == 1:
            addr, _, port_text = target.partition(":")
            if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                raise reader.error(key, f"bad port in {target!r}")
            port = int(port_text)
        elif target.startswith("["):
            addr, _, rest = target[1:].partition("]")
            if rest:
                if not rest.startswith(":") or not rest[1:].isdigit():
                    raise reader.error(key, f"bad port in {target!r}")
                port = int(rest[1:])
                if not 0 < port < 65536:
                    raise reader.error(key, f"bad port in {target!r}")
        try:
            ipaddress.ip_address(addr)
        except ValueError:
            reason = f"must be an IP address (optionally :port), not {target!r}"
            raise reader.error(key, reason) from None
        out[host.lower().rstrip(".")] = (addr, port)
    return out


def parse_when(text: str, tz: ZoneInfo) -> dt.datetime:
    """Parse ``YYYY-MM-DD`` (00:00 in ``tz``) or an ISO 8601 time with an offset."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            return dt.datetime.combine(day, dt.time(), tzinfo=tz)
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"not a date (YYYY-MM-DD) or an ISO 8601 time: {text!r}") from exc
    if moment.tzinfo is None:
        raise ValueError(f"an ISO 8601 time needs an offset such as +08:00: {text!r}")
    return moment


def _as_of(value: object, tz: ZoneInfo, error: Callable[[str], ConfigError]) -> dt.datetime:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=tz)
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), tzinfo=tz)
    if isinstance(value, str):
        try:
            return parse_when(value, tz)
        except ValueError as exc:
            raise error(str(exc)) from None
    raise error(f"must be a date such as 2020-06-16, not {describe(value)}")


# ---------------------------------------------------------------------------------------------
# the sections

_CRAWL_KEYS = {
    "rate",
    "concurrency",
    "timeout",
    "max_pages",
    "max_depth",
    "robots",
    "user_agent",
    "allow_private",
    "workers",
    "retries",
    "retry_backoff",
    "recheck_delay",
    "max_body",
    "max_redirects",
    "resolve",
    "resolve_only",
    "resumable",
    "max_links",
    "render",
    "render_concurrency",
    "render_timeout",
    "render_restart",
    "browser",
}


def _crawl(r: _Reader) -> CrawlSettings:
    r.check_unknown(_CRAWL_KEYS)
    d = CrawlSettings()
    return CrawlSettings(
        rate=r.number("rate", d.rate, minimum=0),
        concurrency=r.integer("concurrency", d.concurrency, minimum=1),
        timeout=r.number("timeout", d.timeout, minimum=0, positive=True),
        max_pages=r.integer("max_pages", d.max_pages, minimum=1),
        max_depth=r.integer("max_depth", d.max_depth, minimum=0),
        robots=r.choice("robots", d.robots, ("obey", "ignore")),
        user_agent=r.string("user_agent", d.user_agent) or d.user_agent,
        allow_private=r.boolean("allow_private", d.allow_private),
        workers=r.integer("workers", d.workers, minimum=1),
        retries=r.integer("retries", d.retries, minimum=0),
        retry_backoff=r.number("retry_backoff", d.retry_backoff, minimum=0),
        recheck_delay=r.number("recheck_delay", d.recheck_delay, minimum=0),
        max_body=r.integer("max_body", d.max_body, minimum=1024),
        max_redirects=r.integer("max_redirects", d.max_redirects, minimum=0),
        resolve=_parse_resolve(r),
        resolve_only=r.boolean("resolve_only", d.resolve_only),
        resumable=r.boolean("resumable", d.resumable),
        max_links=r.integer("max_links", d.max_links, minimum=1),
        render=r.choice("render", d.render, ("auto", "never")),
        render_concurrency=r.integer("render_concurrency", d.render_concurrency, minimum=1),
        render_timeout=r.number("render_timeout", d.render_timeout, minimum=0, positive=True),
        render_restart=r.integer("render_restart", d.render_restart, minimum=1),
        browser=r.string("browser", d.browser),
    )


def _rules(r: _Reader) -> Rules:
    defaults = Rules()
    names = set(Rules.__dataclass_fields__)
    r.check_unknown(names)
    values: dict[str, Any] = {
        n: r.integer(n, getattr(defaults, n), minimum=0)
        for n in sorted(names)
        if n != "reply_count_from"
    }
    values["reply_count_from"] = r.choice(
        "reply_count_from", defaults.reply_count_from, ("next_day", "same_day")
    )
    return Rules(**values)


def _checks(r: _Reader) -> ChecksSettings:
    r.check_unknown({"disable"})
    raw = r.table.get("disable", [])
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise r.error("disable", "must be an array of check codes or families (strings)")
    return ChecksSettings(disable=tuple(raw))


def _content(r: _Reader, base: Path) -> ContentSettings:
    r.check_unknown({"typo_lexicon", "sensitive_lexicon", "allow_lexicon", "allow"})
    out: dict[str, Path | None] = {}
    for name in ("typo_lexicon", "sensitive_lexicon", "allow_lexicon"):
        text = r.string(name)
        if not text:
            out[name] = None
            continue
        try:
            path = (base / text).resolve()
            found = path.is_file()
        except (OSError, ValueError) as exc:  # a NUL byte, a name too long ...
            raise r.error(name, f"not a usable file name: {exc}") from None
        if not found:
            raise r.error(name, f"file not found: {path}")
        try:  # read once now: a bad line is a config error, not a failed scan
            (read_typo_lexicon if name == "typo_lexicon" else read_word_list)(path)
        except (LexiconError, OSError, UnicodeDecodeError) as exc:
            raise r.error(name, str(exc)) from None
        out[name] = path
    allow = r.table.get("allow", [])
    if not isinstance(allow, list) or not all(isinstance(w, str) and w for w in allow):
        raise r.error("allow", "must be an array of words (strings)")
    return ContentSettings(
        typo_lexicon=out["typo_lexicon"],
        sensitive_lexicon=out["sensitive_lexicon"],
        allow_lexicon=out["allow_lexicon"],
        allow=tuple(allow),
    )


def _schedule(r: _Reader, rules: Rules) -> Schedule:
    """``[schedule]``: when the daemon samples, scans and warns (see crawler/config/schedule.py)."""
    return parse_schedule(r.table, r.path, rules=rules)


def _scoring(r: _Reader) -> dict[str, float]:
    """``[scoring]``: per-finding deductions by check code and indicator points."""
    if r.table:
        declare_checks()  # a plug-in's codes can be scored too
    table = ScoringTable()
    known = set(table.rules) | {f"points.{k}" for k in table.indicators}
    r.check_unknown(known)
    return {key: r.number(key, 0.0, minimum=0) for key in r.table}


def _column(r: _Reader) -> Column:
    r.check_unknown({"name", "url", "category", "unit", "top_level", "simple", "selectors"})
    selectors = r.table.get("selectors", {})
    if not isinstance(selectors, Mapping) or not all(
        isinstance(v, str) for v in selectors.values()
    ):
        raise r.error("selectors", 'must be a table of key = "CSS selector"')
    problems = check_selectors(selectors)
    if problems:
        raise r.error("selectors", "; ".join(problems))
    category = r.string("category") or None
    if category is not None and category not in CATEGORIES:
        raise r.error("category", f"must be one of {', '.join(CATEGORIES)}, not {category!r}")
    raw = r.table.get("url")
    gkml = re.search(r"/gkmlpt/m?index#([0-9]+)", raw) if isinstance(raw, str) else None
    if gkml is not None:  # the fragment is the catalogue, and a URL is read without it
        raise r.error(
            "url",
            f"a gkmlpt catalogue ({raw}) is listed at "
            f".../gkmlpt/api/all/{gkml.group(1)}?page=1&sid=SID (SID as in the page's "
            "window._CONFIG); write that, or leave the site's columns to discovery",
        )
    return Column(
        name=r.string("name", required=True),
        url=r.url("url"),
        category=category,
        unit=r.string("unit") or None,
        top_level=r.boolean("top_level", False),
        simple=r.boolean("simple", False),
        selectors=dict(selectors),
    )


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# an RSSHub route: a path of the instance, such as /weibo/user/1195230310 (a query is allowed
# for RSSHub's own parameters, such as ?limit=10; never the access key)
_ROUTE = re.compile(r"^/[^/\s?#][^\s?#]*(\?[^\s#]*)?$")


def _newmedia(r: _Reader) -> NewMediaSettings:
    """``[newmedia]``: the office's RSSHub instance and the variable holding its access key."""
    r.check_unknown({"rsshub", "rsshub_key_env"})
    instance = r.url("rsshub", required=False)
    if instance and ("?" in instance or "#" in instance):
        raise r.error("rsshub", f"must be the instance's base URL, without a query: {instance!r}")
    key_env = r.string("rsshub_key_env")
    if key_env and not _ENV_NAME.match(key_env):
        raise r.error(
            "rsshub_key_env",
            f"must be the name of an environment variable (such as RSSHUB_KEY), not {key_env!r}",
        )
    if key_env and not instance:
        raise r.error("rsshub_key_env", "needs the instance: set rsshub too")
    return NewMediaSettings(rsshub=instance.rstrip("/"), rsshub_key_env=key_env)


def _account(r: _Reader, newmedia: NewMediaSettings) -> NewMedia:
    """One ``[[site.newmedia]]`` account: a page or feed ``url``, or an RSSHub ``rsshub`` route."""
    r.check_unknown({"name", "url", "rsshub"})
    name = r.string("name", required=True)
    if "rsshub" not in r.table:
        if "url" not in r.table:
            raise r.error("url", "is required (or rsshub, an RSSHub route)")
        return NewMedia(name=name, url=r.url("url"))
    if "url" in r.table:
        raise r.error("rsshub", "url and rsshub are mutually exclusive: give one of them")
    route = r.string("rsshub", required=True).strip()
    if not _ROUTE.match(route) or "/../" in f"{route}/" or "/./" in f"{route}/":
        raise r.error(
            "rsshub", f"must be an RSSHub route such as /weibo/user/1195230310, not {route!r}"
        )
    if re.search(r"[?&](key|code)=", route):
        raise r.error("rsshub", "the access key belongs in [newmedia] rsshub_key_env, not here")
    if not newmedia.rsshub:
        raise r.error(
            "rsshub",
            'an RSSHub route needs the instance: set [newmedia] rsshub = "http://127.0.0.1:1200"',
        )
    url = r.url("rsshub", value=newmedia.rsshub + route)
    return NewMedia(name=name, url=url, route=route)


def _site(r: _Reader, newmedia: NewMediaSettings) -> Site:
    r.check_unknown({"id", "name", "unit", "kind", "url", "scope", "column", "newmedia"})
    site_id = r.string("id", required=True)
    if not _SITE_ID.match(site_id):
        raise r.error("id", f"must be short letters, digits, '-', '_' or '.', not {site_id!r}")
    url = r.url("url")
    # default scope: the folder of the site's URL ("http://h/fgj/index.html" -> "http://h/fgj/")
    raw_scope = r.table.get("scope", [url[: url.rfind("/") + 1]])
    if isinstance(raw_scope, str):
        raw_scope = [raw_scope]
    if not isinstance(raw_scope, list) or not raw_scope:
        raise r.error("scope", "must be a non-empty array of URL prefixes")
    scope = tuple(r.url(f"scope[{i}]", value=item) for i, item in enumerate(raw_scope))
    columns = tuple(
        _column(_Reader(r.path, f"{r.prefix}.column[{i}]", t))
        for i, t in enumerate(r.tables("column"))
    )
    media = tuple(
        _account(_Reader(r.path, f"{r.prefix}.newmedia[{i}]", t), newmedia)
        for i, t in enumerate(r.tables("newmedia"))
    )
    name = r.string("name") or site_id
    return Site(
        id=site_id,
        name=name,
        unit=r.string("unit") or name,
        kind=r.choice("kind", "department", SITE_KINDS),
        url=url,
        scope=scope,
        columns=columns,
        newmedia=media,
    )


def parse_config(data: Mapping[str, Any], path: str = "<config>") -> Config:
    """Validate a parsed TOML document into a :class:`Config`."""
    base = Path(path).parent if path != "<config>" else Path.cwd()
    top = _Reader(path, "", data)
    top.check_unknown(
        {"as_of", "timezone", "crawl", "rules", "checks", "content", "scoring", "schedule", "site"}
        | {"alerts"}
        | {"newmedia"}
    )
    timezone = top.string("timezone", "Asia/Shanghai")
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
        raise top.error("timezone", f"unknown time zone {timezone!r}") from None
    as_of = None
    if "as_of" in data:
        as_of = _as_of(data["as_of"], tz, lambda reason: top.error("as_of", reason))
    newmedia = _newmedia(top.sub("newmedia"))
    sites = tuple(
        _site(_Reader(path, f"site[{i}]", t), newmedia) for i, t in enumerate(top.tables("site"))
    )
    rules = _rules(top.sub("rules"))
    if not sites:
        raise top.error("site", "at least one [[site]] is required")
    seen: dict[str, int] = {}
    for i, s in enumerate(sites):
        if s.id in seen:
            raise ConfigError(
                path, f"site[{i}].id", f"duplicate site id {s.id!r} (also site[{seen[s.id]}])"
            )
        seen[s.id] = i
    return Config(
        path=path,
        sites=sites,
        crawl=_crawl(top.sub("crawl")),
        rules=rules,
        checks=_checks(top.sub("checks")),
        content=_content(top.sub("content"), base),
        scoring=_scoring(top.sub("scoring")),
        schedule=_schedule(top.sub("schedule"), rules),
        alerts=parse_alerts(data["alerts"], path) if "alerts" in data else (),
        newmedia=newmedia,
        timezone=timezone,
        as_of=as_of,
    )


def load_config(path: str | Path) -> Config:
    """Read and validate the TOML file at ``path``."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(name, "", f"cannot read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(name, "", f"not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(name, "", f"not valid TOML: {exc}") from None
    config = parse_config(data, name)
    return dataclasses.replace(config, digest=hashlib.sha256(raw).hexdigest()[:16])
