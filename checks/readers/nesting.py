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
from collections.abc import Callable

__all__ = ["MAX_PARSE_WORK", "UnreadablePage", "check_parse_work", "parse_work", "surely_cheap"]

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
_VALUE_QUOTE = re.compile(r"=[\t\n\f\r ]*[\"']")
_LONG_TAG = 256  # characters of attributes past which they are counted (pairwise compared)
_BEFORE_SLASH = frozenset({" ", "\t", "\n", "\f", "\r", '"', "'", "/"})  # "<g a/>": a value

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
_TABLE_MODE = _BODIES | {"table", "tr"}  # what is inserted here is foster-parented
_CONTEXTS = _TABLE_MODE | {"td", "th", "caption", "template"}
# popping these resets the insertion mode: a walk down the stack to a table part
_RESETS = _CONTEXTS | {"select"}
_IN_SELECT = frozenset({"select", "option", "optgroup"})
_LEAVE_SELECT = frozenset({"select", "input", "keygen", "textarea"})
_ENDS_CELL = _BODIES | {"tr", "td", "th", "caption"}
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
# start tags that end SVG and MathML content (and <font color|face|size>: kept inside here,
# so that the estimate errs high)
_BREAKOUT = _names(
    "b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i img"
    " li listing menu meta nobr ol p pre ruby s small span strong strike sub sup table tt u ul"
    " var"
)
# inside these, SVG and MathML hold HTML again
_INTEGRATION = _names("foreignobject desc title mi mo mn ms mtext annotation-xml")


def check_parse_work(text: str, limit: int = MAX_PARSE_WORK) -> None:
    """Raises :class:`UnreadablePage` (``nesting too deep``) when :func:`parse_work` passes
    ``limit``. A page with few tags is let through without the pass: each tag's walks cross at
    most the elements opened before it, two for a table cell (its implied row), plus the
    formatting elements, so ``tags * 3 * start tags`` bounds the estimate."""
    if surely_cheap(text, limit):
        return
    work = parse_work(text, limit)
    if work > limit:
        raise UnreadablePage(
            "nesting too deep", f"parsing would walk more than {limit:,} open elements"
        )


def surely_cheap(text: str, limit: int = MAX_PARSE_WORK) -> bool:
    """Whether ``text`` has too few tags to reach ``limit``, whatever their structure."""
    tags = text.count("<")
    return tags * 3 * (tags - text.count("</")) <= limit


def _tag_end(text: str, start: int) -> int:
    """Where the start tag whose attributes begin at ``start`` ends (its ``>``): a quoted value
    may hold ``>``."""
    pos = start
    while True:
        gt = text.find(">", pos)
        if gt < 0:
            return len(text)
        quote = _VALUE_QUOTE.search(text, pos, gt)
        if quote is None:
            return gt
        end = text.find(text[quote.end() - 1], quote.end())
        if end < 0:
            return len(text)
        pos = end + 1


def _attributes(segment: str) -> int:
    """At most how many attributes a tag's text holds (each follows a space, a ``/`` or a
    quote)."""
    return 1 + sum(segment.count(c) for c in " \t\n\f\r/\"'")


def parse_work(text: str, limit: int | None = None) -> int:
    """The estimated steps of the parser's walks over ``text`` (a decoded page); stops
    counting once past ``limit``."""
    # the open elements of a simplified tree builder; an SVG or MathML element as "\0name"
    stack: list[str] = []
    boundaries = [0]  # positions in ``stack`` just above each open boundary
    contexts: list[int] = []  # positions of the open table parts, cells, captions, templates
    frames = [0]  # active formatting elements since each open marker (cells, objects ...)
    keys: list[dict[str, int]] = [{}]  # ... of each kind (tag and attributes), per marker
    root = 0  # attributes the <html> and <body> elements collected (each new one is compared)
    listed = 0  # the list of active formatting elements, markers included (lexbor searches it
    # whole to take an element out)
    work = 0
    skip = 0  # text before this is a comment or raw text
    bound = limit if limit is not None else 1 << 62

    def push(name: str) -> None:
        nonlocal listed
        stack.append(name)
        if name in _BOUNDARY:
            boundaries.append(len(stack))
        if name in _CONTEXTS:
            contexts.append(len(stack) - 1)
        if name in _MARKERS:
            frames.append(0)
            keys.append({})
            listed += 1

    def pop() -> None:
        nonlocal listed, work
        name = stack.pop()
        if name[0] == "\0":
            return
        depth = len(stack)
        if boundaries[-1] > depth:
            boundaries.pop()
        if contexts and contexts[-1] >= depth:
            contexts.pop()
        if name in _RESETS:  # the insertion mode is reset: a walk down to a table part
            work += depth - (contexts[-1] + 1 if contexts else 0)
        if name in _MARKERS:
            listed -= frames.pop() + 1
            keys.pop()

    for match in _TOKEN.finditer(text):
        at = match.start()
        if at < skip:
            continue
        slash, name, comment = match.groups()
        fostered = name is None or (slash and name.lower() in ("p", "br"))
        if fostered and contexts and stack[contexts[-1]] in _TABLE_MODE:
            # in a table, text (a comment splits it) and what </p> and </br> insert are
            # foster-parented: a walk down the whole stack
            work += len(stack)
        if name is None:
            start = match.end()
            if comment:  # a comment: "<!-->" and "<!--->" end at once
                if text.startswith(">", start):
                    skip = start + 1
                elif text.startswith("->", start):
                    skip = start + 2
                else:
                    closing = _COMMENT_END.search(text, start)
                    if closing is None:
                        break
                    skip = closing.end()
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
            if top[0] == "\0":  # in SVG or MathML: its element, else the HTML rules below
                i = depth - 1
                low = max(-1, depth - 1 - _WINDOW)
                while i > low and stack[i][0] == "\0" and stack[i][1:] != name:
                    i -= 1
                if i > low and stack[i] == "\0" + name:
                    while len(stack) > i:
                        pop()
                    continue
            if name in _FORMATTING:
                work += listed  # the adoption agency
            if top == name and name not in _SPECIAL_END:
                pop()
                if name in _FORMATTING and frames[-1] > 0:
                    frames[-1] -= 1
                    listed -= 1
            elif name == "form":  # the form leaves the stack, what it holds stays open
                if top == "form":
                    pop()
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
                    if here in stop or (here[0] == "\0" and here[1:] in _INTEGRATION):
                        break
                    i -= 1
            continue
        # a start tag: its attributes first (a long list of them is compared pairwise)
        end = match.end()
        close = _tag_end(text, end)
        if close - end > _LONG_TAG or name in _IGNORED:
            attributes = _attributes(text[end:close])
            if name in _IGNORED:  # <html>, <body>: merged into the one element
                work += attributes * root
                root += attributes
            if close - end > _LONG_TAG:
                work += attributes * attributes // 2
        if in_foreign and name in _BREAKOUT:
            while stack and stack[-1][0] == "\0" and stack[-1][1:] not in _INTEGRATION:
                pop()
            top = stack[-1] if stack else ""
            in_foreign = False
        if in_foreign or name in ("svg", "math"):
            # "/>" closes an SVG or MathML element
            if text[close - 1 : close] == "/" and (
                close - 1 == end or text[close - 2 : close - 1] in _BEFORE_SLASH
            ):
                skip = close + 1
            else:
                stack.append("\0" + name)
            continue
        if top in _IN_SELECT and (top == "select" or "select" in stack[-3:]):
            # in a select: options, and what ends the select; the rest is dropped
            if name in _LEAVE_SELECT or (contexts and name in _TABLE_PARTS):
                while stack:
                    done = stack[-1] == "select"
                    pop()
                    if done:
                        break
                if name == "select":
                    continue
                top = stack[-1] if stack else ""
            elif name in ("option", "optgroup", "hr"):
                while stack[-1] == "option" or (name != "option" and stack[-1] == "optgroup"):
                    pop()
                if name == "hr":
                    continue
                top = stack[-1]
            elif name not in _RAW_TEXT and name != "template":
                continue
        if name in _RAW_TEXT:
            found = _RAW_TEXT[name].search(text, end)
            if found is None:
                break
            skip = found.end()
            continue
        if name in _IGNORED:
            continue
        if name == "plaintext":
            break
        context = stack[contexts[-1]] if contexts else ""
        if context in _TABLE_MODE and name not in _TABLE_PARTS:
            # inserted in a table: foster parenting looks down the whole stack (for a template)
            work += len(stack)
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
            if _table_part(name, stack, contexts, pop, push):
                continue
        elif name in ("option", "optgroup") and top == "option":
            pop()
        elif name == "select" and top == "select":
            pop()
            continue
        elif name in _FORMATTING:
            if name in ("a", "nobr"):
                work += listed  # an open one goes first (the adoption agency)
            if name == "a" and top == "a":
                pop()
                if frames[-1] > 0:
                    frames[-1] -= 1
                    listed -= 1
            key = name + (text[end:close] if close - end < 200 else f"#{at}")
            counts = keys[-1]
            seen = counts.get(key, 0)
            if seen < 3:  # the parser keeps three alike at most
                counts[key] = seen + 1
                frames[-1] += 1
                listed += 1
        push(name)
    return work


def _table_part(
    name: str,
    stack: list[str],
    contexts: list[int],
    pop: Callable[[], None],
    push: Callable[[str], None],
) -> bool:
    """A table, row group, row, cell or caption start tag, as the table modes take it: the open
    cell or caption it ends, what foster parenting put above the table context, the rows and
    row groups it implies. Returns whether it is done (dropped, or its element pushed)."""
    context = stack[contexts[-1]] if contexts else ""
    if context == "template":
        return False  # a template takes any part
    if name == "table" and context not in _TABLE_MODE:
        return False  # a table in a cell, a caption or the body: nested
    if context in ("td", "th", "caption"):
        if name not in _ENDS_CELL:
            return False
        cell = contexts[-1]
        while len(stack) > cell:  # the cell (or caption) ends
            pop()
        context = stack[contexts[-1]] if contexts else ""
    if context not in _TABLE_MODE:
        return True  # no table: the parser drops it
    table = contexts[-1]
    while len(stack) > table + 1:  # back to the table context
        pop()
    if name == "table":  # a table in a table (not in a cell) ends the first one
        while stack:
            done = stack[-1] == "table"
            pop()
            if done:
                break
        return False
    if name == "caption" or name in _BODIES:
        while stack[-1] in ("tr", *_BODIES):
            pop()
        if stack[-1] == "table":
            push(name)
        return True
    if name == "tr":
        if stack[-1] == "tr":
            pop()
        if stack[-1] == "table":
            push("tbody")
        push("tr")
        return True
    if stack[-1] == "table":  # a cell
        push("tbody")
    if stack[-1] in _BODIES:
        push("tr")
    push(name)
    return True
