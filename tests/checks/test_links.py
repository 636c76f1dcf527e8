"""The link judgement: what is broken, what is only blocked, what deserves another try."""

from __future__ import annotations

import pytest

from checks.links import Fingerprint, classify, is_soft_404, shingles, title_says_not_found
from crawler.net.fetcher import FetchResult


def r(status: int | None = 200, error: str | None = None, body: bytes = b"") -> FetchResult:
    return FetchResult(
        url="http://h.test/x", final_url="http://h.test/x", status=status, error=error, body=body
    )


@pytest.mark.parametrize(
    ("result", "outcome", "reason", "final"),
    [
        (r(404), "broken", "http 404", ""),
        (r(410), "broken", "http 410", ""),
        (r(500), "retry", "http 500", "broken"),
        (r(503), "retry", "http 503", "broken"),
        (r(429), "retry", "http 429", "blocked"),
        (r(403), "blocked", "http 403", ""),
        (r(412, body=b"<script>$_ts=window['$_ts'];</script>"), "blocked", "http 412", ""),
        (r(503, body=b"<script>$_ts=window['$_ts'];</script>"), "blocked", "challenge", ""),
        (r(404, body=b"<script>$_ts=window['$_ts'];</script>"), "broken", "http 404", ""),
        (r(412), "blocked", "http 412", ""),
        (r(401), "blocked", "http 401", ""),
        (r(None, "dns"), "broken", "dns", ""),
        (r(None, "tls"), "broken", "tls", ""),
        (r(None, "timeout"), "retry", "timeout", "broken"),
        (r(None, "connect"), "retry", "connect", "broken"),
        (r(301, "redirect loop"), "broken", "redirect loop", ""),
        (r(None, "private address"), "blocked", "private address", ""),
        (r(200, body=b"<html><script>$_ts={};</script></html>"), "blocked", "challenge", ""),
        (r(200, body="<p>请开启JavaScript并刷新该页</p>".encode()), "blocked", "challenge", ""),
        (r(200, body=b"<html>ok</html>"), "ok", "", ""),
        (r(206), "ok", "", ""),
    ],
)
def test_classify(result: FetchResult, outcome: str, reason: str, final: str) -> None:
    v = classify(result)
    assert (v.outcome, v.reason, v.final) == (outcome, reason, final)


def test_a_big_page_mentioning_a_challenge_marker_is_not_a_challenge() -> None:
    body = b"<html>" + b"x" * 40000 + b"$_ts=1</html>"
    assert classify(r(200, body=body)).outcome == "ok"


@pytest.mark.parametrize(
    "title",
    [
        "404 Not Found",
        "404",
        "抱歉，您访问的页面不存在",
        "页面未找到",
        "该信息已被删除",
        "Page not found",
    ],
)
def test_not_found_titles(title: str) -> None:
    assert title_says_not_found(title)


@pytest.mark.parametrize(
    "title",
    [
        "关于印发第404号文件的通知",
        "区政府信息删除管理办法",
        "通知公告",
        "",
        "江门市蓬江区人民政府关于2020年404个重点项目的公示",
    ],
)
def test_titles_that_are_not_not_found(title: str) -> None:
    assert not title_says_not_found(title)


def test_soft_404_by_probe() -> None:
    text = "抱歉 您访问的内容 暂时 无法 显示 返回首页 " * 5
    probe = Fingerprint(200, None, "提示信息", shingles(text))
    assert is_soft_404(
        probe,
        url="http://h.test/a",
        final_url="http://h.test/a",
        redirected=False,
        title="提示信息",
        text_shingles=shingles(text),
    )
    other = shingles("区政府召开常务会议 研究部署 防汛 工作 " * 5)
    assert not is_soft_404(
        probe,
        url="http://h.test/b",
        final_url="http://h.test/b",
        redirected=False,
        title="提示信息",
        text_shingles=other,
    )
    # a host redirecting every missing path to its home page
    home = Fingerprint(200, "http://h.test/", "首页", frozenset())
    assert is_soft_404(
        home,
        url="http://h.test/old.html",
        final_url="http://h.test/",
        redirected=True,
        title="首页",
        text_shingles=None,
    )
    assert not is_soft_404(
        home,
        url="http://h.test/",
        final_url="http://h.test/",
        redirected=False,
        title="首页",
        text_shingles=None,
    )
    # an honest host (404 for missing paths): only a not-found title counts
    honest = Fingerprint(404, None, "", frozenset())
    assert not is_soft_404(
        honest,
        url="http://h.test/x",
        final_url="http://h.test/x",
        redirected=False,
        title="提示信息",
        text_shingles=None,
    )
