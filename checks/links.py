"""The link check's judgement: is a fetch result broken, blocked, worth a retry, or fine?

Pure functions over :class:`~crawler.net.fetcher.FetchResult`. The rules, in the order a clerk
would want them (a false "broken" costs an afternoon):

* ``403``, ``401``, ``412``, ``999`` and anti-bot challenge pages say nothing about the link:
  ``blocked``. ``429`` is retried (after Retry-After) and, if it persists, ``blocked``.
* Timeouts, connection failures, cut bodies, ``5xx`` are transient: retried; if they persist,
  ``broken``.
* ``404``, ``410``, other ``4xx``, DNS failure, TLS failure, redirect loops: ``broken``.
* Anything ``broken`` is fetched once more after a pause (the engine's confirming re-check)
  before it is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.net.fetcher import FetchResult

TRANSIENT_ERRORS = frozenset({"timeout", "connect", "body", "error"})
BROKEN_ERRORS = frozenset(
    {"dns", "tls", "redirect loop", "too many redirects", "bad redirect", "invalid url"}
)
BLOCKED_STATUSES = frozenset({401, 403, 412, 999})
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})

# markers of script challenges served by anti-bot front ends (瑞数, 加速乐, 云锁, 安全狗, WAFs),
# looked for in the lower-cased body: plain substring tests (fast) before one regex
_CHALLENGE_MARKERS = (
    b"$_ts", b"__jsl_clearance", b"_waf_", b"yunsuo_session", b"safedog",
    b"/cdn-cgi/challenge", b"challenge-platform", "访问验证".encode(),
    "请开启".encode(), b"enable javascript and cookies", b"checking your browser",
)  # fmt: skip
_CHALLENGE = re.compile(
    rb"\$_ts\s*=|__jsl_clearance|_waf_|yunsuo_session|safedog|/cdn-cgi/challenge|"
    rb"challenge-platform|\xe8\xae\xbf\xe9\x97\xae\xe9\xaa\x8c\xe8\xaf\x81|"  # 访问验证
    rb"\xe8\xaf\xb7\xe5\xbc\x80\xe5\x90\xaf\s*javascript|"  # 请开启 JavaScript
    rb"enable javascript and cookies|checking your browser"
)
CHALLENGE_MAX_BYTES = 32768


@dataclass(frozen=True, slots=True)
class LinkVerdict:
    outcome: str  # ok | retry | broken | blocked
    reason: str = ""  # "http 404", "dns", "challenge", ...
    final: str = ""  # for "retry": the outcome if no retry is left (broken or blocked)


OK = LinkVerdict("ok")


def is_challenge(result: FetchResult) -> bool:
    """A small page of an anti-bot front end instead of the content."""
    body = result.body
    if not body or len(body) > CHALLENGE_MAX_BYTES:
        return False
    lowered = body.lower()
    if not any(marker in lowered for marker in _CHALLENGE_MARKERS):
        return False
    return _CHALLENGE.search(lowered) is not None


def classify(result: FetchResult) -> LinkVerdict:
    """Judge one fetch (after its redirects)."""
    if result.error is not None:
        if result.error == "private address":
            return LinkVerdict("blocked", "private address")
        if result.error.startswith("unreadable"):  # it answered; govmon could not parse it
            return OK
        if result.error in TRANSIENT_ERRORS:
            return LinkVerdict("retry", result.error, "broken")
        return LinkVerdict("broken", result.error)
    status = result.status or 0
    if status in BLOCKED_STATUSES:
        return LinkVerdict("blocked", f"http {status}")
    if status >= 400 and status not in (404, 410) and is_challenge(result):
        # an anti-bot front end answering 503/429/... with a script challenge
        return LinkVerdict("blocked", "challenge")
    if status == 429:
        return LinkVerdict("retry", "http 429", "blocked")
    if status in TRANSIENT_STATUSES or status >= 500:
        return LinkVerdict("retry", f"http {status}", "broken")
    if status >= 400:
        return LinkVerdict("broken", f"http {status}")
    if status >= 300:
        # a redirect without a usable Location
        return LinkVerdict("broken", f"http {status}")
    if is_challenge(result):
        return LinkVerdict("blocked", "challenge")
    return OK


def head_is_enough(result: FetchResult) -> bool:
    """Whether a HEAD answer settles a target (else GET it: servers often mishandle HEAD)."""
    return result.error is None and result.status is not None and result.status < 400


# ------------------------------------------------------------------------------------------
# soft-404: a page that says "not found" with a 200

_NOT_FOUND_TITLE = re.compile(
    r"^\s*404\b|\b404\s*(not\s*found|error|错误|页面)|not\s+found|页面不存在|页面未找到|"
    r"找不到(该|此|您要的)?(页面|网页)|(页面|网页|信息|文章)已被?删除|您访问的页面|无法找到|页面出错",
    re.IGNORECASE,
)


def title_says_not_found(title: str) -> bool:
    return bool(title) and len(title) < 80 and _NOT_FOUND_TITLE.search(title) is not None


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What a host answers for a path that surely does not exist."""

    status: int | None
    final_url: str | None  # where the probe was redirected, if it was
    title: str
    shingles: frozenset[int]

    @property
    def honest(self) -> bool:
        """The host answers missing pages with an error status: no soft-404 possible."""
        return self.status is None or self.status >= 400


def shingles(text: str, width: int = 5, limit: int = 400) -> frozenset[int]:
    compact = "".join(text.split())
    step = max(1, (len(compact) - width) // limit) if len(compact) > width * limit else 1
    return frozenset(hash(compact[i : i + width]) for i in range(0, len(compact) - width + 1, step))


def similarity(a: frozenset[int], b: frozenset[int]) -> float:
    if not a or not b:
        return 1.0 if a == b else 0.0
    return len(a & b) / len(a | b)


def is_soft_404(
    probe: Fingerprint | None,
    *,
    url: str,
    final_url: str,
    redirected: bool,
    title: str,
    text_shingles: frozenset[int] | None,
) -> bool:
    """Whether a 200 answer for ``url`` is the host's "not found" page in disguise."""
    if title_says_not_found(title):
        return True
    if probe is None or probe.honest:
        return False
    if probe.final_url is not None:
        # the host redirects missing paths (to its home or an error page); so did this one
        return redirected and final_url == probe.final_url and url != final_url
    if redirected or not text_shingles or not probe.shingles:
        return False  # nothing to compare (a page too short to fingerprint): no accusation
    return title == probe.title and similarity(text_shingles, probe.shingles) >= 0.9
