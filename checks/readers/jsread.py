"""Static readers of pages built by script: what a browser would show, read without one. Pure.

* **大汉 Hanweb JCMS** (:func:`hanweb_datastores`, :func:`dataproxy_request`): a column's rows
  are ``<record><![CDATA[<li>…</li>]]></record>`` inside ``<script type="text/xml"><datastore>``;
  the page's ``jpage`` call says ``totalRecord`` and ``perPage``; later groups of rows come by
  POST to ``/module/web/jpage/dataproxy.jsp?startrecord=…&endrecord=…&perpage=…`` with the form
  fields of the ``nextgroup`` link (col, appid, webid, path, columnid, sourceContentType, unitid,
  webname, permissiontype), answered with a datastore again.
* **广东 gkmlpt** (:func:`gkmlpt_config`, :func:`gkmlpt_catalogue_html`, :func:`gkmlpt_list_html`):
  the shell ``/gkmlpt/index`` carries ``window._CONFIG = {SID: …, TREE: [...]}``; a catalogue's
  list is ``/gkmlpt/api/all/<id>?page=N&sid=<SID>``, JSON with dates in epoch seconds.
* **Pagers that exist only as script** (:func:`script_pager_targets`): ``onclick="toPage(2)"``,
  ``href="javascript:goPage(2)"`` … whose function is defined in the page: the URL it sends the
  browser to is computed by a tiny evaluator of the function's expression (string and number
  literals, its parameters, the page's ``var`` constants, ``+ - * / %``, comparisons and ``?:``).

Every reader answers HTML that the ordinary list reader (:mod:`checks.readers.listing`)
and the checks
read like any static page. Nothing here fetches; the caller does (:mod:`checks.readers.scripted`).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from checks.readers.pagination import PAGER_MARKS, PAGER_OTHER
from crawler.net.urls import canonicalize

MAX_GROUP_PAGES = 2000  # list pages linked from one gkmlpt catalogue page, at most

# --------------------------------------------------------------------------------------------
# 大汉 Hanweb JCMS

_DATASTORE = re.compile(
    r"<script\b[^>]*\btype\s*=\s*[\"']?text/xml[\"']?[^>]*>\s*(<datastore\b.*?</datastore>)"
    r"\s*</script\s*>",
    re.IGNORECASE | re.DOTALL,
)
_RECORD = re.compile(r"<record\b[^>]*>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.IGNORECASE | re.S)
_NEXTGROUP = re.compile(r"<nextgroup\b[^>]*>\s*<!\[CDATA\[(.*?)\]\]>", re.IGNORECASE | re.DOTALL)
_TOTALRECORD = re.compile(r"<totalrecord>\s*([0-9]{1,9})\s*<", re.IGNORECASE)
_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_JPAGE_SETTING = re.compile(
    r"\b(totalRecord|perPage|groupSize)\s*[:=]\s*['\"]?([0-9]{1,9})", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Datastore:
    """One ``<script type="text/xml"><datastore>`` of a page: where it is in the page's text
    (the whole script element), its rows, and its ``nextgroup`` link (the dataproxy URL with
    the column's parameters), if any."""

    start: int
    end: int
    records: tuple[str, ...]
    nextgroup: str | None
    total: int | None


def parse_datastore(xml: str) -> tuple[list[str], str | None, int | None]:
    """The rows, the ``nextgroup`` link and the ``totalrecord`` of a datastore document."""
    records = [m.group(1).strip() for m in _RECORD.finditer(xml)]
    nextgroup = None
    found = _NEXTGROUP.search(xml)
    if found is not None:
        href = _HREF.search(found.group(1))
        nextgroup = html.unescape(href.group(1)) if href is not None else None
    total = _TOTALRECORD.search(xml)
    return records, nextgroup, int(total.group(1)) if total else None


def hanweb_datastores(text: str) -> list[Datastore]:
    """Every datastore of a Hanweb page, in page order."""
    if "datastore" not in text:
        return []
    out = []
    for match in _DATASTORE.finditer(text):
        records, nextgroup, total = parse_datastore(match.group(1))
        out.append(Datastore(match.start(), match.end(), tuple(records), nextgroup, total))
    return out


def jpage_settings(text: str) -> dict[str, int]:
    """``totalRecord``, ``perPage`` and ``groupSize`` of the page's ``jpage`` call (lower-cased
    keys), as far as it says them."""
    out: dict[str, int] = {}
    for match in _JPAGE_SETTING.finditer(text):
        out.setdefault(match.group(1).lower(), int(match.group(2)))
    return out


def dataproxy_request(
    page_url: str, nextgroup: str, start: int, end: int, per_page: int
) -> tuple[str, bytes] | None:
    """The POST a jpage script sends for rows ``start``…``end``: its URL and its form body."""
    link = canonicalize(nextgroup, page_url)
    if link is None:
        return None
    head, _, query = link.partition("?")
    fields = [p for p in query.split("&") if p and not p.startswith("page=")]
    if not any(p.startswith("col=") for p in fields):
        fields.insert(0, "col=1")
    if not any(p.startswith("sourceContentType=") for p in fields):
        at = next((i + 1 for i, p in enumerate(fields) if p.startswith("columnid=")), len(fields))
        fields.insert(at, "sourceContentType=1")
    url = f"{head}?startrecord={start}&endrecord={end}&perpage={per_page}"
    return url, "&".join(fields).encode("ascii", "replace")


def inline_datastores(
    text: str, stores: Sequence[Datastore], extra: Mapping[int, list[str]]
) -> str:
    """The page with each datastore's script replaced by its rows (and the rows fetched for it
    later, ``extra`` by its index), as a browser shows them once jpage has run."""
    out = []
    at = 0
    for i, store in enumerate(stores):
        rows = [*store.records, *extra.get(i, [])]
        out.append(text[at : store.start])
        joined = "\n".join(rows)
        if rows and rows[0].lstrip()[:3].lower() == "<tr":  # table rows keep their table
            joined = f"<table>{joined}</table>"
        out.append(joined)
        at = store.end
    out.append(text[at:])
    return "".join(out)


# --------------------------------------------------------------------------------------------
# 广东 gkmlpt

_CONFIG = re.compile(r"window\._CONFIG\s*=\s*\{")
_SID = re.compile(r"\bSID\s*:\s*['\"]?([0-9A-Za-z_-]{1,40})")
_TREE = re.compile(r"\bTREE\s*:\s*\[")
_API = re.compile(r"/gkmlpt/api/all/([0-9]{1,12})(?:\?|$)")


def _span_end(text: str, start: int, *, statement: bool = False) -> int | None:
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


def _bracketed(text: str, start: int) -> str | None:
    """The bracketed span of ``text`` that opens at ``start``."""
    end = _span_end(text, start)
    return text[start : end + 1] if end is not None else None


def gkmlpt_config(text: str) -> tuple[str, list[dict[str, Any]]] | None:
    """``(SID, TREE)`` of a gkmlpt shell's ``window._CONFIG``, or None."""
    config = _CONFIG.search(text)
    if config is None:
        return None
    block = _bracketed(text, config.end() - 1) or text[config.end() : config.end() + 50000]
    sid = _SID.search(block)
    if sid is None:
        return None
    tree: list[dict[str, Any]] = []
    found = _TREE.search(block)
    if found is not None:
        raw = _bracketed(block, found.end() - 1)
        try:
            parsed = json.loads(raw) if raw else []
        except ValueError:
            parsed = []
        tree = [n for n in parsed if isinstance(n, dict)] if isinstance(parsed, list) else []
    return sid.group(1), tree


def _leaves(nodes: Sequence[Mapping[str, Any]], depth: int = 0) -> Iterator[Mapping[str, Any]]:
    for node in nodes:
        children = node.get("children")
        if isinstance(children, list) and children and depth < 8:
            yield from _leaves([c for c in children if isinstance(c, dict)], depth + 1)
        else:
            yield node


def gkmlpt_catalogue_html(page_url: str, sid: str, tree: Sequence[Mapping[str, Any]]) -> str:
    """The catalogue a gkmlpt shell shows: a link per leaf catalogue to its list (its API URL,
    the list's only address without the ``#<id>`` fragment the browser shows)."""
    head = page_url.partition("?")[0]
    root = head[: head.find("/gkmlpt/")] if "/gkmlpt/" in head else head.rstrip("/")
    items = []
    for node in _leaves(tree):
        name = str(node.get("name") or "").strip()
        ident = node.get("id")
        if not name or not isinstance(ident, int | str) or not str(ident).isdigit():
            continue
        jump = str(node.get("jump_url") or "").strip()
        href = jump or f"{root}/gkmlpt/api/all/{ident}?page=1&sid={sid}"
        items.append(f'<li><a href="{html.escape(href)}">{html.escape(name)}</a></li>')
    return '<div class="gkml-catalogue"><ul>\n' + "\n".join(items) + "\n</ul></div>"


def is_gkmlpt_api(url: str) -> bool:
    return _API.search(url.partition("#")[0]) is not None


def _day(value: object, tz: dt.tzinfo) -> dt.date | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        seconds = float(value)
        if seconds > 1e11:  # milliseconds
            seconds /= 1000
        try:
            return dt.datetime.fromtimestamp(seconds, tz).date()
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def gkmlpt_list_html(url: str, data: object, tz: dt.tzinfo) -> str | None:
    """A gkmlpt catalogue page (the API's JSON) as the list a browser shows: a row per article
    with its date (epoch seconds read in the config's time zone), and, on the first page, a
    pager linking every other page (``page=N``). None when the JSON is not such an answer."""
    if not isinstance(data, dict) or not isinstance(data.get("articles"), list):
        return None
    articles = [a for a in data["articles"] if isinstance(a, dict)]
    rows = []
    for article in articles:
        title = str(article.get("title") or "").strip()
        link = str(article.get("post_url") or article.get("url") or "").strip()
        day = next(
            (d for key in ("date", "display_publish_time", "created_at")
             if (d := _day(article.get(key), tz)) is not None),
            None,
        )  # fmt: skip
        when = f'<span class="date">{day.isoformat()}</span>' if day else ""
        rows.append(f'<li><a href="{html.escape(link)}">{html.escape(title)}</a>{when}</li>')
    classify = data.get("classify")
    name = classify.get("name") if isinstance(classify, dict) else None
    title = html.escape(str(name or "政府信息公开目录"))
    page = re.search(r"[?&]page=([0-9]{1,6})", url)
    pager = ""
    total = data.get("total")
    if (page is None or page.group(1) == "1") and isinstance(total, int) and articles:
        pages = min(math.ceil(total / len(articles)), MAX_GROUP_PAGES)
        base = re.sub(r"([?&])page=[0-9]{1,6}", r"\1page={}", url) if page else url + "&page={}"
        links = [f'<a href="{html.escape(base.format(n))}">{n}</a>' for n in range(2, pages + 1)]
        if links:
            pager = '<div class="pager">' + " ".join(links) + "</div>"
    body = f'<ul class="gkml-list">\n{chr(10).join(rows)}\n</ul>\n{pager}'
    return (
        f'<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n'
        f"</head>\n<body>\n<h1>{title}</h1>\n{body}\n</body>\n</html>\n"
    )


# --------------------------------------------------------------------------------------------
# pagers that exist only as script

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
    body = _bracketed(scripts, match.end() - 1)
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
    end = _span_end(body, first, statement=True) or len(body)
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
