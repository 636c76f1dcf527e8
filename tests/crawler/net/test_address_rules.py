"""Only globally routable addresses are requested (issue 19, items 1 and 4).

The scan runs in a network namespace of its own (``unshare -n``: only ``lo``, with the metadata
and private addresses added to it and a trap server on each), so that nothing can leave the
machine even if the rule fails: tests/support/netns.py. Where namespaces cannot be made the
test is skipped, except in CI (``CI`` set), where it must run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import Any

import pytest

from crawler.net.fetcher import (
    BlockedAddressError,
    GovResolver,
    is_global_address,
    is_private_address,
    parse_address,
)
from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT

# what must never be requested, in every form the rule has to see through
NOT_GLOBAL = (
    "100.100.100.200",  # Alibaba Cloud metadata
    "100.64.0.1",  # shared address space (carrier-grade NAT)
    "100.127.255.254",
    "169.254.169.254",  # link-local metadata
    "10.0.0.1",
    "10.255.255.255",
    "192.168.1.1",
    "172.16.0.1",
    "172.31.255.255",
    "127.0.0.1",
    "0.0.0.0",
    "224.0.0.251",
    "198.18.0.1",
    "::1",
    "::",
    "::ffff:100.100.100.200",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "::ffff:127.0.0.1",
    "2002:6464:64c8::1",  # 6to4 of 100.100.100.200
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "fec0::1",  # site-local
    "fd00:ec2::254",  # AWS's IPv6 metadata (unique local)
    "fe80::1",
    "ff02::1",
    "0x7f.0.0.2",  # legacy IPv4 forms
    "0177.0.0.1",
    "2130706433",
    "127.1",
    "0x64.0x64.0x64.0xc8",  # 100.100.100.200
)
GLOBAL = (
    "8.8.8.8",
    "100.63.255.255",  # just outside 100.64.0.0/10
    "100.128.0.0",
    "172.32.0.1",  # just outside 172.16.0.0/12
    "::ffff:8.8.8.8",
    "2002:808:808::1",  # 6to4 of a public address
    "64:ff9b::808:808",  # NAT64 of a public address
    "2400:3200::1",
)


@pytest.mark.parametrize("address", NOT_GLOBAL)
def test_addresses_that_are_not_globally_routable_are_refused(address: str) -> None:
    assert is_private_address(address), address
    ip = parse_address(address)
    assert ip is not None
    assert not is_global_address(ip)
    assert not GovResolver({}).allows(address)


@pytest.mark.parametrize("address", GLOBAL)
def test_globally_routable_addresses_are_allowed(address: str) -> None:
    assert not is_private_address(address), address
    assert GovResolver({}).allows(address)


def test_names_are_not_addresses() -> None:
    for name in ("www.gov.cn", "1.2.3.4.5", "0x7g.0.0.1", "127.0.0.1.example", "09.0.0.1"):
        assert parse_address(name) is None, name
        assert not is_private_address(name)


def test_configured_hosts_and_allow_private_keep_working() -> None:
    trusted = GovResolver({}, trusted_hosts=frozenset({"127.0.0.1", "intranet.gov.cn"}))
    assert trusted.allows("127.0.0.1")
    assert trusted.allows("intranet.gov.cn", "10.0.0.1")
    assert not trusted.allows("127.0.0.2")
    assert GovResolver({}, allow_private=True).allows("100.100.100.200")


async def test_resolve_overrides_into_the_network_are_refused() -> None:
    resolver = GovResolver(
        {"meta.test": ("100.100.100.200", None), "www.site.test": ("127.0.0.1", 8080)},
        only=True,
        trusted_hosts=frozenset({"www.site.test"}),
    )
    with pytest.raises(OSError, match="private address"):
        await resolver.resolve("meta.test", 80)
    # through a proxy: the same answer, before the proxy is asked
    with pytest.raises(OSError, match="private address"):
        await resolver.check_proxied("meta.test", 80)
    with pytest.raises(OSError, match="resolve_only"):
        await resolver.check_proxied("elsewhere.test", 80)
    for host in ("localhost", "www.localhost", "0x7f.0.0.2", "100.64.0.1", "fec0::1"):
        with pytest.raises(BlockedAddressError):
            await resolver.check_proxied(host, 80)
    # a configured site resolves as configured, proxied or not
    assert (await resolver.resolve("www.site.test", 80))[0]["host"] == "127.0.0.1"
    await resolver.check_proxied("www.site.test", 80)
    await resolver.close()


# -- the scan, in a network namespace -------------------------------------------------------


def _namespace_command() -> list[str] | None:
    """How to start a process in a network namespace of its own, or ``None``."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return None
    for command in (["unshare", "-n"], ["unshare", "-rn"]):
        try:
            probe = subprocess.run(
                [*command, "ip", "link", "set", "lo", "up"],
                check=False,
                capture_output=True,
                timeout=20,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return command
    return None


@pytest.fixture(scope="module")
def netns_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    command = _namespace_command()
    if command is None:
        reason = "network namespaces (unshare -n, or -rn with user namespaces) are not allowed here"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must run this test (as root)")
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("netns") / "result.json"
    run = subprocess.run(
        [*command, sys.executable, "-m", "tests.support.netns", str(out)],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


def _blocked(findings: list[dict[str, Any]]) -> dict[str, str]:
    return {f["url"]: f["detail"]["reason"] for f in findings if f["check"] == "link.blocked"}


def test_metadata_and_private_addresses_get_nothing(netns_run: dict[str, Any]) -> None:
    """A page linking and redirecting to 100.100.100.200, 100.64.0.1 and the rest: the trap
    servers on those addresses are sent nothing, directly or through the proxy."""
    assert netns_run["hits"] == [], f"requests reached the network: {netns_run['hits']}"


def test_every_hostile_link_is_reported_blocked(netns_run: dict[str, Any]) -> None:
    site = netns_run["site"]
    for name, findings in netns_run["scans"].items():
        blocked = _blocked(findings)
        for link in netns_run["links"]:
            got = blocked.get(link)
            assert got == "private address", f"{name} scan: {link}: {got}\n{blocked}"
        # the plain article of the configured site on 127.0.0.1 is read as today
        broken = [f for f in findings if f["check"] == "link.broken"]
        assert broken == [], broken
        assert f"{site}news/a.html" not in blocked


def test_a_proxied_scan_refuses_what_a_direct_one_does(netns_run: dict[str, Any]) -> None:
    scans = netns_run["scans"]
    assert _blocked(scans["proxied"]) == _blocked(scans["direct"])
    asked = netns_run["proxy_asked"]
    site = netns_run["site"]
    # the proxy saw the configured site's pages, and nothing else
    assert asked, "the proxied scan did not use the proxy"
    outside = [a for a in asked if not a.split(" ", 1)[1].startswith(site)]
    assert outside == [], f"handed to the proxy: {outside}"
