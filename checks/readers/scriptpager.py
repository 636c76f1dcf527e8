"""Pagers that exist only as script (``onclick="toPage(2)"``): the URL each sends the browser to,
computed by a tiny evaluator of its function's expression (see :mod:`checks.readers.jsread`).
Pure."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from checks.readers.pagination import PAGER_MARKS, PAGER_OTHER
from checks.readers.scripttext import bracketed, span_end
from crawler.net.urls import canonicalize

# the words of a pager link (the list reader's)
PAGER_WORDS = frozenset((*PAGER_MARKS, *PAGER_OTHER))
_CALL = re.compile(
    r"^\s*(?:javascript\s*:)?\s*(?:return\s+)?([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)"
    r"\s*\(([^()]{0,200})\)\s*;?\s*(?:return\s+false\s*;?\s*)?$",
    re.IGNORECASE,
)
_PAGE_NAME = re.compile(r"page|goto|turn|jump", re.IGNORECASE)
_GLOBAL_VAR = re.compile(
    r"(?:^|[;\n{}])\s*(?:var|let|const)\s+([A-Za-z_$][\w$]*)\s*=\s*"
    r"(\"[^\"\n]{0,300}\"|'[^'\n]{0,300}'|-?[0-9]{1,9})\s*(?=[;\n])"
)
_TARGETS = (
    re.compile(
        r"(?:(?:window|document|self|top|parent)\s*\.\s*)?location(?:\s*\.\s*href)?\s*=(?!=)"
    ),
    re.compile(r"location\s*\.\s*(?:replace|assign)\s*\("),
    re.compile(r"window\s*\.\s*open\s*\("),
)
_LOCAL = re.compile(r"(?:var|let|const)?\s*([A-Za-z_$][\w$]*)\s*=(?!=)")
_SCRIPT_OPEN = re.compile(r"<script\b([^>]{0,2000})>", re.I)
_SCRIPT_CLOSE = re.compile(r"</script\s*>", re.I)
_SCRIPT_SRC = re.compile(r"\bsrc\s*=", re.I)
MAX_PAGER_ELEMENTS = 60


class _Unknown(Exception):
    """An expression the evaluator cannot compute statically."""


_TOKEN = re.compile(
    r"\s*(?:(?P<num>[0-9]+(?:\.[0-9]+)?)|(?P<str>\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*')|"
    r"(?P<name>[A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*)*)|"
    r"(?P<op>===|!==|==|!=|<=|>=|&&|\|\||[-+*/%()?:<>!,]))"
)

Value = str | float | bool


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise _Unknown(text[pos : pos + 20])
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


class _Expr:
    """A recursive-descent evaluator of the small expressions pagers build URLs with."""

    def __init__(self, text: str, env: Mapping[str, Value]) -> None:
        self.tokens = _tokens(text)
        self.i = 0
        self.env = env

    def value(self) -> Value:
        result = self.ternary()
        if self.i != len(self.tokens):
            raise _Unknown("trailing tokens")
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def _take(self, op: str) -> bool:
        if self._peek() == op:
            self.i += 1
            return True
        return False

    def ternary(self) -> Value:
        cond = self.logic()
        if self._take("?"):
            yes = self.ternary()
            if not self._take(":"):
                raise _Unknown("?: without :")
            no = self.ternary()
            return yes if _truthy(cond) else no
        return cond

    def logic(self) -> Value:
        left = self.compare()
        while self._peek() in ("&&", "||"):
            op = self.tokens[self.i][1]
            self.i += 1
            right = self.compare()
            left = (right if _truthy(left) else left) if op == "&&" else (left or right)
        return left

    def compare(self) -> Value:
        left = self.additive()
        while self._peek() in ("==", "===", "!=", "!==", "<", ">", "<=", ">="):
            op = self.tokens[self.i][1]
            self.i += 1
            right = self.additive()
            left = _compare(op, left, right)
        return left

    def additive(self) -> Value:
        left = self.term()
        while self._peek() in ("+", "-"):
            op = self.tokens[self.i][1]
            self.i += 1
            right = self.term()
            if op == "+" and (isinstance(left, str) or isinstance(right, str)):
                left = _text(left) + _text(right)
            else:
                left = (
                    _number(left) + _number(right) if op == "+" else _number(left) - _number(right)
                )
        return left

    def term(self) -> Value:
        left = self.unary()
        while self._peek() in ("*", "/", "%"):
            op = self.tokens[self.i][1]
            self.i += 1
            a, b = _number(left), _number(self.unary())
            if op == "*":
                left = a * b
            elif b == 0:
                raise _Unknown("division by zero")
            else:
                left = a / b if op == "/" else math.fmod(a, b)
        return left

    def unary(self) -> Value:
        if self._take("-"):
            return -_number(self.unary())
        if self._take("+"):
            return _number(self.unary())
        if self._take("!"):
            return not _truthy(self.unary())
        return self.primary()

    def primary(self) -> Value:
        if self.i >= len(self.tokens):
            raise _Unknown("unexpected end")
        kind, token = self.tokens[self.i]
        self.i += 1
        if kind == "num":
            return float(token)
        if kind == "str":
            return _unquote(token)
        if token == "(":
            inner = self.ternary()
            if not self._take(")"):
                raise _Unknown("unbalanced (")
            return inner
        if kind == "name":
            name = re.sub(r"\s+", "", token)
            if self._take("("):
                args = []
                if not self._take(")"):
                    args.append(self.ternary())
                    while self._take(","):
                        args.append(self.ternary())
                    if not self._take(")"):
                        raise _Unknown("unbalanced call")
                return _call(name, args)
            if name.endswith(".toString") or name not in self.env:
                raise _Unknown(name)
            return self.env[name]
        raise _Unknown(token)


def _unquote(token: str) -> str:
    body = token[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _number(value: Value) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    try:
        return float(value.strip() or 0)
    except ValueError as exc:
        raise _Unknown(f"not a number: {value!r}") from exc


def _text(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return value


def _truthy(value: Value) -> bool:
    return bool(value)


def _compare(op: str, a: Value, b: Value) -> bool:
    if op in ("==", "===", "!=", "!=="):
        same = _text(a) == _text(b) if op in ("==", "!=") else (a == b and type(a) is type(b))
        return same if op in ("==", "===") else not same
    x, y = _number(a), _number(b)
    return {"<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op]


def _call(name: str, args: list[Value]) -> Value:
    if name in ("parseInt", "Number", "parseFloat") and args:
        number = _number(args[0])
        return float(int(number)) if name == "parseInt" else number
    if name == "String" and args:
        return _text(args[0])
    if name in ("encodeURIComponent", "encodeURI", "escape") and args:
        return _text(args[0])
    raise _Unknown(name)


def _function(scripts: str, name: str) -> tuple[list[str], str] | None:
    """The parameters and body of ``function name(...) {...}`` (or ``name = function``)."""
    short = name.rsplit(".", 1)[-1]
    pattern = re.compile(
        r"(?:function\s+" + re.escape(short) + r"\s*\(([^)]{0,200})\)\s*\{|"
        r"\b" + re.escape(short) + r"\s*[:=]\s*function\s*\(([^)]{0,200})\)\s*\{)"
    )
    match = pattern.search(scripts)
    if match is None:
        return None
    params = [p.strip() for p in (match.group(1) or match.group(2) or "").split(",") if p.strip()]
    body = bracketed(scripts, match.end() - 1)
    return (params, body[1:-1]) if body is not None else None


def _target(body: str, env: dict[str, Value]) -> str | None:
    """The URL a pager function's body sends the browser to, evaluated in ``env``."""
    targets = [(m.end(), m) for pattern in _TARGETS for m in pattern.finditer(body)]
    if not targets:
        return None
    first = min(end for end, _ in targets)
    # local assignments before the navigation, in order (var url = 'list.jsp?page=' + p;)
    for statement in re.split(r"[;\n]", body[:first]):
        local = _LOCAL.match(statement.strip())
        if local is not None and not statement.strip().startswith(("if", "location", "window")):
            expression = statement.strip()[local.end() :]
            try:
                env[local.group(1)] = _Expr(expression, env).value()
            except _Unknown:
                env.pop(local.group(1), None)
    end = span_end(body, first, statement=True) or len(body)
    try:
        value = _Expr(body[first:end], env).value()
    except _Unknown:
        return None
    return value if isinstance(value, str) else None


def page_constants(text: str) -> dict[str, Value]:
    """The page's inline ``var name = 'text' | number`` constants."""
    env: dict[str, Value] = {}
    for match in _GLOBAL_VAR.finditer(text):
        raw = match.group(2)
        env.setdefault(match.group(1), _unquote(raw) if raw[0] in "'\"" else float(raw))
    return env


def inline_scripts(text: str) -> str:
    """The inline scripts of a page, joined. Linear in the page: each script ends at the first
    ``</script>`` after it, or at the end of the page when none follows (as a browser reads it),
    so a page of unclosed ``<script>`` tags is one script, not a search from every tag to the
    end."""
    text = text[:2_000_000]
    out: list[str] = []
    pos = 0
    while (start := _SCRIPT_OPEN.search(text, pos)) is not None:
        end = _SCRIPT_CLOSE.search(text, start.end())
        if _SCRIPT_SRC.search(start.group(1)) is None:
            out.append(text[start.end() : end.start() if end is not None else len(text)])
        if end is None:
            break
        pos = end.end()
    return "\n".join(out)


def _label(node: LexborNode) -> str:
    if node.tag == "input":
        return (node.attributes.get("value") or "").strip()
    return " ".join(node.text(deep=True, separator=" ", strip=True).split())


def _pager_call(node: LexborNode) -> tuple[str, list[str]] | None:
    """``(function, arguments)`` of a pager element's script call, when it is one."""
    attrs = node.attributes
    href = (attrs.get("href") or "").strip()
    code = (attrs.get("onclick") or "").strip()
    if not code and href.lower().startswith("javascript:"):
        code = href
    if not code:
        return None
    match = _CALL.match(code)
    if match is None:
        return None
    name = match.group(1)
    args = [a.strip() for a in match.group(2).split(",")] if match.group(2).strip() else []
    label = _label(node).strip("[]() ").lower()
    pagerish = label in PAGER_WORDS or (label.isdigit() and len(label) <= 5)
    if not pagerish and not _PAGE_NAME.search(name):
        return None
    if not args or name.lower() in ("void", "alert", "window.print", "history.go"):
        return None
    return name, args


@dataclass(frozen=True, slots=True)
class PagerTargets:
    """What the script pagers of a page lead to: ``resolved`` maps each pager element (in the
    page's order) to its URL; ``unresolved`` counts those whose target only a browser knows."""

    resolved: list[tuple[LexborNode, str]]
    unresolved: int


def script_pager_targets(tree: LexborHTMLParser, text: str, base_url: str) -> PagerTargets:
    """The targets of a page's script-only pager elements (see the module's doc)."""
    body = tree.body
    if body is None:
        return PagerTargets([], 0)
    calls = []
    seen: set[int] = set()
    for node in body.css("[onclick], a[href^='javascript'], a[href^='JavaScript']"):
        if node.mem_id in seen:
            continue
        seen.add(node.mem_id)
        found = _pager_call(node)
        if found is not None:
            calls.append((node, found))
        if len(calls) >= MAX_PAGER_ELEMENTS:
            break
    if not calls:
        return PagerTargets([], 0)
    scripts = inline_scripts(text)
    constants = page_constants(scripts)
    host = urlsplit(base_url).hostname
    resolved: list[tuple[LexborNode, str]] = []
    unresolved = 0
    for node, (name, args) in calls:
        function = _function(scripts, name)
        url = None
        if function is not None:
            params, code = function
            env: dict[str, Value] = dict(constants)
            try:
                for param, arg in zip(params, args, strict=False):
                    env[param] = _Expr(arg, constants).value()
            except _Unknown:
                env = {}
            if env:
                target = _target(code, env)
                url = canonicalize(target, base_url) if target else None
        if url is not None and urlsplit(url).hostname == host:
            resolved.append((node, url))
        else:
            unresolved += 1
    return PagerTargets(resolved, unresolved)


def link_pagers(tree: LexborHTMLParser, targets: Sequence[tuple[LexborNode, str]]) -> None:
    """Give each pager element its target as a plain link (what clicking it does), in place."""
    for node, url in targets:
        if node.tag == "a":
            node.attrs["href"] = url
            continue
        label = html.escape(_label(node) or url)
        anchor = LexborHTMLParser(f'<a href="{html.escape(url)}">{label}</a>').css_first("a")
        if anchor is not None:
            node.insert_after(anchor)
