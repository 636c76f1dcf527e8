"""The content checks' fast paths give exactly what the plain versions gave.

Each ``reference_*`` below is the code as it was before it was made faster (the page text walk,
the hidden-link scan, the personal-data gate, the footer-line test); hypothesis feeds both the
same markup and text and the answers must be equal.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from hypothesis import example, given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser, LexborNode

from checks import pii
from checks.hidden import (
    DEFAULT_TRUSTED_HOSTS,
    HiddenLink,
    StyleSheet,
    _off_site,
    hidden_links,
    hiding_reason,
)
from checks.lexicon import Lexicon, _any_word_pattern, shipped_lexicon
from checks.readers.text import (
    _BLOCK_TAGS,
    _CHROME_HINTS,
    _CHROME_LINE,
    _SKIP_TAGS,
    _ascii_word,
    _collapse,
    _start_node,
    is_chrome_element,
    is_chrome_line,
    page_lines,
)
from checks.readers.text import SPACES as _SPACES
from crawler.net.urls import canonicalize
from tests.support.strategies import MARKUP_FRAGMENTS

# --- the code as it was ------------------------------------------------------------------------


def reference_is_chrome_line(line: str) -> bool:
    if not any(hint in line for hint in _CHROME_HINTS):
        return False
    return _CHROME_LINE.search(line) is not None


def reference_page_lines(
    root: LexborHTMLParser | LexborNode, *, skip_chrome: bool = True, max_chars: int = 400_000
) -> list[str]:
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
        line = _SPACES.sub(" ", "".join(buf)).strip()
        buf.clear()
        if not line or (skip_chrome and reference_is_chrome_line(line)):
            return
        lines.append(line)
        total += len(line)

    soft = False
    stack: list[LexborNode | int] = [start]
    while stack and total < max_chars:
        node = stack.pop()
        if isinstance(node, int):
            if node == 0:
                flush()
            else:
                soft = True
            continue
        tag = node.tag or ""
        if tag == "-text":
            text = node.text_content
            if text:
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
        if tag in _BLOCK_TAGS:
            flush()
            stack.append(0)
        else:
            soft = True
            stack.append(1)
        if tag == "br":
            continue
        children = list(node.iter(include_text=True))
        children.reverse()
        stack.extend(children)
    flush()
    return lines


def reference_hidden_links(
    tree: LexborHTMLParser,
    page_url: str,
    scope: Sequence[str],
    *,
    trusted_hosts: Sequence[str] = DEFAULT_TRUSTED_HOSTS,
) -> list[HiddenLink]:
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

    hidden: list[HiddenLink] = []
    visible: set[str] = set()
    seen: set[str] = set()
    for a in tree.css("a[href]"):
        url = canonicalize(a.attributes.get("href") or "", page_url)
        if url is None or not _off_site(url, prefixes, trusted_hosts):
            continue
        node: LexborNode | None = a
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


_OLD_GATE = re.compile(r"(?:\d[\s\-]?){10}\d")


def reference_find_pii(text: str, today: dt.date) -> list[pii.PiiHit]:
    hits: list[pii.PiiHit] = []
    taken: list[tuple[int, int]] = []
    if _OLD_GATE.search(text) is None:
        return hits
    shown = pii._mask_numbers(text)
    for match in pii._ID.finditer(text):
        number = match.group(1)
        if pii.is_valid_id(number, today=today):
            start, end = match.span(1)
            masked = pii.mask(number)
            hits.append(
                pii.PiiHit(pii.ID_NUMBER, masked, pii._context(shown, start, end, masked), start)
            )
            taken.append((start, end))
    for match in pii._MOBILE.finditer(text):
        start, end = match.span(1)
        if any(s <= start < e for s, e in taken):
            continue
        line_start = text.rfind("\n", 0, start) + 1
        if pii._CONTACT.search(text[max(line_start, start - 16) : start]):
            continue
        masked = pii.mask(match.group(1))
        hits.append(pii.PiiHit(pii.MOBILE, masked, pii._context(shown, start, end, masked), start))
    hits.sort(key=lambda h: h.start)
    return hits


# --- markup -----------------------------------------------------------------------------------

EXTRA_FRAGMENTS = st.sampled_from(
    [
        "<p>", "</p>", "<b>", "</b>", "<i></i>", "<em>", "</em>", "<font color=red>", "</font>",
        "<!-- 注释 -->", "<?pi x?>", "<nav>", "</nav>", "<header>", "</header>", "<article>",
        "</article>", "<div class=\"footer\">", "<div class=\"content\">", "<div id=\"menu\">",
        "<div role=\"navigation\">", "<span hidden>", "<input hidden>", "<script>x</script>",
        "<noscript>n</noscript>", "<img alt=\"图\">", "<h1>", "</h1>", "<li>", "</li>", "</ul>",
        "abc", "123", "X1", "ICP备05012345号", "版权所有", "当前位置：", "主办单位：区政府",
        "\u3000", "\ufeff", "&nbsp;", "\t", "<br/>", "<hr>", "<select><option>o</option></select>",
        "<a href=\"http://spam.example/p\">", "<a href=\"https://www.gov.cn/\">",
        "<a href=\"/local.html\">", "<a href=\"#top\">", "<span style=\"font-size:0\">",
        "<div style=\"position:absolute;left:-999px\">", "<marquee height=1>", "</marquee>",
        "<style>.h{display:none} p.k{overflow:hidden;height:0} #z{opacity:0} em{color:red}"
        "</style>", "<div class=\"h\">", "<p class=\"k\">", "<b id=\"z\">", "<td hidden>",
        "<svg><title>t</title></svg>", "<template><p>t</p></template>",
        "110105194912310029", "13912345678", "139 1234 5678", "1391234567８",
        "<div style=\"display:none\"><a href=\"http://spam.example/a\">博彩</a>",
        "<p class=\"k\"><a href=\"http://spam.example/b\">b</a></p>",
        "<a href=\"http://spam.example/a\">同一目标</a>", "<span hidden><a href=\"http://x.test/\">",
        "<b id=\"z\"><a href=\"http://spam.example/z\">z</a></b>", "<html style=\"display:none\">",
    ]
)  # fmt: skip
# plain text and inline markup, more often than the fragments that hide what follows them
PLAIN_FRAGMENTS = st.sampled_from(
    [
        "<p>", "</p>", "abc", "中文正文", "<b>", "</b>", "<li>", "<a href=\"/x.html\">", "</a>",
        "123", " ", "<br>", "<!--c-->", "<span>", "</span>", "<div>", "</div>", "<td>", "x",
    ]
)  # fmt: skip
MARKUP = st.lists(
    st.one_of(PLAIN_FRAGMENTS, PLAIN_FRAGMENTS, MARKUP_FRAGMENTS, EXTRA_FRAGMENTS),
    min_size=10,
    max_size=80,
).map("".join)


def _roots(tree: LexborHTMLParser) -> list[LexborHTMLParser | LexborNode]:
    nodes: list[LexborHTMLParser | LexborNode] = [tree]
    body = tree.body
    if body is not None:
        nodes += list(body.traverse(include_text=True))[:12]
    return nodes


@settings(max_examples=500, deadline=None)
@given(MARKUP, st.sampled_from([400_000, 1, 8, 30]))
@example("<p>2020-05-08</p><b></b>2020-05-15<br>x<!--c-->y<?p?>z ICP备1号", 400_000)
@example("<li><a>abc</a><span>123</span></li><p>a<b>b</b>c</p>", 4)
def test_page_lines_as_before(html: str, max_chars: int) -> None:
    tree = LexborHTMLParser(html)
    for root in _roots(tree):
        for skip_chrome in (True, False):
            expected = reference_page_lines(root, skip_chrome=skip_chrome, max_chars=max_chars)
            got = page_lines(root, skip_chrome=skip_chrome, max_chars=max_chars)
            assert got == expected


ID_RULE = "<style>#z{opacity:0}</style><b id=z><a href=http://spam.example/z>z</a></b>"


@settings(max_examples=500, deadline=None)
@given(MARKUP)
@example(ID_RULE)
@example("<html style=display:none><a href=http://spam.example/>x</a>")
def test_hidden_links_as_before(html: str) -> None:
    tree = LexborHTMLParser(html)
    page = "http://www.district.test/zwgk/index.html"
    for scope, trusted in (
        (["http://www.district.test/"], DEFAULT_TRUSTED_HOSTS),
        (["http://www.district.test/other/"], ()),
    ):
        expected = reference_hidden_links(tree, page, scope, trusted_hosts=trusted)
        assert hidden_links(tree, page, scope, trusted_hosts=trusted) == expected


PII_PARTS = st.sampled_from(
    [
        "110105194912310029", "11010519491231002X", "13912345678", "139-1234-5678",
        "139 1234 5678", "1391234 5678", "手机：", "联系电话：", "\n", "号", "2020-06-15",
        "１３９１２３４５６７８", "44010319900307123", "0",
    ]
)  # fmt: skip
TEXT = st.lists(
    st.one_of(PII_PARTS, st.text(alphabet="0123456789 -\nX年", max_size=20)), max_size=12
).map("".join)


@settings(max_examples=1000, deadline=None)
@given(TEXT)
@example("身份证11010519491231002X")
@example("身份证44020320000202104X")  # no mobile-like run inside: only the ID's own test finds it
@example("电话 139-1234-5678，身份证号 110105194912310029")
def test_personal_data_as_before(text: str) -> None:
    today = dt.date(2020, 6, 30)
    assert pii.find_pii(text, today=today) == reference_find_pii(text, today)


@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet="ICPicp备案版权opyrightOPYRIGHT©标识码技术支持主办:：位置当前 x1", max_size=30)
)
def test_chrome_lines_and_spaces_as_before(line: str) -> None:
    assert is_chrome_line(line) == reference_is_chrome_line(line)
    spaced = line.replace("x", "\u3000").replace("1", "\ufeff").replace(" ", "\xa0 \t")
    assert _collapse(spaced) == _SPACES.sub(" ", spaced).strip()


WORDS = st.lists(st.text(alphabet="abcd中国", min_size=1, max_size=5), min_size=1, max_size=12)


@settings(max_examples=500, deadline=None)
@given(WORDS, st.text(alphabet="abcd中国 x", max_size=40))
def test_any_word_pattern_finds_exactly_the_words(words: list[str], text: str) -> None:
    found = re.search(_any_word_pattern(words), text) is not None
    assert found == any(word in text for word in words)


def test_any_word_pattern_with_very_long_words() -> None:
    words = ["长" * 150, "短语"]
    assert re.search(_any_word_pattern(words), "一个短语") is not None
    assert re.search(_any_word_pattern(words), "长" * 149) is None
    assert re.search(_any_word_pattern([]), "anything") is None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["不忘出心", "网络赌博", "打击", "总书纪", "刘松驰同志", "，", "a"]))
)
def test_lexicon_without_a_hit_says_nothing_and_with_one_the_same(parts: list[str]) -> None:
    text = "".join(parts)
    lexicon = shipped_lexicon()
    hits = lexicon.scan_text(text)
    # the automaton alone, as before the pre-check
    bare = Lexicon.__new__(Lexicon)
    bare.__dict__.update(lexicon.__dict__)
    bare._any = re.compile("")
    assert hits == bare.scan_text(text)
