"""The ``[[alerts]]`` tables: where the daemon's warnings go besides ``[schedule] webhook``.

:func:`parse_alerts` validates the tables into the frozen channels of
:mod:`crawler.config.model` (a generic webhook, a 钉钉 custom robot, a 企业微信 group robot,
e-mail). Secrets are never in the file: a key such as ``secret_env`` names an environment
variable and ``secret_file`` a file, and a secret written into the file (``secret = "SEC…"``,
a robot URL with its ``access_token=``) is a config error that says where to put it instead.

:func:`read_secret` reads one when the daemon starts (not when the file is loaded: ``govmon
report`` on another machine needs no robot's secret); a variable that is not set or a file that
cannot be read is a :class:`ConfigError` naming the file, the key and the problem, never the
secret.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from crawler.config.errors import ConfigError, describe
from crawler.config.model import (
    ALERT_KINDS,
    AlertChannel,
    DingTalkAlert,
    EmailAlert,
    SecretRef,
    WebhookAlert,
    WeComAlert,
)

__all__ = ["ALERT_KEYS", "parse_alerts", "read_secret"]

_COMMON = {"kind", "name", "timeout", "retries", "report_url"}
#: the keys each kind takes
ALERT_KEYS: Mapping[str, frozenset[str]] = {
    "webhook": frozenset(_COMMON | {"url", "url_env", "url_file"}),
    "dingtalk": frozenset(_COMMON | {"url_env", "url_file", "secret_env", "secret_file"}),
    "wecom": frozenset(_COMMON | {"url_env", "url_file"}),
    "email": frozenset(
        _COMMON
        | {"host", "port", "security", "user", "password_env", "password_file", "from", "to"}
        | {"html"}
    ),
}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
# query parameters that are credentials: a URL with one of them is a secret
_CREDENTIALS = frozenset(
    {"access_token", "token", "key", "secret", "sign", "signature", "password", "apikey",
     "api_key"}
)  # fmt: skip
_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
_MAX_SECRET = 64 * 1024


def parse_alerts(value: object, path: str) -> tuple[AlertChannel, ...]:
    """Validate the ``alerts`` value of the file at ``path`` (an array of tables)."""
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ConfigError(path, "alerts", "must be an array of tables ([[alerts]])")
    out: list[AlertChannel] = []
    names: dict[str, str] = {}
    for i, table in enumerate(value):
        channel = _channel(_Table(path, f"alerts[{i}]", table))
        if channel.name in names:
            raise ConfigError(
                path,
                f"{channel.key}.name",
                f"{channel.name!r} is also the name of {names[channel.name]}: give each"
                " channel its own name",
            )
        names[channel.name] = channel.key
        out.append(channel)
    return tuple(out)


class _Table:
    def __init__(self, path: str, key: str, table: Mapping[str, Any]) -> None:
        self.path, self.key, self.table = path, key, table

    def error(self, name: str, reason: str) -> ConfigError:
        return ConfigError(self.path, f"{self.key}.{name}", reason)

    def string(self, name: str, *, required: bool = False) -> str | None:
        if name not in self.table:
            if required:
                raise self.error(name, "is required")
            return None
        raw = self.table[name]
        if not isinstance(raw, str) or not raw.strip():
            raise self.error(name, f"must be a non-empty string, not {describe(raw)}")
        return raw.strip()

    def number(self, name: str, default: float, lo: float, hi: float) -> float:
        raw = self.table.get(name, default)
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not lo < raw <= hi:
            raise self.error(name, f"must be a number of seconds in ({lo:g}, {hi:g}], not"
                                   f" {describe(raw)}")  # fmt: skip
        return float(raw)

    def integer(self, name: str, default: int, lo: int, hi: int) -> int:
        raw = self.table.get(name, default)
        if isinstance(raw, bool) or not isinstance(raw, int) or not lo <= raw <= hi:
            raise self.error(name, f"must be an integer between {lo} and {hi}, not {describe(raw)}")
        return raw

    def secret(self, stem: str, *, required: bool, what: str) -> SecretRef | None:
        """``{stem}_env`` or ``{stem}_file`` (one of them, or neither unless ``required``)."""
        env, file = self.string(f"{stem}_env"), self.string(f"{stem}_file")
        if env is not None and file is not None:
            raise self.error(f"{stem}_file", f"give {stem}_env or {stem}_file, not both")
        if env is not None:
            if not _ENV_NAME.match(env):
                raise self.error(
                    f"{stem}_env",
                    f"must be the name of an environment variable (letters, digits, _), not"
                    f" {env!r}: the variable holds the secret, the config names it",
                )
            return SecretRef(f"{self.key}.{stem}_env", env=env)
        if file is not None:
            base = Path(self.path).parent if self.path != "<config>" else Path.cwd()
            return SecretRef(f"{self.key}.{stem}_file", file=base / file)
        if required:
            raise self.error(f"{stem}_env", f"is required (or {stem}_file): {what}")
        return None


def _channel(t: _Table) -> AlertChannel:
    kind = t.table.get("kind")
    if kind not in ALERT_KINDS:
        raise t.error("kind", f"must be one of {', '.join(ALERT_KINDS)}, not {describe(kind)}")
    allowed = ALERT_KEYS[kind]
    for name in t.table:
        if f"{name}_env" in allowed and name != "url":
            raise t.error(
                name,
                "is a secret and does not belong in the config file: name an environment"
                f' variable ({name}_env = "GOVMON_…") or a file ({name}_file ='
                ' "/run/secrets/…") that holds it',
            )
        if name in ("url", "token", "access_token", "key") and kind in ("dingtalk", "wecom"):
            raise t.error(
                name,
                "a robot's URL holds its token (access_token= or key=), a secret that does not"
                " belong in the config file: put the whole robot URL in an environment variable"
                ' (url_env = "GOVMON_…") or a file (url_file = "/run/secrets/…")',
            )
        if name not in allowed:
            raise t.error(name, f"unknown key for kind = {kind!r} (known keys:"
                                f" {', '.join(sorted(allowed))})")  # fmt: skip
    common: dict[str, Any] = {
        "key": t.key,
        "name": t.string("name") or t.key,
        "timeout": t.number("timeout", 10.0, 0.0, 600.0),
        "retries": t.integer("retries", 5, 0, 20),
        "report_url": _http_url(t, "report_url") if "report_url" in t.table else None,
    }
    if kind == "email":
        return _email(t, common)
    url = None
    if "url" in t.table:
        url = _http_url(t, "url")
        found = _credential_in(url)
        if found:
            raise t.error(
                "url",
                f"the URL carries a credential ({found}=…) that does not belong in the config"
                ' file: put the whole URL in an environment variable (url_env = "GOVMON_…")'
                ' or a file (url_file = "/run/secrets/…")',
            )
        if "url_env" in t.table or "url_file" in t.table:
            raise t.error("url", "give url, url_env or url_file: one of them")
    what = {"webhook": "the webhook's URL", "dingtalk": "the robot's URL (with access_token=)",
            "wecom": "the robot's URL (with key=)"}[kind]  # fmt: skip
    url_secret = t.secret("url", required=url is None, what=what)
    if kind == "webhook":
        return WebhookAlert(url=url, url_secret=url_secret, **common)
    assert url_secret is not None
    if kind == "wecom":
        return WeComAlert(url_secret=url_secret, **common)
    secret = t.secret("secret", required=False, what="the robot's signing secret (加签)")
    return DingTalkAlert(url_secret=url_secret, secret=secret, **common)


def _email(t: _Table, common: dict[str, Any]) -> EmailAlert:
    host = t.string("host", required=True)
    assert host is not None
    if any(c in host for c in "/@: ") and not host.startswith("["):
        raise t.error("host", f"must be a host name or address such as smtp.example.gov.cn,"
                              f" not {host!r} (the port is port =)")  # fmt: skip
    security = t.table.get("security", "starttls")
    if security not in _PORTS:
        raise t.error("security", f"must be starttls, ssl or none, not {describe(security)}")
    user = t.string("user")
    if user is not None and security == "none":
        raise t.error("user", 'a password is never sent over a plain connection: use security'
                              ' = "starttls" (port 587) or "ssl" (port 465)')  # fmt: skip
    password = t.secret("password", required=user is not None, what="the mailbox's password")
    if password is not None and user is None:
        raise t.error("user", "is required when a password is given")
    sender = t.string("from", required=True)
    assert sender is not None
    if not _ADDRESS.match(parseaddr(sender)[1]) or "\n" in sender or "\r" in sender:
        raise t.error("from", f'must be an e-mail address such as "政府网站监测'
                              f' <govmon@example.gov.cn>", not {sender!r}')  # fmt: skip
    raw_to = t.table.get("to")
    if isinstance(raw_to, str):
        raw_to = [raw_to]
    if not isinstance(raw_to, list) or not raw_to:
        raise t.error("to", f"is required: an address or an array of them, not {describe(raw_to)}")
    to: list[str] = []
    for i, item in enumerate(raw_to):
        if not isinstance(item, str) or not _ADDRESS.match(item.strip()):
            raise t.error(f"to[{i}]", f"must be an e-mail address, not {describe(item)}")
        to.append(item.strip())
    html = t.table.get("html", False)
    if not isinstance(html, bool):
        raise t.error("html", f"must be true or false, not {describe(html)}")
    return EmailAlert(
        host=host.strip("[]"),
        port=t.integer("port", _PORTS[security], 1, 65535),
        security=security,
        user=user,
        password=password,
        sender=sender,
        to=tuple(to),
        html=html,
        **common,
    )


def _http_url(t: _Table, name: str) -> str:
    url = t.string(name, required=True)
    assert url is not None
    if not re.match(r"^https?://[^/\s]+", url, re.I):
        raise t.error(name, f"must be an http(s) URL, not {url!r}")
    return url


def _credential_in(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.password:
        return "password"
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name.lower() in _CREDENTIALS and value:
            return name
    return None


def read_secret(
    ref: SecretRef, path: str, *, check: Callable[[str], str | None] | None = None
) -> str:
    """The secret ``ref`` names, read now; ``check`` may refuse its form (a reason, or None).

    Raises :class:`ConfigError` (the config file ``path``, ``ref.key``, the problem) when the
    variable is not set or empty, or the file cannot be read; the message never holds the
    secret.
    """
    if ref.env is not None:
        value = os.environ.get(ref.env)
        if value is None:
            raise ConfigError(path, ref.key, f"the environment variable {ref.env} is not set")
        where = f"the environment variable {ref.env}"
    else:
        assert ref.file is not None
        try:
            with ref.file.open("rb") as fh:
                data = fh.read(_MAX_SECRET + 1)
        except OSError as exc:
            raise ConfigError(
                path, ref.key, f"cannot read {ref.file}: {exc.strerror or type(exc).__name__}"
            ) from None
        if len(data) > _MAX_SECRET:
            raise ConfigError(path, ref.key, f"{ref.file} is too large for a secret")
        try:
            value = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError(path, ref.key, f"{ref.file} is not UTF-8 text") from None
        where = str(ref.file)
    value = value.strip()
    if not value:
        raise ConfigError(path, ref.key, f"{where} is empty")
    if any(c in value for c in "\r\n\x00"):
        raise ConfigError(path, ref.key, f"{where} holds more than one line")
    reason = check(value) if check is not None else None
    if reason is not None:
        raise ConfigError(path, ref.key, f"{where}: {reason}")
    return value
