"""``govmon serve``: where the web view listens (:func:`parse_listen`) and the server
(:func:`run_server`)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from crawler.net.serving import ServeError, check_listen, is_loopback
from crawler.service.web.app import make_app
from storage.base import StoreError
from storage.sqlite import ReadOnlyStore

__all__ = ["DEFAULT_LISTEN", "parse_listen", "run_server"]

DEFAULT_LISTEN = "127.0.0.1:8080"


def parse_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[V6]:PORT`` or a bare ``PORT`` (on 127.0.0.1); ``:PORT`` is every
    interface."""
    text = listen.strip()
    if text.isdigit():
        host, port_text = "127.0.0.1", text
    elif text.startswith("["):
        end = text.find("]")
        if end < 0 or text[end + 1 : end + 2] != ":":
            raise ServeError(f"--listen {listen!r}: expected [ADDRESS]:PORT")
        host, port_text = text[1:end], text[end + 2 :]
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep or ":" in host:
            raise ServeError(f"--listen {listen!r}: expected HOST:PORT (IPv6 as [ADDRESS]:PORT)")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ServeError(f"--listen {listen!r}: the port must be a number from 0 to 65535")
    return host, int(port_text)


async def run_server(db_path: str, listen: str, token: str | None) -> None:
    """Serve the web view of ``db_path`` on ``listen`` until cancelled.

    Raises :class:`ServeError` before binding anything when ``listen`` is malformed, names a
    non-loopback address without a token (or with one shorter than 16 characters), or the store
    does not open.
    """
    host, port = parse_listen(listen)
    await check_listen(host, token, "the web view")
    try:
        store = await ReadOnlyStore.open(db_path, create=False, busy_timeout=5.0)
    except StoreError as exc:
        raise ServeError(str(exc)) from None
    await store.close()
    # no access log: a query-string token would be written to it
    runner = web.AppRunner(make_app(db_path, token), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host or None, port)
        try:
            await site.start()
        except OSError as exc:
            raise ServeError(f"--listen {listen}: cannot bind: {exc}") from None
        for address in runner.addresses:
            shown = f"[{address[0]}]" if ":" in str(address[0]) else str(address[0])
            mode = "read-only" if token is None else "read-only without a login; writes: /login"
            print(f"govmon serve: http://{shown}:{address[1]}/ (store {db_path}, {mode})",
                  flush=True)  # fmt: skip
        if not await is_loopback(host):
            print(
                "govmon serve: not on loopback: plain HTTP, the token travels in clear text;"
                " put a TLS proxy in front",
                flush=True,
            )
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
