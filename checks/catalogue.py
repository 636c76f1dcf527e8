"""The catalogue of checks: every finding code declared once.

Each :class:`CheckSpec` says everything the rest of govmon needs to know about a code: its
severity, its Chinese and English names, when it is found, how it is scored (indicator and
points, with variants such as a broken link on the home page), how one finding is described in
a Chinese sentence, and the Chinese labels of its evidence. Scoring (:mod:`checks.scoring`),
every report format, the web view, the webhook and the README's table read it from here; a
test fails when a code used anywhere has no entry.

A check brings its own entries: a class attribute ``catalogue`` (a sequence of
:class:`CheckSpec`) on its class or factory, declared when its module is imported
(``catalogue.declare(MyCheck)``) or, for a third-party check registered under the
``govmon.checks`` entry-point group, when the group is loaded
(:func:`declare_checks`). Its codes are then named, described and scored like the
shipped ones (``[scoring] "content.no_title" = 1`` works once the plug-in declares the code).

This module imports nothing of govmon's but :mod:`checks.wording` (the words of reasons and
dates): everything may import it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, NamedTuple

from checks.wording import KINDS as _KINDS
from checks.wording import cn_date, reason_words

__all__ = [
    "ENTRY_POINT_GROUP",
    "NAMES",
    "SEVERITIES",
    "SEVERITY_ORDER",
    "CheckSpec",
    "Judgement",
    "Rule",
    "all_specs",
    "declare",
    "declare_checks",
    "describe",
    "markdown_table",
    "name_of",
    "register",
    "severity_of",
    "spec",
]

Detail = Mapping[str, Any]

#: Severities, worst first.
SEVERITY_ORDER = ("veto", "deduction", "warning", "info")


class Judgement(NamedTuple):
    """What a judging function found: a finding's code and its detail, before the check that
    called it names the site, unit and subject (:class:`checks.base.Finding`)."""

    code: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rule:
    """A deduction: ``points`` off ``indicator`` (a key of :data:`checks.scoring.INDICATORS`)
    for each finding (times :attr:`CheckSpec.quantity` of it)."""

    indicator: str
    points: float


def _one(detail: Detail) -> float:
    return 1.0


def _no_variant(detail: Detail) -> str | None:
    return None


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One finding code and everything about it."""

    code: str
    severity: str  # veto | deduction | warning | info
    name: str  # 中文名称, as a notice would write it
    english: str
    found: str  # the subject (``url``) and when it is found, in English
    rule: Rule | None = None  # how one finding is scored (None: it scores nothing)
    # variant name -> its rule (``link.broken:home``), chosen for a finding by ``variant``
    variants: Mapping[str, Rule] = field(default_factory=dict)
    variant: Callable[[Detail], str | None] = _no_variant
    quantity: Callable[[Detail], float] = _one  # how many ``rule.points`` one finding costs
    # (name, detail) -> one Chinese sentence (default: the name alone)
    sentence: Callable[[str, Detail], str] | None = None
    evidence: Mapping[str, str] = field(default_factory=dict)  # detail key -> Chinese label

    def __post_init__(self) -> None:
        if self.severity not in SEVERITY_ORDER:
            raise ValueError(f"{self.code}: unknown severity {self.severity!r}")
        if "." not in self.code:
            raise ValueError(f"{self.code}: a code is family.name (content.no_title)")

    def rules(self) -> dict[str, Rule]:
        """Scoring keys (the code, and ``code:variant``) and their rules."""
        out = {f"{self.code}:{k}": r for k, r in self.variants.items()}
        if self.rule is not None:
            out[self.code] = self.rule
        return out

    def rule_key(self, detail: Detail) -> str:
        """The scoring key of one finding (its variant's, when it has one)."""
        variant = self.variant(detail)
        return f"{self.code}:{variant}" if variant else self.code


# -- sentences ----------------------------------------------------------------------------------


def _link(name: str, d: Detail) -> str:
    kind = _KINDS.get(str(d.get("kind")), str(d.get("kind") or ""))
    where = "，在首页" if d.get("on_homepage") else ""
    pages = len(d.get("pages") or [])
    reason = reason_words(d.get("reason"))
    why = f"（{reason}）" if reason else ""
    cited = f"，{pages} 个页面引用" if pages else ""
    return f"{name}：{kind}{why}{where}{cited}"


def _stale(name: str, d: Detail) -> str:
    if d.get("newest"):
        return (
            f"{name}：最新信息 {cn_date(d.get('newest'))}，{d.get('days_since')} 天未更新"
            f"（要求 {d.get('max_age_days')} 天内）"
        )
    return f"{name}：无可识别发布日期的信息"


def _newmedia_stale(name: str, d: Detail) -> str:
    return _stale(f"{name}（{d.get('account')}）", d)


def _newmedia_unread(name: str, d: Detail) -> str:
    return f"{name}（{d.get('account')}）：{d.get('reason')}"


def _irregular(name: str, d: Detail) -> str:
    return (
        f"{name}：{cn_date(d.get('from'))} 至 {cn_date(d.get('to'))} 间隔"
        f" {d.get('largest_gap_days')} 天（要求不超过 {d.get('max_gap_days')} 天）"
    )


def _undated(name: str, d: Detail) -> str:
    return f"{name}：{d.get('undated')} 条信息无发布日期"


def _message(name: str, d: Detail) -> str:
    if "working_days" not in d:
        return name
    answered = d.get("answered") or d.get("replied")
    replied = f"{cn_date(answered)} 答复" if answered else "尚未答复"
    return (
        f"{name}：{cn_date(d.get('asked'))} 留言，{replied}，"
        f"用时 {d.get('working_days')} 个工作日（时限 {d.get('limit', '—')} 个工作日）"
    )


def _guide(name: str, d: Detail) -> str:
    return f"{name}：缺少 {'、'.join(d.get('missing') or [])}"


def _words(name: str, d: Detail) -> str:
    text = f"{name}：“{d.get('text')}”"
    return text + (f"，应为“{d['suggestion']}”" if d.get("suggestion") else "")


def _unreachable(name: str, d: Detail) -> str:
    if d.get("source") == "scan":
        return f"{name}：首页 {d.get('requests')} 次请求均失败（{reason_words(d.get('reason'))}）"
    return _samples(name, d)


def _samples(name: str, d: Detail) -> str:
    return f"{name}：{d.get('failures')}/{d.get('samples')} 次监测失败"


def _backdated(name: str, d: Detail) -> str:
    title, day = d.get("title"), cn_date(d.get("date"))
    return f"{name}：“{title}”标注日期 {day}，{reason_words(d.get('reason'))}"


def _no_ipv6(name: str, d: Detail) -> str:
    return f"{name}：{reason_words(d.get('reason') or 'did not load over IPv6')}"


def _reason(name: str, d: Detail) -> str:
    return f"{name}：{reason_words(d['reason'])}" if d.get("reason") else name


def _on_homepage(d: Detail) -> str | None:
    return "home" if d.get("on_homepage") else None


def _key_column(d: Detail) -> str | None:
    return "key" if d.get("key_column") else None


def _failure_percent(d: Detail) -> float:
    return float(d.get("failure_rate", 0.0)) * 100  # the table deducts per 1 %


# -- the shipped checks ---------------------------------------------------------------------------

_LINK_EVIDENCE = {
    "kind": "类型",
    "on_homepage": "首页链接",
    "pages": "引用页面",
    "redirects": "跳转经过",
}
_COLUMN_EVIDENCE = {
    "newest": "最新信息日期",
    "days_since": "未更新天数",
    "max_age_days": "要求更新周期（天）",
    "key_column": "重点栏目",
    "category": "栏目类别",
    "top_level": "一级栏目",
    "list_pages": "列表页数",
}
_NEWMEDIA_EVIDENCE = {
    "account": "账号",
    "route": "RSSHub 路由",
    "posts": "条目数",
    "reason": "原因",
    "status": "HTTP 状态码",
    "message": "RSSHub 的说明",
    "error": "连接错误",
}
_MESSAGE_EVIDENCE = {
    "asked": "留言时间",
    "answered": "答复时间",
    "replied": "答复时间",
    "working_days": "工作日",
    "limit": "时限（工作日）",
    "simple": "简单问题",
}

_SEARCH_EVIDENCE = {
    "home": "首页",
    "search_page": "搜索页面",
    "query": "搜索词",
    "item": "应能搜到的信息",
    "problems": "问题",
}
_IPV6_EVIDENCE = {
    "home": "首页",
    "host": "域名",
    "addresses": "IPv6 地址",
    "alias": "另一域名",
    "alias_addresses": "另一域名的 IPv6 地址",
    "alias_loads": "另一域名可用 IPv6",
}
_BACKDATED_EVIDENCE = {
    "date": "标注的发布日期",
    "column": "栏目",
    "list_page": "列表页",
    "earlier_scan": "上次检查",
    "this_scan": "本次检查",
    "needs_review": "需人工核实",
}

# fmt: off
_SHIPPED = (
    CheckSpec("site.unreachable", "veto", "站点无法访问", "site unreachable",
              "home page; ≥ 5 % of the availability samples of the scan's sampling period "
              "failed (not loaded within 15 s, or an error), or the home page never answered "
              "during the scan",
              sentence=_unreachable, evidence={"attempts": "各次请求", "requests": "请求次数"}),
    CheckSpec("site.availability", "deduction", "站点访问失败", "some availability samples failed",
              "home page; some samples failed, below the veto",
              rule=Rule("availability", 5.0), quantity=_failure_percent, sentence=_samples),
    CheckSpec("site.samples_insufficient", "info", "可用性监测样本不足，未判定",
              "too few availability samples to judge",
              "home page; failed samples, but fewer samples in the period than a verdict needs",
              sentence=_samples),
    CheckSpec("link.broken", "deduction", "错链断链", "broken link",
              "a link target that, after retries and a confirming re-check, answers "
              "404/410/5xx, fails DNS, connect or TLS, times out, loops in redirects, or serves "
              "a soft-404 page",
              rule=Rule("links", 0.1), variants={"home": Rule("links", 1.0)},
              variant=_on_homepage, sentence=_link, evidence=_LINK_EVIDENCE),
    CheckSpec("link.blocked", "info", "链接拒绝访问（待人工确认）", "link refused the crawler",
              "a target that refused the crawler (403, 412, 429 or a challenge page): "
              "inconclusive, never counted as broken",
              sentence=_link, evidence=_LINK_EVIDENCE),
    CheckSpec("link.wrong_type", "warning", "附件或图片返回网页（待人工确认）",
              "file answered with a web page",
              "an attachment or image answered with an ordinary web page instead of the file",
              sentence=_link, evidence=_LINK_EVIDENCE),
    CheckSpec("homepage.stale", "veto", "首页不更新", "home page not updated",
              "home page; no dated item on it newer than 14 days before as_of",
              sentence=_stale, evidence=_COLUMN_EVIDENCE),
    CheckSpec("column.stale", "deduction", "栏目不更新", "column not updated",
              "column list page; its newest item is older than its category allows",
              rule=Rule("updates", 1.0), variants={"key": Rule("updates", 2.0)},
              variant=_key_column, sentence=_stale, evidence=_COLUMN_EVIDENCE),
    CheckSpec("column.blank", "deduction", "空白栏目", "blank column",
              "column list page; the column has no items at all",
              rule=Rule("updates", 2.0), evidence={**_COLUMN_EVIDENCE, "why": "判断依据"}),
    CheckSpec("column.irregular", "deduction", "栏目更新不规律", "column updated irregularly",
              "column list page; a local rule: a news gap longer than news_max_gap_days in the "
              "window",
              rule=Rule("updates", 1.0), sentence=_irregular,
              evidence={"from": "起始日期", "to": "截止日期",
                        "largest_gap_days": "最长间隔（天）",
                        "max_gap_days": "允许间隔（天）"}),
    CheckSpec("column.unreadable", "warning", "栏目内容由脚本生成，无法读取",
              "column built by script, unreadable",
              "column list page; its list, board or pager is built by script and could not be "
              "read (rendering off, no browser, or it failed): never reported as blank or stale"),
    CheckSpec("column.undated", "warning", "信息无发布日期", "items without a date",
              "column list page; items with no date the crawler can find (they count as not "
              "updated)",
              sentence=_undated, evidence={"undated": "无日期条数"}),
    CheckSpec("column.too_few", "deduction", "栏目活动不足", "too few activities",
              "a survey or interview column with fewer activities in the year than its rule "
              "asks",
              rule=Rule("interaction", 2.0)),
    CheckSpec("message.unanswered", "veto", "留言超期未回复", "message left unanswered",
              "a consultation message of the year before as_of, unanswered for longer than "
              "unanswered_max_days",
              sentence=_message, evidence=_MESSAGE_EVIDENCE),
    CheckSpec("message.late_reply", "deduction", "留言回复超时", "late reply",
              "a message answered after more than reply_working_days working days, statutory "
              "holidays and make-up working days counted",
              rule=Rule("interaction", 1.0), sentence=_message, evidence=_MESSAGE_EVIDENCE),
    CheckSpec("message.overdue", "deduction", "留言逾期未回复", "reply overdue",
              "a message still unanswered after reply_working_days working days, not yet a veto",
              rule=Rule("interaction", 2.0), sentence=_message, evidence=_MESSAGE_EVIDENCE),
    CheckSpec("message.incomplete", "deduction", "答复信息不全", "reply incomplete",
              "a published reply missing its reply time, replying unit or reply content",
              rule=Rule("interaction", 0.5), sentence=_message, evidence=_MESSAGE_EVIDENCE),
    CheckSpec("message.no_statistics", "deduction", "未公开留言统计", "no message statistics",
              "consultation column; no published, current message statistics",
              rule=Rule("interaction", 2.0)),
    CheckSpec("message.calendar_gap", "warning", "节假日日历缺少该年份",
              "holiday calendar has no data",
              "the holiday calendar has no data for a year a message's working days need"),
    CheckSpec("policy.no_interpretation", "deduction", "政策文件无解读",
              "policy without interpretation",
              "a policy document with no interpretation linked to it or naming it",
              rule=Rule("interpretation", 1.0)),
    CheckSpec("service.guide_incomplete", "deduction", "办事指南要素缺失",
              "service guide incomplete",
              "a service guide missing 4 or more of the 10 key elements",
              rule=Rule("service", 1.0), sentence=_guide, evidence={"missing": "缺少要素"}),
    CheckSpec("content.typo", "deduction", "错别字", "typo",
              "a page with a lexicon typo",
              rule=Rule("content", 1.0), sentence=_words,
              evidence={"text": "文字", "suggestion": "应为", "context": "上下文"}),
    CheckSpec("content.sensitive", "veto", "敏感词", "sensitive word",
              "a page with a sensitive-lexicon match",
              sentence=_words, evidence={"text": "文字", "context": "上下文"}),
    CheckSpec("content.pii", "deduction", "泄露个人信息", "personal data leaked",
              "a page leaking personal data (ID numbers that pass their checksum, mobile "
              "numbers)",
              rule=Rule("content", 2.0)),
    CheckSpec("content.hidden_link", "veto", "暗链", "hidden link",
              "a page with links hidden from readers (暗链) pointing off the site"),
    CheckSpec("content.backdated", "warning", "疑似伪造发布日期", "backdated item",
              "an item absent at an earlier scan that claims a publication date before it",
              sentence=_backdated, evidence=_BACKDATED_EVIDENCE),
    CheckSpec("newmedia.stale", "veto", "政务新媒体不更新", "new-media account not updated",
              "a new-media account with no post in the 14 days before as_of",
              sentence=_newmedia_stale, evidence={**_COLUMN_EVIDENCE, **_NEWMEDIA_EVIDENCE}),
    CheckSpec("newmedia.unreadable", "info", "政务新媒体未能读取，未判定",
              "new-media account not read",
              "a new-media account whose feed could not be read (RSSHub unreachable or "
              "answering an error, a feed with no entries): never judged stale",
              sentence=_newmedia_unread, evidence=_NEWMEDIA_EVIDENCE),
    CheckSpec("link.hijacked", "veto", "外链被劫持", "hijacked external link",
              "an external link whose target now serves sensitive content or another site"),
    CheckSpec("site.no_search", "deduction", "无站内搜索", "no site search",
              "home page; no site-wide search",
              rule=Rule("functions", 3.0), sentence=_reason, evidence=_SEARCH_EVIDENCE),
    CheckSpec("site.search_broken", "deduction", "站内搜索不可用", "site search broken",
              "home page; the search does not find a recent item's title",
              rule=Rule("functions", 2.0), sentence=_reason, evidence=_SEARCH_EVIDENCE),
    CheckSpec("site.no_ipv6", "deduction", "不支持IPv6", "no IPv6",
              "home page; not reachable over IPv6",
              rule=Rule("functions", 2.0), sentence=_no_ipv6, evidence=_IPV6_EVIDENCE),
    CheckSpec("site.no_zhaocuo", "deduction", "无“我为政府网站找错”入口", "no 找错 entry",
              "home page; no \"我为政府网站找错\" entry",
              rule=Rule("functions", 2.0), evidence={"pages": "查找过的页面"}),
    CheckSpec("page.unreadable", "warning", "页面无法解析", "page could not be parsed",
              "a page of a site whose markup would hold the parser (nesting too deep): recorded,"
              " never parsed, followed or checked; it answered, so as a link it is fine"),
    CheckSpec("check.error", "warning", "检查出错", "a check failed",
              "a check that failed on a page (a bug: the scan goes on)"),
)
# fmt: on

_REGISTRY: dict[str, CheckSpec] = {s.code: s for s in _SHIPPED}


def register(entry: CheckSpec) -> None:
    """Add a plug-in's code (or replace a plug-in's earlier entry of it). A shipped code cannot
    be redeclared differently: that would change what a report means."""
    known = _REGISTRY.get(entry.code)
    if known is not None and known is not entry and entry.code in _SHIPPED_CODES:
        raise ValueError(f"{entry.code} is a shipped check code; choose another code")
    _REGISTRY[entry.code] = entry


_SHIPPED_CODES = frozenset(s.code for s in _SHIPPED)


#: The entry-point group of third-party checks (their factories).
ENTRY_POINT_GROUP = "govmon.checks"


def declare(factory: object) -> None:
    """Register the entries a check factory declares (its ``catalogue`` attribute)."""
    for entry in getattr(factory, "catalogue", ()) or ():
        if not isinstance(entry, CheckSpec):
            raise TypeError(f"{factory!r}: catalogue entries must be CheckSpec, not {entry!r}")
        register(entry)


def declare_checks() -> list[str]:
    """Declare every installed plug-in's catalogue entries (the shipped ones are declared above)
    before any scan, so that a config can score their codes. Returns the plug-ins that failed
    to load (a scan's loader reports them)."""
    failed: list[str] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            declare(ep.load())
        except Exception:  # any plug-in error: the scan's loader reports it
            failed.append(ep.name)
    return failed


def spec(code: str) -> CheckSpec | None:
    return _REGISTRY.get(code)


def all_specs() -> Iterator[CheckSpec]:
    """Every entry, shipped ones first, in their order."""
    return iter(list(_REGISTRY.values()))


def severity_of(code: str) -> str:
    """A code's severity; an unknown code is a ``warning`` (a plug-in that declared nothing)."""
    entry = _REGISTRY.get(code)
    return entry.severity if entry is not None else "warning"


def name_of(code: str) -> str:
    """A code's Chinese name (the code itself when unknown)."""
    entry = _REGISTRY.get(code)
    return entry.name if entry is not None else code


def describe(code: str, detail: Detail) -> str:
    """One Chinese sentence for one finding: what is wrong."""
    entry = _REGISTRY.get(code)
    if entry is None:
        return code
    if entry.sentence is None:
        return entry.name
    return entry.sentence(entry.name, detail)


class _Field(Mapping[str, str]):
    """``code -> one field of its entry`` over the live registry (plug-ins' codes included)."""

    def __init__(self, read: Callable[[CheckSpec], str]) -> None:
        self._read = read

    def __getitem__(self, code: str) -> str:
        return self._read(_REGISTRY[code])

    def __iter__(self) -> Iterator[str]:
        return iter(list(_REGISTRY))

    def __len__(self) -> int:
        return len(_REGISTRY)


SEVERITIES: Mapping[str, str] = _Field(lambda entry: entry.severity)
NAMES: Mapping[str, str] = _Field(lambda entry: entry.name)


def markdown_table() -> str:
    """The README's table of check codes, generated (a test keeps the README in step)."""
    lines = ["| code | severity | 名称 | the subject and when it is found |",
             "| --- | --- | --- | --- |"]  # fmt: skip
    for s in _SHIPPED:
        lines.append(f"| `{s.code}` | {s.severity} | {s.name} | {s.found} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m checks.catalogue: the README's table
    print(markdown_table(), end="")
