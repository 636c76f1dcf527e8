"""Spans of script text: where a bracketed expression or a statement ends, strings and nested
brackets respected. Used by the readers of pages built by script. Pure."""

from __future__ import annotations


def span_end(text: str, start: int, *, statement: bool = False) -> int | None:
    """Where a span of script starting at ``start`` ends, strings and nested brackets respected:
    the index of the bracket closing the one at ``start``, or, for a ``statement``, of the
    ``;``, ``,`` or line end after it (or of a closing bracket it did not open)."""
    depth = 0
    quote = ""
    i = start
    while i < len(text) and i - start < 2_000_000:
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0 and not statement:
                return i
            if depth < 0:
                return i
        elif statement and depth == 0 and ch in ";\n,":
            return i
        i += 1
    return len(text) if statement else None


def bracketed(text: str, start: int) -> str | None:
    """The bracketed span of ``text`` that opens at ``start``."""
    end = span_end(text, start)
    return text[start : end + 1] if end is not None else None
