"""IPv6 support (``site.no_ipv6``), judged: does the home page's host have an IPv6 address, and
does the home page load over it? Pure: the probe that asks the network is
:mod:`crawler.core.ipv6probe`, reached through :class:`checks.base.SiteTools` (within the host's
politeness); this module holds what it finds (:class:`Ipv6Result`) and the judgement.

The probe looks up the host's AAAA addresses (``overrides``, a resolver, or
``getaddrinfo(..., AF_INET6)`` without ``AI_ADDRCONFIG``, so that the answer does not depend on
whether this machine has IPv6 itself), then requests the home page over IPv6 only: the
connection goes to the v6 address while the URL, the ``Host`` header and TLS's server name stay
the host's name. Redirects are followed (over IPv6 too), at most :data:`MAX_REDIRECTS`, and the
whole probe of one name is bounded by ``timeout``.

Which host counts. The home page's own host (the one its URL names, after the redirects the crawl
followed) is what users and inspectors type, so it is what counts: a site whose ``www.`` alias
(or bare domain, for a ``www.`` home page) answers over IPv6 while its own name has no AAAA
record is still ``site.no_ipv6``; the probe then also tries the alias, and the finding's detail
says that the alias works (``alias``, ``alias_loads``), so that the fix (add the AAAA record to
the name in use) is obvious.

:func:`judge_ipv6` turns a probe into the finding, or into nothing when the probe cannot tell:
a temporary DNS failure, an anti-bot refusal (401/403/412/429: something answered over IPv6), or
a failed connection from a machine that has no IPv6 route
(:func:`crawler.core.ipv6probe.has_ipv6_route`; a missing AAAA record is judged from any machine).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from checks.catalogue import Judgement

NO_IPV6: Final = "site.no_ipv6"
BLOCKED_STATUSES: Final = frozenset({401, 403, 412, 429, 999})


@dataclass(frozen=True, slots=True)
class Ipv6Result:
    """What the probe of one host found."""

    host: str
    addresses: tuple[str, ...]  # its IPv6 addresses (AAAA)
    dns_error: str | None = None  # the lookup failed in a way that says nothing (temporary)
    loaded: bool = False  # the home page answered over IPv6 with a status below 400
    status: int | None = None  # the final status over IPv6
    error: str | None = None  # why it did not load: "no AAAA record", "connect", "timeout"...
    final_url: str | None = None
    address: str | None = None  # the v6 address it answered on
    elapsed: float = 0.0
    alias: str | None = None  # the www. alias (or bare domain) tried when the host failed
    alias_addresses: tuple[str, ...] = ()
    alias_loaded: bool = False

    @property
    def has_aaaa(self) -> bool:
        return bool(self.addresses)

    @property
    def blocked(self) -> bool:
        """Something answered over IPv6, but refused the crawler (an anti-bot front end)."""
        return self.status in BLOCKED_STATUSES


class Ipv6Probe(NamedTuple):
    """A probe of a home page (:meth:`checks.base.SiteTools.probe_ipv6`): what it found, and
    whether this machine can reach IPv6 hosts at all (a failed connection from a machine
    without an IPv6 route says nothing about the site)."""

    result: Ipv6Result
    local_ipv6: bool


def alias_of(host: str) -> str | None:
    """The other usual name of a site: ``www.x`` for ``x``, ``x`` for ``www.x``."""
    name = host.lower().rstrip(".")
    if name.startswith("www."):
        bare = name[4:]
        return bare if bare.count(".") >= 1 else None
    if name.count(".") >= 1 and not is_literal(name):
        return "www." + name
    return None


def is_literal(host: str) -> bool:
    """Whether ``host`` is an IPv4 or IPv6 address, not a name."""
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        return False
    return True


def judge_literal(home_url: str, host: str) -> Judgement | None:
    """``site.no_ipv6`` for a home page published at an IPv4 address (``http://59.x.x.x:8080/``,
    common for small department channels): it cannot be reached over IPv6 by anyone. A home page
    at an IPv6 address is reached over IPv6 by definition: ``None``."""
    address = ipaddress.ip_address(host.strip("[]"))
    if address.version == 6:
        return None
    detail: dict[str, Any] = {
        "home": home_url,
        "host": host,
        "addresses": [],
        "reason": "published at an IPv4 address",
        "status": None,
        "note": "the site's address is an IPv4 literal: it needs a name with an AAAA record"
        " (or an IPv6 address) to be reached over IPv6",
    }
    return Judgement(NO_IPV6, detail)


def judge_ipv6(home_url: str, result: Ipv6Result, *, local_ipv6: bool = True) -> Judgement | None:
    """``site.no_ipv6`` for the home page at ``home_url``, or ``None`` (IPv6 works, or the probe
    cannot tell). ``local_ipv6`` says whether this machine can reach IPv6 hosts at all."""
    if result.loaded or result.blocked or result.dns_error is not None:
        return None
    if result.has_aaaa and not local_ipv6:
        return None  # the record exists; this machine cannot test the connection
    detail: dict[str, Any] = {
        "home": home_url,
        "host": result.host,
        "addresses": list(result.addresses),
        "reason": result.error or "did not load over IPv6",
        "status": result.status,
    }
    if result.alias is not None:
        detail["alias"] = result.alias
        detail["alias_addresses"] = list(result.alias_addresses)
        detail["alias_loads"] = result.alias_loaded
        if result.alias_loaded:
            detail["note"] = (
                f"{result.alias} answers over IPv6, but the home page's own host "
                f"{result.host} does not: the name in use is what counts"
            )
    return Judgement(NO_IPV6, detail)
