"""The typo and sensitive lexicons matched over a page's main text. Pure.

:class:`Lexicon` matches the shipped and the user's typo and sensitive lexicons (read by
:mod:`checks.readers.wordlists`) over a page's main text (:func:`checks.readers.text.page_lines`)
with one Aho-Corasick automaton (``pyahocorasick``): every hit carries the matched text, the
suggestion and a ±20-character context.

False positives are the known weakness of every vendor's checker, so a hit is dropped when:

* it lies inside an allow-listed word (the user's allow list);
* it lies inside one of the entry's own *protected words* (third column of the typo file: the
  longer correct words that contain the wrong text, e.g. ``通迅`` inside ``交通迅速``);
* it is a short typo (3 characters or fewer) that sits in what reads as a person's name: a common
  surname followed by one or two characters, bounded by punctuation, spaces or a title such as
  同志 / 书记 / 局长 (``刘松驰同志`` is a name, ``管理松驰`` a typo);
* it is a sensitive phrase in an enforcement context (打击 / 查处 / 严禁 ... just before it):
  a news item on a crackdown on 网络赌博 is not planted gambling content.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import ahocorasick  # type: ignore[import-not-found]
from selectolax.lexbor import LexborHTMLParser, LexborNode

from checks.readers.text import SPACES, page_lines
from checks.readers.wordlists import (
    TypoEntry,
    read_typo_lexicon,
    read_word_list,
    shipped_sensitive,
    shipped_typos,
)

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
    return SPACES.sub(" ", snippet.replace("\n", " ")).strip()


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
