"""Replies on message boards (互动交流, 领导信箱, 咨询投诉), judged. Pure.

The boards are read by :mod:`checks.readers.boards`. Judging (:func:`judge_message`), relative
to the monitoring day ``as_of``, for the messages asked in the year before it:

* ``message.late_reply``: answered after more than ``reply_working_days`` working days
  (``simple_reply_working_days`` for a simple question: its column is marked simple, or it
  closely matches an entry of the site's FAQ base, :func:`faq_match`);
* ``message.unanswered``: unanswered (no reply, or 未回复 / 办理中) for more than
  ``unanswered_max_days`` calendar days: the veto case;
* ``message.overdue``: unanswered after the working-day limit, not yet the veto case;
* ``message.incomplete``: a published reply (read on the detail page) missing its reply time,
  replying unit or reply content.

Working days come from :mod:`checks.workdays`; when the holiday calendar does not cover the span,
the judgement is :data:`CALENDAR_GAP` (a warning saying so), never a guessed count. A reply dated
after ``as_of`` had not come at ``as_of``: the message is judged as unanswered then.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from checks.catalogue import Judgement
from checks.readers.boards import UNKNOWN, Message
from checks.workdays import CalendarGap, CountFrom, working_days_between

LATE_REPLY: Final = "message.late_reply"
OVERDUE: Final = "message.overdue"
UNANSWERED: Final = "message.unanswered"
INCOMPLETE: Final = "message.incomplete"
# not an INTERFACE code yet: a warning that working days could not be counted
CALENDAR_GAP: Final = "message.calendar_gap"

# --------------------------------------------------------------------------------------------

# how close a question must be to an FAQ entry to count as the same question: the Dice
# coefficient of their character bigrams, after the words of asking are removed
FAQ_THRESHOLD: Final = 0.6
FAQ_MIN_BIGRAMS: Final = 3
_ASKING = re.compile(
    r"请问一下|请问|您好|你好|咨询一下|咨询|想问一下|想问|想了解|了解一下|关于|问题|求助|反映|"
    r"如何|怎样|怎么样|怎么|什么|哪些|哪里|多久|是否|能否|可否|可以|能不能|需要|需|要|吗|呢|吧|"
    r"啊|的|了|一下"
)
_NOT_WORD = re.compile(r"[^\w]|_", re.UNICODE)


def _bigrams(text: str) -> frozenset[str]:
    core = _NOT_WORD.sub("", _ASKING.sub(" ", text.lower()).replace(" ", ""))
    return frozenset(core[i : i + 2] for i in range(len(core) - 1))


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


class FaqIndex:
    """The FAQ base's questions, compiled once for many :meth:`match` calls.

    Two questions are the same when the Dice coefficient of their character bigrams is at least
    :data:`FAQ_THRESHOLD` (0.6), computed after the words of asking (请问、如何、怎么、吗 ...) and
    punctuation are removed, and each has at least :data:`FAQ_MIN_BIGRAMS` bigrams. Sharing a
    subject is not enough: 如何办理居住证 and 如何注销居住证 share 居住证 and score 0.5.
    """

    def __init__(self, titles: Iterable[str], threshold: float = FAQ_THRESHOLD) -> None:
        self.threshold = threshold
        self._entries = [(t, _bigrams(t)) for t in titles]
        self._entries = [(t, b) for t, b in self._entries if len(b) >= FAQ_MIN_BIGRAMS]
        self._by_bigram: dict[str, list[int]] = {}
        for i, (_, grams) in enumerate(self._entries):
            for g in grams:
                self._by_bigram.setdefault(g, []).append(i)

    def score(self, question: str) -> tuple[str | None, float]:
        """The closest entry and its score (``None, 0.0`` when nothing shares a bigram)."""
        grams = _bigrams(question)
        if len(grams) < FAQ_MIN_BIGRAMS:
            return None, 0.0
        candidates: set[int] = set()
        for g in grams:
            candidates.update(self._by_bigram.get(g, ()))
        best: tuple[str | None, float] = (None, 0.0)
        for i in sorted(candidates):
            title, entry = self._entries[i]
            s = _dice(grams, entry)
            if s > best[1]:
                best = (title, s)
        return best

    def match(self, question: str) -> str | None:
        title, s = self.score(question)
        return title if title is not None and s >= self.threshold else None


def faq_match(question: str, faq_titles: Sequence[str]) -> str | None:
    """The FAQ entry that asks the same as ``question``, or ``None`` (see :class:`FaqIndex`)."""
    return FaqIndex(faq_titles).match(question)


# --------------------------------------------------------------------------------------------
# Judgement
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReplyRules:
    """The ``[rules]`` keys behind the reply checks, with the national defaults."""

    reply_working_days: int = 5
    simple_reply_working_days: int = 0  # 0: no separate rule for simple questions
    unanswered_max_days: int = 90
    count_from: CountFrom = "next_day"
    lookback_days: int = 0  # 0: the calendar year before as_of (as_of minus one year)

    @classmethod
    def from_mapping(cls, rules: Mapping[str, Any]) -> ReplyRules:
        """From a config's ``[rules]`` table (other keys are ignored)."""
        keys = {f for f in cls.__dataclass_fields__ if f in rules}
        return cls(**{k: rules[k] for k in keys})


def _year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def in_lookback(asked: dt.date, as_of: dt.date, rules: ReplyRules = ReplyRules()) -> bool:
    """Whether a message of ``asked`` lies in the year (or ``lookback_days``) before ``as_of``."""
    if rules.lookback_days > 0:
        start = as_of - dt.timedelta(days=rules.lookback_days)
    else:
        start = _year_before(as_of)
    return start <= asked <= as_of


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def judge_message(
    msg: Message,
    as_of: dt.date,
    rules: ReplyRules = ReplyRules(),
    *,
    simple: bool = False,
    faq: FaqIndex | Sequence[str] | None = None,
) -> list[Judgement]:
    """What is wrong with one message at ``as_of``: a list of ``(code, detail)``.

    ``simple`` marks the message's column as one of simple questions; ``faq`` (the site's FAQ
    titles, or a :class:`FaqIndex` of them) makes a message simple when it asks what an entry
    answers. The shorter limit applies only when ``simple_reply_working_days`` is set (> 0).
    ``detail`` always has ``asked``, ``answered`` (or ``None``), ``working_days`` and ``limit``.
    """
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    if msg.asked is None or not in_lookback(msg.asked, as_of, rules):
        return []
    asked = msg.asked
    matched: str | None = None
    if rules.simple_reply_working_days > 0 and not simple and faq:
        index = faq if isinstance(faq, FaqIndex) else FaqIndex(faq)
        question = msg.title or msg.question
        matched = index.match(question)
        if matched is None and msg.question and msg.title:
            matched = index.match(msg.question)
    is_simple = rules.simple_reply_working_days > 0 and (simple or matched is not None)
    limit = rules.simple_reply_working_days if is_simple else rules.reply_working_days
    base: dict[str, Any] = {
        "title": msg.title,
        "asked": asked.isoformat(),
        "answered": None,
        "working_days": None,
        "limit": limit,
        "simple": is_simple,
    }
    if matched is not None:
        base["faq"] = matched
    out: list[Judgement] = []

    answered = msg.replied if msg.replied is not None and msg.replied <= as_of else None
    published = msg.reply_published and (msg.replied is None or msg.replied <= as_of)

    if msg.from_detail and published and msg.missing_reply_parts:
        detail = dict(base, answered=_iso(answered), missing=msg.missing_reply_parts)
        out.append(Judgement(INCOMPLETE, detail))

    if answered is not None:
        try:
            days = working_days_between(asked, answered, count_from=rules.count_from)
        except CalendarGap as gap:
            out.append(_gap(base, answered, gap))
            return out
        if days > limit:
            detail = dict(base, answered=_iso(answered), working_days=days)
            out.append(Judgement(LATE_REPLY, detail))
        return out

    if published and msg.replied is None:
        # a reply is shown without its date: when it came cannot be told (incomplete above)
        return out
    if not published and msg.status == UNKNOWN and not msg.from_detail:
        # a list row that says nothing about a reply: wait for its detail page
        return out

    calendar_days = (as_of - asked).days
    days_now: int | None = None
    gap_judgement: Judgement | None = None
    try:
        days_now = working_days_between(asked, as_of, count_from=rules.count_from)
    except CalendarGap as gap:
        gap_judgement = _gap(base, None, gap)
    if calendar_days > rules.unanswered_max_days:
        detail = dict(base, working_days=days_now, days=calendar_days)
        detail["max_days"] = rules.unanswered_max_days
        out.append(Judgement(UNANSWERED, detail))
    elif days_now is None and gap_judgement is not None:
        out.append(gap_judgement)
    elif days_now is not None and days_now > limit:
        out.append(Judgement(OVERDUE, dict(base, working_days=days_now, days=calendar_days)))
    return out


def _gap(base: Mapping[str, Any], answered: dt.date | None, gap: CalendarGap) -> Judgement:
    detail = dict(base, answered=_iso(answered), year=gap.year, reason=str(gap))
    return Judgement(CALENDAR_GAP, detail)
