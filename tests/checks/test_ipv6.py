"""IPv6: a real aiohttp app served on [::1], test host names mapped to it (or to 127.0.0.1 only,
which means no AAAA), the Host header kept, redirects followed over IPv6, failures named; the
trap of a site whose www. alias alone answers over IPv6; inconclusive probes give no finding."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from checks.ipv6 import NO_IPV6, Ipv6Result, alias_of, judge_ipv6
from crawler.core.ipv6probe import has_ipv6_route, probe_ipv6
from crawler.net.fetcher import GovResolver


def _loopback_v6() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_v6 = pytest.mark.skipif(not _loopback_v6(), reason="this machine has no ::1")
HOME = "http://district.test/"


class Server:
    def __init__(self, port: int, hosts: list[str]) -> None:
        self.port = port
        self.hosts = hosts


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    hosts: list[str] = []

    async def home(request: web.Request) -> web.Response:
        hosts.append(request.headers.get("Host", ""))
        return web.Response(
            text="<html><title>江滨区人民政府</title></html>", content_type="text/html"
        )

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/index.html")

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500, text="error")

    async def challenge(request: web.Request) -> web.Response:
        return web.Response(status=412, text="<script>challenge()</script>")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(text="late")

    app = web.Application()
    app.router.add_get("/index.html", home)
    app.router.add_get("/", moved)
    app.router.add_get("/broken", broken)
    app.router.add_get("/challenge", challenge)
    app.router.add_get("/slow", slow)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "::1", 0)
    await site.start()
    try:
        yield Server(runner.addresses[0][1], hosts)
    finally:
        await runner.cleanup()


@needs_v6
async def test_the_home_page_loads_over_ipv6_with_its_own_host_name(server: Server) -> None:
    overrides = {"district.test": ("::1", server.port)}
    result = await probe_ipv6("district.test", 80, "/", overrides=overrides, timeout=5)
    assert result.loaded
    assert result.status == 200
    assert result.addresses == ("::1",)
    assert result.address == "::1"
    assert result.final_url == "http://district.test/index.html"  # the redirect, over IPv6 too
    assert server.hosts == ["district.test"]  # the Host header names the site, not the address
    assert judge_ipv6(HOME, result) is None


@needs_v6
async def test_a_resolver_such_as_the_crawls_is_asked_for_ipv6(server: Server) -> None:
    resolver = GovResolver({"district.test": ("::1", server.port)}, only=True, allow_private=True)
    result = await probe_ipv6("district.test", 80, "/index.html", resolver=resolver, timeout=5)
    assert result.loaded
    assert server.hosts == ["district.test"]


@needs_v6
async def test_no_aaaa_record_is_no_ipv6(server: Server) -> None:
    # an IPv4-only name: the override says so; its www. alias has no IPv6 either
    overrides = {
        "district.test": ("127.0.0.1", server.port),
        "www.district.test": ("127.0.0.1", server.port),
    }
    result = await probe_ipv6("district.test", overrides=overrides, timeout=5)
    assert not result.has_aaaa
    assert result.error == "no AAAA record"
    assert result.alias == "www.district.test"
    assert not result.alias_loaded
    assert server.hosts == []
    judgement = judge_ipv6(HOME, result)
    assert judgement is not None
    assert judgement.code == NO_IPV6
    assert judgement.detail["reason"] == "no AAAA record"
    assert judgement.detail["alias_loads"] is False
    # a missing record is judged from any machine, IPv6 or not
    assert judge_ipv6(HOME, result, local_ipv6=False) is not None


@needs_v6
async def test_trap_ipv6_only_on_the_www_alias_still_counts_against_the_home_page(
    server: Server,
) -> None:
    overrides = {
        "district.test": ("127.0.0.1", server.port),
        "www.district.test": ("::1", server.port),
    }
    result = await probe_ipv6("district.test", overrides=overrides, timeout=5)
    assert not result.loaded
    assert result.alias == "www.district.test"
    assert result.alias_addresses == ("::1",)
    assert result.alias_loaded
    assert server.hosts == ["www.district.test"]
    judgement = judge_ipv6(HOME, result)
    assert judgement is not None
    assert judgement.detail["host"] == "district.test"
    assert judgement.detail["alias"] == "www.district.test"
    assert judgement.detail["alias_loads"] is True
    assert "www.district.test" in judgement.detail["note"]
    # the other way round: the home page on www. works, the bare name is not asked about
    www = await probe_ipv6("www.district.test", overrides=overrides, timeout=5)
    assert www.loaded
    assert www.alias is None
    assert judge_ipv6("http://www.district.test/", www) is None


@needs_v6
async def test_an_error_over_ipv6_is_no_ipv6_and_says_why(server: Server) -> None:
    overrides: dict[str, str | tuple[str, int | None]] = {
        "district.test": ("::1", server.port),
        "www.district.test": "127.0.0.1",
    }
    result = await probe_ipv6("district.test", 80, "/broken", overrides=overrides, timeout=5)
    assert result.has_aaaa
    assert (result.loaded, result.status, result.error) == (False, 500, "http 500")
    judgement = judge_ipv6(HOME, result)
    assert judgement is not None
    assert judgement.detail["reason"] == "http 500"
    assert judgement.detail["addresses"] == ["::1"]
    # a machine without IPv6 cannot tell a refused connection from a missing route
    assert judge_ipv6(HOME, result, local_ipv6=False) is None


@needs_v6
async def test_an_anti_bot_answer_over_ipv6_is_not_a_finding(server: Server) -> None:
    overrides = {"district.test": ("::1", server.port)}
    result = await probe_ipv6("district.test", 80, "/challenge", overrides=overrides, timeout=5)
    assert result.status == 412
    assert result.blocked
    assert result.alias is None  # something answered: no need to try the alias
    assert judge_ipv6(HOME, result) is None


@needs_v6
async def test_a_refused_connection_and_a_timeout_are_named(server: Server) -> None:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
        sock.bind(("::1", 0))
        closed = sock.getsockname()[1]
    refused = await probe_ipv6(
        "district.test", overrides={"district.test": ("::1", closed)}, check_alias=False, timeout=5
    )
    assert not refused.loaded
    assert refused.error is not None
    assert refused.error.startswith("connect")
    started = asyncio.get_running_loop().time()
    slow = await probe_ipv6(
        "district.test",
        80,
        "/slow",
        overrides={"district.test": ("::1", server.port)},
        check_alias=False,
        timeout=0.5,
    )
    assert asyncio.get_running_loop().time() - started < 3
    assert slow.error is not None
    assert slow.error.startswith("timeout")
    judgement = judge_ipv6(HOME, slow)
    assert judgement is not None
    assert judgement.detail["reason"].startswith("timeout")


class _FailingResolver(AbstractResolver):
    def __init__(self, errno: int) -> None:
        self.errno = errno
        self.asked: list[tuple[str, socket.AddressFamily]] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append((host, family))
        raise OSError(self.errno, "lookup failed")

    async def close(self) -> None:
        return None


async def test_a_temporary_dns_failure_says_nothing() -> None:
    resolver = _FailingResolver(socket.EAI_AGAIN)
    result = await probe_ipv6("district.test", resolver=resolver, timeout=2)
    assert resolver.asked == [("district.test", socket.AF_INET6)]
    assert result.dns_error is not None
    assert result.alias is None
    assert judge_ipv6(HOME, result) is None


async def test_a_name_without_ipv6_data_is_no_aaaa() -> None:
    resolver = _FailingResolver(socket.EAI_NONAME)
    result = await probe_ipv6("district.test", resolver=resolver, timeout=2)
    assert result.dns_error is None
    assert result.error == "no AAAA record"
    assert [h for h, _ in resolver.asked] == ["district.test", "www.district.test"]
    judgement = judge_ipv6(HOME, result)
    assert judgement is not None
    assert judgement.code == NO_IPV6


def test_alias_of() -> None:
    assert alias_of("district.test") == "www.district.test"
    assert alias_of("www.district.test") == "district.test"
    assert alias_of("WWW.Example.gov.cn.") == "example.gov.cn"
    assert alias_of("localhost") is None
    assert alias_of("www.test") is None
    assert alias_of("10.0.0.1") is None


@needs_v6
def test_has_ipv6_route_to_the_loopback() -> None:
    assert has_ipv6_route("::1")
    assert not has_ipv6_route("not an address")  # no DNS query: literals only
    assert not has_ipv6_route("127.0.0.1")


def test_judge_of_a_loaded_or_blocked_result_is_none() -> None:
    loaded = Ipv6Result("district.test", ("2001:db8::1",), loaded=True, status=200)
    assert judge_ipv6(HOME, loaded) is None
    blocked = Ipv6Result("district.test", ("2001:db8::1",), status=403, error="http 403")
    assert judge_ipv6(HOME, blocked) is None
