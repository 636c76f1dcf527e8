"""Links hidden from readers (暗链) that point off the site. Pure.

Planted links are made invisible so that readers do not see them while search engines do. A
link counts as hidden when it, or an element around it, is hidden by its inline ``style`` or by a
``<style>`` rule with a simple selector (``#id``, ``.class``, ``tag``, ``tag.class``,
``tag#id``, ``.a.b``; rules inside ``@media`` blocks included):

* ``display:none``; ``visibility:hidden`` (or ``collapse``); ``opacity:0``; the ``hidden``
  attribute;
* off-screen: ``position:absolute`` or ``fixed`` with ``top``, ``left``, ``right`` or
  ``bottom`` at -500px or beyond; ``margin-left`` / ``margin-top`` at -500px or beyond;
  ``text-indent`` at -500px or beyond;
* too small to see: ``font-size`` of 1px or less (or 0 in any unit); ``height`` or ``width`` of
  1px or less with ``overflow:hidden``; ``clip:rect(0 0 0 0)``-like clipping with
  ``position:absolute``;
* inside a ``<marquee>`` whose height or width (attribute or style) is 10px or less.

Only links that leave the site count: the target is outside every ``scope`` prefix (and every
``trusted_hosts`` suffix). A hidden "skip to content" link to the site itself is not a finding.
Scripts that write the hiding at run time are not read (see the known gaps).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.urls import canonicalize, hostname, in_scope

OFFSCREEN_PX: Final = -500.0
TINY_PX: Final = 1.0
TINY_MARQUEE_PX: Final = 10.0

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_RULE = re.compile(r"([^{}@;]+)\{([^{}]*)\}")
_SIMPLE_SELECTOR = re.compile(r"^([a-zA-Z][a-zA-Z0-9]*)?((?:[#.][-_a-zA-Z0-9]+)*)$")
_PART = re.compile(r"([#.])([-_a-zA-Z0-9]+)")
_LENGTH = re.compile(r"^(-?\d*\.?\d+)\s*(px|pt|em|rem|%|vh|vw|cm|mm|in)?$", re.I)
_UNIT_PX: Final = {
    "px": 1.0,
    "pt": 4 / 3,
    "em": 16.0,
    "rem": 16.0,
    "cm": 37.8,
    "mm": 3.78,
    "in": 96.0,
}


@dataclass(frozen=True, slots=True)
class _Selector:
    tag: str | None
    ids: tuple[str, ...]
    classes: tuple[str, ...]

    def matches(self, tag: str, node_id: str, classes: frozenset[str]) -> bool:
        if self.tag is not None and self.tag != tag:
            return False
        if self.ids and any(i != node_id for i in self.ids):
            return False
        return all(c in classes for c in self.classes)


@dataclass(slots=True)
class StyleSheet:
    """The rules of a page's ``<style>`` blocks that have simple selectors, in source order."""

    rules: list[tuple[_Selector, dict[str, str]]] = field(default_factory=list)

    @classmethod
    def from_css(cls, css: str) -> StyleSheet:
        sheet = cls()
        sheet.add(css)
        return sheet

    def add(self, css: str) -> None:
        css = _COMMENT.sub("", css)
        for match in _RULE.finditer(css):
            declarations = parse_declarations(match.group(2))
            if not declarations:
                continue
            for raw in match.group(1).split(","):
                selector = _parse_selector(raw.strip())
                if selector is not None:
                    self.rules.append((selector, declarations))

    def style_of(self, node: LexborNode) -> dict[str, str]:
        """The declarations for ``node``: matching rules in order, then its inline style."""
        tag = (node.tag or "").lower()
        attrs = node.attributes
        node_id = attrs.get("id") or ""
        classes = frozenset((attrs.get("class") or "").split())
        out: dict[str, str] = {}
        for selector, declarations in self.rules:
            if selector.matches(tag, node_id, classes):
                out.update(declarations)
        inline = attrs.get("style")
        if inline:
            out.update(parse_declarations(inline))
        return out


def _parse_selector(raw: str) -> _Selector | None:
    if not raw:
        return None
    match = _SIMPLE_SELECTOR.match(raw)
    if match is None or (not match.group(1) and not match.group(2)):
        return None
    ids = tuple(m.group(2) for m in _PART.finditer(match.group(2)) if m.group(1) == "#")
    classes = tuple(m.group(2) for m in _PART.finditer(match.group(2)) if m.group(1) == ".")
    tag = match.group(1).lower() if match.group(1) else None
    return _Selector(tag, ids, classes)


def parse_declarations(text: str) -> dict[str, str]:
    """``{"display": "none", ...}`` from ``display: none; ...`` (names lower-cased, no
    ``!important``)."""
    out: dict[str, str] = {}
    for part in text.split(";"):
        name, sep, value = part.partition(":")
        if not sep:
            continue
        name = name.strip().lower()
        value = value.replace("!important", "").strip().lower()
        if name and value:
            out[name] = value
    return out


def _px(value: str | None) -> float | None:
    """A CSS length in px (``0`` without a unit too); ``None`` for anything else."""
    if value is None:
        return None
    match = _LENGTH.match(value.strip())
    if match is None:
        return None
    number = float(match.group(1))
    unit = (match.group(2) or "px").lower()
    if number == 0:
        return 0.0
    if unit not in _UNIT_PX:
        return None
    return number * _UNIT_PX[unit]


def hiding_reason(
    style: dict[str, str], *, tag: str = "", attrs: dict[str, str | None] | None = None
) -> str | None:
    """Why an element with these declarations is invisible, or ``None``."""
    attrs = attrs or {}
    if "hidden" in attrs:
        return "hidden attribute"
    if style.get("display") == "none":
        return "display:none"
    if style.get("visibility") in ("hidden", "collapse"):
        return "visibility:hidden"
    opacity = style.get("opacity")
    if opacity is not None:
        try:
            if float(opacity) <= 0.01:
                return "opacity:0"
        except ValueError:
            pass
    positioned = style.get("position") in ("absolute", "fixed")
    if positioned:
        for side in ("top", "left", "right", "bottom"):
            px = _px(style.get(side))
            if px is not None and px <= OFFSCREEN_PX:
                return f"position:{style.get('position')};{side}:{style.get(side)}"
        clip = style.get("clip", "").replace(",", " ")
        if clip.startswith("rect(") and all(
            (_px(v) or 0.0) <= TINY_PX for v in clip[5:].rstrip(")").split()
        ):
            return "clip:rect(0 0 0 0)"
    for name in ("margin-left", "margin-top", "text-indent"):
        px = _px(style.get(name))
        if px is not None and px <= OFFSCREEN_PX:
            return f"{name}:{style.get(name)}"
    font = _px(style.get("font-size"))
    if font is not None and font <= TINY_PX:
        return f"font-size:{style.get('font-size')}"
    if style.get("overflow") == "hidden" or style.get("overflow-y") == "hidden":
        for name in ("height", "max-height"):
            px = _px(style.get(name))
            if px is not None and px <= TINY_PX:
                return f"{name}:{style.get(name)};overflow:hidden"
    if style.get("overflow") == "hidden" or style.get("overflow-x") == "hidden":
        for name in ("width", "max-width"):
            px = _px(style.get(name))
            if px is not None and px <= TINY_PX:
                return f"{name}:{style.get(name)};overflow:hidden"
    if tag == "marquee":
        for name in ("height", "width"):
            px = _px(style.get(name) or attrs.get(name) or None)
            if px is not None and px <= TINY_MARQUEE_PX:
                return f"marquee {name}:{style.get(name) or attrs.get(name)}"
    return None


@dataclass(frozen=True, slots=True)
class HiddenLink:
    url: str  # the target, canonical
    text: str  # the link's text
    reason: str  # how it is hidden (display:none, font-size:0, ...)


def _off_site(url: str, scope: tuple[str, ...], trusted: Sequence[str]) -> bool:
    if in_scope(url, scope):
        return False
    host = hostname(url)
    return not any(host == t.lstrip(".") or host.endswith("." + t.lstrip(".")) for t in trusted)


def hidden_links(
    tree: LexborHTMLParser,
    page_url: str,
    scope: Sequence[str],
    *,
    trusted_hosts: Sequence[str] = (),
) -> list[HiddenLink]:
    """Hidden links on a page that point off the site (outside every ``scope`` prefix and every
    ``trusted_hosts`` domain), one per target, in page order."""
    sheet = StyleSheet()
    for style in tree.css("style"):
        sheet.add(style.text(deep=True))
    prefixes = tuple(p for p in (canonicalize(s) for s in scope) if p is not None)
    reasons: dict[int, str | None] = {}

    def reason_of(node: LexborNode) -> str | None:
        key = node.mem_id
        if key not in reasons:
            attrs = dict(node.attributes)
            reasons[key] = hiding_reason(sheet.style_of(node), tag=node.tag or "", attrs=attrs)
        return reasons[key]

    out: list[HiddenLink] = []
    seen: set[str] = set()
    for a in tree.css("a[href]"):
        url = canonicalize(a.attributes.get("href") or "", page_url)
        if url is None or url in seen or not _off_site(url, prefixes, trusted_hosts):
            continue
        node: LexborNode | None = a
        reason: str | None = None
        while node is not None and node.tag not in ("html", "-document"):
            reason = reason_of(node)
            if reason is not None:
                break
            node = node.parent
        if reason is not None:
            seen.add(url)
            out.append(HiddenLink(url, " ".join(a.text().split()), reason))
    return out
