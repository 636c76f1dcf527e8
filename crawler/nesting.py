"""How much work a page would cost the HTML parser, estimated before it is parsed. Pure.

lexbor (through selectolax) builds the tree as the HTML standard says, and several of its
steps walk the stack of open elements: a ``<div>`` looks for an open ``<p>`` to close, an end
tag looks for its element, a formatting element looks through the list of active formatting
elements. On ordinary pages the walks are short: they stop at the first table cell, table,
``<object>`` or ``<template>``, and real markup rarely nests a few dozen elements deep. A
page of 100,000 nested ``div`` elements (500 KB) makes every walk cross the whole stack: 17 s
of CPU on the event loop, during which every other site's crawl waits.

:func:`parse_work` follows the tag structure in one linear pass (a simplified tree builder:
implied end tags, tables, raw-text elements, comments, SVG and MathML) and adds up, for every
tag, the length of the walk the parser may make: the open elements above the last table cell,
table, ``<object>``, ``<applet>``, ``<marquee>``, ``<caption>`` or ``<template>``, plus the
formatting elements a walk may look through. Where the simplified tree builder is not sure
that the parser closes an element, it keeps it open: the estimate errs high, never low.
:func:`check_parse_work` refuses a page whose estimate passes :data:`MAX_PARSE_WORK` (about
0.3 s of the parser's time): such a page is reported unreadable (``nesting too deep``) and
never parsed. Browsers give up at depths of a few hundred (Blink stops nesting at 512), so no
real page comes near the limit.

A page with few tags cannot reach the limit whatever its structure, and is not scanned at all
(:func:`check_parse_work`): on ordinary pages the pass costs nothing. On a large page it costs
about a microsecond a tag, and it stops as soon as the limit is passed.
"""

from __future__ import annotations

import re

__all__ = ["MAX_PARSE_WORK", "UnreadablePage", "check_parse_work", "parse_work"]

# steps of the parser's walks a page may cost: at most ~0.3 s of lexbor's time (it walks about
# 300 million open elements a second), while a 5 MB page of ordinary markup needs a few million
MAX_PARSE_WORK = 100_000_000
_WINDOW = 64  # open elements an end tag is matched against (further down: left open)


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


class UnreadablePage(ValueError):
    """A page govmon does not parse, and why: ``reason`` is short and stable (``nesting too
    deep``), the message says more."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"unreadable: {reason}" + (f" ({detail})" if detail else ""))
        self.reason = reason


_TOKEN = re.compile(r"<(?:(/?)([A-Za-z][^\t\n\f\r />]*)|(!--)|[!?/])")
_COMMENT_END = re.compile(r"--!?>")

_VOID = _names(
    "area base basefont bgsound br col embed frame hr image img input keygen link meta param"
    " source track wbr"
)
_IGNORED = frozenset({"html", "head", "body", "frameset"})
_RAW_TEXT = {  # elements whose content is text, up to their end tag (in HTML content)
    name: re.compile(rf"</{name}[\t\n\f\r />]", re.IGNORECASE)
    for name in ("script", "style", "xmp", "iframe", "noembed", "noframes", "textarea", "title")
}
# the parser's walks stop at these (the default scope's boundaries); a cell, caption or table
# only counts where the parser inserts it (inside a table), as the simplified builder does
_BOUNDARY = frozenset({"applet", "caption", "marquee", "object", "table", "td", "template", "th"})
# an end tag never pops through these to reach its element (the scopes' boundaries and more)
_STOP = _BOUNDARY | _names(
    "button ol ul select svg math foreignobject desc title mi mo mn ms mtext annotation-xml"
)
_STOP_TABLE = frozenset({"table", "template"})  # ... for the end tag of a table part
_TABLE_PARTS = frozenset({"table", "tbody", "thead", "tfoot", "tr", "td", "th", "caption"})
_BODIES = frozenset({"tbody", "thead", "tfoot"})
_TABLE_BODIES = _BODIES | {"table"}
_ROW_STARTS = _BODIES | {"tr", "td", "th"}
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_IMPLIED_END = frozenset({"dd", "dt", "li", "optgroup", "option", "p", "rb", "rp", "rt", "rtc"})
_SPECIAL_END = (
    _names(
        "address article aside blockquote button center details dialog dir div dl fieldset"
        " figcaption figure footer form header hgroup listing main menu nav ol pre search"
        " section summary ul applet marquee object template select colgroup"
    )
    | _IMPLIED_END
    | _TABLE_PARTS
    | _HEADINGS
)
_CLOSES_P = _names(
    "address article aside blockquote center details dialog dir div dl fieldset figcaption"
    " figure footer header hgroup main menu nav ol p search section summary ul h1 h2 h3 h4 h5"
    " h6 pre listing form li dd dt hr"
)
_SIBLINGS = {
    **dict.fromkeys(_HEADINGS, _HEADINGS),
    "li": frozenset({"li"}),
    "dd": frozenset({"dd", "dt"}),
    "dt": frozenset({"dd", "dt"}),
}
_FORMATTING = _names("a b big code em font i nobr s small strike strong tt u")
_MARKERS = frozenset({"applet", "marquee", "object", "template", "td", "th", "caption"})
# start tags that end SVG and MathML content (font too, always: the estimate errs high)
_BREAKOUT = _names(
    "b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i img"
    " li listing menu meta nobr ol p pre ruby s small span strong strike sub sup table tt u ul"
    " var font"
)
# inside these, SVG and MathML hold HTML again
_INTEGRATION = _names("foreignobject desc title mi mo mn ms mtext annotation-xml")


def check_parse_work(text: str, limit: int = MAX_PARSE_WORK) -> None:
    """Raises :class:`UnreadablePage` (``nesting too deep``) when :func:`parse_work` passes
    ``limit``. A page with few tags is let through without the pass: each tag's walks cross at
    most the elements opened before it, two for a table cell (its implied row), plus the
    formatting elements, so ``tags * 3 * start tags`` bounds the estimate."""
    if _surely_cheap(text, limit):
        return
    work = parse_work(text, limit)
    if work > limit:
        raise UnreadablePage(
            "nesting too deep", f"parsing would walk more than {limit:,} open elements"
        )


def _surely_cheap(text: str, limit: int) -> bool:
    """Whether ``text`` has too few tags to reach ``limit``, whatever their structure."""
    tags = text.count("<")
    return tags * 3 * (tags - text.count("</")) <= limit


def parse_work(text: str, limit: int | None = None) -> int:
    """The estimated steps of the parser's walks over ``text`` (a decoded page); stops
    counting once past ``limit``."""
    # the open elements of a simplified tree builder; an SVG or MathML element as "\0name"
    stack: list[str] = []
    boundaries = [0]  # positions in ``stack`` just above each open boundary
    frames = [0]  # active formatting elements since each open marker (cells, objects ...)
    keys: list[dict[str, int]] = [{}]  # ... of each kind (tag and attributes), per marker
    work = 0
    skip = 0  # text before this is a comment or raw text
    bound = limit if limit is not None else 1 << 62

    def pop() -> None:
        name = stack.pop()
        if name[0] == "\0":
            return
        if boundaries[-1] > len(stack):
            boundaries.pop()
        if name in _MARKERS:
            frames.pop()
            keys.pop()

    for match in _TOKEN.finditer(text):
        at = match.start()
        if at < skip:
            continue
        slash, name, comment = match.groups()
        if name is None:
            start = match.end()
            if comment:  # a comment: "<!-->" and "<!--->" end at once
                if text.startswith(">", start):
                    skip = start + 1
                elif text.startswith("->", start):
                    skip = start + 2
                else:
                    end = _COMMENT_END.search(text, start)
                    if end is None:
                        break
                    skip = end.end()
            else:  # "<!doctype", "<?...", "</ x>": to the next ">"
                skip = text.find(">", start) + 1
                if skip == 0:
                    break
            continue
        name = name.lower()
        depth = len(stack)
        work += depth - boundaries[-1] + frames[-1]
        if work > bound:
            return work
        top = stack[-1] if depth else ""
        in_foreign = top[:1] == "\0" and top[1:] not in _INTEGRATION
        if slash:  # an end tag
            if not depth:
                continue
            if in_foreign:
                if top[1:] == name:
                    pop()
            elif top == name and name not in _SPECIAL_END:
                pop()
                if name in _FORMATTING and frames[-1] > 0:
                    frames[-1] -= 1
            elif name in _SPECIAL_END:
                # the element, if nothing the parser stops at lies above it (else: left open)
                stop = _STOP_TABLE if name in _TABLE_PARTS else _STOP
                i = depth - 1
                low = max(-1, depth - 1 - _WINDOW)
                while i > low:
                    here = stack[i]
                    if here == name:
                        while len(stack) > i:
                            pop()
                        break
                    if here in stop or here[0] == "\0":
                        break
                    i -= 1
            continue
        # a start tag
        if in_foreign and name in _BREAKOUT:
            while stack and stack[-1][0] == "\0" and stack[-1][1:] not in _INTEGRATION:
                pop()
            top = stack[-1] if stack else ""
            in_foreign = False
        if in_foreign or name in ("svg", "math"):
            close = text.find(">", match.end())
            if close < 0:
                break
            head = text[at:close]
            # "/>" closes an SVG or MathML element; with a quote in the tag, the "/" may be
            # inside a value: then it is kept open
            if head.endswith("/") and "'" not in head and '"' not in head:
                skip = close + 1
            else:
                stack.append("\0" + name)
            continue
        if name in _RAW_TEXT:
            end = _RAW_TEXT[name].search(text, match.end())
            if end is None:
                break
            skip = end.end()
            continue
        if name in _IGNORED:
            continue
        if name == "plaintext":
            break
        if name in _CLOSES_P:
            if top == "p":
                pop()
                top = stack[-1] if stack else ""
            if top in _SIBLINGS.get(name, ()):  # <li> ends an open <li>, <h2> an <h1> ...
                pop()
                top = stack[-1] if stack else ""
        if name in _VOID:
            continue
        if name in _TABLE_PARTS:
            # a new cell, row or body ends the open one (when it is the current element)
            if name in _ROW_STARTS and top in ("td", "th"):
                pop()
                top = stack[-1] if stack else ""
            if name in _ROW_STARTS and name not in ("td", "th") and top == "tr":
                pop()
                top = stack[-1] if stack else ""
            if name in _BODIES and top in _BODIES:
                pop()
                top = stack[-1] if stack else ""
            if name in ("td", "th"):
                if top in _TABLE_BODIES:
                    stack.append("tr")  # the row the parser implies
                elif top != "tr":
                    continue  # a cell outside a table: the parser drops it
            elif name == "tr":
                if top not in _TABLE_BODIES:
                    continue
            elif name in _BODIES or name == "caption":
                if top != "table":
                    continue
            elif top in _TABLE_BODIES or top == "tr":  # a table in a table (not in a cell)
                for _ in range(4):  # ends the first one
                    done = stack[-1] == "table"
                    pop()
                    if done or not stack:
                        break
        elif name in ("option", "optgroup") and top == "option":
            pop()
        elif name == "select" and top == "select":
            pop()
            continue
        elif name in _FORMATTING:
            if name == "a" and top == "a":
                pop()
            close = text.find(">", match.end())
            key = name + (text[match.end() : close] if 0 <= close - at < 200 else f"#{at}")
            counts = keys[-1]
            seen = counts.get(key, 0)
            if seen < 3:  # the parser keeps three alike at most
                counts[key] = seen + 1
                frames[-1] += 1
        stack.append(name)
        if name in _BOUNDARY:
            boundaries.append(len(stack))
        if name in _MARKERS:
            frames.append(0)
            keys.append({})
    return work
