"""The frontier's spilling structures (crawler/core/spill.py): with limits small enough to spill at
every step they must answer exactly what unbounded in-memory structures answer."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.core.frontier import Frontier, Kind, Request
from crawler.core.spill import IdBytes, PendingRefs, SpillFile, SpillLimits, SpillQueue
from crawler.core.urlindex import UrlIndex

TINY = SpillLimits(urls=3, flush=2, queue=2, batch=2, refs=3)
HUGE = SpillLimits(urls=10**9, flush=10**9, queue=10**9, batch=10**9, refs=10**9)
BASES = st.sampled_from([0, 7, 3 << 32])  # a site job of a shared scan: ids from k << 32


@pytest.fixture
def spill(tmp_path: Path) -> Iterator[SpillFile]:
    f = SpillFile(str(tmp_path))
    yield f
    f.close()


def _spill_file() -> SpillFile:
    return SpillFile()


# -- SpillQueue ------------------------------------------------------------------------------

QUEUE_OPS = st.lists(st.one_of(st.integers(0, 10**6), st.none()), max_size=300)


@settings(max_examples=150, deadline=None)
@given(
    ops=QUEUE_OPS,
    cap=st.integers(1, 5),
    batch=st.integers(1, 5),
)
def test_spill_queue_pops_in_push_order(ops: list[int | None], cap: int, batch: int) -> None:
    spill = _spill_file()
    try:
        q = SpillQueue[tuple[int, str]](spill, cap=cap, batch=batch, decode=tuple)
        model: deque[tuple[int, str]] = deque()
        for op in ops:
            if op is None:
                if model:
                    assert q.pop() == model.popleft()
                else:
                    assert not q
                    with pytest.raises(IndexError):
                        q.pop()
            else:
                q.push((op, f"u{op}"))
                model.append((op, f"u{op}"))
            assert len(q) == len(model)
            assert q.in_memory <= max(cap, batch) + batch
        while model:
            assert q.pop() == model.popleft()
        assert not q
    finally:
        spill.close()


def test_spill_queue_keeps_at_most_cap_plus_batch_in_memory(spill: SpillFile) -> None:
    q = SpillQueue[int](spill, cap=10, batch=4)
    for i in range(1000):
        q.push(i)
        assert q.in_memory <= 14
    assert spill.opened
    assert [q.pop() for _ in range(1000)] == list(range(1000))
    rows = spill.conn.execute("SELECT count(*) FROM batches").fetchone()[0]
    assert rows == 0  # every batch read back is deleted


# -- the frontier's queues: a spilling frontier pops what an unbounded one pops --------------

HOSTS = ("http://a", "http://b:8080", "https://c")


def _request(n: int, host: int, kind: int, attempt: int) -> Request:
    origin = HOSTS[host]
    return Request(
        url=f"{origin}/p/{n}?q=中",
        id=n,
        kind=Kind(kind),
        site=host,
        depth=n % 5,
        origin=origin,
        link_kind=("page", "image", "external")[n % 3],
        attempt=attempt,
        recheck=attempt > 1,
        not_before=n / 7 if attempt else 0.0,
        previous="status 404" if attempt > 1 else None,
        follow=n % 4 != 0,
    )


FRONTIER_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("push"), st.integers(0, 2), st.integers(1, 2), st.integers(0, 2)),
        st.tuples(st.just("pop"), st.integers(0, 2), st.just(0), st.just(0)),
    ),
    max_size=250,
)


@settings(max_examples=150, deadline=None)
@given(ops=FRONTIER_OPS, base=BASES)
def test_a_spilling_frontier_pops_the_same_sequence(
    ops: list[tuple[str, int, int, int]], base: int
) -> None:
    small, big = Frontier(base, TINY), Frontier(base, HUGE)
    try:
        n = base
        for op, host, kind, attempt in ops:
            origin = HOSTS[host]
            if op == "push":
                n += 1
                small.push(_request(n, host, kind, attempt))
                big.push(_request(n, host, kind, attempt))
            else:
                assert small.has_work(origin) == big.has_work(origin)
                if big.has_work(origin):
                    assert small.pop(origin) == big.pop(origin)
            assert small.queued == big.queued
        for origin in HOSTS:
            while big.has_work(origin):
                assert small.pop(origin) == big.pop(origin)
            assert not small.has_work(origin)
        assert not big.spilled
    finally:
        small.close()
        big.close()


def test_link_checks_go_before_pages_each_host_in_order() -> None:
    f = Frontier(0, TINY)
    try:
        for n in range(1, 21):
            f.push(_request(n, 0, Kind.PAGE if n % 3 else Kind.CHECK, 0))
        got = []
        while f.has_work(HOSTS[0]):
            got.append(f.pop(HOSTS[0]).id)
        checks = [n for n in range(1, 21) if n % 3 == 0]
        assert got == checks + [n for n in range(1, 21) if n % 3]
    finally:
        f.close()


# -- UrlIndex: exact ids whatever the hash ---------------------------------------------------

URLS = st.lists(st.sampled_from([f"http://h/{c}" for c in "abcdefghijklmnop"] + ["http://中/"]))


def _colliding(url: str) -> int:
    return len(url) % 2  # every URL shares its hash with about half the others


def _strong2(url: str) -> int:
    return hash(url + "\x00") & 0xFFFFFFFF


class _Model:
    def __init__(self, base: int) -> None:
        self.ids: dict[str, int] = {}
        self.last = base

    def get(self, url: str) -> tuple[int, bool]:
        if url in self.ids:
            return self.ids[url], False
        self.last += 1
        self.ids[url] = self.last
        return self.last, True


HASHERS = st.sampled_from(
    [
        (hash, _strong2),
        (_colliding, _strong2),  # the table hash collides: the second hash tells them apart
        (lambda u: 0, _strong2),  # every URL in one probe run
        (hash, lambda u: 0),  # the second hash collides: the first tells them apart
        (hash, _colliding),
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    batches=st.lists(URLS, max_size=30),
    limit=st.integers(1, 6),
    flush=st.integers(1, 4),
    base=BASES,
    hashers=HASHERS,
)
def test_url_index_is_exact_under_hash_collisions(
    batches: list[list[str]], limit: int, flush: int, base: int, hashers: tuple[object, object]
) -> None:
    spill = _spill_file()
    try:
        h1, h2 = hashers
        index = UrlIndex(base, spill, limit=limit, flush=flush, hasher=h1, hasher2=h2)  # type: ignore[arg-type]
        model = _Model(base)
        for i, batch in enumerate(batches):
            if i % 2:
                got = index.get_many(batch)
            else:
                got = [index.get(u) for u in batch]
            assert got == [model.get(u) for u in batch]
            assert len(index) == len(model.ids)
        for url, url_id in model.ids.items():
            assert index.known(url) == url_id
            assert index.url_of(url_id) == url
        assert index.known("http://h/never") is None
        assert index.urls_of([*model.ids.values(), base + 10**6]) == {
            v: k for k, v in model.ids.items()
        }
    finally:
        spill.close()


def test_url_index_turns_compact_and_stays_exact(spill: SpillFile) -> None:
    base = 5 << 32
    index = UrlIndex(base, spill, limit=100, flush=10, hasher=lambda u: hash(u) % 7)
    urls = [f"http://h/{i}" for i in range(3000)]
    ids = index.get_many(urls)
    assert index.compact
    assert [i for i, _ in ids] == list(range(base + 1, base + 3001))
    assert all(new for _, new in ids)
    again = index.get_many(urls[::-1])
    assert again == [(i, False) for i, _ in ids[::-1]]
    assert index.get("http://h/new") == (base + 3001, True)
    assert index.urls_of([base + 1, base + 3000, base + 3001]) == {
        base + 1: urls[0],
        base + 3000: urls[-1],
        base + 3001: "http://h/new",
    }


@pytest.mark.parametrize("limit", [2, 100])
def test_url_index_restores_ids_with_gaps_then_goes_on(spill: SpillFile, limit: int) -> None:
    index = UrlIndex(100, spill, limit=limit, flush=1)
    index.restore("http://h/a", 101)
    index.restore("http://h/c", 104)  # 102, 103 were given to URLs that were not journalled
    index.restore("http://h/d", 107)
    assert index.get("http://h/c") == (104, False)
    assert index.get("http://h/e") == (108, True)
    assert index.url_of(103) is None
    assert index.urls_of([101, 102, 107, 108]) == {
        101: "http://h/a",
        107: "http://h/d",
        108: "http://h/e",
    }
    for _ in range(3):
        index.get_many([f"http://h/x{i}" for i in range(10)])
    assert index.known("http://h/a") == 101
    assert index.known("http://h/d") == 107
    assert index.url_of(104) == "http://h/c"
    assert len(index) == 4 + 10


# -- PendingRefs -----------------------------------------------------------------------------

REF_OPS = st.lists(
    st.tuples(
        st.sampled_from(["add", "add", "pop", "discard"]),
        st.integers(1, 8),
        st.integers(0, 3),
        st.integers(1, 50),
        st.sampled_from(["a", "img", "link"]),
    ),
    max_size=200,
)


@settings(max_examples=200, deadline=None)
@given(ops=REF_OPS, limit=st.integers(1, 5), base=BASES)
def test_pending_refs_answer_like_a_dict(
    ops: list[tuple[str, int, int, int, str]], limit: int, base: int
) -> None:
    spill = _spill_file()
    try:
        refs = PendingRefs(base, spill, limit=limit)
        model: dict[int, list[tuple[int, int, str]]] = {}

        def pop_all(target: int) -> list[tuple[int, int, str]]:
            held, spilled = refs.pop(target)
            older = refs.collect([target]).get(target, []) if spilled else []
            return older + held

        for op, t, site, page, tag in ops:
            target = base + t
            if op == "add":
                refs.add(target, (site, base + page, tag))
                model.setdefault(target, []).append((site, base + page, tag))
            elif op == "pop":
                assert pop_all(target) == model.pop(target, [])
            else:
                refs.discard(target)
                model.pop(target, None)
            assert len(refs) < limit
            for u in range(1, 9):
                assert ((base + u) in refs) == ((base + u) in model)
        for target in sorted(model):
            assert pop_all(target) == model[target]
    finally:
        spill.close()


def test_pending_refs_collect_many_targets_over_many_runs(spill: SpillFile) -> None:
    refs = PendingRefs(0, spill, limit=7)
    model: dict[int, list[tuple[int, int, str]]] = {}
    for n in range(500):
        target, ref = 1 + n * 7 % 40, (n % 3, 1000 + n, "a")
        refs.add(target, ref)
        model.setdefault(target, []).append(ref)
    assert refs.runs > 10
    popped = {t: refs.pop(t) for t in range(1, 41)}
    older = refs.collect([t for t, (_, spilled) in popped.items() if spilled])
    for t, (held, _) in popped.items():
        assert older.get(t, []) + held == model.get(t, [])


# -- IdBytes ---------------------------------------------------------------------------------


@given(
    writes=st.lists(st.tuples(st.integers(1, 5000), st.integers(0, 254)), max_size=100),
    base=BASES,
)
def test_id_bytes_answer_like_a_dict(writes: list[tuple[int, int]], base: int) -> None:
    a = IdBytes(base)
    model: dict[int, int] = {}
    for offset, value in writes:
        a[base + offset] = value
        model[base + offset] = value
    for offset in range(0, 5002, 7):
        assert a.get(base + offset, 1) == model.get(base + offset, 1)
    for k, v in model.items():
        assert a[k] == v
        assert k in a
    assert a.get(base - 3) is None  # below the range: never stored, never an index


def test_the_spill_file_is_made_on_first_use_and_removed_on_close(tmp_path: Path) -> None:
    f = Frontier(0, SpillLimits(urls=2, directory=str(tmp_path)))
    f.url_ids(["http://h/1"])
    assert not f.spilled
    assert os.listdir(tmp_path) == []
    f.url_ids(["http://h/2", "http://h/3"])
    assert f.spilled
    assert len(os.listdir(tmp_path)) == 1
    f.close()
    assert os.listdir(tmp_path) == []
