"""Site verdicts the official way: vetoes, then deductions out of 100 (国办秘函〔2019〕19号).

A site is 不合格 (unqualified) when any veto finding stands, when the column counts reach the
veto thresholds (≥ 5 stale news / top-level notice and policy columns, ≥ 10 stale columns,
≥ 5 blank columns), when 5 or more service guides are incomplete, or when its score falls
below 60. The score is 100 minus the deductions; each indicator's deductions are capped at its
own points, and every finding is one problem counted once (a broken link linked from forty pages
is one finding).

The point values are the 2015 census table as practised (home-page broken link −1, elsewhere
−0.1; home-page failure rate −5 per 1 %; ...), completed where the table is silent. They live in
:data:`DEFAULT_TABLE`, one place, and ``[scoring]`` in the config overrides any of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Indicator:
    name: str  # Chinese name with an English gloss
    points: float  # the cap: an indicator never loses more than its points


@dataclass(frozen=True, slots=True)
class Rule:
    indicator: str
    per_finding: float  # points deducted for each finding


# indicator key -> Indicator
INDICATORS: dict[str, Indicator] = {
    "availability": Indicator("站点可用性 availability", 10),
    "links": Indicator("链接可用性 links", 10),
    "updates": Indicator("信息更新 updates", 25),
    "interaction": Indicator("互动回应 interaction", 15),
    "interpretation": Indicator("政策解读 interpretation", 10),
    "service": Indicator("办事服务 services", 10),
    "content": Indicator("内容正确性 content", 10),
    "functions": Indicator("功能 search, IPv6, 找错", 10),
}

# check code (with a variant after a colon) -> Rule
DEFAULT_TABLE: dict[str, Rule] = {
    "site.availability": Rule("availability", 5.0),  # per 1 % of failed samples
    "link.broken:home": Rule("links", 1.0),
    "link.broken": Rule("links", 0.1),
    "column.stale:key": Rule("updates", 2.0),
    "column.stale": Rule("updates", 1.0),
    "column.blank": Rule("updates", 2.0),
    "column.irregular": Rule("updates", 1.0),
    "column.too_few": Rule("interaction", 2.0),
    "message.late_reply": Rule("interaction", 1.0),
    "message.overdue": Rule("interaction", 2.0),
    "message.incomplete": Rule("interaction", 0.5),
    "message.no_statistics": Rule("interaction", 2.0),
    "policy.no_interpretation": Rule("interpretation", 1.0),
    "service.guide_incomplete": Rule("service", 1.0),
    "content.typo": Rule("content", 1.0),
    "content.pii": Rule("content", 2.0),
    "site.no_search": Rule("functions", 3.0),
    "site.search_broken": Rule("functions", 2.0),
    "site.no_ipv6": Rule("functions", 2.0),
    "site.no_zhaocuo": Rule("functions", 2.0),
}
PASS_SCORE = 60.0
KEY_STALE_VETO = 5
STALE_VETO = 10
BLANK_VETO = 5
GUIDES_VETO = 5


@dataclass(frozen=True, slots=True)
class ScoringTable:
    rules: Mapping[str, Rule] = field(default_factory=lambda: dict(DEFAULT_TABLE))
    indicators: Mapping[str, Indicator] = field(default_factory=lambda: dict(INDICATORS))

    def with_overrides(self, overrides: Mapping[str, float]) -> ScoringTable:
        """``[scoring]``: ``"link.broken:home" = 2`` changes a per-finding value;
        ``"points.links" = 20`` an indicator's points."""
        rules = dict(self.rules)
        indicators = dict(self.indicators)
        for key, value in overrides.items():
            if key.startswith("points."):
                name = key.removeprefix("points.")
                if name not in indicators:
                    raise KeyError(key)
                indicators[name] = Indicator(indicators[name].name, float(value))
            elif key in rules:
                rules[key] = Rule(rules[key].indicator, float(value))
            else:
                raise KeyError(key)
        return ScoringTable(rules, indicators)


def _rule_key(finding: Mapping[str, Any]) -> str:
    check = str(finding["check"])
    detail = finding.get("detail") or {}
    if check == "link.broken" and detail.get("on_homepage"):
        return "link.broken:home"
    if check == "column.stale" and detail.get("key_column"):
        return "column.stale:key"
    return check


def _amount(finding: Mapping[str, Any], rule: Rule) -> float:
    if finding["check"] == "site.availability":
        rate = float((finding.get("detail") or {}).get("failure_rate", 0.0))
        return rule.per_finding * rate * 100  # per 1 %
    return rule.per_finding


@dataclass(frozen=True, slots=True)
class Verdict:
    verdict: str  # qualified | unqualified
    vetoes: list[str]
    score: float
    deductions: dict[str, float]  # indicator key -> points deducted (after its cap)


def judge(findings: Iterable[Mapping[str, Any]], table: ScoringTable | None = None) -> Verdict:
    """The verdict of one site from its (not ignored) findings."""
    table = table or ScoringTable()
    items = list(findings)
    vetoes = {str(f["check"]) for f in items if f["severity"] == "veto"}
    stale = [f for f in items if f["check"] == "column.stale"]
    key_stale = [f for f in stale if (f.get("detail") or {}).get("key_column")]
    if len(key_stale) >= KEY_STALE_VETO or len(stale) >= STALE_VETO:
        vetoes.add("column.stale")
    if sum(1 for f in items if f["check"] == "column.blank") >= BLANK_VETO:
        vetoes.add("column.blank")
    if sum(1 for f in items if f["check"] == "service.guide_incomplete") >= GUIDES_VETO:
        vetoes.add("service.guide_incomplete")
    raw: dict[str, float] = {}
    for f in items:
        rule = table.rules.get(_rule_key(f))
        if rule is None:
            continue
        raw[rule.indicator] = raw.get(rule.indicator, 0.0) + _amount(f, rule)
    deductions = {
        key: round(min(value, table.indicators[key].points), 2)
        for key, value in sorted(raw.items())
        if key in table.indicators and value > 0
    }
    score = round(max(0.0, 100.0 - sum(deductions.values())), 2)
    if score < PASS_SCORE:
        vetoes.add("score")
    return Verdict(
        verdict="unqualified" if vetoes else "qualified",
        vetoes=sorted(vetoes),
        score=score,
        deductions=deductions,
    )
