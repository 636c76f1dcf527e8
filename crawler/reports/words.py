"""The Chinese words every report format shares: a finding's one-line sentence, a site's verdict
and coverage, the lines that open a report of a scan that did not complete, times as a clerk
writes them (``2020年6月16日 08:00``, in the config's time zone) and URLs as a reader reads them
(percent-decoded: ``/通知.pdf``; a link keeps the address as the site wrote it)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from checks import catalogue
from crawler.reports.model import CoverageEntry, FindingEntry, Report, SiteEntry, UnitEntry

__all__ = [
    "CHANGES", "CHECK_NAMES", "DEFAULT_ZONE", "SEVERITY_NAMES", "STATUSES", "VERDICTS", "banner",
    "changed_findings", "cn_time", "comparison_groups", "coverage_text", "describe",
    "display_url", "indicator_name", "report_zone", "unit_count", "verdict_text",
]  # fmt: skip

DEFAULT_ZONE = "Asia/Shanghai"  # 北京时间, the config's default ``[schedule] timezone``

# code -> Chinese name, from the catalogue (checks/catalogue.py), plug-ins' codes included
CHECK_NAMES: Mapping[str, str] = catalogue.NAMES


def describe(finding: Mapping[str, Any]) -> str:
    """One line in Chinese that says what is wrong, for the attachment and the tables."""
    return catalogue.describe(str(finding["check"]), finding.get("detail") or {})


VERDICTS = {"qualified": "合格", "unqualified": "不合格", "unchecked": "未完成检查"}
SEVERITY_NAMES = {"veto": "单项否决", "deduction": "扣分", "warning": "提醒", "info": "提示"}
STATUSES = {"complete": "已完成", "interrupted": "已中断", "running": "进行中",
            "incomplete": "未完成"}  # fmt: skip


def banner(report: Report) -> list[str]:
    """What a reader must know before any verdict, in Chinese (empty when all is normal): the
    scan did not complete, or sites were left unchecked."""
    scan = report["scan"]
    out: list[str] = []
    status = str(scan.get("status"))
    if status != "complete":
        out.append(
            f"检查未完成（{STATUSES.get(status, status)}）：本报告只含已检查的内容，未检查完的网站"
            "结论为“未完成检查”，不得作为合格依据。"
        )
    unchecked = [s for s in report["sites"] if s.get("verdict") == "unchecked"]
    if unchecked and status == "complete":
        out.append(f"{len(unchecked)} 个网站未能完成检查（原因见各网站结论），不给出合格结论。")
    return out


def coverage_text(c: CoverageEntry | None) -> str:
    """A site's coverage in a few Chinese words (pages and columns read of those found)."""
    if not c:
        return "—"
    pages = f"页面 {c['pages_read']}/{c['pages_found']}"
    text = f"{pages}，栏目 {c['columns_read']}/{c['columns_found']}"
    if c.get("columns_unreadable"):
        text += f"（{c['columns_unreadable']} 个由脚本生成未能读取）"
    return text + ("" if c.get("done") else "，未检查完")


def verdict_text(site: SiteEntry) -> str:
    text = VERDICTS.get(str(site["verdict"]), str(site["verdict"]))
    if site.get("unchecked"):
        text += f"：{site['unchecked']['text']}"
    if site.get("withheld") is not None:
        text += "（首页始终无法访问，未检查其他内容"
        text += f"，已发现的 {site['withheld']} 个其他问题不予认定）" if site["withheld"] else "）"
    return text


def zone_named(name: object) -> dt.tzinfo:
    """The time zone a config named (``timezone``), else 北京时间: also for a name this machine
    does not know, so that a report or a page is never refused for it."""
    try:
        return ZoneInfo(str(name or DEFAULT_ZONE))
    except (ValueError, KeyError):
        return ZoneInfo(DEFAULT_ZONE)


def report_zone(report: Report) -> dt.tzinfo:
    """The time zone a report's times are shown in: its config's (``[schedule] timezone``)."""
    return zone_named(report["scan"].get("timezone"))


def cn_time(value: str | dt.datetime | None, zone: dt.tzinfo) -> str:
    """An ISO time as a clerk writes it, in ``zone``: ``2020年6月16日 08:00`` (``—`` if none;
    a value that is no ISO time is returned as it is)."""
    if value is None or value == "":
        return "—"
    try:
        moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def _decoded(match: re.Match[str]) -> str:
    raw = match[0]
    try:
        text = bytes.fromhex(raw.replace("%", "")).decode("utf-8")
    except UnicodeDecodeError:
        return raw  # not UTF-8 (a GBK name ...): shown as the site wrote it
    if any(0x80 <= ord(ch) < 0x800 for ch in text):
        return raw  # two-byte letters: as likely GBK bytes that happen to be valid UTF-8
    out: list[str] = []
    for ch in text:
        # ASCII keeps its escape (``%2F`` is not ``/``, ``%20`` not a space), and so does an
        # invisible or direction-changing character: a reader must see what is there
        if ord(ch) < 0x80 or unicodedata.category(ch)[0] in "CZM":
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8")))
        else:
            out.append(ch)
    return "".join(out)


def display_url(url: object) -> str:
    """A URL as a reader reads it: percent-escapes of UTF-8 letters decoded
    (``/%E9%80%9A%E7%9F%A5.pdf`` is shown ``/通知.pdf``); escapes of ASCII, of invisible
    characters and of other encodings are kept. Only for showing: a link's ``href`` keeps the
    URL exactly as it is."""
    text = "" if url is None else str(url)
    return _ESCAPES.sub(_decoded, text) if "%" in text else text


def unit_count(unit: UnitEntry) -> str:
    """What a unit's heading in the attachment says of the rows under it: the problems listed,
    and how many columns they are in (``5 个问题，涉及 1 个栏目``; a problem of the whole site,
    such as no IPv6, is in no column)."""
    problems = len(unit["problems"])
    columns = unit["problem_columns"]
    return f"{problems} 个问题" + (f"，涉及 {columns} 个栏目" if columns else "")


_GLOSS = re.compile(r"\s+[A-Za-z].*\Z", re.S)


def indicator_name(name: str) -> str:
    """A scoring indicator's name without its English gloss: ``链接可用性 links`` is shown
    ``链接可用性`` (the JSON report keeps the name as the scoring table gives it)."""
    short = _GLOSS.sub("", name)
    return short or name


#: The comparison's groups: key, the heading, the word of one row.
CHANGES = (("new", "新增问题", "新增"), ("persisting", "仍存在的问题", "仍存在"),
           ("resolved", "已整改的问题", "已整改"))  # fmt: skip


def comparison_groups(report: Report) -> list[tuple[str, str, list[FindingEntry]]]:
    """The comparison's findings, ``(key, heading, findings)`` per group of :data:`CHANGES`:
    the new and persisting ones as this report has them, the resolved ones as the earlier
    scan had them (empty without a comparison)."""
    comp = report.get("comparison")
    if not comp:
        return []
    current = {f["id"]: f for f in report["findings"]}

    def resolve(ids: list[str]) -> list[FindingEntry]:
        # an id not among the report's findings (cannot happen today) is kept, bare
        return [
            current.get(i) or {"id": i, "check": "", "severity": "", "site": "", "unit": "",
                               "column": None, "url": "", "page": None, "detail": {},
                               "observed_at": None}
            for i in ids
        ]  # fmt: skip

    found = {
        "new": resolve(list(comp["new"])),
        "persisting": resolve(list(comp["persisting"])),
        "resolved": list(comp["resolved"]),
    }
    return [(key, title, found[key]) for key, title, _ in CHANGES]


def changed_findings(report: Report) -> list[tuple[str, str, list[FindingEntry]]]:
    """What changed since the earlier scan: the new findings and the resolved ones."""
    return [g for g in comparison_groups(report) if g[0] != "persisting"]
