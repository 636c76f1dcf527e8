"""Early warnings and veto-level findings, sent to a webhook as a JSON POST.

* :func:`warnings` (pure): the vendors' early warnings, before a veto hits: the home-page failure
  rate over 3 % (veto at 5 %), the home page 10 days without an update (veto at 14), a site one
  blank column short of the 5-blank-column veto, one stale key column short of the 5-stale veto
  (or of the 10-stale one), one incomplete service guide short of the 5-guide veto, a message
  unanswered for 75 days (veto at 90). Thresholds come from ``[schedule]``.
* :func:`veto_events` (pure): the veto-level findings (and the vetoes that counts of findings
  add, as :func:`checks.scoring.judge` decides them) not sent before.
* :func:`build_payload` and :func:`send`: one JSON document per delivery, POSTed with retries
  (tenacity, exponential back-off, ``Retry-After`` honoured up to a cap) on network errors,
  timeouts, 408, 429 and 5xx; any other 4xx is final. Every attempt carries the same body and
  the same ``X-Govmon-Delivery`` id, so a receiver can drop a repeat.

Every event is a dict with ``id`` (stable: the same warning on the next round has the same id),
``type`` (``early_warning`` or ``veto``), ``check`` (the veto it precedes or is), ``site``,
``url``, ``message`` (plain words) and the numbers behind it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from checks.availability import SiteAvailability, exact_rate
from checks.scoring import BLANK_VETO, GUIDES_VETO, KEY_STALE_VETO, STALE_VETO
from checks.scoring import site_verdict as verdict
from crawler import __version__
from crawler.service.planner import VETO_FAILURE_RATE, Schedule

log = structlog.get_logger("govmon.webhook")

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


# ---------------------------------------------------------------------------------------------
# delivery


def build_payload(
    events: Iterable[Event],
    *,
    as_of: dt.datetime | dt.date | None = None,
    config: str | None = None,
    sent_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The JSON document POSTed to the webhook."""
    items = list(events)
    return {
        "source": "govmon",
        "version": __version__,
        "sent_at": (sent_at or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        "as_of": as_of.isoformat() if as_of is not None else None,
        "config": config,
        "counts": {
            "veto": sum(1 for e in items if e.get("type") == "veto"),
            "early_warning": sum(1 for e in items if e.get("type") == "early_warning"),
        },
        "events": items,
    }


class WebhookError(Exception):
    """The webhook did not accept the delivery (after the retries, or a final 4xx)."""

    def __init__(self, message: str, *, attempts: int, status: int | None = None) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.status = status


class _Final(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"http {status}")
        self.status = status


class _Retryable(Exception):
    def __init__(self, reason: str, status: int | None, retry_after: float | None) -> None:
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Delivery:
    status: int
    attempts: int
    delivery_id: str


_RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
# a path segment that is a credential (飞书's hook id, Slack's secret): long, letters and digits
_TOKENISH = re.compile(r"(?=[^/]*[0-9])(?=[^/]*[A-Za-z])[A-Za-z0-9_.~%=-]{16,}")


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return None  # an HTTP date: the exponential back-off is good enough


def redact_url(url: str) -> str:
    """What logs and messages show of a webhook URL: scheme, host (and port) and path. The
    robots of 钉钉, 企业微信 and 飞书 carry their only credential in the query
    (``access_token=``, ``key=``) or the path's last segment; user info and query go, and so
    does any path segment that looks like a token (long, with digits and letters mixed)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return "(a webhook URL that does not parse)"
    if ":" in host:
        host = f"[{host}]"
    path = "/".join("***" if _TOKENISH.fullmatch(seg) else seg for seg in parts.path.split("/"))
    return f"{parts.scheme}://{host}{port}{path}"


def scrub_url(text: str, url: str) -> str:
    """``text`` (an error message) with ``url`` shown redacted, and without the URL's query
    values or user info anywhere in it."""
    text = text.replace(url, redact_url(url))
    try:
        parts = urlsplit(url)
    except ValueError:
        return text
    secrets = [value for _, value in parse_qsl(parts.query, keep_blank_values=True)]
    secrets += [parts.query, parts.password or "", parts.username or ""]
    secrets += [seg for seg in parts.path.split("/") if _TOKENISH.fullmatch(seg)]
    for secret in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


async def send(
    url: str,
    payload: Mapping[str, Any],
    *,
    session: aiohttp.ClientSession,
    timeout: float = 10.0,  # noqa: ASYNC109 - per attempt; the retries are the point
    retries: int = 5,
    backoff: float = 1.0,
    max_backoff: float = 60.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Delivery:
    """POST ``payload`` as JSON to ``url``; retry up to ``retries`` more times.

    Waits ``backoff``, ``2 * backoff``, ``4 * backoff`` ... (capped at ``max_backoff``; a
    ``Retry-After`` in seconds is honoured up to the same cap) between attempts, through
    ``sleep`` (tests pass a recording one). Raises :class:`WebhookError` when the last attempt
    fails or the receiver answers a 4xx that is not worth repeating.
    """
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    delivery_id = hashlib.sha256(body).hexdigest()[:24]
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"govmon/{__version__} webhook",
        "X-Govmon-Delivery": delivery_id,
    }
    exponential = wait_exponential(multiplier=backoff, min=backoff, max=max_backoff)

    def wait(state: RetryCallState) -> float:
        base = float(exponential(state))
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return min(max(base, exc.retry_after), max_backoff)
        return base

    attempts = 0
    status: int | None = None
    try:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(retries + 1),
            wait=wait,
            retry=retry_if_exception_type(_Retryable),
            sleep=sleep,
            reraise=True,
        ):
            with attempt:
                attempts += 1
                status = await _post(session, url, body, headers, timeout)
    except _Retryable as exc:
        shown, reason = redact_url(url), scrub_url(str(exc), url)
        log.warning("webhook.failed", url=shown, attempts=attempts, reason=reason)
        raise WebhookError(
            f"webhook {shown}: {reason} (after {attempts} attempts)",
            attempts=attempts,
            status=exc.status,
        ) from None
    except _Final as exc:
        shown = redact_url(url)
        log.warning("webhook.refused", url=shown, status=exc.status)
        raise WebhookError(
            f"webhook {shown}: {scrub_url(str(exc), url)} (a final answer: not retried)",
            attempts=attempts,
            status=exc.status,
        ) from None
    assert status is not None
    log.info(
        "webhook.sent", url=redact_url(url), status=status, attempts=attempts, delivery=delivery_id
    )
    return Delivery(status=status, attempts=attempts, delivery_id=delivery_id)


async def _post(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,  # noqa: ASYNC109 - one attempt's limit
) -> int:
    try:
        async with (
            asyncio.timeout(timeout),
            session.post(url, data=body, headers=headers, allow_redirects=False) as resp,
        ):
            await resp.read()
            status = resp.status
            if 200 <= status < 300:
                return status
            if status in _RETRY_STATUSES:
                raise _Retryable(
                    f"http {status}", status, _retry_after(resp.headers.get("Retry-After"))
                )
            raise _Final(status)
    except TimeoutError:
        raise _Retryable(f"no answer within {timeout:g} s", None, None) from None
    except aiohttp.ClientError as exc:
        raise _Retryable(f"{type(exc).__name__}: {exc}"[:200], None, None) from None
