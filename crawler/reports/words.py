"""The Chinese words every report format shares: a finding's one-line sentence, a site's verdict
and coverage, and the lines that open a report of a scan that did not complete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks import catalogue
from crawler.reports.model import CoverageEntry, Report, SiteEntry

__all__ = ["CHECK_NAMES", "STATUSES", "VERDICTS", "banner", "coverage_text", "describe",
           "verdict_text"]  # fmt: skip

# code -> Chinese name, from the catalogue (checks/catalogue.py), plug-ins' codes included
CHECK_NAMES: Mapping[str, str] = catalogue.NAMES


def describe(finding: Mapping[str, Any]) -> str:
    """One line in Chinese that says what is wrong, for the attachment and the tables."""
    return catalogue.describe(str(finding["check"]), finding.get("detail") or {})


VERDICTS = {"qualified": "合格 qualified", "unqualified": "不合格 unqualified",
            "unchecked": "未完成检查 unchecked"}  # fmt: skip
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
