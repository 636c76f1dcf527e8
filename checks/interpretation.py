"""Policy documents and their interpretations (政策解读): which policy has none. Pure.

The national rule asks that every policy document be interpreted and the interpretation be
published with it and linked to it. A policy counts as interpreted when any interpretation

* is linked from the policy's own page in a 相关解读 / 政策解读 / 图解 section or by a link whose
  text says 解读 (a link to the 政策解读 *column* does not count), or links to the policy in a
  原文 / 政策原文 / 相关文件 section or by a link whose text says 原文;
* names the policy: ``《title》`` equal to the policy's title, or to the document a notice
  publishes (关于印发《X》的通知 is named by 《X》); a title of 10 characters or more appearing
  in the interpretation's title or text also counts;
* cites the policy's document number (蓬府办〔2020〕12号, [2020]12号, （2020）12号 ...): same
  year and number, and the same issuing prefix. A prefix read from running text may carry the
  words before it (根据蓬府办), so prefixes match when one ends with the other and the shorter
  has two characters or more; a number cited without any prefix matches only when exactly one
  policy has that year and number.

Only policy documents published inside the look-back window count (:func:`unmatched_policies`);
interpretations count whenever they were published.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from selectolax.lexbor import LexborHTMLParser, LexborNode

from checks.readers.text import is_chrome_element, page_lines
from crawler.net.urls import canonicalize

_CJK = "\u4e00-\u9fff"
_DOC_NUMBER = re.compile(
    rf"([{_CJK}]{{1,12}})?[ \u3000]{{0,2}}[〔\[［【（(﹝][ \u3000]{{0,2}}((?:19|20)\d{{2}})"
    r"[ \u3000]{0,2}[〕\]］】）)﹞][ \u3000]{0,2}第?[ \u3000]{0,2}(\d{1,5})[ \u3000]{0,2}号"
)
# words that stand before a document number in running text and are not its prefix: the
# prefix starts after the last of them (印发的江府办 gives 江府办)
_LEADING_WORDS = (
    "根据", "依据", "按照", "依照", "参照", "遵照", "执行", "贯彻", "落实", "印发", "转发",
    "关于", "以及", "文件", "通知", "同时", "废止", "详见", "办公室", "人民政府", "见", "即",
    "和", "与", "及", "或", "是", "为", "的", "按", "据", "对", "将", "由", "在", "请",
)  # fmt: skip
_LEADING = re.compile("|".join(_LEADING_WORDS))
_MENTION = re.compile(r"《([^《》\n]{2,120})》")
_CORE = re.compile(
    r"关于(?:印发|转发|公布|发布|颁布|修订|修改)?《(.+?)》(?:的|等)?"
    r"(?:通知|决定|公告|批复|意见|通告|函)"
)
_TITLE_NOISE = re.compile(
    r"[\s\u3000《》〈〉“”\"'‘’「」『』（）()\[\]【】〔〕，,。.、：:；;！!？?—\-_·…]"
)
MIN_TITLE_CONTAINED: Final = 10

_INTERPRETATION_WORDS = ("相关解读", "政策解读", "文件解读", "解读材料", "图文解读", "图解", "解读")
_SOURCE_WORDS = ("政策原文", "文件原文", "原文链接", "原文件", "原文", "相关文件", "相关政策")
_NUMBER_LABELS = re.compile(r"^(?:发文字号|发文文号|文号|发文号|文件编号)\s*[:：]?\s*(.*)$")


@dataclass(frozen=True, slots=True)
class DocNumber:
    prefix: str  # the issuing prefix (蓬府办), "" when cited without one
    year: int
    number: int

    def __str__(self) -> str:
        return f"{self.prefix}〔{self.year}〕{self.number}号"

    def same_as(self, other: DocNumber) -> bool:
        """Same year and number, and compatible prefixes (see the module notes)."""
        if (self.year, self.number) != (other.year, other.number):
            return False
        a, b = self.prefix, other.prefix
        if not a or not b:
            return a == b
        shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
        return len(shorter) >= 2 and longer.endswith(shorter)


def _clean_prefix(raw: str) -> str:
    cut = 0
    for match in _LEADING.finditer(raw):
        if match.end() < len(raw):
            cut = match.end()
    return raw[cut:]


def find_doc_numbers(text: str) -> list[DocNumber]:
    """Every document number in ``text``, in order (``蓬府办〔2020〕12号`` and its variants)."""
    out: list[DocNumber] = []
    for match in _DOC_NUMBER.finditer(text):
        prefix = _clean_prefix(match.group(1) or "")
        out.append(DocNumber(prefix, int(match.group(2)), int(match.group(3))))
    return out


def extract_doc_number(text: str) -> str | None:
    """The first document number in ``text``, normalised (``蓬府办〔2020〕12号``), or ``None``.

    Any bracket pair is read (〔〕 [] ［］ 【】 （） () ﹝﹞), ``第`` and spaces are dropped,
    and the words before the prefix in running text (根据、按照 ...) are left out.
    """
    found = find_doc_numbers(text)
    return str(found[0]) if found else None


def normalize_title(title: str) -> str:
    """A title for comparison: document numbers, spaces, brackets and punctuation removed."""
    return _TITLE_NOISE.sub("", _DOC_NUMBER.sub("", title))


def core_title(title: str) -> str | None:
    """The document a notice publishes: 关于印发《X》的通知 gives X."""
    match = _CORE.search(title)
    return normalize_title(match.group(1)) if match else None


@dataclass(frozen=True, slots=True)
class Doc:
    """A policy document or an interpretation, as the matcher needs it."""

    url: str
    title: str
    published: dt.date | None = None
    text: str = ""  # the main text (for 《》 mentions and document numbers)
    number: str | None = None  # its own document number, normalised
    interpretation_links: tuple[str, ...] = ()  # links in its 相关解读 section
    source_links: tuple[str, ...] = ()  # links in its 原文 / 相关文件 section


def _text(node: LexborNode) -> str:
    return " ".join(node.text(separator=" ").split())


def _prev_element(node: LexborNode) -> LexborNode | None:
    prev = node.prev
    while prev is not None and (prev.tag or "").startswith("-"):
        prev = prev.prev
    return prev


def _section_kind(text: str) -> str | None:
    head = text.strip().lstrip("【[〔 ")[:8]
    for word in _INTERPRETATION_WORDS:
        if head.startswith(word):
            return "interpretation"
    for word in _SOURCE_WORDS:
        if head.startswith(word):
            return "source"
    return None


def _is_list_page(url: str) -> bool:
    """A column's list page (``/zcjd/``, ``index_1.html``), never a document."""
    path = url.split("?", 1)[0]
    last = path.rsplit("/", 1)[-1]
    return last == "" or re.fullmatch(r"(?:index|default)(?:_\d+)?\.\w+", last) is not None


def _is_section_label(text: str) -> str | None:
    label = text.strip().strip("【】[]〔〕:： ")
    if label in _INTERPRETATION_WORDS:
        return "interpretation"
    if label in _SOURCE_WORDS:
        return "source"
    return None


def explicit_links(
    tree: LexborHTMLParser | LexborNode, page_url: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(interpretation links, source links)`` of a page.

    A link is an interpretation link when its text says 解读 / 图解 or it sits in a section
    headed 相关解读 / 政策解读 ...; a source link when its text says 原文 or it sits in a section
    headed 政策原文 / 原文链接 / 相关文件 .... Navigation and footers are skipped, and so are
    links to the 政策解读 column itself.
    """
    interpretations: list[str] = []
    sources: list[str] = []
    for a in tree.css("a[href]"):
        url = canonicalize(a.attributes.get("href") or "", page_url)
        if url is None or url == canonicalize(page_url):
            continue
        if any(is_chrome_element(p) for p in _ancestors(a)):
            continue
        text = _text(a) or (a.attributes.get("title") or "")
        if _is_list_page(url):
            continue
        kind: str | None = None
        if "解读" in text or "图解" in text:
            kind = "interpretation"
        elif "原文" in text:
            kind = "source"
        else:
            node: LexborNode | None = a.parent
            for _ in range(3):
                if node is None:
                    break
                kind = _section_kind(_text(node))
                if kind is None:
                    prev = _prev_element(node)
                    if prev is not None:
                        kind = _is_section_label(_text(prev))
                if kind is not None:
                    break
                node = node.parent
        if kind == "interpretation" and url not in interpretations:
            interpretations.append(url)
        elif kind == "source" and url not in sources:
            sources.append(url)
    return tuple(interpretations), tuple(sources)


def _ancestors(node: LexborNode) -> Iterable[LexborNode]:
    parent = node.parent
    while parent is not None and parent.tag not in ("body", "html"):
        yield parent
        parent = parent.parent


def _own_number(title: str, lines: Sequence[str]) -> str | None:
    for line in lines[:40]:
        match = _NUMBER_LABELS.match(line)
        if match:
            found = extract_doc_number(match.group(1))
            if found:
                return found
    found = extract_doc_number(title)
    if found:
        return found
    for line in lines[:12]:
        if len(line) <= 40:
            found = extract_doc_number(line)
            if found:
                return found
    return None


def read_doc(
    tree: LexborHTMLParser, url: str, *, title: str | None = None, published: dt.date | None = None
) -> Doc:
    """A :class:`Doc` from a parsed article page: title, main text, own number, explicit links."""
    if title is None:
        meta = tree.css_first('meta[name="ArticleTitle"]')
        title = (meta.attributes.get("content") or "").strip() if meta is not None else ""
        if not title:
            h1 = tree.css_first("h1")
            title = _text(h1) if h1 is not None else ""
        if not title:
            node = tree.css_first("title")
            title = re.split(r"[_|]", _text(node))[0].strip() if node is not None else ""
    lines = page_lines(tree)
    interpretation_links, source_links = explicit_links(tree, url)
    return Doc(
        url=canonicalize(url) or url,
        title=title,
        published=published,
        text="\n".join(lines),
        number=_own_number(title, lines),
        interpretation_links=interpretation_links,
        source_links=source_links,
    )


@dataclass(frozen=True, slots=True)
class Match:
    policy: str  # the policy's URL
    interpretation: str | None  # the interpretation's URL (None: the policy's own 解读 link)
    how: str  # "link", "title" or "number"


def _policy_number(policy: Doc) -> DocNumber | None:
    if policy.number:
        found = find_doc_numbers(policy.number)
        if found:
            return found[0]
    found = find_doc_numbers(policy.title)
    return found[0] if found else None


class Interpretations:
    """Interpretations with what the matcher reads of them worked out once, when each is added:
    the normalised title and text, the 《》 names it mentions, the document numbers it cites and
    the policies it links to. A scan keeps one and matches every site's policies against it
    (normalising each interpretation again for each site was quadratic)."""

    __slots__ = ("_cited", "_corpora", "_docs", "_first_mention", "_linked_from")

    def __init__(self, docs: Iterable[Doc] = ()) -> None:
        self._docs: list[Doc] = []
        self._corpora: list[str] = []  # normalised title and text, by interpretation
        self._first_mention: dict[str, int] = {}  # a normalised 《name》 -> first that says it
        # (year, number) -> (interpretation, the number as cited), in interpretation order
        self._cited: dict[tuple[int, int], list[tuple[int, DocNumber]]] = {}
        self._linked_from: dict[str, str] = {}  # a linked policy URL -> first that links it
        for doc in docs:
            self.add(doc)

    def add(self, doc: Doc) -> None:
        index = len(self._docs)
        self._docs.append(doc)
        for url in doc.source_links:
            self._linked_from.setdefault(url, doc.url)
        said = f"{doc.title}\n{doc.text}"
        self._corpora.append(normalize_title(said))
        for mention in _MENTION.findall(said):
            self._first_mention.setdefault(normalize_title(mention), index)
        for number in find_doc_numbers(said):
            self._cited.setdefault((number.year, number.number), []).append((index, number))

    def __len__(self) -> int:
        return len(self._docs)

    @property
    def docs(self) -> list[Doc]:
        return list(self._docs)

    def linking(self, url: str) -> str | None:
        """The first interpretation linking to the policy at ``url`` (in its 原文 section)."""
        return self._linked_from.get(url)

    def by_title(self, policy: Doc) -> str | None:
        """The first interpretation naming ``policy`` in 《》, else the first whose title or text
        contains its title (of ``MIN_TITLE_CONTAINED`` characters or more)."""
        names = {normalize_title(policy.title)}
        core = core_title(policy.title)
        if core:
            names.add(core)
        names.discard("")
        first = min((self._first_mention.get(n, len(self._docs)) for n in names), default=None)
        if first is not None and first < len(self._docs):
            return self._docs[first].url
        long_names = [n for n in names if len(n) >= MIN_TITLE_CONTAINED]
        if long_names:
            for doc, corpus in zip(self._docs, self._corpora, strict=True):
                if any(n in corpus for n in long_names):
                    return doc.url
        return None

    def by_number(self, number: DocNumber, unique: bool) -> str | None:
        """The first interpretation citing ``number``; one cited without an issuing prefix (or
        a policy number without one) counts only when ``unique``."""
        for index, cited in self._cited.get((number.year, number.number), ()):
            if not cited.prefix or not number.prefix:
                if unique:
                    return self._docs[index].url
            elif cited.same_as(number):
                return self._docs[index].url
        return None


def match_interpretations(
    policies: Sequence[Doc], interpretations: Sequence[Doc] | Interpretations
) -> list[Match]:
    """How each policy that has an interpretation is matched (the first way found).

    Pass an :class:`Interpretations` to match many sets of policies against the same
    interpretations without reading them again."""
    index = (
        interpretations
        if isinstance(interpretations, Interpretations)
        else Interpretations(interpretations)
    )
    numbers = {p.url: _policy_number(p) for p in policies}
    by_year_number: dict[tuple[int, int], int] = {}
    for n in numbers.values():
        if n is not None:
            by_year_number[(n.year, n.number)] = by_year_number.get((n.year, n.number), 0) + 1

    out: list[Match] = []
    for policy in policies:
        url = canonicalize(policy.url) or policy.url
        if policy.interpretation_links:
            out.append(Match(policy.url, None, "link"))
            continue
        linked = index.linking(url)
        if linked is None:
            linked = index.linking(policy.url)
        if linked is not None:
            out.append(Match(policy.url, linked, "link"))
            continue
        found = index.by_title(policy)
        if found is not None:
            out.append(Match(policy.url, found, "title"))
            continue
        number = numbers[policy.url]
        if number is not None:
            unique = by_year_number.get((number.year, number.number), 0) == 1
            hit = index.by_number(number, unique)
            if hit is not None:
                out.append(Match(policy.url, hit, "number"))
    return out


def in_window(day: dt.date | None, since: dt.date | None, until: dt.date | None) -> bool:
    """Whether ``day`` lies in ``[since, until]``; an undated document lies in no window."""
    if since is None and until is None:
        return True
    if day is None:
        return False
    return (since is None or day >= since) and (until is None or day <= until)


def unmatched_policies(
    policies: Sequence[Doc],
    interpretations: Sequence[Doc] | Interpretations,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> list[Doc]:
    """The policies published in ``[since, until]`` that no interpretation links to or names:
    one ``policy.no_interpretation`` each. Undated policies are left out when a window is set.
    """
    window = [p for p in policies if in_window(p.published, since, until)]
    matched = {m.policy for m in match_interpretations(window, interpretations)}
    return [p for p in window if p.url not in matched]
