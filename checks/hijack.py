"""Hijacked external links (``link.hijacked``). Pure.

A government page links to a partner site; years later the partner's domain expires and is
re-registered for gambling or pornography, and the government page now sends its readers there:
a veto-level risk (严重问题: 链接到反动、暴力、色情等内容). The crawler fetches a capped prefix of
every external link's target (the caller's request) and :func:`judge_hijack` reads it:

* **sensitive content**: the target's title, ``<meta>`` keywords and description and its text
  (navigation included: spam sits anywhere) matched against the sensitive lexicon (the shipped
  one, :func:`checks.lexicon.shipped_lexicon`, or the site's own with the user's words) and
  :data:`HIJACK_WORDS`, a short list of our own of the words of gambling and pornography landing
  pages that the content lexicon does not carry (真人视讯, 电子游艺, 成人直播 ...);
* **moved**: the target now ends (after redirects, or a script or ``<meta refresh>`` redirect in
  its page) on another registrable domain than at the last scan (:class:`TargetSnapshot`, which
  the caller stores per target and scan, :func:`snapshot`), with an unrelated title; a move to a
  government or otherwise trusted domain (:data:`checks.hidden.DEFAULT_TRUSTED_HOSTS`) and a
  move that keeps the title (a site that changed its domain) are not;
* **parked**: the target shows a domain-for-sale or expired-domain page (域名出售, 该域名已过期,
  "this domain is for sale").

Decisions, and why:

* plain sensitive matches are the finding proper: ``needs_review: false``, severity ``veto``;
* matches that all stand in an enforcement context (严厉打击网络赌博, a news report on a
  crackdown) *are* reported, with their snippets and ``needs_review: true``, at severity
  ``warning`` (:func:`severity_of`), so that a person looks without a news link vetoing the site.
  A trusted (government) target with only such matches is not reported: a police bureau's
  home page reports crackdowns every week, and the site's own pages are treated alike by the
  content check, whose lexicon drops enforcement-context matches (``Lexicon.scan_text``'s
  ``enforcement_context=False``, kept as it is: a government site reporting its own crackdown is
  the norm, and a veto there would be a false one);
* a move or a parked page without sensitive matches is reported with ``needs_review: true``
  (warning): the evidence is strong but not proof. A cross-domain redirect seen for the first
  time (no snapshot yet) is not reported: a first scan cannot tell a takeover from a site that
  changed its domain; the snapshot lets the next scan tell.

Registrable domains are read with a small table of our own of two-label public suffixes
(``gov.cn``, ``com.cn``, province ``*.cn``, ``com.hk``, ``co.uk`` ...), not the full public
suffix list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from selectolax.lexbor import LexborHTMLParser

from checks.catalogue import Judgement
from checks.hidden import DEFAULT_TRUSTED_HOSTS
from checks.lexicon import SENSITIVE, Hit, Lexicon, shipped_lexicon
from checks.readers.encoding import decode_html
from checks.readers.extract import UnreadablePage, parse_tree
from checks.readers.text import comparable, page_lines
from crawler.net.urls import canonicalize, hostname

HIJACKED: Final = "link.hijacked"
SEVERITY_NEEDS_REVIEW: Final = "warning"
SEVERITY_HIJACKED: Final = "veto"
MAX_TEXT: Final = 200_000
MAX_SNIPPETS: Final = 5
SAME_TITLE: Final = 0.5  # bigram similarity above which a moved site is the same site

# our own list: words of gambling and pornography landing pages beyond the content lexicon
HIJACK_WORDS: Final = (
    # gambling
    "真人视讯", "真人娱乐", "电子游艺", "娱乐城", "线上娱乐平台", "网上娱乐平台", "博彩公司",
    "博彩网站", "彩票投注", "投注平台", "网上赌博", "赌博平台", "首存优惠", "葡京娱乐",
    "永利皇宫", "银河娱乐", "开元棋牌", "棋牌游戏平台", "北京赛车pk10", "幸运飞艇", "亚博体育",
    "万博体育", "澳门赌博", "百家乐平台", "bet365", "baccarat",
    # pornography
    "成人网站", "成人直播", "色情直播", "黄色视频", "福利视频", "自拍偷拍", "偷拍自拍",
    "亚洲无码", "欧美无码", "国产自拍", "制服诱惑", "在线av", "av在线", "东京热", "一本道",
    "伦理片", "午夜影院", "情色",
)  # fmt: skip
_PARKED = re.compile(
    r"域名(正在)?(出售|转让|停放|已过期|已到期|到期|可出售)|该域名(已|正在|可以?|待)|此域名(已|正在|可)"
    r"|domain (name )?(is |may be )?for sale|buy this domain|this domain (has )?expired"
    r"|domain (has )?expired|parked (free|domain)|sedoparking|parkingcrew|bodis\.com|afternic",
    re.IGNORECASE,
)
_SCRIPT_REDIRECT = re.compile(
    r"""(?:(?:window|top|self|document)\.)?location(?:\.href)?\s*=\s*['"](?P<a>[^'"\s]{4,300})['"]"""
    r"""|location\.replace\(\s*['"](?P<b>[^'"\s]{4,300})['"]""",
    re.IGNORECASE,
)
_REFRESH = re.compile(r"url\s*=\s*['\"]?(?P<u>[^'\"\s>]+)", re.IGNORECASE)
_HTML_TYPES: Final = ("html", "xml", "text/plain")

# two-label public suffixes (our own short table)
_SECOND_LEVEL: Final = frozenset(
    {
        "gov.cn", "com.cn", "net.cn", "org.cn", "edu.cn", "ac.cn", "mil.cn",
        "bj.cn", "sh.cn", "tj.cn", "cq.cn", "he.cn", "sx.cn", "nm.cn", "ln.cn", "jl.cn", "hl.cn",
        "js.cn", "zj.cn", "ah.cn", "fj.cn", "jx.cn", "sd.cn", "ha.cn", "hb.cn", "hn.cn", "gd.cn",
        "gx.cn", "hi.cn", "sc.cn", "gz.cn", "yn.cn", "xz.cn", "sn.cn", "gs.cn", "qh.cn", "nx.cn",
        "xj.cn", "tw.cn", "hk.cn", "mo.cn",
        "com.hk", "org.hk", "gov.hk", "edu.hk", "net.hk", "com.mo", "gov.mo", "com.tw",
        "org.tw", "gov.tw", "edu.tw", "co.uk", "org.uk", "gov.uk", "ac.uk", "co.jp", "ne.jp",
        "or.jp", "go.jp", "ac.jp", "com.au", "net.au", "org.au", "gov.au", "edu.au", "com.sg",
        "com.my", "co.kr", "or.kr", "com.br", "co.nz", "co.in", "com.ru",
    }
)  # fmt: skip


def registrable_domain(host: str) -> str:
    """The registrable domain of a host name (``www.jiangmen.gov.cn`` → ``jiangmen.gov.cn``);
    an IP address is its own."""
    name = host.lower().rstrip(".")
    if not name or ":" in name or name.replace(".", "").isdigit():
        return name
    labels = name.split(".")
    if len(labels) >= 3 and ".".join(labels[-2:]) in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _trusted(host: str, trusted: Sequence[str]) -> bool:
    return any(host == t.lstrip(".") or host.endswith("." + t.lstrip(".")) for t in trusted)


def _bigrams(text: str) -> set[str]:
    compact = comparable(text)
    return {compact[i : i + 2] for i in range(len(compact) - 1)} or (
        {compact} if compact else set()
    )


def title_similarity(a: str, b: str) -> float:
    """Dice similarity of two titles' character bigrams (0 .. 1)."""
    x, y = _bigrams(a), _bigrams(b)
    if not x or not y:
        return 0.0
    return 2 * len(x & y) / (len(x) + len(y))


@dataclass(frozen=True, slots=True)
class TargetSnapshot:
    """What an external target was at a scan: to be stored per target and scan."""

    title: str
    final_host: str


@dataclass(frozen=True, slots=True)
class TargetReading:
    """An external target's page, read from its capped prefix."""

    final_url: str
    final_host: str  # where it ends: after redirects, or where its script or refresh sends
    title: str
    text: str  # title, meta keywords and description, and the page's text
    page_redirect: str | None = None  # a script or <meta refresh> redirect target
    parked: bool = False
    is_page: bool = True


def _is_page(content_type: str, body: bytes) -> bool:
    ct = content_type.lower()
    if ct:
        return any(t in ct for t in _HTML_TYPES)
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<meta", b"<!--", b"<title"))


def _page_redirect(tree: LexborHTMLParser, base: str) -> str | None:
    for meta in tree.css("meta[http-equiv]"):
        if (meta.attributes.get("http-equiv") or "").lower() == "refresh":
            match = _REFRESH.search(meta.attributes.get("content") or "")
            if match is not None:
                target = canonicalize(match.group("u"), base)
                if target is not None:
                    return target
    for script in tree.css("script"):
        if script.attributes.get("src"):
            continue
        match = _SCRIPT_REDIRECT.search(script.text(deep=True)[:20_000])
        if match is not None:
            target = canonicalize(match.group("a") or match.group("b") or "", base)
            if target is not None:
                return target
    return None


def read_target(final_url: str, body: bytes, content_type: str = "") -> TargetReading:
    """Read an external target's capped page prefix (decoded the browser's way)."""
    host = hostname(final_url) if final_url.startswith(("http://", "https://")) else ""
    if not _is_page(content_type, body):
        return TargetReading(final_url, host, "", "", is_page=False)
    try:
        text = decode_html(body, content_type).text
    except (LookupError, ValueError):  # a hostile page may declare a codec that is no charset
        try:
            text = decode_html(body, "text/html; charset=utf-8").text
        except (LookupError, ValueError):
            text = body.decode("utf-8", "replace")
    try:
        tree = parse_tree(text)
    except UnreadablePage:  # markup that would hold the parser: nothing is judged on it
        return TargetReading(final_url, host, "", "", is_page=False)
    node = tree.css_first("title")
    title = " ".join(node.text(deep=True).split()) if node is not None else ""
    metas = [
        (m.attributes.get("content") or "")
        for m in tree.css("meta[name]")
        if (m.attributes.get("name") or "").lower() in ("keywords", "description")
    ]
    lines = page_lines(tree, skip_chrome=False, max_chars=MAX_TEXT)
    text = "\n".join([title, *metas, *lines])[:MAX_TEXT]
    redirect = _page_redirect(tree, final_url)
    final_host = host
    if redirect is not None and registrable_domain(hostname(redirect)) != registrable_domain(host):
        final_host = hostname(redirect)
    return TargetReading(
        final_url=final_url,
        final_host=final_host,
        title=title,
        text=text,
        page_redirect=redirect,
        parked=_PARKED.search(text[:20_000]) is not None,
    )


def snapshot(reading: TargetReading) -> TargetSnapshot:
    """What to store about a target for the next scan's comparison."""
    return TargetSnapshot(reading.title, reading.final_host)


@lru_cache(maxsize=1)
def hijack_lexicon() -> Lexicon:
    """:data:`HIJACK_WORDS` compiled (sensitive phrases only)."""
    return Lexicon(sensitive=HIJACK_WORDS)


def _sensitive(text: str, lexicons: Sequence[Lexicon]) -> tuple[list[Hit], list[Hit]]:
    """``(plain, enforcement)``: hits outside and inside an enforcement context."""
    plain: list[Hit] = []
    enforcement: list[Hit] = []
    for lexicon in lexicons:
        every = [
            h for h in lexicon.scan_text(text, enforcement_context=True) if h.kind == SENSITIVE
        ]
        kept = {
            (h.start, h.text)
            for h in lexicon.scan_text(text, enforcement_context=False)
            if h.kind == SENSITIVE
        }
        for hit in every:
            (plain if (hit.start, hit.text) in kept else enforcement).append(hit)
    return plain, enforcement


def _words(hits: Sequence[Hit]) -> list[str]:
    return sorted({h.text for h in hits})


def _snippets(hits: Sequence[Hit]) -> list[str]:
    out: list[str] = []
    for hit in sorted(hits, key=lambda h: h.start):
        if hit.context not in out:
            out.append(hit.context)
        if len(out) >= MAX_SNIPPETS:
            break
    return out


def judge_hijack(
    link_url: str,
    final_url: str,
    body: bytes,
    content_type: str = "",
    *,
    previous: TargetSnapshot | None = None,
    lexicon: Lexicon | None = None,
    trusted_hosts: Sequence[str] = DEFAULT_TRUSTED_HOSTS,
) -> Judgement | None:
    """``link.hijacked`` for the external target ``link_url`` (fetched, after redirects, as
    ``final_url``: ``body`` is its capped prefix), or ``None``. See the module's decisions;
    :func:`severity_of` gives the finding's severity."""
    reading = read_target(final_url, body, content_type)
    return judge_reading(
        link_url, reading, previous=previous, lexicon=lexicon, trusted_hosts=trusted_hosts
    )


def judge_reading(
    link_url: str,
    reading: TargetReading,
    *,
    previous: TargetSnapshot | None = None,
    lexicon: Lexicon | None = None,
    trusted_hosts: Sequence[str] = DEFAULT_TRUSTED_HOSTS,
) -> Judgement | None:
    """:func:`judge_hijack` on a target already read with :func:`read_target`."""
    if not reading.is_page:
        return None
    lexicons = (lexicon or shipped_lexicon(), hijack_lexicon())
    plain, enforcement = _sensitive(reading.text, lexicons)
    host = reading.final_host
    now_domain = registrable_domain(host)
    trusted = _trusted(host, trusted_hosts)
    reasons: list[str] = []
    if plain:
        reasons.append("sensitive")
    elif enforcement and not trusted:
        reasons.append("sensitive_in_enforcement_context")
    if previous is not None and previous.final_host:
        before = registrable_domain(previous.final_host)
        if (
            before != now_domain
            and not trusted
            and title_similarity(previous.title, reading.title) < SAME_TITLE
        ):
            reasons.append("moved")
    if reading.parked and not trusted:
        reasons.append("parked")
    if not reasons:
        return None
    needs_review = not plain
    hits = plain or enforcement
    detail: dict[str, Any] = {
        "link": link_url,
        "final_url": reading.final_url,
        "final_host": host,
        "link_host": hostname(link_url),
        "title": reading.title,
        "words": _words(hits),
        "snippets": _snippets(hits),
        "reasons": reasons,
        "needs_review": needs_review,
        "page_redirect": reading.page_redirect,
        "previous": (
            {"title": previous.title, "final_host": previous.final_host} if previous else None
        ),
    }
    if needs_review:
        detail["review"] = (
            "the matches stand in a report about enforcement: a person should look"
            if "sensitive_in_enforcement_context" in reasons
            else "the target moved or is parked: a person should look"
        )
    return Judgement(HIJACKED, detail)


def severity_of(judgement: Judgement) -> str:
    """The finding's severity: ``veto`` for sensitive content, ``warning`` when it needs review."""
    return SEVERITY_NEEDS_REVIEW if judgement.detail.get("needs_review") else SEVERITY_HIJACKED
