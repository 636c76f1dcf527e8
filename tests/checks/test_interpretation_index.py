"""Interpretations are read once per scan: matching many sites' policies against them gives the
same answers as reading them again for each site, and normalises each of them only once."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks import interpretation
from checks.base import PageView, ScanContext
from checks.interpretation import (
    _MENTION,
    MIN_TITLE_CONTAINED,
    Doc,
    DocNumber,
    Interpretations,
    Match,
    _policy_number,
    core_title,
    find_doc_numbers,
    match_interpretations,
    normalize_title,
    unmatched_policies,
)
from checks.page_checks import PolicyCheck
from checks.readers.extract import parse_html
from crawler.config import load_config
from crawler.net.urls import canonicalize

SITE = "http://www.district.test"


def reference_match(policies: Sequence[Doc], interpretations: Sequence[Doc]) -> list[Match]:
    """The matcher as it was: every interpretation read again on each call."""
    linked_from: dict[str, str] = {}
    for interp in interpretations:
        for url in interp.source_links:
            linked_from.setdefault(url, interp.url)
    corpora = [normalize_title(f"{i.title}\n{i.text}") for i in interpretations]
    mentions = [
        {normalize_title(m) for m in _MENTION.findall(f"{i.title}\n{i.text}")}
        for i in interpretations
    ]
    cited = [find_doc_numbers(f"{i.title}\n{i.text}") for i in interpretations]
    numbers = {p.url: _policy_number(p) for p in policies}
    by_year_number: Counter[tuple[int, int]] = Counter(
        (n.year, n.number) for n in numbers.values() if n is not None
    )
    out: list[Match] = []
    for policy in policies:
        url = canonicalize(policy.url) or policy.url
        if policy.interpretation_links:
            out.append(Match(policy.url, None, "link"))
            continue
        if url in linked_from or policy.url in linked_from:
            out.append(Match(policy.url, linked_from.get(url, linked_from.get(policy.url)), "link"))
            continue
        names = {normalize_title(policy.title)}
        core = core_title(policy.title)
        if core:
            names.add(core)
        names.discard("")
        pairs = zip(interpretations, mentions, strict=True)
        found = next((i.url for i, said in pairs if names & said), None)
        if found is None:
            long_names = [n for n in names if len(n) >= MIN_TITLE_CONTAINED]
            found = next(
                (
                    i.url
                    for i, corpus in zip(interpretations, corpora, strict=True)
                    if any(n in corpus for n in long_names)
                ),
                None,
            )
        if found is not None:
            out.append(Match(policy.url, found, "title"))
            continue
        number = numbers[policy.url]
        if number is None:
            continue
        unique = by_year_number[(number.year, number.number)] == 1
        hit = _reference_number(number, interpretations, cited, unique)
        if hit is not None:
            out.append(Match(policy.url, hit, "number"))
    return out


def _reference_number(
    number: DocNumber, interps: Sequence[Doc], cited: Sequence[list[DocNumber]], unique: bool
) -> str | None:
    for interp, numbers in zip(interps, cited, strict=True):
        for n in numbers:
            if not n.prefix or not number.prefix:
                if unique and (n.year, n.number) == (number.year, number.number):
                    return interp.url
            elif n.same_as(number):
                return interp.url
    return None


# A small vocabulary, so that titles, 《》 names, numbers and links collide often.
TITLES = [
    "江滨区促进就业若干措施",
    "关于印发《江滨区促进就业若干措施》的通知",
    "江滨区老旧小区改造工作实施方案",
    "关于做好防汛工作的通知",
    "营商环境优化方案",
    "关于印发《营商环境优化方案》的通知",
    "办法",
    "",
]
PREFIXES = ["", "江滨府", "江滨府办", "根据江滨府办", "办"]
NUMBERS = st.builds(
    lambda prefix, year, n: f"{prefix}〔{year}〕{n}号",
    st.sampled_from(PREFIXES),
    st.sampled_from([2019, 2020]),
    st.integers(1, 3),
)
TEXT_PARTS = st.one_of(
    st.sampled_from(TITLES).map(lambda t: f"《{t}》"),
    st.sampled_from(TITLES),
    NUMBERS,
    st.sampled_from(["现解读如下", "一图读懂", "（", "）", " "]),
)
URLS = st.integers(0, 20).map(lambda n: f"{SITE}/zcwj/t{n}.html")


@st.composite
def policies(draw: st.DrawFn) -> list[Doc]:
    count = draw(st.integers(0, 6))
    return [
        Doc(
            url=f"{SITE}/zcwj/t{n}.html",
            title=draw(st.sampled_from([*TITLES, f"关于第{n}件事项的通知"]))
            + draw(st.sampled_from(["", "（江滨府办〔2020〕1号）"])),
            number=draw(st.none() | NUMBERS),
            interpretation_links=draw(st.sampled_from([(), (), (), (f"{SITE}/zcjd/t9.html",)])),
        )
        for n in range(count)
    ]


@st.composite
def interpretations(draw: st.DrawFn) -> list[Doc]:
    count = draw(st.integers(0, 6))
    return [
        Doc(
            url=f"{SITE}/zcjd/t{n}.html",
            title="".join(draw(st.lists(TEXT_PARTS, max_size=3))),
            text="".join(draw(st.lists(TEXT_PARTS, max_size=6))),
            source_links=tuple(draw(st.lists(URLS, max_size=2))),
        )
        for n in range(count)
    ]


@settings(max_examples=400, deadline=None)
@given(policies(), interpretations())
def test_prepared_interpretations_match_as_before(policies: list[Doc], interps: list[Doc]) -> None:
    expected = reference_match(policies, interps)
    assert match_interpretations(policies, interps) == expected
    index = Interpretations(interps)
    assert match_interpretations(policies, index) == expected
    assert match_interpretations(policies, index) == expected  # reusable
    assert unmatched_policies(policies, index) == unmatched_policies(policies, interps)


def test_interpretations_added_one_by_one_equal_all_at_once() -> None:
    interps = [
        Doc(
            f"{SITE}/zcjd/a.html",
            "《江滨区促进就业若干措施》解读",
            source_links=(f"{SITE}/p.html",),
        ),
        Doc(
            f"{SITE}/zcjd/b.html",
            "解读",
            text="江滨府办〔2020〕1号",
            source_links=(f"{SITE}/p.html",),
        ),
    ]
    index = Interpretations()
    for doc in interps:
        index.add(doc)
    assert len(index) == 2
    assert index.docs == interps
    assert index.linking(f"{SITE}/p.html") == f"{SITE}/zcjd/a.html"  # the first that links it
    policy = Doc(f"{SITE}/q.html", "江滨区促进就业若干措施")
    assert index.by_title(policy) == f"{SITE}/zcjd/a.html"
    assert index.by_number(DocNumber("江滨府办", 2020, 1), unique=False) == f"{SITE}/zcjd/b.html"


# --- each interpretation is normalised once, however many sites -----------------------------


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Calls of normalize_title and find_doc_numbers, by argument."""
    calls: Counter[str] = Counter()

    def wrap(name: str) -> None:
        real: Callable[[str], Any] = getattr(interpretation, name)

        def counting(text: str) -> Any:
            calls[text] += 1
            return real(text)

        monkeypatch.setattr(interpretation, name, counting)

    wrap("normalize_title")
    wrap("find_doc_numbers")
    return calls


INTERPS = [
    Doc(
        url=f"{SITE}/zcjd/t{n}.html",
        title=f"《江滨区第{n}项工作方案》政策解读",
        text=f"近日，区政府印发了江滨府办〔2020〕{n}号文件，现解读如下。" * 20,
    )
    for n in range(12)
]


def _said(doc: Doc) -> str:
    return f"{doc.title}\n{doc.text}"


def test_many_sites_normalise_each_interpretation_once(counted: Counter[str]) -> None:
    index = Interpretations(INTERPS)
    for site in range(30):
        policies = [
            Doc(f"{SITE}/s{site}/zcwj/t{n}.html", f"江滨区第{site * 3 + n}项工作方案")
            for n in range(3)
        ]
        unmatched_policies(policies, index)
    # normalize_title once on each whole text, find_doc_numbers once on each
    assert all(counted[_said(doc)] == 2 for doc in INTERPS)


@dataclass
class _Column:
    category: str
    unit: str = "区政府办公室"
    name: str = "政策文件"


class _Columns:
    """The little of ColumnCheck that PolicyCheck asks: which column a page is an item of."""

    def item_column(self, url: str) -> _Column | None:
        return _Column("interpretation" if "/zcjd/" in url else "policy")

    def list_column(self, site: object, page: object) -> None:
        return None

    def item_date(self, url: str) -> dt.date:
        return dt.date(2020, 5, 1)


def test_policy_check_reads_each_interpretation_once(tmp_path: Path, counted: Counter[str]) -> None:
    sites = 6
    path = tmp_path / "g.toml"
    path.write_text(
        "as_of = 2020-06-30\n"
        + "".join(f'[[site]]\nid = "s{n}"\nurl = "http://h{n}.test/"\n' for n in range(sites)),
        encoding="utf-8",
    )
    config = load_config(path)
    context = ScanContext(config, dt.datetime(2020, 6, 30, tzinfo=dt.UTC))
    check = PolicyCheck(context, _Columns())  # type: ignore[arg-type]

    def page(url: str, title: str, body: str) -> PageView:
        html = (
            f'<html><head><meta name="ArticleTitle" content="{title}"></head>'
            f"<body><div class='content'><p>{body}</p></div></body></html>"
        )
        return PageView(url, url, 200, 2, False, parse_html(url, html))

    for n, site in enumerate(config.sites):
        for k in range(2):
            number = n * 2 + k
            view = page(
                f"{site.url}zcjd/t{k}.html",
                f"《江滨区第{number}项工作方案》解读",
                f"江滨府办〔2020〕{number}号现解读如下",
            )
            assert list(check.on_page(site, view)) == []
        for k in range(3):
            view = page(f"{site.url}zcwj/t{k}.html", f"江滨区第{n * 3 + k}项工作方案", "正文")
            assert list(check.on_page(site, view)) == []
    texts = [_said(doc) for doc in check._interpretations.docs]
    assert len(texts) == 2 * sites
    assert all(counted[text] == 2 for text in texts)  # normalised when recorded
    counted.clear()
    found = [f for site in config.sites for f in check.finish(site)]
    # the interpretations were read when recorded; finishing 6 sites reads none of them again
    assert all(counted[text] == 0 for text in texts)
    # and the findings are those of matching each site against every interpretation afresh
    expected = {
        doc.url
        for site in config.sites
        for doc in [
            Doc(f"{site.url}zcwj/t{k}.html", f"江滨区第{int(site.id[1:]) * 3 + k}项工作方案")
            for k in range(3)
        ]
        if doc.url not in {m.policy for m in reference_match([doc], check._interpretations.docs)}
    }
    assert {f.url for f in found} == expected
    assert 0 < len(expected) < 3 * sites
    assert all(f.detail["interpretations_seen"] == 2 * sites for f in found)
