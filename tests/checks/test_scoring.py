"""Verdicts and scores against a hand computation."""

from __future__ import annotations

from typing import Any

import pytest

from checks.scoring import ScoringTable
from checks.scoring import site_verdict as judge


def f(check: str, severity: str = "deduction", **detail: Any) -> dict[str, Any]:
    return {"check": check, "severity": severity, "detail": detail}


def test_score_by_hand() -> None:
    findings = [
        f("link.broken", on_homepage=True),  # -1
        f("link.broken", on_homepage=True),  # -1
        *[f("link.broken", on_homepage=False) for _ in range(7)],  # -0.7
        f("column.stale", key_column=True),  # -2
        f("column.stale", key_column=False),  # -1
        f("column.blank"),  # -2
        f("column.undated", "warning"),  # 0
        f("link.blocked", "info"),  # 0
        f("message.late_reply"),  # -1
        f("message.incomplete"),  # -0.5
        f("site.availability", failure_rate=0.02),  # -5 per 1 % -> -10 (the cap is 10)
        f("service.guide_incomplete"),  # -1
    ]
    v = judge(findings)
    # links 2.7, updates 5, interaction 1.5, availability 10, service 1 -> 100 - 20.2
    assert v.deductions == {
        "availability": 10.0,
        "interaction": 1.5,
        "links": 2.7,
        "service": 1.0,
        "updates": 5.0,
    }
    assert v.score == 79.8
    assert v.verdict == "qualified"
    assert v.vetoes == []


def test_indicator_caps_and_score_floor() -> None:
    many = [f("link.broken", on_homepage=True) for _ in range(40)]  # 40 points, capped at 10
    v = judge(many)
    assert v.deductions == {"links": 10.0}
    assert v.score == 90.0


def test_vetoes() -> None:
    assert judge([f("homepage.stale", "veto")]).vetoes == ["homepage.stale"]
    key = [f("column.stale", key_column=True) for _ in range(5)]
    assert judge(key).vetoes == ["column.stale"]
    assert judge(key[:4]).verdict == "qualified"
    other = [f("column.stale", key_column=False) for _ in range(10)]
    assert judge(other).vetoes == ["column.stale"]
    assert judge(other[:9]).verdict == "qualified"
    assert judge([f("column.blank") for _ in range(5)]).vetoes == ["column.blank"]
    guides = [f("service.guide_incomplete") for _ in range(5)]
    assert judge(guides).vetoes == ["service.guide_incomplete"]


def test_score_below_60_is_unqualified() -> None:
    table = ScoringTable().with_overrides({"points.links": 50, "link.broken": 1})
    v = judge([f("link.broken") for _ in range(45)], table)
    assert v.score == 55.0
    assert v.verdict == "unqualified"
    assert v.vetoes == ["score"]


def test_overrides_are_validated() -> None:
    with pytest.raises(KeyError):
        ScoringTable().with_overrides({"link.borken": 1})
    with pytest.raises(KeyError):
        ScoringTable().with_overrides({"points.nothing": 1})
    table = ScoringTable().with_overrides({"link.broken:home": 2.5})
    assert judge([f("link.broken", on_homepage=True)], table).score == 97.5
