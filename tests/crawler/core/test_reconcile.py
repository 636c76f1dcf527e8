"""A scan shared out (queue jobs, ``scan --processes``) matches policies with interpretations
across all its parts at the end, so it ends with the findings one process gives."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from checks.interpretation import Doc, unmatched_policies
from checks.page_checks import doc_from_json, doc_to_json, reconcile_interpretations

AS_OF = dt.date(2020, 6, 16)


def _policy(site: str, n: int, day: dt.date = dt.date(2020, 3, 1)) -> Doc:
    return Doc(
        url=f"http://{site}.test/zcwj/{n}.html",
        title=f"关于印发{site}第{n}号实施方案的通知",
        published=day,
        number=f"江滨{site}发〔2020〕{n}号",
    )


def _interpretation(policy: Doc, *, link: bool) -> Doc:
    return Doc(
        url=policy.url.replace("zcwj", "zcjd"),
        title=f"《{policy.title}》政策解读",
        published=policy.published,
        text=f"现就{policy.number}解读如下。",
        source_links=(policy.url,) if link else (),
    )


def test_another_sites_interpretation_withdraws_a_finding() -> None:
    portal_own = _policy("portal", 1)
    dept_a, dept_b = _policy("fgj", 2), _policy("fgj", 3)
    # the portal interprets its own file and one of the department's; nobody interprets dept_b
    interpretations = [
        _interpretation(portal_own, link=True),
        _interpretation(dept_a, link=False),
    ]
    policies = {"portal": [portal_own], "fgj": [dept_a, dept_b]}
    explained = reconcile_interpretations(policies, interpretations, AS_OF)
    assert explained == {"portal": {portal_own.url}, "fgj": {dept_a.url}}
    # what stays is what one process would report
    every = unmatched_policies(
        [dept_a, dept_b], interpretations, since=AS_OF - dt.timedelta(days=365), until=AS_OF
    )
    assert [d.url for d in every] == [dept_b.url]


def test_policies_outside_the_window_are_left_alone() -> None:
    old = _policy("fgj", 4, dt.date(2018, 1, 1))
    explained = reconcile_interpretations({"fgj": [old]}, [_interpretation(old, link=True)], AS_OF)
    assert explained == {}  # never reported, so nothing to withdraw


def test_nothing_to_withdraw_without_interpretations() -> None:
    assert reconcile_interpretations({"fgj": [_policy("fgj", 5)]}, [], AS_OF) == {}


_text = st.text(max_size=30)


@given(
    url=_text,
    title=_text,
    published=st.none() | st.dates(),
    text=_text,
    number=st.none() | _text,
    links=st.lists(_text, max_size=3),
    sources=st.lists(_text, max_size=3),
)
def test_documents_survive_json(
    url: str,
    title: str,
    published: dt.date | None,
    text: str,
    number: str | None,
    links: list[str],
    sources: list[str],
) -> None:
    doc = Doc(url, title, published, text, number, tuple(links), tuple(sources))
    assert doc_from_json(doc_to_json(doc)) == doc
