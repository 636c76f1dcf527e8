"""A page's readable text, and the labelled values in it. Pure.

* :func:`page_lines` turns a parsed page (or one element of it) into the lines a reader sees:
  one line per block (paragraph, table cell, list item, ``<br>``), inline elements joined, with
  scripts and styles dropped and, by default, the page's chrome (navigation, header, footer,
  breadcrumbs) and footer-like lines (ICP备案, 公网安备, copyright, 网站标识码, 主办单位 ...)
  skipped;
* :func:`scan_labels` finds ``label：value`` pairs in such lines whatever the layout: a table
  row ``<td>答复时间</td><td>2020-05-07</td>``, a definition list,
  ``<span>答复时间：</span>2020-05-07``, a heading followed by paragraphs, or several pairs on
  one line; :func:`table_header_pairs` adds tables whose first row holds the labels and the
  next row the values. The message board and service guide readers are built on these two.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from selectolax.lexbor import LexborHTMLParser, LexborNode

_BLOCK_TAGS: Final = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "br", "caption", "center", "dd",
        "details", "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure",
        "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "html", "legend",
        "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody",
        "td", "tfoot", "th", "thead", "tr", "ul", "marquee",
    }
)  # fmt: skip
_SKIP_TAGS: Final = frozenset(
    {
        "script", "style", "noscript", "template", "head", "title", "iframe", "frame",
        "object", "embed", "svg", "canvas", "select", "option", "button", "textarea", "map",
        "meta", "link", "video", "audio",
    }
)  # fmt: skip
# class / id tokens that mark a page's chrome rather than its content
_CHROME_TOKENS: Final = frozenset(
    {
        "nav", "navbar", "navigation", "menu", "menus", "topnav", "subnav", "mainnav",
        "footer", "foot", "topbar", "copyright", "breadcrumb", "breadcrumbs", "crumb", "crumbs",
        "position", "location", "sitemap", "daohang", "banquan", "bq", "dh", "wzdh",
    }
)  # fmt: skip
_CHROME_PREFIXES: Final = ("nav", "menu", "footer", "topbar", "copyright", "breadcrumb")
_CHROME_ROLES: Final = frozenset({"navigation", "contentinfo", "banner", "menu", "menubar"})
_TOKEN_SPLIT = re.compile(r"[\s_\-]+")
_TRAILING_DIGITS = re.compile(r"\d+$")
SPACES = re.compile(r"[\s\u3000\xa0\u2002\u2003\u2009\ufeff]+")
_CHROME_LINE = re.compile(
    r"ICP\s*[备证]|公网安备|版权所有|copyright|©|网站标识码|技术支持\s*[:：]|主办单位\s*[:：]?"
    r"|网站主办|建议使用.{0,24}浏览器|\d{3,4}\s*[x×*]\s*\d{3,4}\s*分辨率|分辨率\s*[:：]?\s*\d{3,4}"
    r"|当前位置\s*[:：]|您现在的位置|您所在的位置",
    re.IGNORECASE,
)


_CHROME_HINTS: Final = (
    "ICP", "icp", "备", "版权", "opyright", "OPYRIGHT", "©", "标识码", "技术支持", "主办",
    "浏览器", "分辨率", "位置",
)  # fmt: skip
# one of them, found by one search
_CHROME_HINT = re.compile("|".join(re.escape(hint) for hint in _CHROME_HINTS))


def is_chrome_line(line: str) -> bool:
    """Whether a line is site furniture (footer, copyright, ICP备案, breadcrumb), not content."""
    # a plain search first: most lines hold none of the words the pattern needs
    if _CHROME_HINT.search(line) is None:
        return False
    return _CHROME_LINE.search(line) is not None


def _collapse(text: str) -> str:
    """``SPACES.sub(" ", text).strip()``, faster: str.split() splits at the same whitespace
    (str.isspace, as ``\\s``) except U+FEFF, which is made a space first."""
    if "\ufeff" in text:
        text = text.replace("\ufeff", " ")
    return " ".join(text.split())


@lru_cache(maxsize=8192)
def _chrome_name(value: str) -> bool:
    """Whether a class or id value names site furniture (cached: pages repeat their names)."""
    tokens = [_TRAILING_DIGITS.sub("", t) for t in _TOKEN_SPLIT.split(value.lower()) if t]
    if not tokens:
        return False
    # "header" only as the first or sole word: "header", "header-top", not "article-header"
    if tokens[0] in ("header", "head", "top-header", "pageheader", "siteheader"):
        return True
    return any(t in _CHROME_TOKENS or t.startswith(_CHROME_PREFIXES) for t in tokens)


def is_chrome_element(node: LexborNode, attrs: Mapping[str, str | None] | None = None) -> bool:
    """Whether an element is navigation, a header, a footer or a breadcrumb by tag, role or name.
    ``attrs``: the element's attributes when the caller has them already."""
    tag = node.tag or ""
    if tag in ("nav", "footer"):
        return True
    if attrs is None:
        attrs = node.attributes
    if attrs:
        role = attrs.get("role")
        if role and role.strip().lower() in _CHROME_ROLES:
            return True
        for attr in ("class", "id"):
            value = attrs.get(attr)
            if value and _chrome_name(value):
                return True
    if tag == "header":
        # an <article>'s own <header> holds its title: content
        parent = node.parent
        while parent is not None:
            if parent.tag in ("article", "main"):
                return False
            parent = parent.parent
        return True
    return False


def _ascii_word(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


_BLOCK_END: Final = 0
_INLINE_END: Final = 1


def _start_node(root: LexborHTMLParser | LexborNode) -> LexborNode | None:
    if isinstance(root, LexborHTMLParser):
        return root.body if root.body is not None else root.root
    return root


def page_lines(
    root: LexborHTMLParser | LexborNode,
    *,
    skip_chrome: bool = True,
    max_chars: int = 400_000,
) -> list[str]:
    """The lines a reader sees in ``root``: one per block, whitespace collapsed, empty ones gone.

    With ``skip_chrome`` (the default) navigation, headers, footers and breadcrumbs are left out,
    by tag, ARIA role or class/id name, and so are footer-like lines (:func:`is_chrome_line`).
    Reading stops after ``max_chars`` characters.
    """
    start = _start_node(root)
    if start is None:
        return []
    lines: list[str] = []
    buf: list[str] = []
    total = 0

    def flush() -> None:
        nonlocal total
        if not buf:
            return
        line = _collapse(buf[0] if len(buf) == 1 else "".join(buf))
        buf.clear()
        if not line or (skip_chrome and is_chrome_line(line)):
            return
        lines.append(line)
        total += len(line)

    # iterative walk; _BLOCK_END and _INLINE_END mark where an element ends. An element whose
    # only child is a text (<p>text</p>, <a>title</a>) is read at once, without the stack.
    soft = False  # an inline element boundary since the last text
    stack: list[LexborNode | int] = [start]
    pop = stack.pop
    push = stack.append
    while stack and total < max_chars:
        node = pop()
        if isinstance(node, int):
            if node == _BLOCK_END:
                flush()
            else:
                soft = True
            continue
        tag = node.tag or ""
        if tag == "-text":
            text = node.text_content
            if text:
                # adjacent inline elements: keep "2020-05-08" and "2020-05-15" apart, but not
                # the halves of a Chinese word split by a <b>
                if soft and buf and _ascii_word(buf[-1][-1:]) and _ascii_word(text[:1]):
                    buf.append(" ")
                buf.append(text)
                soft = False
            continue
        if tag.startswith("-") or tag in _SKIP_TAGS:
            continue
        attrs = node.attributes
        if node is not start and skip_chrome and is_chrome_element(node, attrs):
            continue
        if "hidden" in attrs and tag != "input":
            continue
        block = tag in _BLOCK_TAGS
        if block:
            flush()
            if total >= max_chars:
                break
        else:
            soft = True
        if tag == "br":
            push(_BLOCK_END)
            continue
        child = node.child
        if child is not None and child.next is None and child.tag == "-text":
            # a leaf: its text and its end, as the stack would give them
            text = child.text_content
            if text:
                if soft and buf and _ascii_word(buf[-1][-1:]) and _ascii_word(text[:1]):
                    buf.append(" ")
                buf.append(text)
                soft = False
            if block:
                flush()
            else:
                soft = True
            continue
        push(_BLOCK_END if block else _INLINE_END)
        if child is not None:
            children = list(node.iter(include_text=True))
            children.reverse()
            stack.extend(children)
    flush()
    return lines


# --------------------------------------------------------------------------------------------
# Labelled values
# --------------------------------------------------------------------------------------------

_BULLET = re.compile(
    r"^(?:"
    r"[（(]?[一二三四五六七八九十]{1,3}[)）、.．:：]"
    r"|[（(]?\d{1,2}[)）、．]"
    r"|\d{1,2}\.(?!\d)"
    r"|第[一二三四五六七八九十]{1,3}[条项部分章节]"
    r"|[■●★◆▪·•※◎○□►▶\-—>»]"
    r")\s*"
)
_OPEN_BRACKETS = "【[〔〖"
_CLOSE_BRACKETS = "】]〕〗"
_BOUNDARY_BEFORE = " \t；;，,。|/、】]）)"


@dataclass(frozen=True, slots=True)
class Labelled:
    """One labelled value: ``key`` is the canonical field, ``label`` the words on the page."""

    key: str
    label: str
    lines: tuple[str, ...]
    index: int  # the line the label is on

    @property
    def first(self) -> str:
        """The value's first line ("" when the label has no value)."""
        return self.lines[0] if self.lines else ""

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class LabelTable:
    """Label words (synonyms) mapped to canonical keys, compiled for :func:`scan_labels`.

    A key of ``""`` marks a label that is recognised only so that it ends the previous value
    (留言人, 联系方式 ... on a message page) and is not reported.
    """

    def __init__(self, labels: Mapping[str, str], *, min_bare: int = 4) -> None:
        self.labels = dict(labels)
        self.min_bare = min_bare
        words = sorted(self.labels, key=len, reverse=True)
        alternation = "|".join(re.escape(w) for w in words)
        self._start = re.compile(rf"({alternation})")
        self._inner = re.compile(rf"(?:(?<=[{re.escape(_BOUNDARY_BEFORE)}])|^)({alternation})")

    def at_start(self, line: str) -> tuple[str, str, str] | None:
        """``(key, label, rest)`` when ``line`` starts with a label, else ``None``.

        After the label comes a colon, a space, a closing bracket, or the end of the line; a
        label of ``min_bare`` characters or more may also run straight into its value
        (``答复时间2020-05-07``, two adjacent spans).
        """
        text = _BULLET.sub("", line, count=1)
        text = text.lstrip(_OPEN_BRACKETS + " ")
        match = self._start.match(text)
        if match is None:
            return None
        label = match.group(1)
        rest = text[match.end() :]
        stripped = rest.lstrip(_CLOSE_BRACKETS + " \t")
        had_space = len(stripped) != len(rest)
        if stripped[:1] in (":", "："):
            return self.labels[label], label, stripped[1:].strip()
        if not stripped or had_space or len(label) >= self.min_bare:
            return self.labels[label], label, stripped.strip()
        return None

    def is_bare_label(self, text: str) -> bool:
        """Whether ``text`` is a label alone (with at most a colon), with no value."""
        found = self.at_start(text)
        return found is not None and not found[2]

    def split(self, key: str, label: str, rest: str) -> list[tuple[str, str, str]]:
        """Split ``rest`` at further ``label：`` pairs on the same line."""
        out: list[tuple[str, str, str]] = []
        current = (key, label)
        pos = 0
        for match in self._inner.finditer(rest):
            after = rest[match.end() :].lstrip(_CLOSE_BRACKETS + " ")
            if after[:1] not in (":", "："):
                continue
            if match.start() < pos:
                continue
            out.append((current[0], current[1], rest[pos : match.start()].strip(" ；;，,|")))
            found = match.group(1)
            current = (self.labels[found], found)
            pos = len(rest) - len(after) + 1
        out.append((current[0], current[1], rest[pos:].strip(" ；;，,|")))
        return out


def scan_labels(lines: Sequence[str], table: LabelTable) -> list[Labelled]:
    """Every labelled value in ``lines``, in page order.

    A label with its value on the same line takes that; a label alone on its line takes the
    following lines up to the next line that starts with a label (a table's value cell, a dd, the
    paragraphs under a heading). Labels with the key ``""`` end values and are not reported.
    """
    heads: list[tuple[int, str, str, str]] = []
    for i, line in enumerate(lines):
        found = table.at_start(line)
        if found is not None:
            heads.append((i, *found))
    out: list[Labelled] = []
    for n, (i, key, label, rest) in enumerate(heads):
        parts = table.split(key, label, rest)
        end = heads[n + 1][0] if n + 1 < len(heads) else len(lines)
        for j, (k, lab, value) in enumerate(parts):
            if not k:
                continue
            if value:
                out.append(Labelled(k, lab, (value,), i))
            elif j == len(parts) - 1:
                out.append(Labelled(k, lab, tuple(lines[i + 1 : end]), i))
            else:
                out.append(Labelled(k, lab, (), i))
    return out


def _cells(row: LexborNode) -> list[LexborNode]:
    return [c for c in row.iter() if c.tag in ("td", "th")]


def table_header_pairs(root: LexborHTMLParser | LexborNode, table: LabelTable) -> list[Labelled]:
    """Values of tables laid out with a row of labels over a row of values.

    ``<tr><th>留言时间</th><th>答复时间</th></tr><tr><td>2020-06-11</td><td>2020-06-12</td></tr>``
    gives ``留言时间 = 2020-06-11`` and ``答复时间 = 2020-06-12``. Only the first row under the
    labels is read (a list of many rows is a list page, read elsewhere).
    """
    out: list[Labelled] = []
    for tr in root.css("tr"):
        cells = _cells(tr)
        if len(cells) < 2:
            continue
        keys: list[tuple[str, str]] = []
        for cell in cells:
            text = SPACES.sub(" ", cell.text()).strip()
            found = table.at_start(text)
            if found is None or found[2]:
                break
            keys.append((found[0], found[1]))
        else:
            nxt = tr.next
            while nxt is not None and nxt.tag != "tr":
                nxt = nxt.next
            if nxt is None:
                continue
            values = _cells(nxt)
            if len(values) != len(cells):
                continue
            texts = [SPACES.sub(" ", v.text()).strip() for v in values]
            if any(table.is_bare_label(t) for t in texts):
                continue
            for (key, label), value in zip(keys, texts, strict=True):
                if key:
                    out.append(Labelled(key, label, (value,) if value else (), -1))
    return out


def comparable(text: str) -> str:
    """``text`` for comparison: NFKC width folding, lower case, only letters and digits kept."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(c for c in folded if unicodedata.category(c)[:1] in ("L", "N"))
