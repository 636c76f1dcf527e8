"""The words of a finding's reasons and dates, in Chinese: one table for every report format.

The checks and the crawler record short reasons in a machine form (``timeout``, ``dns``,
``http 404``, ``no AAAA record``); the JSON report keeps that form, and every Chinese view
(Markdown, CSV, HTML, XLSX, the web view) shows :func:`reason_words` of it. A new reason gets
its words here, in :data:`REASON_WORDS` (or, with values in it, in the patterns below).

Like :mod:`checks.catalogue`, this module imports nothing of govmon's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

__all__ = ["HTTP_WORDS", "KINDS", "REASON_WORDS", "cn_date", "reason_words"]

# -- reasons ------------------------------------------------------------------------------------

#: Every short reason a finding's ``detail`` carries (``reason``, ``error``, ``why``), in the
#: words a clerk writes. The JSON report keeps the machine form; every Chinese view shows these.
REASON_WORDS: Mapping[str, str] = {
    # a request that failed (crawler.net.fetcher.classify_exception, checks.links.classify)
    "timeout": "超时",
    "dns": "域名解析失败",
    "connect": "无法连接",
    "tls": "安全连接（TLS 证书）失败",
    "body": "内容未能完整读取",
    "invalid url": "地址格式错误",
    "error": "请求出错",
    "bad redirect": "跳转地址无效",
    "redirect loop": "循环跳转",
    "too many redirects": "跳转次数过多",
    "soft-404": "页面内容为“找不到页面”（软 404）",
    "challenge": "返回反爬虫验证页面",
    "private address": "指向内网地址，未访问",
    "unreadable": "页面无法解析",
    "not rendered": "未能渲染",
    # site.no_ipv6 (checks.ipv6)
    "no AAAA record": "域名没有 IPv6 地址（AAAA 记录）",
    "did not load over IPv6": "通过 IPv6 无法打开",
    "published at an IPv4 address": "网站以 IPv4 地址发布，无法通过 IPv6 访问",
    # site.no_search (checks.search)
    "no search form, search box or link to a search page": "首页没有搜索表单、搜索框或搜索页面链接",
    "failed": "搜索请求失败",
    "not_found": "搜不到近期发布的信息",
    "no_categories": "搜索结果未分类",
    # column.stale (checks.columns), message.no_statistics (checks.statistics)
    "no dated items (undated items count as not updated)": (
        "没有带日期的信息（无日期的信息视为未更新）"
    ),
    "missing": "未公开",
    "stale": "未及时更新",
    # content.backdated (checks.backdated)
    "not_listed_before": "上次检查时列表中没有这条信息，现在却标着更早的日期",
    "redated_earlier": "上次检查时这条信息的日期较晚，现在改成了更早的日期",
    # column reading (checks.readers.listing): why a list page was read as it was
    "no repeated rows with links": "页面上没有成组的链接",
}

HTTP_WORDS = {
    301: "永久跳转", 302: "临时跳转", 400: "请求无效", 401: "需要登录", 403: "禁止访问",
    404: "找不到页面", 410: "已删除", 412: "拒绝访问", 429: "请求过于频繁",
    500: "服务器内部错误", 502: "网关错误", 503: "服务暂不可用", 504: "网关超时",
}  # fmt: skip
KINDS = {"page": "页面", "image": "图片", "attachment": "附件", "external": "外部链接",
          "other": "其他资源"}  # fmt: skip

# reasons with values in them: (pattern, the Chinese, formatted with the match's groups)
_REASON_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"http (\d{3})\Z"), lambda m: _http_words(int(m[1]))),
    (
        re.compile(r"timeout: not loaded within ([\d.]+) s\b.*", re.S),
        lambda m: f"超时：{m[1]} 秒内未能打开",
    ),
    (
        re.compile(r"too many redirects \(more than (\d+)\)\Z"),
        lambda m: f"跳转次数过多（超过 {m[1]} 次）",
    ),
    (
        re.compile(r"(\w+) answered with a web page\Z"),
        lambda m: f"{KINDS.get(m[1], '文件')}地址返回的是网页",
    ),
    (re.compile(r"no “(.+)” entry on the home page\Z"), lambda m: f"首页没有“{m[1]}”入口"),
    (
        re.compile(r"an empty list: placeholder text '(.*)'\Z", re.S),
        lambda m: f"列表为空，页面显示“{m[1]}”",
    ),
    (
        re.compile(r"no list: the largest group, (\d+) rows of .* looks like navigation\Z", re.S),
        lambda m: f"没有信息列表：最多的一组链接（{m[1]} 条）没有日期，像是导航",
    ),
    (
        re.compile(
            r"no list: only (\d+) rows of .*, in a navigation bar, footer or side box\Z", re.S
        ),
        lambda m: f"没有信息列表：只有导航栏、页脚或侧栏中的 {m[1]} 条链接",
    ),
    (
        re.compile(r"no list: only (\d+) rows of .*", re.S),
        lambda m: f"没有信息列表：只有 {m[1]} 条链接",
    ),
    (
        re.compile(r"an article: (\d+) characters of prose.*", re.S),
        lambda m: f"页面是一篇文章（正文 {m[1]} 字），不是信息列表",
    ),
    (re.compile(r"could not read the page as a list\b.*", re.S), lambda m: "无法按列表读取页面"),
    (re.compile(r"column\.unreadable: .*", re.S), lambda m: "栏目内容由脚本生成，无法读取"),
    (re.compile(r"(\d+) rows of .*", re.S), lambda m: f"读到 {m[1]} 条信息"),
)


def _http_words(status: int) -> str:
    words = HTTP_WORDS.get(status)
    return f"HTTP {status} {words}" if words else f"HTTP 状态码 {status}"


def reason_words(reason: object) -> str:
    """A reason (``timeout``, ``http 404``, ``no AAAA record`` ...) in Chinese; text that is
    not a known reason is returned as it is (a plug-in's own words); no reason, no words."""
    if reason is None:
        return ""
    text = str(reason).strip()
    if text in REASON_WORDS:
        return REASON_WORDS[text]
    for pattern, phrase in _REASON_PATTERNS:
        m = pattern.match(text)
        if m is not None:
            return phrase(m)
    # a known reason with technical detail after it (``dns: ...``, ``unreadable: nesting ...``,
    # ``<why> (<how a script built it>)``): the reason's words; the JSON keeps the detail
    for sep in (": ", " ("):
        head = text.partition(sep)[0]
        if sep in text and head != text:
            words = reason_words(head)
            if words != head:
                return words
    return text


_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})\Z")


def cn_date(value: object) -> str:
    """An ISO date (``2020-06-05``) as a notice writes it: ``2020年6月5日``; other values as
    they are (``None``: ``—``)."""
    if value is None:
        return "—"
    m = _DATE.match(str(value))
    if m is None:
        return str(value)
    return f"{int(m[1])}年{int(m[2])}月{int(m[3])}日"
