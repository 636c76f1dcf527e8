"""Site verdicts the official way: vetoes, then deductions out of 100 (国办秘函〔2019〕19号).

A site is 不合格 (unqualified) when any veto finding stands, when the column counts reach the
veto thresholds (≥ 5 stale news / top-level notice and policy columns, ≥ 10 stale columns,
≥ 5 blank columns), when 5 or more service guides are incomplete, or when its score falls
below 60. The score is 100 minus the deductions; each indicator's deductions are capped at its
own points, and every finding is one problem counted once (a broken link linked from forty pages
is one finding).

The point values are the 2015 census table as practised (home-page broken link −1, elsewhere
−0.1; home-page failure rate −5 per 1 %; ...), completed where the table is silent. Each code's
rule lives in its catalogue entry (:mod:`checks.catalogue`), one place; ``[scoring]`` in the
config overrides any of them, a plug-in's codes included.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from checks import catalogue
from checks.catalogue import Rule


@dataclass(frozen=True, slots=True)
class Indicator:
    name: str  # Chinese name with an English gloss
    points: float  # the cap: an indicator never loses more than its points


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


def default_rules() -> dict[str, Rule]:
    """Check code (with a variant after a colon: ``link.broken:home``) -> its deduction, from
    the catalogue (plug-ins' codes included)."""
    out: dict[str, Rule] = {}
    for entry in catalogue.all_specs():
        out.update(entry.rules())
    return out


# the shipped table, for reading: ScoringTable() reads the live catalogue
DEFAULT_TABLE: dict[str, Rule] = default_rules()
PASS_SCORE = 60.0
KEY_STALE_VETO = 5
STALE_VETO = 10
BLANK_VETO = 5
GUIDES_VETO = 5


@dataclass(frozen=True, slots=True)
class ScoringTable:
    rules: Mapping[str, Rule] = field(default_factory=default_rules)
    indicators: Mapping[str, Indicator] = field(default_factory=lambda: dict(INDICATORS))

    def with_overrides(
        self, overrides: Mapping[str, float], *, strict: bool = True
    ) -> ScoringTable:
        """``[scoring]``: ``"link.broken:home" = 2`` changes a per-finding value;
        ``"points.links" = 20`` an indicator's points. An unknown key is a ``KeyError``, or,
        not ``strict`` (a stored scan's overrides), left out."""
        rules = dict(self.rules)
        indicators = dict(self.indicators)
        for key, value in overrides.items():
            known = key in rules or key.removeprefix("points.") in indicators
            if not strict and not known:
                continue
            if key.startswith("points."):
                name = key.removeprefix("points.")
                if name not in indicators:
                    raise KeyError(key)
                indicators[name] = Indicator(indicators[name].name, float(value))
            elif key in rules:
                rules[key] = Rule(rules[key].indicator, float(value))
            elif (entry := catalogue.spec(key)) is not None and entry.rule is None:
                raise KeyError(f"{key} scores nothing (its catalogue entry names no indicator)")
            else:
                raise KeyError(key)
        return ScoringTable(rules, indicators)


def _rule_key(finding: Mapping[str, Any]) -> str:
    entry = catalogue.spec(str(finding["check"]))
    detail = finding.get("detail") or {}
    return entry.rule_key(detail) if entry is not None else str(finding["check"])


def _amount(finding: Mapping[str, Any], rule: Rule) -> float:
    entry = catalogue.spec(str(finding["check"]))
    quantity = entry.quantity(finding.get("detail") or {}) if entry is not None else 1.0
    return rule.points * quantity


@dataclass(frozen=True, slots=True)
class SiteVerdict:
    verdict: str  # qualified | unqualified
    vetoes: list[str]
    score: float
    deductions: dict[str, float]  # indicator key -> points deducted (after its cap)


def site_verdict(
    findings: Iterable[Mapping[str, Any]], table: ScoringTable | None = None
) -> SiteVerdict:
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
    return SiteVerdict(
        verdict="unqualified" if vetoes else "qualified",
        vetoes=sorted(vetoes),
        score=score,
        deductions=deductions,
    )
