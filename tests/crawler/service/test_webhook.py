"""Early warnings and vetoes, and their delivery to a real local webhook that fails, then takes.

The back-off is injected (a recording ``sleep`` that does not wait): the retries happen at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from checks.availability import summarize
from crawler.service.planner import Schedule
from crawler.service.webhook import (
    WebhookError,
    build_payload,
    send,
    veto_events,
    warnings,
)
from storage.base import SampleRow
from tests.support.alerts import Sleeps
from tests.support.localserver import serve

pytestmark = pytest.mark.timeout(60)

TZ = dt.timezone(dt.timedelta(hours=8))
AS_OF = dt.date(2020, 6, 16)
HOME = "http://www.example.gov.cn/fgj/"


# ---------------------------------------------------------------------------------------------
# a webhook receiver


@dataclass
class Hit:
    body: bytes
    headers: dict[str, str]


@dataclass
class Receiver:
    """Answers the statuses in ``script`` in turn (then 200); ``stall`` for a status of 0."""

    script: list[int] = field(default_factory=list)
    retry_after: str | None = None
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _loop: asyncio.AbstractEventLoop | None = None
    _release: asyncio.Event | None = None

    def app(self) -> web.Application:
        async def hook(request: web.Request) -> web.Response:
            body = await request.read()
            with self.lock:
                self.hits.append(Hit(body, dict(request.headers)))
                status = self.script.pop(0) if self.script else 200
            if status == 0:
                if self._release is None:
                    self._loop, self._release = asyncio.get_running_loop(), asyncio.Event()
                await self._release.wait()
                return web.Response(status=200, text="too late")
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            return web.Response(
                status=status, text="nope" if status >= 400 else "ok", headers=headers
            )

        app = web.Application()
        app.router.add_post("/hook", hook)
        return app

    def release(self) -> None:
        if self._loop is not None and self._release is not None:
            self._loop.call_soon_threadsafe(self._release.set)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    rec = Receiver()
    with serve(rec.app()) as port:
        try:
            yield rec, f"http://127.0.0.1:{port}/hook"
        finally:
            rec.release()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    http = aiohttp.ClientSession()
    try:
        yield http
    finally:
        await http.close()


PAYLOAD = build_payload(
    [{"id": "1", "type": "early_warning", "check": "site.unreachable", "site": "fgj",
      "message": "fgj: 3.6 % 的首页请求失败"}],
    as_of=AS_OF,
    config="govmon.toml",
    sent_at=dt.datetime(2020, 6, 16, 9, 0, tzinfo=TZ),
)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# delivery


async def test_two_failures_then_the_webhook_takes_it(
    receiver: tuple[Receiver, str], session: aiohttp.ClientSession
) -> None:
    rec, url = receiver
    rec.script = [500, 503]
    sleeps = Sleeps()
    delivery = await send(url, PAYLOAD, session=session, backoff=0.01, sleep=sleeps)
    assert delivery.status == 200
    assert delivery.attempts == 3
    assert len(rec.hits) == 3
    assert sleeps.delays == [0.01, 0.02]  # exponential
    for hit in rec.hits:  # the same document each time, byte for byte, with the same id
        assert json.loads(hit.body.decode("utf-8")) == PAYLOAD
        assert hit.headers["Content-Type"] == "application/json; charset=utf-8"
        assert hit.headers["X-Govmon-Delivery"] == delivery.delivery_id
    assert "首页请求失败" in rec.hits[0].body.decode("utf-8")  # UTF-8, not \\u escapes


async def test_retry_after_is_honoured_up_to_the_cap(
    receiver: tuple[Receiver, str], session: aiohttp.ClientSession
) -> None:
    rec, url = receiver
    rec.script, rec.retry_after = [429, 503], "3"
    sleeps = Sleeps()
    await send(url, PAYLOAD, session=session, backoff=0.01, max_backoff=5, sleep=sleeps)
    assert sleeps.delays == [3.0, 3.0]
    rec.script = [503]
    sleeps = Sleeps()
    await send(url, PAYLOAD, session=session, backoff=0.01, max_backoff=1, sleep=sleeps)
    assert sleeps.delays == [1.0]


async def test_a_final_refusal_is_not_retried(
    receiver: tuple[Receiver, str], session: aiohttp.ClientSession
) -> None:
    rec, url = receiver
    rec.script = [400]
    sleeps = Sleeps()
    with pytest.raises(WebhookError) as info:
        await send(url, PAYLOAD, session=session, backoff=0.01, sleep=sleeps)
    assert info.value.status == 400
    assert info.value.attempts == 1
    assert len(rec.hits) == 1
    assert sleeps.delays == []


async def test_the_retries_end_with_an_error(
    receiver: tuple[Receiver, str], session: aiohttp.ClientSession
) -> None:
    rec, url = receiver
    rec.script = [500] * 10
    sleeps = Sleeps()
    with pytest.raises(WebhookError) as info:
        await send(url, PAYLOAD, session=session, retries=2, backoff=0.01, sleep=sleeps)
    assert info.value.attempts == 3
    assert info.value.status == 500
    assert "after 3 attempts" in str(info.value)
    assert len(rec.hits) == 3
    assert sleeps.delays == [0.01, 0.02]


async def test_an_attempt_that_hangs_times_out_and_is_retried(
    receiver: tuple[Receiver, str], session: aiohttp.ClientSession
) -> None:
    rec, url = receiver
    rec.script = [0]  # the first request never gets an answer
    sleeps = Sleeps()
    delivery = await send(url, PAYLOAD, session=session, timeout=0.05, backoff=0.01, sleep=sleeps)
    assert delivery.attempts == 2
    assert len(rec.hits) == 2


async def test_a_receiver_that_is_down_is_retried_then_reported(
    session: aiohttp.ClientSession,
) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    sleeps = Sleeps()
    with pytest.raises(WebhookError) as info:
        await send(
            f"http://127.0.0.1:{port}/hook",
            PAYLOAD,
            session=session,
            retries=1,
            backoff=0.01,
            sleep=sleeps,
        )
    assert info.value.attempts == 2
    assert info.value.status is None
    assert sleeps.delays == [0.01]


# ---------------------------------------------------------------------------------------------
# early warnings


def samples(failures: int, total: int = 140, site: str = "fgj") -> list[SampleRow]:
    start = dt.datetime(2020, 6, 9, tzinfo=TZ)
    return [
        SampleRow(
            site=site,
            url=HOME,
            at=(start + dt.timedelta(seconds=i * 7 * 86400 / total)).isoformat(),
            ok=i >= failures,
            failed_at=None if i >= failures else "connect",
        )
        for i in range(total)
    ]


def finding(check: str, site: str = "fgj", n: int = 0, **detail: Any) -> dict[str, Any]:
    severity = {"homepage.stale": "veto", "message.unanswered": "veto"}.get(check, "deduction")
    return {
        "id": f"{check}-{site}-{n}",
        "check": check,
        "severity": severity,
        "site": site,
        "unit": "区发展和改革局",
        "column": f"栏目{n}",
        "url": f"{HOME}c{n}/",
        "detail": detail,
    }


def rules(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["site"], e["rule"]) for e in events]


@pytest.mark.parametrize(
    ("failures", "warned"),
    [(4, False), (5, True), (6, True), (7, False)],  # 2.9 %, 3.6 %, 4.3 %, 5 % (the veto)
)
def test_a_failure_rate_over_3_percent_warns_below_the_veto(failures: int, warned: bool) -> None:
    events = warnings([], summarize(samples(failures)), Schedule(), AS_OF)
    assert rules(events) == ([("fgj", "failure_rate")] if warned else [])
    if warned:
        (event,) = events
        assert event["type"] == "early_warning"
        assert event["check"] == "site.unreachable"
        assert event["value"] == round(failures / 140, 6)
        assert event["url"] == HOME
        assert "站点无法访问" in event["message"]


def test_the_failure_rate_threshold_comes_from_the_schedule() -> None:
    summary = summarize(samples(4))
    assert rules(warnings([], summary, Schedule(warn_failure_rate=0.02), AS_OF)) == [
        ("fgj", "failure_rate")
    ]


@pytest.mark.parametrize(("age", "warned"), [(9, False), (10, True), (14, True), (15, False)])
def test_a_home_page_10_days_without_update_warns(age: int, warned: bool) -> None:
    newest = AS_OF - dt.timedelta(days=age)
    events = warnings([], {}, Schedule(), AS_OF, homepages={"fgj": newest}, urls={"fgj": HOME})
    assert rules(events) == ([("fgj", "homepage_days")] if warned else [])
    if warned:
        assert events[0]["value"] == age
        assert events[0]["url"] == HOME
        assert events[0]["newest"] == newest.isoformat()


def test_a_home_page_already_stale_gets_the_veto_not_a_warning() -> None:
    newest = AS_OF - dt.timedelta(days=12)
    found = [finding("homepage.stale")]
    assert warnings(found, {}, Schedule(), AS_OF, homepages={"fgj": newest}) == []
    assert warnings([], {}, Schedule(warn_homepage_days=0), AS_OF, homepages={"fgj": newest}) == []


@pytest.mark.parametrize(("blank", "warned"), [(3, False), (4, True), (5, False)])
def test_one_blank_column_short_of_the_veto_warns(blank: int, warned: bool) -> None:
    found = [finding("column.blank", n=i) for i in range(blank)]
    events = warnings(found, {}, Schedule(), AS_OF)
    assert rules(events) == ([("fgj", "blank_columns")] if warned else [])
    if warned:
        assert "1 more" in events[0]["message"]
        assert events[0]["veto_at"] == 5


def test_the_blank_margin_widens_the_warning() -> None:
    found = [finding("column.blank", n=i) for i in range(3)]
    assert rules(warnings(found, {}, Schedule(warn_blank_margin=2), AS_OF)) == [
        ("fgj", "blank_columns")
    ]
    assert warnings(found, {}, Schedule(warn_blank_margin=0), AS_OF) == []


def test_stale_columns_and_guides_short_of_their_vetoes_warn() -> None:
    key = [finding("column.stale", n=i, key_column=True) for i in range(4)]
    other = [finding("column.stale", n=10 + i, key_column=False) for i in range(5)]
    guides = [finding("service.guide_incomplete", n=20 + i) for i in range(4)]
    events = warnings(key + other + guides, {}, Schedule(), AS_OF)
    assert sorted(rules(events)) == [
        ("fgj", "incomplete_guides"),
        ("fgj", "stale_columns"),  # 9 of 10
        ("fgj", "stale_key_columns"),  # 4 of 5
    ]


@pytest.mark.parametrize(("days", "warned"), [(74, False), (75, True), (90, True)])
def test_a_message_long_unanswered_warns(days: int, warned: bool) -> None:
    found = [finding("message.overdue", days=days, working_days=days - 20, title="路灯不亮")]
    events = warnings(found, {}, Schedule(), AS_OF)
    assert rules(events) == ([("fgj", "unanswered_days")] if warned else [])
    if warned:
        assert events[0]["url"] == f"{HOME}c0/"
        assert "路灯不亮" in events[0]["message"]


def test_warning_ids_are_stable_and_distinct() -> None:
    found = [finding("column.blank", site=s, n=i) for s in ("a", "b") for i in range(4)]
    first = warnings(found, {}, Schedule(), AS_OF)
    again = warnings(list(reversed(found)), {}, Schedule(), AS_OF)
    assert [e["id"] for e in first] == [e["id"] for e in again]
    assert len({e["id"] for e in first}) == 2


# ---------------------------------------------------------------------------------------------
# vetoes


def test_veto_findings_become_events_once() -> None:
    found = [
        finding("homepage.stale", n=1, newest="2020-05-01"),
        finding("column.blank", n=2),
        finding("message.unanswered", site="jyj", n=3),
    ]
    events = veto_events(found)
    assert [(e["check"], e["site"]) for e in events] == [
        ("homepage.stale", "fgj"),
        ("message.unanswered", "jyj"),
    ]
    assert events[0]["id"] == "homepage.stale-fgj-1"  # the finding's identity
    assert events[0]["detail"] == {"newest": "2020-05-01"}
    later = veto_events(found, sent={e["id"] for e in events})
    assert later == []


def test_vetoes_made_by_counts_are_events_too() -> None:
    blank = [finding("column.blank", n=i) for i in range(5)]
    events = veto_events(blank, urls={"fgj": HOME})
    assert [(e["check"], e["site"], e["count"]) for e in events] == [("column.blank", "fgj", 5)]
    assert events[0]["url"] == HOME
    assert "5 column.blank findings" in events[0]["message"]
    assert veto_events(blank[:4]) == []
    assert veto_events(blank, sent={events[0]["id"]}) == []


async def test_warnings_and_vetoes_reach_the_webhook(
    receiver: tuple[Receiver, str], session: aiohttp.ClientSession
) -> None:
    rec, url = receiver
    found = [finding("column.blank", n=i) for i in range(4)] + [finding("homepage.stale", n=9)]
    events = warnings(found, summarize(samples(5)), Schedule(), AS_OF) + veto_events(found)
    payload = build_payload(events, as_of=AS_OF, config="govmon.toml")
    assert payload["counts"] == {"veto": 1, "early_warning": 2}
    await send(url, payload, session=session, sleep=Sleeps())
    (hit,) = rec.hits
    got = json.loads(hit.body)
    assert got["source"] == "govmon"
    assert got["as_of"] == "2020-06-16"
    assert sorted((e["type"], e["check"]) for e in got["events"]) == [
        ("early_warning", "column.blank"),
        ("early_warning", "site.unreachable"),
        ("veto", "homepage.stale"),
    ]
