"""The IPv6 probe (``site.no_ipv6``'s evidence): look up a host's AAAA addresses and request its
home page over IPv6 only.

:func:`probe_ipv6` looks up the host's AAAA addresses (``overrides``, a resolver, or
``getaddrinfo(..., AF_INET6)`` without ``AI_ADDRCONFIG``, so that the answer does not depend on
whether this machine has IPv6 itself), then requests the home page over IPv6 only: the
connection goes to the v6 address while the URL, the ``Host`` header and TLS's server name stay
the host's name. Redirects are followed (over IPv6 too), at most :data:`MAX_REDIRECTS`, and the
whole probe of one name is bounded by ``timeout``. A scan reaches it through
:class:`checks.base.SiteTools` (``probe_ipv6``), within the host's politeness; the judgement of
what it finds is :mod:`checks.ipv6`'s.
"""

from __future__ import annotations

import asyncio
import socket
import ssl as ssl_module
import time
from collections.abc import Mapping
from typing import Any, Final

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from checks.ipv6 import Ipv6Probe, Ipv6Result, alias_of, is_literal
from crawler.config import CrawlSettings
from crawler.net.fetcher import BlockedAddressError, GovResolver, classify_exception
from crawler.net.urls import hostname, origin

MAX_REDIRECTS: Final = 5
MAX_BODY: Final = 256 * 1024
DEFAULT_USER_AGENT: Final = "govmon (IPv6 probe)"
_TEMPORARY_DNS: Final = frozenset(
    {getattr(socket, "EAI_AGAIN", -3), getattr(socket, "EAI_SYSTEM", -11)}
)

Overrides = Mapping[str, str | tuple[str, int | None]]


# --------------------------------------------------------------------------------------------
# Looking up AAAA
# --------------------------------------------------------------------------------------------


class _V6Lookup:
    """AAAA addresses of a name: overrides first, then a resolver or ``getaddrinfo``."""

    def __init__(self, overrides: Overrides | None, resolver: AbstractResolver | None) -> None:
        self._overrides: dict[str, tuple[str, int | None]] = {}
        for name, value in (overrides or {}).items():
            address, port = (value, None) if isinstance(value, str) else value
            self._overrides[name.lower().rstrip(".")] = (address, port)
        self._resolver = resolver

    async def lookup(self, host: str, port: int) -> list[tuple[str, int]]:
        """``(address, port)`` pairs; raises :class:`OSError` (``socket.gaierror``) on failure."""
        name = host.lower().rstrip(".")
        if ":" in name and is_literal(name):
            return [(name, port)]
        override = self._overrides.get(name)
        if override is not None:
            address, new_port = override
            # an override to an IPv4 address says the name has no IPv6 address
            return [(address, new_port or port)] if ":" in address else []
        if self._resolver is not None:
            try:
                results = await self._resolver.resolve(host, port, socket.AF_INET6)
            except BlockedAddressError:
                raise
            except OSError as exc:
                if _no_data(exc):
                    return []
                raise
            return [(r["host"], r["port"]) for r in results if r["family"] == socket.AF_INET6]
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(
                host, port, family=socket.AF_INET6, type=socket.SOCK_STREAM
            )
        except socket.gaierror as exc:
            if _no_data(exc):
                return []
            raise
        out: list[tuple[str, int]] = []
        for family, _, _, _, sockaddr in infos:
            address = str(sockaddr[0])
            if family == socket.AF_INET6 and not address.startswith("::ffff:"):
                pair = (address, int(sockaddr[1]))
                if pair not in out:
                    out.append(pair)
        return out


def _no_data(exc: OSError) -> bool:
    """Whether a lookup failure means "no such record" rather than "could not ask"."""
    return exc.errno not in _TEMPORARY_DNS


class _PinnedResolver(AbstractResolver):
    """Resolves every name to its IPv6 addresses only (for the probe's connector)."""

    def __init__(self, lookup: _V6Lookup) -> None:
        self._lookup = lookup

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET6
    ) -> list[ResolveResult]:
        pairs = await self._lookup.lookup(host, port)
        if not pairs:
            raise OSError(socket.EAI_NONAME, f"{host}: no IPv6 address")
        return [
            {
                "hostname": host,
                "host": address,
                "port": new_port,
                "family": socket.AF_INET6,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address, new_port in pairs
        ]

    async def close(self) -> None:
        return None


# --------------------------------------------------------------------------------------------
# The probe
# --------------------------------------------------------------------------------------------


def _url(scheme: str, host: str, port: int, path: str) -> str:
    default = 443 if scheme == "https" else 80
    netloc = f"[{host}]" if ":" in host else host
    if port != default:
        netloc += f":{port}"
    return f"{scheme}://{netloc}{path if path.startswith('/') else '/' + path}"


async def _probe_one(
    host: str,
    port: int,
    path: str,
    scheme: str,
    lookup: _V6Lookup,
    timeout: float,  # noqa: ASYNC109 (one budget for the lookup and the request)
    user_agent: str,
    ssl: ssl_module.SSLContext | bool,
) -> Ipv6Result:
    started = time.monotonic()

    def done(**values: Any) -> Ipv6Result:
        return Ipv6Result(host=host, elapsed=round(time.monotonic() - started, 3), **values)

    try:
        async with asyncio.timeout(timeout):
            pairs = await lookup.lookup(host, port)
    except TimeoutError:
        return done(addresses=(), dns_error="dns timeout")
    except BlockedAddressError as exc:
        return done(addresses=(), dns_error=f"blocked: {exc}")
    except OSError as exc:
        return done(addresses=(), dns_error=f"dns: {exc}")
    addresses = tuple(dict.fromkeys(a for a, _ in pairs))
    if not addresses:
        return done(addresses=(), error="no AAAA record")
    remaining = max(0.1, timeout - (time.monotonic() - started))
    connector = aiohttp.TCPConnector(
        resolver=_PinnedResolver(lookup),
        family=socket.AF_INET6,
        use_dns_cache=False,
        ssl=ssl,
        force_close=True,
        limit=1,
    )
    try:
        async with (
            aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=remaining),
                headers={"User-Agent": user_agent},
                trust_env=False,
                auto_decompress=True,
            ) as session,
            session.get(
                _url(scheme, host, port, path),
                allow_redirects=True,
                max_redirects=MAX_REDIRECTS,
            ) as response,
        ):
            peer = None
            if response.connection is not None and response.connection.transport is not None:
                info = response.connection.transport.get_extra_info("peername")
                peer = str(info[0]) if info else None
            read = 0
            while read < MAX_BODY:
                chunk = await response.content.read(65536)
                if not chunk:
                    break
                read += len(chunk)
            status = response.status
            return done(
                addresses=addresses,
                loaded=status < 400,
                status=status,
                error=None if status < 400 else f"http {status}",
                final_url=str(response.url),
                address=peer or addresses[0],
            )
    except aiohttp.TooManyRedirects:
        return done(addresses=addresses, error="redirect loop")
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        reason, detail = classify_exception(exc)
        return done(addresses=addresses, error=f"{reason}: {detail}"[:300])


async def probe_ipv6(
    host: str,
    port: int = 80,
    path: str = "/",
    *,
    scheme: str = "http",
    overrides: Overrides | None = None,
    resolver: AbstractResolver | None = None,
    timeout: float = 15.0,  # noqa: ASYNC109 (the probe's public knob, per name)
    check_alias: bool = True,
    user_agent: str = DEFAULT_USER_AGENT,
    ssl: ssl_module.SSLContext | bool = True,
) -> Ipv6Result:
    """Probe ``scheme://host:port/path`` over IPv6 only.

    ``overrides`` map a name to an address (or ``(address, port)``, as
    :class:`crawler.net.fetcher.GovResolver` does); an override to an IPv4 address means the name
    has no AAAA. ``resolver`` (an aiohttp resolver, e.g. the crawl's ``GovResolver``) is asked
    for ``AF_INET6`` when a name has no override; note that aiohttp's default resolver passes
    ``AI_ADDRCONFIG``, which hides AAAA records on a machine without IPv6: without a resolver,
    ``getaddrinfo`` is called without it. ``timeout`` bounds each name's probe (the host, then
    its alias when the host fails and ``check_alias``). Never raises for network failures.
    """
    lookup = _V6Lookup(overrides, resolver)
    result = await _probe_one(host, port, path, scheme, lookup, timeout, user_agent, ssl)
    if result.loaded or result.blocked or not check_alias or result.dns_error is not None:
        return result
    alias = alias_of(host)
    if alias is None:
        return result
    other = await _probe_one(alias, port, path, scheme, lookup, timeout, user_agent, ssl)
    return Ipv6Result(
        host=result.host,
        addresses=result.addresses,
        dns_error=result.dns_error,
        loaded=result.loaded,
        status=result.status,
        error=result.error,
        final_url=result.final_url,
        address=result.address,
        elapsed=round(result.elapsed + other.elapsed, 3),
        alias=alias,
        alias_addresses=other.addresses,
        alias_loaded=other.loaded or other.blocked,
    )


def has_ipv6_route(target: str = "2001:4860:4860::8888") -> bool:
    """Whether this machine can route to ``target`` over IPv6 (default: a global address).

    A UDP socket's ``connect`` only picks a route: no packet is sent. ``target`` must be an
    IPv6 literal (a name would need a DNS query): anything else gives ``False``.
    """
    try:
        socket.inet_pton(socket.AF_INET6, target)
    except OSError:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.connect((target, 53))
    except OSError:
        return False
    return True


async def probe_home(url: str, crawl: CrawlSettings) -> Ipv6Probe | None:
    """Probe the home page at ``url`` over IPv6 with the crawl's settings (its ``resolve``
    overrides, timeout, user agent); ``None`` when nothing may be looked up (``resolve_only``
    and a name outside ``resolve``: tests, the demo, replays)."""
    host = hostname(url)
    if crawl.resolve_only and host.lower() not in crawl.resolve:
        return None
    scheme = url.split(":", 1)[0]
    rest = url[len(origin(url)) :] or "/"
    port_text = origin(url).rpartition(":")[2]
    port = int(port_text) if port_text.isdigit() else (443 if scheme == "https" else 80)
    # with resolve_only, names outside [crawl] resolve (the www. alias) fail without a lookup:
    # nothing may leave the machine
    strict = GovResolver({}, only=True) if crawl.resolve_only else None
    result = await probe_ipv6(
        host,
        port,
        rest,
        scheme=scheme,
        overrides=dict(crawl.resolve),
        resolver=strict,
        timeout=crawl.timeout,
        user_agent=crawl.user_agent,
    )
    # the route test sends nothing (a UDP socket's connect), but is pointless offline
    local = True if crawl.resolve_only else has_ipv6_route()
    return Ipv6Probe(result, local)
