"""Which findings a report sets aside, and which ignore sets each one aside.

``govmon ignore`` keeps two kinds of ignore in the store (:mod:`storage.sqlignores`): one
finding, by its identity; and a rule, which sets aside every finding whose subject URL matches
a URL pattern, optionally of one check and/or one site (a footer link on every channel is one
rule). Rules are applied here, when a report is built, so a rule covers every scan, past and
future. A finding ignored by its identity is set aside by that ignore; otherwise by the oldest
rule that matches it.

URL patterns are glob-style, matched against the finding's whole subject URL in its canonical
form (:mod:`crawler.net.urls`: host in lower case, no default port, no ``#fragment``, the path
percent-encoded):

- ``*`` is the only wildcard. In the path and query it stands for any run of characters,
  ``/`` and ``?`` included: ``https://beian.miit.gov.cn/*`` is every page of that host.
- In the host, ``*`` stands for part of one label, never a ``.`` (as in a certificate):
  ``https://*.example.gov.cn/*`` matches ``www.example.gov.cn`` but neither
  ``example.gov.cn`` nor ``a.b.example.gov.cn``; ``https://a.gov.cn/x*`` never matches
  ``https://a.gov.cn.evil/x``.
- Everything else is literal, ``?``, ``[`` and ``.`` included.
- The scheme is ``http``, ``https`` or ``*`` (either). A pattern without a port matches the
  default port only.
- A pattern is written as a URL is: the host in any case, Chinese in the path as typed or
  percent-encoded alike; it is stored normalised (:func:`normalise_pattern`). A pattern with
  no path is the home page (``https://a.gov.cn`` is ``https://a.gov.cn/``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from checks.catalogue import name_of
from crawler.net.urls import canonicalize
from crawler.reports.model import FindingEntry, IgnoreNote

__all__ = [
    "Ignores",
    "PatternError",
    "basis",
    "compile_pattern",
    "is_finding_prefix",
    "normalise_pattern",
]

_SCHEME = re.compile(r"([A-Za-z*]+)://")
_LABEL_STAR = "[^./:@]*"  # a * in the host: part of one label
_PLACEHOLDER_HOST = "pattern.invalid"
_HEX = re.compile(r"[0-9a-fA-F]{4,16}\Z")


class PatternError(ValueError):
    """A URL pattern that is not one (the message says why, with an example)."""


def is_finding_prefix(text: str) -> bool:
    """Whether ``text`` can name a finding: 4 to 16 hex digits (its identity or a prefix)."""
    return bool(_HEX.match(text))


def normalise_pattern(text: str) -> str:
    """The canonical form of the URL pattern ``text`` (what is stored and shown)."""
    text = text.strip()
    example = "e.g. 'https://beian.miit.gov.cn/*'"
    match = _SCHEME.match(text)
    scheme = match.group(1).lower() if match else ""
    if scheme not in ("http", "https", "*"):
        raise PatternError(
            f"URL pattern {text!r}: expected one starting with http://, https:// or *://"
            f" ({example})"
        )
    assert match is not None
    rest = text[match.end() :]
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    host, port = _authority(authority, text)
    if host.endswith("*") and not tail.strip("/"):
        raise PatternError(
            f"URL pattern {text!r}: a * in the host stays within the host; for every page of"
            f" the site write {scheme}://{host.rstrip('*') or 'example.gov.cn'}/*"
        )
    if scheme != "*" and port == {"http": "80", "https": "443"}[scheme]:
        port = ""
    # the path and query as the crawler writes them (a * is kept as it is)
    canonical = canonicalize(f"http://{_PLACEHOLDER_HOST}{tail or '/'}")
    if canonical is None:  # (cannot happen for a path on a valid host; be clear anyway)
        raise PatternError(f"URL pattern {text!r}: not a URL ({example})")
    path = canonical[len(f"http://{_PLACEHOLDER_HOST}") :]
    return f"{scheme}://{host}{':' + port if port else ''}{path}"


def _authority(authority: str, text: str) -> tuple[str, str]:
    """``(host, port)`` of a pattern's authority: the host lower-cased, IDNA-encoded."""
    if "@" in authority:
        raise PatternError(f"URL pattern {text!r}: no user name or @ in a pattern's host")
    host, colon, port = authority.rpartition(":") if ":" in authority else (authority, "", "")
    if colon and not (port.isdigit() and 0 < int(port) <= 65535):
        raise PatternError(f"URL pattern {text!r}: port {port!r} is not a port number")
    labels = []
    for label in host.rstrip(".").split("."):
        if label.isascii():
            labels.append(label.lower())
        elif "*" in label:
            raise PatternError(f"URL pattern {text!r}: a * in a non-ASCII host label")
        else:
            try:
                labels.append(label.encode("idna").decode("ascii"))
            except UnicodeError:
                raise PatternError(f"URL pattern {text!r}: {label!r} is not a host name") from None
    host = ".".join(labels)
    if not host or canonicalize(f"http://{host.replace('*', 'x')}/") is None:
        raise PatternError(f"URL pattern {text!r}: {host or 'no host'!r} is not a host name")
    return host, str(int(port)) if port else ""


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """The regular expression a normalised ``pattern`` stands for (``fullmatch`` it)."""
    scheme, _, rest = pattern.partition("://")
    slash = rest.find("/")
    authority, tail = (rest, "") if slash < 0 else (rest[:slash], rest[slash:])
    return re.compile(_regex(scheme, authority, tail))


def _regex(scheme: str, authority: str, tail: str) -> str:
    scheme_re = "https?" if scheme == "*" else re.escape(scheme)
    host_re = _LABEL_STAR.join(re.escape(part) for part in authority.split("*"))
    tail_re = ".*".join(re.escape(part) for part in tail.split("*"))
    return f"{scheme_re}://{host_re}{tail_re}"


def basis(note: IgnoreNote | Mapping[str, Any]) -> str:
    """Which ignore set a finding aside, in words (a report's 忽略依据 column)."""
    if note.get("kind") != "rule":
        return f"单项忽略 {note['id']}"
    text = f"规则 {note['id']}：{note.get('pattern')}"
    limits = []
    if note.get("check"):
        limits.append(f"仅{name_of(str(note['check']))}（{note['check']}）")
    if note.get("site"):
        limits.append(f"仅网站 {note['site']}")
    return text + (f"，{'，'.join(limits)}" if limits else "")


@dataclass(slots=True)
class Ignores:
    """The store's ignores, ready to ask of each finding of a report which sets it aside.

    Rules are grouped by their (check, site) limits, each group one regular expression whose
    alternatives are its rules, oldest first: a finding costs at most four matches, however
    many rules there are."""

    singles: Mapping[str, IgnoreNote] = field(default_factory=dict)
    rules: Sequence[IgnoreNote] = ()
    _groups: dict[tuple[str | None, str | None], re.Pattern[str]] = field(default_factory=dict)
    _by_group: dict[str, IgnoreNote] = field(default_factory=dict)

    def __post_init__(self) -> None:
        grouped: dict[tuple[str | None, str | None], list[str]] = {}
        for rule in sorted(self.rules, key=_rule_number):
            try:
                regex = compile_pattern(normalise_pattern(str(rule["pattern"])))
            except PatternError:
                continue  # (every stored pattern was checked; one edited by hand matches nothing)
            name = f"r{_rule_number(rule)}"
            self._by_group[name] = rule
            grouped.setdefault((rule["check"], rule["site"]), []).append(
                f"(?P<{name}>{regex.pattern})"
            )
        self._groups = {key: re.compile("|".join(parts)) for key, parts in grouped.items()}

    def note_for(self, finding: FindingEntry) -> IgnoreNote | None:
        """The ignore that sets ``finding`` aside (its own, else the oldest rule), or None."""
        own = self.singles.get(finding["id"])
        if own is not None:
            return own
        found: list[IgnoreNote] = []
        for key in _limits(finding["check"], finding["site"]):
            regex = self._groups.get(key)
            match = regex.fullmatch(finding["url"]) if regex is not None else None
            if match is not None and match.lastgroup is not None:
                found.append(self._by_group[match.lastgroup])
        return min(found, key=_rule_number) if found else None

    def matching(self, findings: Iterable[FindingEntry]) -> list[FindingEntry]:
        """The findings some ignore sets aside."""
        return [f for f in findings if self.note_for(f) is not None]


def _limits(check: str, site: str) -> tuple[tuple[str | None, str | None], ...]:
    return ((None, None), (check, None), (None, site), (check, site))


def _rule_number(rule: IgnoreNote | Mapping[str, Any]) -> int:
    return int(str(rule["id"]).removeprefix("r"))
