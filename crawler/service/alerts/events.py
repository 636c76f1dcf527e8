"""The alerts' events: early warnings and veto-level findings, computed from a scan (pure).

* :func:`warnings`: the vendors' early warnings, before a veto hits: the home-page failure
  rate over 3 % (veto at 5 %), the home page 10 days without an update (veto at 14), a site one
  blank column short of the 5-blank-column veto, one stale key column short of the 5-stale veto
  (or of the 10-stale one), one incomplete service guide short of the 5-guide veto, a message
  unanswered for 75 days (veto at 90). Thresholds come from ``[schedule]``.
* :func:`veto_events`: the veto-level findings (and the vetoes that counts of findings
  add, as :func:`checks.scoring.judge` decides them) not sent before.

Every event is a dict with ``id`` (stable: the same warning on the next round has the same id),
``type`` (``early_warning`` or ``veto``), ``check`` (the veto it precedes or is), ``site``,
``url``, ``message`` (plain words) and the numbers behind it. Every channel
(:mod:`crawler.service.alerts.channels`) sends these: the webhook as JSON, the robots and
e-mail as Chinese text (:mod:`crawler.service.alerts.text`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from checks.availability import SiteAvailability, exact_rate
from checks.scoring import BLANK_VETO, GUIDES_VETO, KEY_STALE_VETO, STALE_VETO
from checks.scoring import site_verdict as verdict
from crawler.service.planner import VETO_FAILURE_RATE, Schedule

__all__ = ["Event", "veto_events", "warnings"]

Event = dict[str, Any]


def _id(*parts: object) -> str:
    raw = "\x1f".join(str(p) for p in parts)
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# early warnings


def warnings(
    findings: Iterable[Mapping[str, Any]],
    samples_judgement: Mapping[str, SiteAvailability],
    schedule: Schedule,
    as_of: dt.date | dt.datetime,
    *,
    homepages: Mapping[str, dt.date | None] | None = None,
    urls: Mapping[str, str] | None = None,
    news_max_age_days: int = 14,
    unanswered_max_days: int = 90,
    veto_rate: float = VETO_FAILURE_RATE,
) -> list[Event]:
    """The early warnings of every site, from the latest scan's ``findings`` (dicts as the
    store returns them), the availability summary (:func:`checks.availability.summarize`) and
    ``homepages`` (site -> the newest dated item on its home page, for the 10-day warning; the
    scan's findings only say when it is already stale).

    A site already at a veto gets no warning for that veto (the veto is sent instead).
    ``urls`` maps sites to their home pages (the subject of site-wide warnings).
    """
    day = as_of.date() if isinstance(as_of, dt.datetime) else as_of
    items = list(findings)
    by_site: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for f in items:
        by_site[str(f["site"])].append(f)
    home = dict(urls or {})
    for site, st in samples_judgement.items():
        home.setdefault(site, st.url)
    out: list[Event] = []

    # the home page's failure rate
    for site, st in samples_judgement.items():
        rate = st.rate
        if st.samples and exact_rate(schedule.warn_failure_rate) <= rate < exact_rate(veto_rate):
            out.append(
                _event(
                    "site.unreachable",
                    "failure_rate",
                    site,
                    st.url,
                    f"{site}: {float(rate):.1%} of the home page's {st.samples} samples failed"
                    f" ({st.failures}) in the {_days(st)} up to {st.until.date().isoformat()};"
                    f" the veto 站点无法访问 comes at {veto_rate:.0%}",
                    value=round(float(rate), 6),
                    threshold=schedule.warn_failure_rate,
                    veto_at=veto_rate,
                    samples=st.samples,
                    failures=st.failures,
                )
            )

    # the home page without updates
    stale_sites = {str(f["site"]) for f in items if f["check"] == "homepage.stale"}
    if schedule.warn_homepage_days > 0:
        for site, newest in sorted((homepages or {}).items()):
            if newest is None or site in stale_sites:
                continue
            age = (day - newest).days
            if schedule.warn_homepage_days <= age <= news_max_age_days:
                out.append(
                    _event(
                        "homepage.stale",
                        "homepage_days",
                        site,
                        home.get(site, ""),
                        f"{site}: the home page's newest item is {age} days old"
                        f" ({newest.isoformat()}); 首页不更新 is a veto after"
                        f" {news_max_age_days} days",
                        value=age,
                        threshold=schedule.warn_homepage_days,
                        veto_at=news_max_age_days + 1,
                        newest=newest.isoformat(),
                    )
                )

    for site in sorted(by_site):
        out.extend(_count_warnings(site, by_site[site], schedule, home.get(site, "")))
        if schedule.warn_unanswered_days > 0:
            for f in by_site[site]:
                detail = f.get("detail") or {}
                days = detail.get("days")
                if f["check"] != "message.overdue" or not isinstance(days, int):
                    continue
                if schedule.warn_unanswered_days <= days <= unanswered_max_days:
                    title = str(detail.get("title") or "")[:40]
                    out.append(
                        _event(
                            "message.unanswered",
                            "unanswered_days",
                            site,
                            str(f["url"]),
                            f"{site}: a message asked {days} days ago is still unanswered"
                            f" ({title}); 互动回应差 is a veto after {unanswered_max_days} days",
                            value=days,
                            threshold=schedule.warn_unanswered_days,
                            veto_at=unanswered_max_days + 1,
                            column=f.get("column"),
                            title=title,
                        )
                    )
    return out


def _count_warnings(
    site: str, findings: list[Mapping[str, Any]], schedule: Schedule, url: str
) -> list[Event]:
    """One (or a few) findings short of the count vetoes of 栏目不更新 and 服务不实用."""
    blank = sum(1 for f in findings if f["check"] == "column.blank")
    stale = [f for f in findings if f["check"] == "column.stale"]
    key = sum(1 for f in stale if (f.get("detail") or {}).get("key_column"))
    guides = sum(1 for f in findings if f["check"] == "service.guide_incomplete")
    out: list[Event] = []
    checks = (
        ("column.blank", "blank_columns", blank, BLANK_VETO, schedule.warn_blank_margin,
         "blank columns (有栏目无内容)"),
        ("column.stale", "stale_key_columns", key, KEY_STALE_VETO, schedule.warn_stale_margin,
         "stale news / top-level notice and policy columns"),
        ("column.stale", "stale_columns", len(stale), STALE_VETO, schedule.warn_stale_margin,
         "stale columns"),
        ("service.guide_incomplete", "incomplete_guides", guides, GUIDES_VETO,
         schedule.warn_guides_margin, "service guides missing 4 or more key elements"),
    )  # fmt: skip
    for check, rule, count, veto, margin, what in checks:
        if margin > 0 and veto - margin <= count < veto:
            short = veto - count
            out.append(
                _event(
                    check,
                    rule,
                    site,
                    url,
                    f"{site}: {count} {what}; {short} more and the site is vetoed"
                    f" (the veto comes at {veto})",
                    value=count,
                    threshold=veto - margin,
                    veto_at=veto,
                )
            )
    return out


def _event(check: str, rule: str, site: str, url: str, message: str, **numbers: Any) -> Event:
    return {
        "id": _id("early_warning", check, rule, site, url),
        "type": "early_warning",
        "check": check,
        "rule": rule,
        "site": site,
        "url": url,
        "message": message,
        **numbers,
    }


def _days(st: SiteAvailability) -> str:
    days = round((st.until - st.since).total_seconds() / 86400)
    return "day" if days == 1 else f"{days} days"


# ---------------------------------------------------------------------------------------------
# vetoes


def veto_events(
    findings: Iterable[Mapping[str, Any]],
    *,
    sent: Collection[str] = (),
    urls: Mapping[str, str] | None = None,
) -> list[Event]:
    """Veto-level findings whose event ``id`` is not in ``sent``.

    Each veto finding is one event (its id is the finding's identity, ``f["id"]``, when the
    store gave one); the vetoes that only counts make (≥ 5 blank columns, ≥ 5 stale key
    columns or 10 stale ones, ≥ 5 incomplete guides, a score below 60) are one event per site
    and veto, as :func:`checks.scoring.judge` decides them.
    """
    items = list(findings)
    by_site: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for f in items:
        by_site[str(f["site"])].append(f)
    out: list[Event] = []
    for f in items:
        if f.get("severity") != "veto":
            continue
        event_id = str(f.get("id") or _id("veto", f["check"], f["site"], f.get("column"), f["url"]))
        if event_id in sent:
            continue
        out.append(
            {
                "id": event_id,
                "type": "veto",
                "check": f["check"],
                "site": f["site"],
                "unit": f.get("unit"),
                "column": f.get("column"),
                "url": f["url"],
                "message": f"{f['site']}: {f['check']} at {f['url']}",
                "detail": dict(f.get("detail") or {}),
            }
        )
    for site in sorted(by_site):
        result = verdict(by_site[site])
        explicit = {str(f["check"]) for f in by_site[site] if f.get("severity") == "veto"}
        for veto in result.vetoes:
            if veto in explicit:
                continue
            event_id = _id("veto", veto, site)
            if event_id in sent:
                continue
            count = sum(1 for f in by_site[site] if f["check"] == veto)
            what = (
                f"a score of {result.score:g} (below 60)"
                if veto == "score"
                else (f"{count} {veto} findings")
            )
            out.append(
                {
                    "id": event_id,
                    "type": "veto",
                    "check": veto,
                    "site": site,
                    "url": (urls or {}).get(site, ""),
                    "message": f"{site}: vetoed by {what}",
                    "count": count,
                    "score": result.score,
                }
            )
    return out
