"""Fetching: a small protocol and its aiohttp implementation.

The :class:`Fetcher` protocol is the transport seam: the engine only sees
:class:`FetchResult` values. :class:`HttpFetcher` uses one ``aiohttp.ClientSession``, follows
redirects itself (a chain limit and loop detection, every hop under the whole-response
timeout), caps the body it reads, and maps every network failure to a short reason
(``dns``, ``connect``, ``tls``, ``timeout``, ``body`` ...).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
import yarl
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from crawler.net.urls import canonicalize, hostname

SNIFF_BYTES = 65536  # what is read of a checked target's body (challenge and soft-404 sniffing)
_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(slots=True)
class FetchResult:
    url: str
    final_url: str
    status: int | None = None
    error: str | None = None  # dns | connect | tls | timeout | body | redirect loop | ...
    content_type: str = ""
    body: bytes = b""
    truncated: bool = False
    redirects: list[str] = field(default_factory=list)
    retry_after: str | None = None
    elapsed: float = 0.0
    method: str = "GET"
    requests: int = 1
    error_detail: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and self.status < 400

    @property
    def is_feed(self) -> bool:
        ct = self.content_type.lower()
        return "xml" in ct or self.body[:200].lstrip().startswith(b"<?xml")

    @property
    def is_html(self) -> bool:
        ct = self.content_type.lower()
        if not ct:
            head = self.body[:512].lstrip().lower()
            return head.startswith((b"<!doctype html", b"<html", b"<head", b"<meta", b"<!--"))
        return "html" in ct or "xml+xhtml" in ct


class Fetcher(Protocol):
    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        max_body: int | None = None,
        data: bytes | None = None,
        content_type: str | None = None,
    ) -> FetchResult:
        """Fetch ``url`` following redirects; never raises for network or HTTP failures.
        ``data`` is a request body (a search form's POST) sent with the first hop only."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its response as they crossed the wire (for recordings).

    The body is what was read: decoded (gzip removed) and possibly cut at the body cap
    (``truncated``); a HEAD or a redirect has none.
    """

    method: str
    url: str
    request_headers: list[tuple[str, str]]
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    body: bytes
    truncated: bool
    at: dt.datetime
    request_body: bytes = b""  # a POST's form (a replay tells two POSTs to one URL apart by it)


@dataclass(frozen=True, slots=True)
class Failure:
    """A request that ended without a response the fetcher could use (for recordings): the
    reason and detail it was given, and what the fetch had reached by then (``status``,
    ``content_type``, ``retry_after``: a failure after a redirect keeps the redirect's, a body
    cut off keeps its head's)."""

    method: str
    url: str
    error: str
    detail: str
    status: int | None
    content_type: str
    retry_after: str | None
    at: dt.datetime


class Recorder(Protocol):
    """Receives every exchange of a scan (``scan --record``, ``govmon record``). A recorder
    that also has ``record_failure(failure: Failure)`` receives the failed requests too."""

    def record(self, exchange: Exchange) -> None: ...

    def close(self) -> None: ...


# how ``govmon replay`` answers a recorded failure: ``X-Govmon-Replay: failed``, and the
# failure as JSON (ASCII) in ``X-Govmon-Failure`` (a header: an answer to HEAD has no body)
REPLAY_HEADER = "X-Govmon-Replay"
REPLAY_FAILED = "failed"
FAILURE_HEADER = "X-Govmon-Failure"


class ReplayedFailure(Exception):
    """A failure recorded by ``scan --record`` and answered by ``govmon replay`` (through
    ``--proxy``): the fetch fails with the reason and detail the recording saw."""

    def __init__(self, data: str) -> None:
        super().__init__("govmon replay: a recorded failure")
        self.error, self.detail = "error", "govmon replay: an unreadable recorded failure"
        self.status: int | None = None
        self.content_type = ""
        self.retry_after: str | None = None
        try:
            failure = json.loads(data)
            self.error, self.detail = str(failure["error"]), str(failure.get("detail") or "")
            status = failure.get("status")
            self.status = status if isinstance(status, int) else None
            self.content_type = str(failure.get("content_type") or "")
            retry_after = failure.get("retry_after")
            self.retry_after = retry_after if isinstance(retry_after, str) else None
        except (ValueError, TypeError, KeyError):
            pass


class BlockedAddressError(OSError):
    """A host resolved to an address that is not globally routable and is not allowed."""


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# not globally routable, whatever a Python version's ``is_global`` says of them
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT; Alibaba's metadata service
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # an IPv4 address in the last 32 bits
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # local-use translation
_SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")  # deprecated, still routed inside some networks


def parse_address(text: str) -> IPAddress | None:
    """The IP address ``text`` (a host name as :func:`crawler.net.urls.hostname` gives it) stands
    for, or ``None`` for a name. Besides the standard forms this reads the legacy IPv4 forms
    that resolvers and browsers accept: ``0x7f.0.0.1``, ``0177.0.0.1``, ``2130706433``,
    ``127.1``."""
    text = text.split("%", 1)[0].strip("[]")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    return _legacy_ipv4(text)


def _legacy_ipv4(text: str) -> ipaddress.IPv4Address | None:
    parts = text.split(".")
    if not text or len(parts) > 4:
        return None
    numbers: list[int] = []
    for part in parts:
        lowered = part.lower()
        try:
            if lowered.startswith("0x"):
                numbers.append(int(lowered[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                numbers.append(int(part, 8))
            elif part.isascii() and part.isdigit():
                numbers.append(int(part))
            else:
                return None
        except ValueError:
            return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = last
    for i, n in enumerate(head):
        value += n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def is_global_address(ip: IPAddress) -> bool:
    """Whether ``ip`` is globally routable: not loopback, private, shared (100.64.0.0/10),
    link-local, site-local, multicast, reserved or unspecified, nor an IPv6 form of such an
    IPv4 address (IPv4-mapped, 6to4, NAT64)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_global_address(ip.ipv4_mapped)
        if ip in _NAT64:  # what an IPv6-only network's translator reaches: its IPv4 address
            return is_global_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.sixtofour is not None and not is_global_address(ip.sixtofour):
            return False
        if ip in _NAT64_LOCAL or ip in _SITE_LOCAL:
            return False
    elif ip in _SHARED:
        return False
    if (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    ):
        return False
    return ip.is_global


def is_private_address(address: str) -> bool:
    """Whether ``address`` (an IP address in any form; a name is not one) is off limits: not
    globally routable (:func:`is_global_address`)."""
    ip = parse_address(address)
    return ip is not None and not is_global_address(ip)


class UnresolvedNameError(OSError):
    """A name that ``[crawl] resolve_only`` leaves unresolved, refused before a proxy sees it."""


_PROXY_CHECK_TTL = 300.0  # seconds a proxied name's verdict is kept (aiohttp's DNS cache's)
_PROXY_CHECK_CACHE = 4096  # names whose verdict is kept


class GovResolver(AbstractResolver):
    """Name resolution with overrides, RFC 6761 ``.invalid``, and the private-address rule.

    ``overrides`` maps a host name to ``(address, port or None)``, like curl's ``--connect-to``.
    With ``only`` set, any other name fails as a DNS error without a lookup. Unless
    ``allow_private``, a name resolving to an address that is not globally routable
    (:func:`is_global_address`: loopback, private, shared 100.64.0.0/10, link-local ...) fails
    with :class:`BlockedAddressError` unless it is in ``trusted_hosts`` (the configured sites'
    hosts). :meth:`check_proxied` applies the same rule to a request a proxy will resolve.
    """

    def __init__(
        self,
        overrides: Mapping[str, tuple[str, int | None]],
        *,
        only: bool = False,
        allow_private: bool = False,
        trusted_hosts: frozenset[str] = frozenset(),
    ) -> None:
        self._overrides = dict(overrides)
        self._only = only
        self._allow_private = allow_private
        self._trusted = trusted_hosts
        self._default: AbstractResolver | None = None
        self._proxied: dict[str, tuple[float, BaseException | None]] = {}

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        name = host.lower().rstrip(".")
        results = await self._lookup(host, port, family)
        if not self._allow_private and name not in self._trusted:
            allowed = [r for r in results if not is_private_address(r["host"])]
            if not allowed:
                raise BlockedAddressError(f"{host} resolves to a private address")
            results = allowed
        return results

    async def _lookup(
        self, host: str, port: int, family: socket.AddressFamily
    ) -> list[ResolveResult]:
        """The addresses of ``host``: its override, or the system resolver's answer."""
        name = host.lower().rstrip(".")
        if name == "invalid" or name.endswith(".invalid"):
            raise OSError(socket.EAI_NONAME, f"{host}: reserved name (.invalid never resolves)")
        override = self._overrides.get(name)
        if override is not None:
            address, new_port = override
            if not self.allows(name, address):
                raise BlockedAddressError(f"{host} resolves to a private address")
            return [_result(host, address, new_port or port)]
        if self._only:
            raise UnresolvedNameError(
                socket.EAI_NONAME, f"{host}: not in [crawl] resolve (resolve_only)"
            )
        if self._default is None:
            self._default = DefaultResolver()
        return await self._default.resolve(host, port, family)

    def allows(self, host: str, address: str | None = None) -> bool:
        """Whether a request may go to ``host`` (at ``address``, when known; an IP literal is
        its own address) under the private-address rule."""
        name = host.lower().rstrip(".").strip("[]")
        if self._allow_private or name in self._trusted:
            return True
        return not is_private_address(address if address is not None else name)

    async def check_proxied(self, host: str, port: int) -> None:
        """The private-address rule for a request handed to a proxy, which resolves ``host``
        itself: raises :class:`BlockedAddressError` for an address literal (any form) that is
        not globally routable, for ``localhost`` and its subdomains, and for a name that
        ``[crawl] resolve`` or the system resolver maps to any such address (one is enough:
        the proxy may pick it); :class:`UnresolvedNameError` for a name ``resolve_only``
        leaves out. A name the system resolver cannot resolve is left to the proxy."""
        name = host.lower().rstrip(".").strip("[]")
        if self._allow_private or name in self._trusted:
            return
        if parse_address(name) is not None:
            if is_private_address(name):
                raise BlockedAddressError(f"{host} is not a globally routable address")
            return
        if name == "localhost" or name.endswith(".localhost"):
            raise BlockedAddressError(f"{host} is a loopback name")
        now = time.monotonic()
        cached = self._proxied.get(name)
        if cached is not None and now - cached[0] < _PROXY_CHECK_TTL:
            if cached[1] is not None:
                raise cached[1]
            return
        problem: BaseException | None = None
        try:
            results = await self._lookup(name, port, socket.AF_UNSPEC)
            if any(is_private_address(r["host"]) for r in results):
                problem = BlockedAddressError(f"{host} resolves to a private address")
        except (BlockedAddressError, UnresolvedNameError) as exc:
            problem = exc
        except OSError:
            pass  # not resolvable here: the proxy may know the name (its own resolver decides)
        if len(self._proxied) >= _PROXY_CHECK_CACHE:
            self._proxied.clear()
        self._proxied[name] = (now, problem)
        if problem is not None:
            raise problem

    async def close(self) -> None:
        if self._default is not None:
            await self._default.close()


def _result(host: str, address: str, port: int) -> ResolveResult:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return {
        "hostname": host,
        "host": address,
        "port": port,
        "family": family,
        "proto": 0,
        "flags": socket.AI_NUMERICHOST,
    }


def classify_exception(exc: BaseException) -> tuple[str, str]:
    """A short reason and a detail for a failure of a request."""
    detail = f"{type(exc).__name__}: {exc}"[:300]
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return "timeout", detail
    if isinstance(exc, BlockedAddressError):  # refused before a proxy saw the request
        return "private address", detail
    if isinstance(exc, UnresolvedNameError):
        return "dns", detail
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        if isinstance(exc.os_error, BlockedAddressError):
            return "private address", detail
        return "dns", detail
    if isinstance(
        exc,
        aiohttp.ClientConnectorCertificateError
        | aiohttp.ClientConnectorSSLError
        | aiohttp.ClientSSLError
        | ssl.SSLError,
    ):
        return "tls", detail
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "connect", detail
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        return "body", detail
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientOSError | OSError):
        return "connect", detail
    if isinstance(exc, aiohttp.InvalidURL | ValueError):
        return "invalid url", detail
    return "error", detail


class HttpFetcher:
    """The aiohttp fetcher: one session, manual redirects, capped bodies."""

    def __init__(
        self,
        *,
        user_agent: str,
        timeout: float,
        max_body: int,
        max_redirects: int,
        resolver: AbstractResolver,
        connections: int = 100,
        ssl_context: ssl.SSLContext | None = None,
        recorder: Recorder | None = None,
        proxy: str | None = None,
    ) -> None:
        self._recorder = recorder
        self._proxy = proxy
        self._guard = resolver if isinstance(resolver, GovResolver) else None
        self._timeout = timeout
        self._max_body = max_body
        self._max_redirects = max_redirects
        connector = aiohttp.TCPConnector(
            limit=connections,
            limit_per_host=0,
            resolver=resolver,
            ttl_dns_cache=300,
            ssl=ssl_context if ssl_context is not None else True,
            enable_cleanup_closed=False,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={
                "User-Agent": user_agent,
                "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
                "Accept-Language": "zh-CN,zh;q=0.9",
            },
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=timeout),
            auto_decompress=True,
            cookie_jar=aiohttp.DummyCookieJar(),
            requote_redirect_url=False,
        )

    async def close(self) -> None:
        await self._session.close()

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        max_body: int | None = None,
        data: bytes | None = None,
        content_type: str | None = None,
    ) -> FetchResult:
        cap = self._max_body if max_body is None else max_body
        result = FetchResult(url=url, final_url=url, method=method, requests=0)
        started = time.monotonic()
        seen = {url}
        current = url
        try:
            # the 15 s rule is for the whole response: every hop of a redirect chain counts
            async with asyncio.timeout(self._timeout):
                while True:
                    result.requests += 1
                    location = await self._one(current, method, cap, result, data, content_type)
                    if location is None:
                        break
                    target = canonicalize(location, current)
                    if target is None:
                        result.error, result.error_detail = "bad redirect", location[:300]
                        break
                    result.redirects.append(target)
                    if self._guard is not None and not self._guard.allows(hostname(target)):
                        # a redirect into the network (an address literal): never followed
                        result.error = "private address"
                        break
                    if target in seen:
                        result.error = "redirect loop"
                        break
                    if len(result.redirects) > self._max_redirects:
                        result.error = "too many redirects"
                        break
                    seen.add(target)
                    current = result.final_url = target
                    if method == "POST":
                        method = "GET"
                    data = None  # a redirected form submission continues as a plain GET
        except Exception as exc:  # every failure of the network becomes a reason
            if isinstance(exc, ReplayedFailure):  # through govmon replay: as it was recorded
                result.error, result.error_detail = exc.error, exc.detail
                result.status, result.content_type = exc.status, exc.content_type
                result.retry_after = exc.retry_after
            else:
                result.error, result.error_detail = classify_exception(exc)
            record_failure = getattr(self._recorder, "record_failure", None)
            if record_failure is not None:
                record_failure(
                    Failure(
                        method=method,
                        url=current,
                        error=result.error,
                        detail=result.error_detail,
                        status=result.status,
                        content_type=result.content_type,
                        retry_after=result.retry_after,
                        at=dt.datetime.now(dt.UTC),
                    )
                )
        result.elapsed = time.monotonic() - started
        return result

    async def _one(
        self,
        url: str,
        method: str,
        cap: int,
        result: FetchResult,
        data: bytes | None = None,
        content_type: str | None = None,
    ) -> str | None:
        """One hop: fills ``result``; returns the redirect location, if any."""
        kwargs: dict[str, Any] = {"allow_redirects": False}
        target, headers = self._route(url)
        if data is not None:
            kwargs["data"] = data
            form = content_type or "application/x-www-form-urlencoded"
            headers = {**headers, "Content-Type": form}
        if headers:
            kwargs["headers"] = headers
        if self._proxy is not None:
            if self._guard is not None:  # the proxy resolves names: check them here first
                parts = yarl.URL(url, encoded=True)
                await self._guard.check_proxied(parts.host or "", parts.port or 0)
            kwargs["proxy"] = self._proxy
        started = dt.datetime.now(dt.UTC)
        async with self._session.request(method, target, **kwargs) as resp:
            if self._proxy is not None and resp.headers.get(REPLAY_HEADER) == REPLAY_FAILED:
                raise ReplayedFailure(resp.headers.get(FAILURE_HEADER, ""))
            result.status = resp.status
            result.content_type = resp.headers.get("Content-Type", "")
            result.retry_after = resp.headers.get("Retry-After")
            location = None
            body = b""
            if resp.status in _REDIRECTS and "Location" in resp.headers:
                location = resp.headers["Location"]
            elif method != "HEAD":
                chunks: list[bytes] = []
                size = 0
                async for chunk in resp.content.iter_chunked(65536):
                    chunks.append(chunk)
                    size += len(chunk)
                    if size >= cap:
                        result.truncated = True
                        break
                body = b"".join(chunks)[:cap]
                result.body = body
                if result.truncated:
                    resp.close()
            if self._recorder is not None:
                self._recorder.record(
                    Exchange(
                        method=method,
                        url=url,
                        request_headers=list(resp.request_info.headers.items()),
                        status=resp.status,
                        reason=resp.reason or "",
                        response_headers=[
                            (k.decode("latin-1"), v.decode("latin-1")) for k, v in resp.raw_headers
                        ],
                        body=body,
                        truncated=result.truncated,
                        at=started,
                        request_body=data or b"",
                    )
                )
        return location

    def _route(self, url: str) -> tuple[yarl.URL, dict[str, str]]:
        """The URL to ask for: itself, or (through ``--proxy``, e.g. ``govmon replay``) an
        https URL asked over plain HTTP with its scheme in ``X-Forwarded-Proto``, so that a
        recording of https pages replays without certificates."""
        if self._proxy is None or not url.startswith("https://"):
            return _yarl(url), {}
        return _yarl("http://" + url[len("https://") :]), {"X-Forwarded-Proto": "https"}


def _yarl(url: str) -> yarl.URL:
    # canonical URLs are already percent-encoded: send them byte for byte (a GBK query stays GBK)
    return yarl.URL(url, encoded=True)
