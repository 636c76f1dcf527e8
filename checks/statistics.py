"""Published message statistics (留言统计, ``message.no_statistics``). Pure.

The 2019 self-checks ask a site to publish how many messages its consultation channels received
and answered, and to keep the figures current. The figures live on the board's own list page (a
box such as ``本月共收到留言 128 件，已答复 125 件，办结率 97.7%``, or a 留言统计 table), or on a
page the board links to (统计 / 数据统计 / 留言统计 ...: :func:`stats_links`), which is either an
article with the figures or a list of such articles (``2020年5月份留言办理情况统计``).

:func:`read_stats_page` finds them on one page:

* in text: a number received (共收到 / 受理 / 留言总数 ... N 件) together with a number answered
  (已答复 / 回复 / 办结 ... N 件), or one of them with a rate (办结率 / 回复率 / 答复率 N%), within
  a few neighbouring lines; label and value may sit in neighbouring table cells. Figures about
  services (办件 / 审批 / 事项) that do not mention messages are not message statistics;
* in a table whose header names a received column and an answered column, with numbers under
  them;
* on a page reached through a statistics link only: list rows whose title names message
  statistics (留言 / 来信 / 咨询 ... with 统计 / 情况 / 数据 / 通报).

Each carries the date it speaks for: a labelled date (统计时间 / 截至 / 更新时间 ...) or the
latest date near the figures, else the end of the period named (``2020年5月`` → 31 May,
``第一季度`` → 31 March, ``上半年`` → 30 June, capped at ``as_of``), else the date of the list row
or article. Figures on the board's own page with no date at all are a live counter, current by
construction (:attr:`MessageStats.live`).

:func:`judge_statistics` gives ``message.no_statistics`` (one per site, about its first
consultation column) when none of the site's consultation columns shows statistics, or when the
newest are older than ``message_stats_max_age_days`` (proposed ``[rules]`` key, default 92: the
quarter of ``stats_max_age_days``; 0 turns the age rule off). Undated figures on a linked page
cannot be aged and are taken as published (no finding).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from selectolax.lexbor import LexborHTMLParser, LexborNode

from checks.catalogue import Judgement
from checks.readers.dates import fold, scan
from checks.readers.listing import extract_items
from checks.readers.published import published_date
from checks.readers.text import page_lines
from crawler.net.urls import canonicalize, hostname

NO_STATISTICS: Final = "message.no_statistics"
DEFAULT_MAX_AGE_DAYS: Final = 92
WINDOW_LINES: Final = 4  # lines read together (a box, a table's label and value cells)
MAX_LINK_LABEL: Final = 10  # a link to statistics is short (留言统计); a message title is long
MAX_APART: Final = 40  # characters between the received and the answered figures of one statistic

_MESSAGE_WORDS = re.compile(r"留言|来信|信件|咨询|诉求|来电|投诉|信箱|网民|群众|建议|12345|求助")
_SERVICE_WORDS = re.compile(r"办件|审批|事项|许可|办事|业务量")
_NUMBER = r"(?P<n>\d[\d,]*)(?![\d.,]*\s*[%％年月日号时:：\-/.])"
_RECEIVED = re.compile(
    r"(?:共|累计|总计|合计|本月|本周|本季度|本年度?)?"
    r"(?:收到|受理|接收|接到|收件|登记|留言总数|来信总数|信件总数|咨询总数|诉求总数|来电总数"
    r"|留言数|来信数|信件数|咨询数|诉求数|总留言|留言量|来信量|来件|总件数|总数)"
    r"(?P<gap>[^\d\n，。；;、]{0,10}?)" + _NUMBER
)
_ANSWERED = re.compile(
    r"(?<![未待不])(?:已回复|已答复|已办结|已处理|已反馈|已回|回复|答复|办结|处理完毕|反馈)"
    r"(?:数|量|总数|件数)?(?P<gap>[^\d\n，。；;、]{0,8}?)" + _NUMBER
)
_UNIT = re.compile(r"\s*(件|条|封|宗|例|个|次|人次|项|起)")
# what may stand between a label and its number in a label-value layout (收到留言：128)
_GAP_OK = re.compile(
    r"(?:\s|[:：为是共计有了]|留言|来信|信件|咨询|诉求|来电|投诉|件数|总数|数量|总量|条数|数|量)*"
)
_RATE = re.compile(
    r"(?P<label>(?:按时|按期|及时)?(?:办结率|回复率|答复率|回复比例|办理率|反馈率))"
    r"[^\d\n]{0,4}?(?P<n>\d{1,3}(?:\.\d+)?)\s*[%％]"
)
_LABELLED_DATE = re.compile(
    r"统计(时间|日期|截止|截至|周期|区间)|截至|截止|更新(时间|日期|于)|数据时间"
)
_MONTH_RANGE = re.compile(
    r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*(?:月份?)?\s*[-—–至到~]\s*(\d{1,2})\s*月"
)
_MONTH = re.compile(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月(?!\s*\d{1,2}\s*[日号])")
_QUARTER = re.compile(r"((?:19|20)\d{2})\s*年\s*(?:度)?\s*第?\s*([一二三四1-4])\s*季度")
_HALF = re.compile(r"((?:19|20)\d{2})\s*年\s*(?:度)?\s*(上半年|下半年|全年|年度)")
_YEAR_ONLY = re.compile(r"((?:19|20)\d{2})\s*年度")
_QUARTERS: Final = {"一": 3, "二": 6, "三": 9, "四": 12, "1": 3, "2": 6, "3": 9, "4": 12}
_STATS_LINK = re.compile(r"统计|数据分析|数据公开|办理情况|情况通报|答复情况|回复情况")
_STATS_TITLE_KIND = re.compile(r"统计|情况|数据|通报|分析|报告|汇总")
_STATS_TITLE_SUBJECT = re.compile(
    r"留言|来信|信件|咨询|诉求|来电|投诉|信箱|网民|12345|答复|回复|办理"
)


@dataclass(frozen=True, slots=True)
class MessageStats:
    """Published statistics of messages received and answered."""

    received: int | None
    answered: int | None
    rate: str | None  # as written, "97.7%"
    date: dt.date | None  # the day the figures speak for
    live: bool  # on the board's own page with no date: a counter, current by construction
    source: str  # "text", "table" or "title"
    snippet: str
    page: str

    def as_detail(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "answered": self.answered,
            "rate": self.rate,
            "date": self.date.isoformat() if self.date else None,
            "live": self.live,
            "source": self.source,
            "snippet": self.snippet,
            "page": self.page,
        }


def _int(text: str) -> int | None:
    digits = text.replace(",", "")
    return int(digits) if digits.isdigit() else None


def _month_end(year: int, month: int) -> dt.date | None:
    if not 1 <= month <= 12:
        return None
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def period_end(text: str) -> dt.date | None:
    """The last day of the latest period named in ``text`` (``2020年5月`` → 2020-05-31)."""
    folded = fold(text)
    ends: list[dt.date] = []
    for match in _MONTH_RANGE.finditer(folded):
        day = _month_end(int(match.group(1)), int(match.group(3)))
        if day is not None:
            ends.append(day)
    for match in _MONTH.finditer(folded):
        day = _month_end(int(match.group(1)), int(match.group(2)))
        if day is not None:
            ends.append(day)
    for match in _QUARTER.finditer(folded):
        day = _month_end(int(match.group(1)), _QUARTERS[match.group(2)])
        if day is not None:
            ends.append(day)
    for match in _HALF.finditer(folded):
        month = 6 if match.group(2) == "上半年" else 12
        day = _month_end(int(match.group(1)), month)
        if day is not None:
            ends.append(day)
    for match in _YEAR_ONLY.finditer(folded):
        ends.append(dt.date(int(match.group(1)), 12, 31))
    return max(ends) if ends else None


def _date_near(text: str, as_of: dt.date | None) -> dt.date | None:
    """The date the figures in ``text`` speak for (see the module's rules)."""
    limit = as_of + dt.timedelta(days=1) if as_of is not None else None
    days: list[dt.date] = []
    for raw in scan(text, yearless=False, limit=4000):
        if raw.year is None:
            continue
        try:
            day = dt.date(raw.year, raw.month, raw.day)
        except ValueError:
            continue
        if limit is None or day <= limit:
            days.append(day)
    if days:
        return max(days)
    end = period_end(text)
    if end is not None and as_of is not None:
        end = min(end, as_of)
    return end


def _count(match: re.Match[str] | None, window: str) -> int | None:
    """The number of a received or answered match: followed by a unit (128 件), or right after
    its label (留言总数：128, or a label cell and a value cell)."""
    if match is None:
        return None
    if _UNIT.match(window, match.end()) or _GAP_OK.fullmatch(match.group("gap")):
        return _int(match.group("n"))
    return None


def _first_count(pattern: re.Pattern[str], window: str) -> re.Match[str] | None:
    """The first match of ``pattern`` in ``window`` that reads as a count."""
    for match in pattern.finditer(window):
        if _count(match, window) is not None:
            return match
    return None


def _kinds_ok(window: str, on_board: bool) -> bool:
    """Message figures, not service figures (办件 ...) without a word about messages."""
    if _MESSAGE_WORDS.search(window):
        return True
    return on_board and not _SERVICE_WORDS.search(window)


def _text_stats(
    lines: Sequence[str], page: str, as_of: dt.date | None, on_board: bool
) -> list[MessageStats]:
    out: list[MessageStats] = []
    used_until = -1
    for i in range(len(lines)):
        if i <= used_until:
            continue
        window = fold(" ".join(lines[i : i + WINDOW_LINES]))
        # a rate may follow a cell or two after the counts
        wide = fold(" ".join(lines[i : i + WINDOW_LINES + 2]))
        received = _first_count(_RECEIVED, window)
        answered = _first_count(_ANSWERED, window)
        if received is None and answered is None:
            continue
        if received is not None and answered is not None:
            got, gave = _count(received, wide), _count(answered, wide)
            if abs(received.start() - answered.start()) > MAX_APART or (
                got is not None and gave is not None and gave > got
            ):
                # figures far apart, or more answered than received: two rows of a list
                # (我收到了2条短信 ... 已回复3次), not a statistic
                answered = None
        counts = [m for m in (received, answered) if m is not None]
        rate = _RATE.search(wide)
        if rate is not None and rate.start() - max(m.end() for m in counts) > MAX_APART:
            rate = None
        if len(counts) < 2 and rate is None:
            continue
        matches = [*counts, *([rate] if rate is not None else [])]
        first = min(m.start() for m in matches)
        last = max(m.end() for m in matches)
        # the figures must start on this line (the next windows will see later ones)
        if first >= len(fold(lines[i])) + 1:
            continue
        heading = lines[i - 1] if i > 0 and len(lines[i - 1]) <= 30 else ""
        near = fold(heading) + " " + wide[max(0, first - 20) : last + 40]
        if not _kinds_ok(fold(heading) + " " + wide[max(0, first - 20) : last + 2], on_board):
            continue
        context = fold(" ".join(lines[max(0, i - 2) : i + WINDOW_LINES]))
        labelled = _LABELLED_DATE.search(context)
        date = (
            _date_near(context[labelled.start() : labelled.end() + 60], as_of) if labelled else None
        )
        if date is None:
            date = _date_near(near, as_of)
        out.append(
            MessageStats(
                received=_count(received, wide),
                answered=_count(answered, wide),
                rate=f"{rate.group('n')}%" if rate else None,
                date=date,
                live=False,
                source="text",
                snippet=wide[max(0, first - 20) : last + 2][:160].strip(),
                page=page,
            )
        )
        used_until = i + WINDOW_LINES - 1
    return out


_RECEIVED_HEAD = re.compile(r"收到|受理|接收|留言数|来信数|信件数|总数|收件|来件|总量|留言量")
_ANSWERED_HEAD = re.compile(r"(?<![未待不])(回复|答复|办结|已办|处理|反馈)")


def _cells(row: LexborNode) -> list[str]:
    return [" ".join(c.text(deep=True).split()) for c in row.iter() if c.tag in ("td", "th")]


def _table_stats(
    tree: LexborHTMLParser, page: str, as_of: dt.date | None, on_board: bool
) -> list[MessageStats]:
    out: list[MessageStats] = []
    for table in tree.css("table"):
        rows = [r for r in table.css("tr") if _cells(r)]
        for index, row in enumerate(rows[:3]):
            heads = _cells(row)
            recv = next(
                (j for j, h in enumerate(heads) if len(h) <= 12 and _RECEIVED_HEAD.search(h)), None
            )
            answ = next(
                (
                    j
                    for j, h in enumerate(heads)
                    if j != recv
                    and len(h) <= 12
                    and _ANSWERED_HEAD.search(h)
                    and not h.endswith("率")
                ),
                None,
            )
            if recv is None or answ is None:
                continue
            values = None
            for data in rows[index + 1 :]:
                cells = _cells(data)
                if len(cells) == len(heads) and _int(cells[recv]) is not None:
                    values = cells
                    if any("合计" in c or "总计" in c for c in cells):
                        break
            if values is None:
                continue
            text = " ".join(" ".join(table.text(deep=True).split()).split())[:2000]
            caption = _caption(table)
            if not _kinds_ok(caption + " " + text, on_board):
                continue
            rate_col = next((j for j, h in enumerate(heads) if h.endswith("率")), None)
            out.append(
                MessageStats(
                    received=_int(values[recv]),
                    answered=_int(values[answ]),
                    rate=values[rate_col] if rate_col is not None else None,
                    date=_date_near(caption + " " + text, as_of),
                    live=False,
                    source="table",
                    snippet=(caption + " " + " ".join(heads))[:160].strip(),
                    page=page,
                )
            )
            break
    return out


def _caption(table: LexborNode) -> str:
    caption = table.css_first("caption")
    if caption is not None:
        return " ".join(caption.text(deep=True).split())
    previous = table.prev
    while previous is not None and not previous.is_element_node:
        previous = previous.prev
    if previous is None:
        return ""
    return " ".join(previous.text(deep=True).split())[:80]


def _title_stats(
    tree: LexborHTMLParser, page: str, as_of: dt.date | None, charset: str
) -> list[MessageStats]:
    out: list[MessageStats] = []
    reading = extract_items(tree, page, charset, as_of=as_of)
    for item in reading.items:
        title = item.title
        if not (_STATS_TITLE_KIND.search(title) and _STATS_TITLE_SUBJECT.search(title)):
            continue
        date = item.date
        if date is None:
            end = period_end(title)
            date = min(end, as_of) if end is not None and as_of is not None else end
        out.append(MessageStats(None, None, None, date, False, "title", title[:160], item.url))
    return out


def read_stats_page(
    tree: LexborHTMLParser,
    page_url: str,
    *,
    as_of: dt.date | None = None,
    stats_page: bool = False,
    charset: str = "utf-8",
) -> list[MessageStats]:
    """The message statistics on one page.

    ``stats_page`` says that the page was reached through a statistics link (:func:`stats_links`)
    rather than being the board's own list page: its list rows count by their titles, and
    figures with no date of their own take the page's publication date. On the board's own page
    figures with no date are a live counter.
    """
    lines = page_lines(tree, max_chars=100_000)
    on_board = not stats_page
    found = _table_stats(tree, page_url, as_of, on_board)
    found.extend(_text_stats(lines, page_url, as_of, on_board))
    if stats_page:
        found.extend(_title_stats(tree, page_url, as_of, charset))
        published = None
        for i, stats in enumerate(found):
            if stats.date is None and stats.source != "title":
                if published is None:
                    published = published_date(tree, as_of=as_of)
                found[i] = _with_date(stats, published, live=False)
    else:
        found = [_with_date(s, s.date, live=s.date is None) for s in found]
    return found


def _with_date(stats: MessageStats, date: dt.date | None, *, live: bool) -> MessageStats:
    return MessageStats(
        stats.received, stats.answered, stats.rate, date, live, stats.source, stats.snippet,
        stats.page,
    )  # fmt: skip


def stats_links(
    tree: LexborHTMLParser, page_url: str, charset: str = "utf-8", *, limit: int = 3
) -> list[str]:
    """Links of a board's page to its statistics pages (统计 / 数据统计 / 办理情况 ...), same
    host, at most ``limit``, in page order."""
    host = hostname(page_url)
    out: list[str] = []
    for node in tree.css("a[href]"):
        label = "".join(node.text(deep=True).split()) or (node.attributes.get("title") or "")
        if not label or len(label) > MAX_LINK_LABEL or not _STATS_LINK.search(label):
            continue
        if _SERVICE_WORDS.search(label) and not _MESSAGE_WORDS.search(label):
            continue
        url = canonicalize(node.attributes.get("href") or "", page_url, charset)
        if url is None or url == page_url or hostname(url) != host or url in out:
            continue
        out.append(url)
        if len(out) >= limit:
            break
    return out


def judge_statistics(
    columns: Sequence[tuple[str, Iterable[MessageStats]]],
    *,
    as_of: dt.date,
    max_age_days: int = DEFAULT_MAX_AGE_DAYS,
    pages: Sequence[str] = (),
) -> tuple[str, Judgement] | None:
    """``message.no_statistics`` for a site, about its first consultation column, or ``None``.

    ``columns`` are the site's consultation columns, each ``(list page URL, statistics found on
    its pages)``; ``pages`` are the pages looked at (for the detail).
    """
    if not columns:
        return None
    subject = columns[0][0]
    found = [s for _, stats in columns for s in stats]
    base: dict[str, Any] = {
        "columns": [url for url, _ in columns],
        "pages": list(dict.fromkeys([*(url for url, _ in columns), *pages])),
        "max_age_days": max_age_days,
        "as_of": as_of.isoformat(),
    }
    if not found:
        return subject, Judgement(
            NO_STATISTICS,
            {**base, "reason": "missing", "newest": None, "days_since": None},
        )
    if max_age_days <= 0 or any(s.live for s in found):
        return None
    dated = [s for s in found if s.date is not None and s.date <= as_of]
    if not dated:
        return None  # figures whose date cannot be read: taken as published
    newest = max(dated, key=lambda s: s.date or dt.date.min)
    assert newest.date is not None
    days = (as_of - newest.date).days
    if days <= max_age_days:
        return None
    return subject, Judgement(
        NO_STATISTICS,
        {
            **base,
            "reason": "stale",
            "newest": newest.date.isoformat(),
            "days_since": days,
            "statistics": newest.as_detail(),
        },
    )
