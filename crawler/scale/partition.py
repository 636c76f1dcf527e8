"""Which sites go to which process of ``scan --processes`` (pure, but for the sizes read from
the store): sites that share a host go together, groups balanced by the sites' sizes."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from statistics import median

from crawler.config import Site
from crawler.net.urls import hostname
from storage.base import Store

__all__ = ["partition", "plan", "previous_sizes", "site_hosts", "size_weights"]


def site_hosts(site: Site) -> frozenset[str]:
    """The hosts a site's crawl requests pages from: its URL's, its scope prefixes', its pinned
    columns'. Sites sharing one of them share a politeness owner (a host name, whatever the
    scheme or port: one server, however it is reached)."""
    urls = [site.url, *site.scope, *(c.url for c in site.columns)]
    return frozenset(hostname(u).lower() for u in urls)


def partition(
    hosts: Sequence[Collection[str]], weights: Sequence[int], processes: int
) -> list[list[int]]:
    """Split items ``0 … len(hosts) - 1`` (sites, with the hosts each one crawls) into at most
    ``processes`` non-empty groups of indices, each sorted.

    Items that share a host, directly or through others, form one *site group* and stay
    together. Site groups are placed heaviest first (by the sum of their ``weights``) on the
    lightest process so far (then the one with fewest site groups, then the first): the
    heaviest and lightest process differ by at most the weight of one site group, and with
    equal weights the processes differ by at most one site group.
    """
    if processes < 1:
        raise ValueError("processes must be at least 1")
    if len(weights) != len(hosts):
        raise ValueError("one weight per item")
    parent = list(range(len(hosts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with: dict[str, int] = {}
    for i, item_hosts in enumerate(hosts):
        for h in sorted(item_hosts):
            j = first_with.setdefault(h, i)
            a, b = find(i), find(j)
            if a != b:
                parent[max(a, b)] = min(a, b)
    members: dict[int, list[int]] = {}
    for i in range(len(hosts)):
        members.setdefault(find(i), []).append(i)
    groups = sorted(members.values(), key=lambda g: (-sum(weights[i] for i in g), g[0]))
    load = [0] * processes
    count = [0] * processes
    out: list[list[int]] = [[] for _ in range(processes)]
    for g in groups:
        k = min(range(processes), key=lambda p: (load[p], count[p], p))
        out[k].extend(g)
        load[k] += sum(weights[i] for i in g)
        count[k] += 1
    return sorted((sorted(o) for o in out if o), key=lambda o: o[0])


def size_weights(sites: Sequence[Site], sizes: Mapping[str, int]) -> list[int]:
    """Each site's weight: its requests in an earlier scan; a site that scan did not have
    counts as the median of those it had; with no earlier scan every site counts 1."""
    known = [sizes[s.id] for s in sites if s.id in sizes]
    if not known:
        return [1] * len(sites)
    default = max(1, round(median(known)))
    return [max(1, sizes.get(s.id, default)) for s in sites]


def plan(sites: Sequence[Site], processes: int, sizes: Mapping[str, int]) -> list[tuple[Site, ...]]:
    """The sites of each process, in config order (fewer than ``processes`` when fewer site
    groups)."""
    groups = partition([site_hosts(s) for s in sites], size_weights(sites, sizes), processes)
    return [tuple(sites[i] for i in g) for g in groups]


async def previous_sizes(store: Store) -> dict[str, int]:
    """Requests per site id in the newest complete scan of the store (empty: none)."""
    for info in await store.scans():
        if info.status == "complete":
            return await store.site_sizes(info.id)
    return {}
