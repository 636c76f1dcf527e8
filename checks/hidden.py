"""Links hidden from readers (暗链) that point off the site. Pure.

Planted links are made invisible so that readers do not see them while search engines do. A
link counts as hidden when it, or an element around it, is hidden by its inline ``style`` or by a
``<style>`` rule with a simple selector (``#id``, ``.class``, ``tag``, ``tag.class``,
``tag#id``, ``.a.b``; rules inside ``@media`` blocks included):

* ``display:none``; ``visibility:hidden`` (or ``collapse``); ``opacity:0``; the ``hidden``
  attribute;
* off-screen: ``position:absolute``, ``fixed`` or ``relative`` with ``top``, ``left``, ``right`` or
  ``bottom`` at -500px or beyond; ``margin-left`` / ``margin-top`` at -500px or beyond;
  ``text-indent`` at -500px or beyond;
* too small to see: ``font-size`` of 1px or less (or 0 in any unit); ``height`` or ``width`` of
  1px or less with ``overflow:hidden``; ``clip:rect(0 0 0 0)``-like clipping with
  ``position:absolute``;
* inside a ``<marquee>`` whose height or width (attribute or style) is 10px or less.

Only links that leave the site count: the target is outside every ``scope`` prefix and every
``trusted_hosts`` domain (by default government and site-furniture domains,
:data:`DEFAULT_TRUSTED_HOSTS`: planted links point at gambling and spam hosts, while hidden tabs
of 友情链接 and mobile-only footers point at other government sites). A hidden "skip to content"
link to the site itself is not a finding, and neither is a hidden link whose target the page
also links visibly. Rules inside ``@media`` blocks count only for ``@media screen`` / ``all``
without conditions: a block hidden at some widths is shown at others.
Scripts that write the hiding at run time, colours matching the background and descendant
selectors (``.box a``) are not read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.net.urls import canonicalize, hostname, in_scope

OFFSCREEN_PX: Final = -500.0
TINY_PX: Final = 1.0
TINY_MARQUEE_PX: Final = 10.0

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
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
        for prelude, body in _blocks(_COMMENT.sub("", css)):
            if prelude.startswith("@"):
                if _media_always_applies(prelude):
                    self.add(body)
                continue
            declarations = parse_declarations(body)
            if not declarations:
                continue
            for raw in prelude.split(","):
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


def _blocks(css: str) -> list[tuple[str, str]]:
    """Top-level ``prelude { body }`` blocks, nested braces kept in the body."""
    out: list[tuple[str, str]] = []
    depth = 0
    start = 0
    prelude = ""
    for i, ch in enumerate(css):
        if ch == "{":
            if depth == 0:
                prelude = css[start:i].strip()
                start = i + 1
            depth += 1
        elif ch == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                out.append((prelude.rsplit(";", 1)[-1].strip(), css[start:i]))
                start = i + 1
    return out


def _media_always_applies(prelude: str) -> bool:
    """``@media screen`` / ``@media all`` apply on every screen; a width or device condition
    (``@media (max-width:768px)``), print media and other at-rules do not."""
    if not prelude.lower().startswith("@media"):
        return False
    query = prelude[6:].strip().lower()
    if "(" in query:
        return False
    kinds = {k.strip().removeprefix("only ").strip() for k in query.split(",")}
    return bool(kinds & {"screen", "all", ""})


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
    positioned = style.get("position") in ("absolute", "fixed", "relative")
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


# hosts whose links every government site carries in its furniture (the 党政机关 mark, the 找错
# and 普查 widgets, the reporting centres) and the government domain itself: a hidden link to
# them is layout (a tab, a mobile-only footer), not a planted link
DEFAULT_TRUSTED_HOSTS: Final = ("gov.cn", "conac.cn", "kaipuyun.cn", "12377.cn", "cyberpolice.cn")


def _off_site(url: str, scope: tuple[str, ...], trusted: Sequence[str]) -> bool:
    if in_scope(url, scope):
        return False
    host = hostname(url)
    return not any(host == t.lstrip(".") or host.endswith("." + t.lstrip(".")) for t in trusted)


# the declarations hiding_reason reads: a rule declaring none of them never hides anything
_HIDING_PROPERTIES: Final = frozenset(
    {
        "display", "visibility", "opacity", "position", "top", "left", "right", "bottom", "clip",
        "margin-left", "margin-top", "text-indent", "font-size", "overflow", "overflow-x",
        "overflow-y", "height", "max-height", "width", "max-width",
    }
)  # fmt: skip


def _may_hide(sheet: StyleSheet) -> str:
    """A CSS selector list matching every element that may be hidden (a superset): those with a
    ``style`` or ``hidden`` attribute, marquees, and those a rule of ``sheet`` that declares a
    hiding property may match (any element with an id or a class, or of the rule's tag)."""
    parts = ["[style]", "[hidden]", "marquee"]
    for selector, declarations in sheet.rules:
        if _HIDING_PROPERTIES.isdisjoint(declarations):
            continue
        if selector.ids:
            part = "[id]"
        elif selector.classes:
            part = "[class]"
        else:
            part = selector.tag or "*"
        if part not in parts:
            parts.append(part)
    return ", ".join(parts)


def hidden_links(
    tree: LexborHTMLParser,
    page_url: str,
    scope: Sequence[str],
    *,
    trusted_hosts: Sequence[str] = DEFAULT_TRUSTED_HOSTS,
) -> list[HiddenLink]:
    """Hidden links on a page that point off the site (outside every ``scope`` prefix and every
    ``trusted_hosts`` domain), one per target, in page order.

    A target that the page also links visibly is not hidden from readers (a mobile-only copy of
    the footer, a second tab of the same links) and is left out.
    """
    sheet = StyleSheet()
    for style in tree.css("style"):
        sheet.add(style.text(deep=True))
    reasons: dict[int, str | None] = {}

    def reason_of(node: LexborNode) -> str | None:
        key = node.mem_id
        if key not in reasons:
            attrs = dict(node.attributes)
            reasons[key] = hiding_reason(sheet.style_of(node), tag=node.tag or "", attrs=attrs)
        return reasons[key]

    # The elements that hide what they hold, found first: on most pages there are none, and
    # no link needs resolving. Only the links inside them can be hidden.
    inside: set[int] = set()
    for box in tree.css(_may_hide(sheet)):
        if box.tag not in ("html", "-document") and reason_of(box) is not None:
            inside.update(a.mem_id for a in box.css("a[href]"))
    if not inside:
        return []
    prefixes = tuple(p for p in (canonicalize(s) for s in scope) if p is not None)
    hidden: list[HiddenLink] = []
    visible: set[str] = set()
    seen: set[str] = set()
    for a in tree.css("a[href]"):
        url = canonicalize(a.attributes.get("href") or "", page_url)
        if url is None or not _off_site(url, prefixes, trusted_hosts):
            continue
        node: LexborNode | None = a if a.mem_id in inside else None
        reason: str | None = None
        while node is not None and node.tag not in ("html", "-document"):
            reason = reason_of(node)
            if reason is not None:
                break
            node = node.parent
        if reason is None:
            visible.add(url)
        elif url not in seen:
            seen.add(url)
            hidden.append(HiddenLink(url, " ".join(a.text().split()), reason))
    return [h for h in hidden if h.url not in visible]
