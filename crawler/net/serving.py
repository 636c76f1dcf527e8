"""Guards of govmon's own servers (``govmon serve``, ``govmon replay``): where they may listen
and how a request's token is compared.

A server listens on loopback unless it is given a token; off loopback the token must have at
least :data:`MIN_REMOTE_TOKEN` characters (:func:`check_listen`), and every request must carry
it (:func:`token_matches`, in constant time).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import socket

__all__ = ["MIN_REMOTE_TOKEN", "ServeError", "check_listen", "is_loopback", "token_matches"]

MIN_REMOTE_TOKEN = 16  # characters of a token that guards a non-loopback address


class ServeError(ValueError):
    """A server of govmon's cannot start as asked (bad --listen, no token off loopback, no
    store)."""


def _loopback_ip(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


async def is_loopback(host: str) -> bool:
    """Whether every address ``host`` stands for is a loopback one (``""``: every interface)."""
    if not host:
        return False
    try:
        return _loopback_ip(host)
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ServeError(f"--listen: cannot resolve {host!r}: {exc}") from None
    return bool(infos) and all(_loopback_ip(str(info[4][0])) for info in infos)


async def check_listen(host: str, token: str | None, what: str) -> None:
    """Raises :class:`ServeError` unless ``what`` (a server of govmon's) may listen on ``host``
    with ``token``: a non-loopback address needs a token of at least 16 characters."""
    if token is not None and not token.strip():
        raise ServeError("the token is empty")
    if not await is_loopback(host):
        where = host or "every interface"
        if token is None:
            raise ServeError(
                f"refusing to listen on {where}: {what} binds to loopback unless it is"
                " given a token (every request must then carry it)"
            )
        if len(token) < MIN_REMOTE_TOKEN:
            raise ServeError(
                f"refusing to listen on {where}: a token that guards a non-loopback address must"
                f" have at least {MIN_REMOTE_TOKEN} characters"
            )


def token_matches(given: str | None, expected: str) -> bool:
    """Whether ``given`` is ``expected``, compared in constant time."""
    return given is not None and hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
    )
