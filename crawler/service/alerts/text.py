"""The alert in Chinese, written for an official: the robots' Markdown, e-mail's text and HTML.

:func:`compose` turns one round's events and the scan's report into a :class:`Message`: which
scan (监测时间点, when it ran), the verdict counts (合格 / 不合格 / 未完成检查), the sites with
new veto problems (单项否决), the home pages that failed availability samples, the early
warnings, and where the full report is. Times are in the config's time zone, written as
``2026年12月7日 08:00``. Page text quoted in a message (a column's name, a message's title) is
shown, never interpreted: Markdown's link and emphasis marks become their full-width forms.

:func:`markdown` renders it within a byte limit (企业微信 takes 4096 bytes): items that do not
fit are left out from the end, and the message says how many and where the rest is.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from checks.wording import cn_date
from crawler.reports import Report
from crawler.reports.words import CHECK_NAMES, STATUSES, cn_time, describe
from crawler.service.alerts.events import Event

__all__ = ["Item", "Message", "chinese_date", "chinese_time", "compose", "html_page", "markdown",
           "plain"]  # fmt: skip

BRAND = "政府网站监测"  # in every title: a 钉钉 robot's 自定义关键词 can be this


def chinese_time(value: str | dt.datetime, tz: dt.tzinfo) -> str:
    """``2026年12月7日 08:00``: a moment in ``tz`` (a naive one is taken as in ``tz``)."""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return cn_time(moment.replace(tzinfo=tz) if moment.tzinfo is None else moment, tz)


def chinese_date(day: dt.date | str) -> str:
    """``2026年12月7日``."""
    return cn_date(str(day)[:10])


@dataclass(frozen=True, slots=True)
class Item:
    """One line of a section: a sentence, and the page it is about."""

    text: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    title: str  # what the round found, in a line (without the brand: see heading, subject)
    head: tuple[str, ...]  # always shown: the scan, the verdict counts
    sections: tuple[tuple[str, tuple[Item, ...]], ...] = ()
    pointer: str = ""  # where the full report is, in words
    pointer_url: str | None = None
    items: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", sum(len(items) for _, items in self.sections))

    @property
    def heading(self) -> str:
        """The robot's title and the message's first line."""
        return f"{BRAND}：{self.title}"

    @property
    def subject(self) -> str:
        """The e-mail's subject."""
        return f"【{BRAND}】{self.title}"


def compose(
    report: Report, events: Sequence[Event], tz: dt.tzinfo, *, report_url: str | None = None
) -> Message:
    """The alert of one round: ``events`` (those not sent to this channel before) of the scan
    whose ``report`` it is; ``report_url`` is the web view (``govmon serve``) officials open."""
    scan = report["scan"]
    names = {s["id"]: s["name"] for s in report["sites"]}
    vetoes = [e for e in events if e.get("type") == "veto"]
    early = [e for e in events if e.get("type") != "veto"]
    veto_sites = sorted({str(e["site"]) for e in vetoes})
    verdicts = [s["verdict"] for s in report["sites"]]
    status = str(scan.get("status"))
    started, finished = chinese_time(scan["started_at"], tz), scan.get("finished_at")
    end = chinese_time(finished, tz) if finished else ""
    if end[:-6] == started[:-6]:  # the same day: its time only
        end = end[-5:]
    head = [
        f"检查：第 {scan['id']} 次检查，监测时间点 {chinese_time(scan['as_of'], tz)}",
        f"时间：{started} 开始"
        + (f"，{end} 结束" if end else "")
        + f"（{STATUSES.get(status, status)}）",
        f"结论：共 {len(verdicts)} 个网站，合格 {verdicts.count('qualified')} 个，"
        f"不合格 {verdicts.count('unqualified')} 个，未完成检查 {verdicts.count('unchecked')} 个",
    ]
    sections: list[tuple[str, tuple[Item, ...]]] = []
    if vetoes:
        items = tuple(
            Item(f"{names.get(str(e['site']), e['site'])}：{_veto_sentence(e)}", e.get("url"))
            for e in sorted(vetoes, key=lambda e: (str(e["site"]), str(e["check"])))
        )
        sections.append((f"新的单项否决问题（{len(veto_sites)} 个网站）", items))
    down = _availability(report)
    if down:
        sections.append((f"首页可用性：抽查失败的网站（{len(down)} 个）", tuple(down)))
    if early:
        items = tuple(
            Item(f"{names.get(str(e['site']), e['site'])}：{_warning_sentence(e)}", e.get("url"))
            for e in sorted(early, key=lambda e: (str(e["site"]), str(e.get("rule"))))
        )
        sections.append((f"预警：尚未构成单项否决（{len(early)} 条）", items))
    parts = []
    if veto_sites:
        parts.append(f"{len(veto_sites)} 个网站新增单项否决问题")
    if early:
        parts.append(f"{len(early)} 条预警")
    title = f"第 {scan['id']} 次检查" + (f"发现 {'，'.join(parts)}" if parts else "结果")
    if report_url:
        link = f"{report_url.rstrip('/')}/scans/{scan['id']}"
        pointer, pointer_url = f"完整报告：{link}", link
    else:
        pointer = (
            f"完整报告：在运行 govmon 的服务器上执行 govmon report --scan {scan['id']}"
            " --format html --output report.html（加上守护进程所用的 --db）"
        )
        pointer_url = None
    return Message(title, tuple(head), tuple(sections), pointer, pointer_url)


def _veto_sentence(event: Event) -> str:
    check = str(event["check"])
    if "detail" in event:  # a veto-level finding: the report's own sentence
        return describe({"check": check, "detail": event.get("detail") or {}})
    if check == "score":
        return f"总分 {float(event.get('score') or 0):g} 分，低于 60 分"
    return f"{CHECK_NAMES.get(check, check)}共 {event.get('count')} 处，达到单项否决标准"


_WHAT = {
    "blank_columns": "空白栏目",
    "stale_key_columns": "未按时更新的动态要闻、通知公告、政策文件类栏目",
    "stale_columns": "未按时更新的栏目",
    "incomplete_guides": "缺少 4 项及以上要素的办事指南",
}


def _warning_sentence(e: Event) -> str:
    rule = str(e.get("rule"))
    veto_at = e.get("veto_at")
    if rule == "failure_rate":
        return (
            f"首页抽查 {e.get('samples')} 次，失败 {e.get('failures')} 次"
            f"（{_percent(float(e.get('value') or 0))}），"
            f"失败率达到 {_percent(float(veto_at or 0))} 即构成“站点无法访问”单项否决"
        )
    if rule == "homepage_days":
        return (
            f"首页已 {e.get('value')} 天未更新（最新信息发布于 {chinese_date(str(e['newest']))}），"
            f"超过 {int(veto_at or 1) - 1} 天即构成“首页不更新”单项否决"
        )
    if rule == "unanswered_days":
        title = f"“{e['title']}”" if e.get("title") else "一条留言"
        return (
            f"{title}已 {e.get('value')} 天未回复，超过 {int(veto_at or 1) - 1} 天即构成"
            "“互动回应差”单项否决"
        )
    if rule in _WHAT:
        count, veto = int(e.get("value") or 0), int(veto_at or 0)
        return f"{_WHAT[rule]} {count} 个，再多 {veto - count} 个（共 {veto} 个）即构成单项否决"
    return str(e.get("message") or e.get("check"))


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f}%".replace(".0%", "%")


def _availability(report: Report) -> list[Item]:
    """The sites whose home page failed samples in the scan's sampling period, worst first."""
    rows: list[tuple[float, str, Item]] = []
    for s in report["sites"]:
        counts = s.get("availability")
        if not counts or not counts["failures"] or not counts["samples"]:
            continue
        rate = counts["failures"] / counts["samples"]
        text = (
            f"{s['name']}：首页抽查 {counts['samples']} 次，"
            f"失败 {counts['failures']} 次（{_percent(rate)}）"
        )
        if not counts["judged"]:
            text += "，抽查次数不足，尚不作结论"
        elif rate >= 0.05:
            text += "，已达 5%，构成“站点无法访问”"
        rows.append((-rate, s["id"], Item(text, s.get("url"))))
    return [item for *_, item in sorted(rows, key=lambda r: (r[0], r[1]))]


# ---------------------------------------------------------------------------------------------
# rendering

_MD_MARKS = str.maketrans({"[": "［", "]": "］", "*": "＊", "_": "＿", "`": "｀", "<": "＜",
                           ">": "＞", "#": "＃", "|": "｜", "\n": " ", "\r": " "})  # fmt: skip


def _md(text: str) -> str:
    """Text shown as it is in a robot's Markdown (its marks become full-width, lines one)."""
    return text.translate(_MD_MARKS)


def _md_link(url: str | None) -> str:
    if not url or not url.lower().startswith(("http://", "https://")):
        return ""
    return f" [查看]({quote(url, safe=':/?&=%#~+,;@!$')})"


def markdown(message: Message, limit: int | None = None) -> str:
    """The message as a robot's Markdown, at most ``limit`` bytes of UTF-8 when given: the
    items that do not fit are left out from the last one back, and a line says how many."""
    top = [f"### {_md(message.heading)}", *(_md(line) for line in message.head)]
    pointer = _md(message.pointer)
    if message.pointer_url:
        pointer = f"[{_md('完整报告')}]({quote(message.pointer_url, safe=':/?&=%#~+,;@!$')})"
    pieces: list[tuple[str, bool]] = []  # (text, an item?)
    for heading, items in message.sections:
        pieces.append((f"\n#### {_md(heading)}", False))
        pieces.extend((f"- {_md(item.text)}{_md_link(item.url)}", True) for item in items)
    head_text = "\n\n".join(top)
    tail = f"\n\n{pointer}"
    full = head_text + "\n" + "\n".join(p for p, _ in pieces) + tail
    if limit is None or _size(full) <= limit:
        return full
    note = "\n\n……另有 {n} 项未列出，见完整报告"
    # room for the note on what was left out, its count as long as it may get
    budget = limit - _size(head_text + "\n") - _size(tail) - _size(note.format(n=message.items))
    kept: list[tuple[str, bool]] = []
    used = 0
    for text, is_item in pieces:
        cost = _size(text) + 1
        if used + cost > budget:
            break
        kept.append((text, is_item))
        used += cost
    while kept and not kept[-1][1]:  # no heading without its items
        kept.pop()
    shown = sum(1 for _, is_item in kept if is_item)
    out = head_text + "\n" + "\n".join(t for t, _ in kept)
    out += note.format(n=message.items - shown) + tail
    if _size(out) > limit:  # a head longer than the limit itself: cut it
        out = out.encode("utf-8")[: limit - 6].decode("utf-8", "ignore") + "……"
    return out


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def plain(message: Message) -> str:
    """The message as plain text (an e-mail's body)."""
    lines = [message.heading, "", *message.head]
    for heading, items in message.sections:
        lines += ["", f"{heading}："]
        for n, item in enumerate(items, 1):
            lines.append(f"{n}. {item.text}")
            if item.url:
                lines.append(f"   {item.url}")
    lines += ["", message.pointer, "", "此邮件由 govmon 自动发送。"]
    return "\n".join(lines) + "\n"


def html_page(message: Message) -> str:
    """The message as a small HTML page (an e-mail's HTML part): text escaped, links http(s)."""
    e = html.escape
    out = [f"<html><body><h2>{e(message.heading)}</h2>"]
    out += [f"<p>{e(line)}</p>" for line in message.head]
    for heading, items in message.sections:
        out.append(f"<h3>{e(heading)}</h3><ol>")
        for item in items:
            link = ""
            if item.url and item.url.lower().startswith(("http://", "https://")):
                link = f' <a href="{e(item.url)}">查看</a>'
            out.append(f"<li>{e(item.text)}{link}</li>")
        out.append("</ol>")
    pointer = e(message.pointer)
    if message.pointer_url:
        pointer = f'<a href="{e(message.pointer_url)}">{e(message.pointer)}</a>'
    out.append(f"<p>{pointer}</p><p>此邮件由 govmon 自动发送。</p></body></html>")
    return "\n".join(out)
