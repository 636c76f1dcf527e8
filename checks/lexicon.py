"""A page's readable text, labelled values in it, and the typo and sensitive lexicons. Pure.

Three layers, each usable alone:

* :func:`page_lines` turns a parsed page (or one element of it) into the lines a reader sees:
  one line per block (paragraph, table cell, list item, ``<br>``), inline elements joined, with
  scripts and styles dropped and, by default, the page's chrome (navigation, header, footer,
  breadcrumbs) and footer-like lines (ICP备案, 公网安备, copyright, 网站标识码, 主办单位 ...)
  skipped;
* :func:`scan_labels` finds ``label：value`` pairs in such lines whatever the layout: a table
  row ``<td>答复时间</td><td>2020-05-07</td>``, a definition list,
  ``<span>答复时间：</span>2020-05-07``, a heading followed by paragraphs, or several pairs on
  one line; :func:`table_header_pairs` adds tables whose first row holds the labels and the
  next row the values. The message and service
  guide readers are built on these two;
* :class:`Lexicon` matches the shipped and the user's typo and sensitive lexicons over a page's
  main text with one Aho-Corasick automaton (``pyahocorasick``): every hit carries the matched
  text, the suggestion and a ±20-character context.

False positives are the known weakness of every vendor's checker, so a hit is dropped when:

* it lies inside an allow-listed word (the user's allow list);
* it lies inside one of the entry's own *protected words* (third column of the typo file: the
  longer correct words that contain the wrong text, e.g. ``通迅`` inside ``交通迅速``);
* it is a short typo (3 characters or fewer) that sits in what reads as a person's name: a common
  surname followed by one or two characters, bounded by punctuation, spaces or a title such as
  同志 / 书记 / 局长 (``刘松驰同志`` is a name, ``管理松驰`` a typo);
* it is a sensitive phrase in an enforcement context (打击 / 查处 / 严禁 ... just before it):
  a news item on a crackdown on 网络赌博 is not planted gambling content.

The shipped lexicons live in ``checks/data`` (see its README for what is in them and why).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

import ahocorasick  # type: ignore[import-not-found]
from selectolax.lexbor import LexborHTMLParser, LexborNode

# --------------------------------------------------------------------------------------------
# A page's readable text
# --------------------------------------------------------------------------------------------

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
_SPACES = re.compile(r"[\s\u3000\xa0\u2002\u2003\u2009\ufeff]+")
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
    """``_SPACES.sub(" ", text).strip()``, faster: str.split() splits at the same whitespace
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
            text = _SPACES.sub(" ", cell.text()).strip()
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
            texts = [_SPACES.sub(" ", v.text()).strip() for v in values]
            if any(table.is_bare_label(t) for t in texts):
                continue
            for (key, label), value in zip(keys, texts, strict=True):
                if key:
                    out.append(Labelled(key, label, (value,) if value else (), -1))
    return out


# --------------------------------------------------------------------------------------------
# Lexicons
# --------------------------------------------------------------------------------------------

TYPO: Final = "typo"
SENSITIVE: Final = "sensitive"
CONTEXT_CHARS: Final = 20
_SHORT_TYPO: Final = 3  # typos this short are checked against people's names

# surnames common enough that a two- or three-character run starting with one, between
# punctuation, reads as a name (our own list, from the usual frequency tables)
_SURNAMES: Final = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎"
    "贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申"
    "欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴"
    "蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席"
    "卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟"
    "邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强"
    "帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍"
    "辜羊乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉斯"
    "元束檀衣信展阴昝智幸奉植衡富尧闭由习"
)
_COMPOUND_SURNAMES: Final = frozenset(
    {
        "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐",
        "夏侯", "长孙", "宇文", "司徒", "端木", "澹台", "呼延", "独孤", "南宫", "西门",
    }
)  # fmt: skip
# words that may stand right before a name (a title, a role, a label) ...
_BEFORE_NAME: Final = (
    "书记", "局长", "主任", "区长", "镇长", "县长", "市长", "委员", "代表", "科长", "所长",
    "站长", "处长", "部长", "厅长", "院长", "校长", "经理", "记者", "通讯员", "联系人",
    "经办人", "申请人", "负责人", "姓名", "同志", "作者", "编辑", "审核", "摄影", "主持人",
)  # fmt: skip
# ... and right after one
_AFTER_NAME: Final = (
    "同志", "先生", "女士", "老师", "书记", "局长", "主任", "区长", "镇长", "县长", "市长",
    "委员", "代表", "科长", "所长", "站长", "处长", "部长", "厅长", "院长", "校长", "经理",
    "等人", "等同志", "说", "表示", "指出", "强调", "介绍",
)  # fmt: skip
_STRONG_AFTER_NAME: Final = ("同志", "先生", "女士", "老师")
_ENFORCEMENT = re.compile(
    r"打击|整治|查处|取缔|严禁|禁止|谨防|警惕|防范|举报|严厉|涉嫌|破获|侦破|抓获|查办|远离|拒绝"
    r"|非法|违法|犯罪|专项|案件|一案|团伙|危害|揭秘|曝光|套路"
)
_ENFORCEMENT_WINDOW = 12
_SENTENCE_END = re.compile(r"[\n。！？；!?;]")


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def looks_like_name(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` lies inside what reads as a person's name.

    A name is a common surname (one or two characters) and one or two more characters, all
    Chinese, with a boundary on each side: punctuation, a space, the start or end of the text,
    or a title or role word (局长、同志、联系人 ...). A name followed by 同志 / 先生 / 女士 / 老师
    needs no boundary before it.
    """
    n = len(text)
    for p in range(max(0, start - 2), start + 1):
        for size in (1, 2):
            surname = text[p : p + size]
            if len(surname) < size:
                continue
            if (size == 1 and surname not in _SURNAMES) or (
                size == 2 and surname not in _COMPOUND_SURNAMES
            ):
                continue
            for q in range(max(end, p + size + 1), p + size + 3):
                if q > n or not all(_is_cjk(c) for c in text[p:q]):
                    continue
                left_ok = (
                    p == 0
                    or not _is_cjk(text[p - 1])
                    or any(text.endswith(t, 0, p) for t in _BEFORE_NAME)
                )
                right_ok = (
                    q == n
                    or not _is_cjk(text[q])
                    or any(text.startswith(t, q) for t in _AFTER_NAME)
                )
                strong = any(text.startswith(t, q) for t in _STRONG_AFTER_NAME)
                if (left_ok and right_ok) or strong:
                    return True
    return False


def _enforcement_context(text: str, start: int, end: int) -> bool:
    """Whether an enforcement word stands near the hit in the same sentence."""
    before = _SENTENCE_END.split(text[max(0, start - _ENFORCEMENT_WINDOW) : start])[-1]
    after = _SENTENCE_END.split(text[end : end + _ENFORCEMENT_WINDOW // 2])[0]
    return _ENFORCEMENT.search(before) is not None or _ENFORCEMENT.search(after) is not None


def _fold_case(text: str) -> str:
    """Lower-case ``text`` keeping every character's offset."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _context(text: str, start: int, end: int) -> str:
    snippet = text[max(0, start - CONTEXT_CHARS) : end + CONTEXT_CHARS]
    return _SPACES.sub(" ", snippet.replace("\n", " ")).strip()


@dataclass(frozen=True, slots=True)
class TypoEntry:
    """``wrong`` is an error whatever its context; ``protected`` are longer correct words that
    contain it (a hit inside one of them is not a typo)."""

    wrong: str
    right: str
    protected: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Hit:
    kind: str  # TYPO or SENSITIVE
    text: str  # as written on the page
    suggestion: str | None
    context: str  # ±20 characters around it, whitespace collapsed
    start: int  # offset in the scanned text

    @property
    def code(self) -> str:
        return "content.typo" if self.kind == TYPO else "content.sensitive"

    def detail(self) -> dict[str, str | None]:
        return {"text": self.text, "suggestion": self.suggestion, "context": self.context}


class LexiconError(ValueError):
    """A lexicon file that cannot be read: says which file, which line and what is wrong."""


def _data_text(name: str) -> str:
    return resources.files("checks").joinpath("data", name).read_text(encoding="utf-8")


def _content_lines(text: str) -> Iterable[tuple[int, str]]:
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip().lstrip("\ufeff")
        if line and not line.startswith("#"):
            yield number, line


def parse_typo_lexicon(text: str, source: str = "<typos>") -> list[TypoEntry]:
    """Lines ``wrong<TAB>right[<TAB>protected,protected...]``; ``#`` starts a comment line.

    Two fields separated by spaces are accepted too. Raises :class:`LexiconError` naming the
    source and line for anything else.
    """
    out: list[TypoEntry] = []
    for number, line in _content_lines(text):
        fields = [f.strip() for f in line.split("\t")] if "\t" in line else line.split()
        if len(fields) not in (2, 3) or not fields[0] or not fields[1]:
            raise LexiconError(f"{source}:{number}: expected 'wrong<TAB>right', got {line!r}")
        wrong, right = fields[0], fields[1]
        if wrong == right:
            raise LexiconError(f"{source}:{number}: {wrong!r} is its own suggestion")
        protected: tuple[str, ...] = ()
        if len(fields) == 3 and fields[2]:
            protected = tuple(p.strip() for p in re.split(r"[,，]", fields[2]) if p.strip())
            bad = [p for p in protected if wrong not in p]
            if bad:
                raise LexiconError(
                    f"{source}:{number}: protected words must contain {wrong!r}: {bad}"
                )
        out.append(TypoEntry(wrong, right, protected))
    return out


def parse_word_list(text: str, source: str = "<words>") -> list[str]:
    """One word or phrase a line; ``#`` starts a comment line."""
    words = []
    for number, line in _content_lines(text):
        if "\t" in line:
            raise LexiconError(f"{source}:{number}: one word or phrase a line, got {line!r}")
        words.append(line)
    return words


def _read(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LexiconError(f"{path}: cannot read the lexicon: {exc}") from exc


def read_typo_lexicon(path: str | Path) -> list[TypoEntry]:
    return parse_typo_lexicon(_read(path), str(path))


def read_word_list(path: str | Path) -> list[str]:
    return parse_word_list(_read(path), str(path))


@lru_cache(maxsize=1)
def shipped_typos() -> tuple[TypoEntry, ...]:
    return tuple(parse_typo_lexicon(_data_text("typos.tsv"), "checks/data/typos.tsv"))


@lru_cache(maxsize=1)
def shipped_sensitive() -> tuple[str, ...]:
    return tuple(parse_word_list(_data_text("sensitive.txt"), "checks/data/sensitive.txt"))


@dataclass(frozen=True, slots=True)
class _Entry:
    kind: str
    word: str
    suggestion: str | None
    protected: tuple[str, ...]


def _any_word_pattern(words: Iterable[str]) -> str:
    """A regex matching where any of ``words`` (non-empty) occurs: their trie as nested groups,
    cut where a word ends (a longer word going on from there needs no more to be found)."""
    words = list(words)
    if any(len(word) > 100 for word in words):  # too deep a trie: the words side by side
        return "|".join(re.escape(word) for word in words) or "(?!)"
    trie: dict[str, dict[str, Any]] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        if "" in node:
            return ""
        alternatives = [re.escape(ch) + build(child) for ch, child in sorted(node.items())]
        if len(alternatives) == 1:
            return alternatives[0]
        if all(child == {"": {}} for child in node.values()):  # one last character of several
            return "[" + "".join(re.escape(ch) for ch in sorted(node)) + "]"
        return "(?:" + "|".join(alternatives) + ")"

    return build(trie) if trie else "(?!)"


class Lexicon:
    """Typo and sensitive lexicons compiled into one automaton; build once, scan many pages.

    A user's typo entry for the same wrong text replaces the shipped one.
    """

    def __init__(
        self,
        typos: Iterable[TypoEntry] = (),
        sensitive: Iterable[str] = (),
        allow: Iterable[str] = (),
    ) -> None:
        by_word: dict[tuple[str, str], _Entry] = {}
        for typo in typos:
            word = _fold_case(typo.wrong)
            by_word[(TYPO, word)] = _Entry(
                TYPO, word, typo.right, tuple(_fold_case(p) for p in typo.protected)
            )
        for phrase in sensitive:
            word = _fold_case(phrase.strip())
            if word:
                by_word[(SENSITIVE, word)] = _Entry(SENSITIVE, word, None, ())
        self.typo_count = sum(1 for kind, _ in by_word if kind == TYPO)
        self.sensitive_count = len(by_word) - self.typo_count
        grouped: dict[str, list[_Entry]] = {}
        for entry in by_word.values():
            grouped.setdefault(entry.word, []).append(entry)
        self._automaton = ahocorasick.Automaton()
        for word, entries in grouped.items():
            self._automaton.add_word(word, tuple(entries))
        self._ready = bool(grouped)
        if self._ready:
            self._automaton.make_automaton()
        # whether any word occurs at all: one regex search, about twice as fast as the
        # automaton's walk (slow when the words start with many different characters); most
        # pages have no hit
        self._any = re.compile(_any_word_pattern(grouped))
        allowed = {_fold_case(w.strip()) for w in allow if w.strip()}
        self._allow = ahocorasick.Automaton()
        for word in allowed:
            self._allow.add_word(word, len(word))
        self._allow_ready = bool(allowed)
        if self._allow_ready:
            self._allow.make_automaton()

    @classmethod
    def load(
        cls,
        *,
        typo_files: Sequence[str | Path] = (),
        sensitive_files: Sequence[str | Path] = (),
        allow: Iterable[str] = (),
        allow_files: Sequence[str | Path] = (),
        shipped: bool = True,
    ) -> Lexicon:
        """The shipped lexicons (unless ``shipped`` is false) merged with the user's files."""
        typos: list[TypoEntry] = list(shipped_typos()) if shipped else []
        words: list[str] = list(shipped_sensitive()) if shipped else []
        for path in typo_files:
            typos.extend(read_typo_lexicon(path))
        for path in sensitive_files:
            words.extend(read_word_list(path))
        allowed = list(allow)
        for path in allow_files:
            allowed.extend(read_word_list(path))
        return cls(typos, words, allowed)

    def _allowed_spans(self, folded: str) -> list[tuple[int, int]]:
        if not self._allow_ready:
            return []
        spans = [(end - size + 1, end + 1) for end, size in self._allow.iter(folded)]
        spans.sort()
        return spans

    @staticmethod
    def _inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
        # spans sorted by start; any span starting at or before ``start`` may cover the hit
        i = bisect.bisect_right(spans, (start, 1 << 62))
        return any(s <= start and end <= e for s, e in spans[:i])

    @staticmethod
    def _protected(folded: str, entry: _Entry, start: int) -> bool:
        for word in entry.protected:
            at = word.find(entry.word)
            while at >= 0:
                begin = start - at
                if begin >= 0 and folded.startswith(word, begin):
                    return True
                at = word.find(entry.word, at + 1)
        return False

    def scan_text(self, text: str, *, enforcement_context: bool = False) -> list[Hit]:
        """Every hit in ``text``, in order; a hit inside a longer hit of its kind is left out.

        ``enforcement_context=True`` keeps sensitive phrases that stand in a crackdown context
        (打击网络赌博), which are dropped by default.
        """
        if not self._ready or not text:
            return []
        folded = _fold_case(text)
        if self._any.search(folded) is None:
            return []
        allowed = self._allowed_spans(folded)
        found: list[tuple[int, int, _Entry]] = []
        for end_index, entries in self._automaton.iter(folded):
            end = end_index + 1
            for entry in entries:
                start = end - len(entry.word)
                if allowed and self._inside(allowed, start, end):
                    continue
                if entry.protected and self._protected(folded, entry, start):
                    continue
                if (
                    entry.kind == TYPO
                    and end - start <= _SHORT_TYPO
                    and looks_like_name(text, start, end)
                ):
                    continue
                if (
                    entry.kind == SENSITIVE
                    and not enforcement_context
                    and _enforcement_context(text, start, end)
                ):
                    continue
                found.append((start, end, entry))
        found.sort(key=lambda h: (h[0], -(h[1] - h[0])))
        hits: list[Hit] = []
        kept: list[tuple[int, int, str]] = []
        for start, end, entry in found:
            if any(s <= start and end <= e and k == entry.kind for s, e, k in kept):
                continue
            kept.append((start, end, entry.kind))
            snippet = _context(text, start, end)
            hits.append(Hit(entry.kind, text[start:end], entry.suggestion, snippet, start))
        return hits

    def scan_lines(self, lines: Sequence[str], *, enforcement_context: bool = False) -> list[Hit]:
        return self.scan_text("\n".join(lines), enforcement_context=enforcement_context)

    def scan_page(
        self, root: LexborHTMLParser | LexborNode, *, enforcement_context: bool = False
    ) -> list[Hit]:
        """Hits in the page's main text: navigation, headers, footers and footer lines skipped."""
        return self.scan_lines(page_lines(root), enforcement_context=enforcement_context)


@lru_cache(maxsize=1)
def shipped_lexicon() -> Lexicon:
    """The shipped lexicons alone, compiled once."""
    return Lexicon(shipped_typos(), shipped_sensitive())
