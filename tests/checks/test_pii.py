"""Leaked personal data: ID numbers that pass the GB 11643 checksum with a plausible birth date,
mobile numbers outside longer digit runs; masked numbers and published contacts are not leaks."""

from __future__ import annotations

import datetime as _dt
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from checks.pii import ID_NUMBER, MOBILE, find_pii, id_check_char, is_valid_id, mask, scan_page
from checks.pii import find_pii as _find
from tests.support.realdata import manifest, needs_realdata
from tests.support.strategies import RANDOM_MARKUP

TODAY = dt.date(2020, 6, 16)


def make_id(first17: str) -> str:
    return first17 + id_check_char(first17)


VALID = make_id("44070319900615123")  # 440703199006151230
STANDARD_EXAMPLE = "11010519491231002X"  # the example of GB 11643-1999


def test_checksum() -> None:
    assert is_valid_id(STANDARD_EXAMPLE, today=TODAY)
    assert is_valid_id(STANDARD_EXAMPLE.lower(), today=TODAY)
    assert is_valid_id(VALID, today=TODAY)
    wrong = VALID[:17] + ("1" if VALID[17] != "1" else "2")
    assert not is_valid_id(wrong, today=TODAY)
    with pytest.raises(ValueError, match="17 digits"):
        id_check_char("1234")


@pytest.mark.parametrize(
    "number",
    [
        make_id("44070320300615123"),  # born after the day of the check
        make_id("44070318800615123"),  # born before 1900
        make_id("44070319900230123"),  # 30 February
        make_id("44070319901315123"),  # month 13
        make_id("99070319900615123"),  # no such province
        "4407031990061512",  # too short
    ],
)
def test_implausible_numbers_are_not_ids(number: str) -> None:
    assert not is_valid_id(number, today=TODAY)


def test_ids_and_mobiles_in_text() -> None:
    text = f"申请人：张三，身份证号：{VALID}，住址：江滨路1号；李四 13912345678 已登记。"
    hits = find_pii(text, today=TODAY)
    assert [(h.kind, h.masked) for h in hits] == [
        (ID_NUMBER, "440703********1230"),
        (MOBILE, "139****5678"),
    ]
    assert VALID not in hits[0].context
    assert "440703********1230" in hits[0].context
    assert "13912345678" not in hits[1].context
    assert hits[0].detail() == {
        "kind": ID_NUMBER,
        "text": "440703********1230",
        "context": hits[0].context,
    }


@pytest.mark.parametrize(
    "text",
    [
        "身份证号：440703********1230",  # masked
        "身份证号：440703199006******",  # masked
        "手机：139****5678",  # masked
        "联系电话：139 **** 5678",
        f"订单号：{VALID}8",  # inside a longer run of digits
        f"编号A{VALID}",
        f"附件：/files/{VALID}.pdf",
        f"http://www.district.test/t_{VALID}.html",
        "流水号 2013912345678",
        "流水号 139123456780",
        VALID[:17] + ("1" if VALID[17] != "1" else "2"),  # fails the checksum
        "文号：江府办〔2020〕12号，电话 0750-3123456，邮编 529000",
    ],
)
def test_not_leaks(text: str) -> None:
    assert find_pii(text, today=TODAY) == []


def test_published_contacts_are_not_leaks_unless_asked() -> None:
    text = "咨询电话：13912345678（王科长）。联系人：李四，手机 13800138000。"
    assert find_pii(text, today=TODAY) == []
    both = find_pii(text, today=TODAY, include_contacts=True)
    assert [h.masked for h in both] == ["139****5678", "138****8000"]


def test_spaced_and_hyphenated_mobiles() -> None:
    hits = find_pii("车主 139 1234 5678，车主 139-1234-5679", today=TODAY)
    assert [h.masked for h in hits] == ["139****5678", "139****5679"]


def test_a_mobile_inside_an_id_is_not_reported_twice() -> None:
    inner = make_id("13910519900615123")  # a Hebei number: starts like a mobile number
    assert [h.kind for h in find_pii(f"号码 {inner}", today=TODAY)] == [ID_NUMBER]


def test_page_tables_and_footers() -> None:
    html = f"""<html><body><div class="article"><table>
    <tr><th>姓名</th><th>身份证号</th><th>联系电话</th></tr>
    <tr><td>张三</td><td>{VALID}</td><td>13912345678</td></tr>
    <tr><td>李四</td><td>{STANDARD_EXAMPLE}</td><td>139****0000</td></tr></table></div>
    <div class="footer">值班手机：13800138000 地址：江滨路1号</div></body></html>"""
    hits = scan_page(LexborHTMLParser(html), today=TODAY)
    assert [(h.kind, h.masked) for h in hits] == [
        (ID_NUMBER, "440703********1230"),
        (MOBILE, "139****5678"),  # a column of people's numbers: not a published contact
        (ID_NUMBER, "110105********002X"),
    ]


def test_mask() -> None:
    assert mask(VALID) == "440703********1230"
    assert mask("139 1234 5678") == "139****5678"
    assert mask("12345") == "*****"


_FIRST17 = st.builds(
    lambda province, area, born, seq: f"{province}{area:04d}{born:%Y%m%d}{seq:03d}",
    st.sampled_from(["11", "31", "44", "65", "81"]),
    st.integers(0, 9999),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY),
    st.integers(0, 999),
)


@given(_FIRST17)
def test_checksum_round_trip(first17: str) -> None:
    number = make_id(first17)
    assert is_valid_id(number, today=TODAY)
    assert [h.masked for h in find_pii(f"号码：{number}。", today=TODAY)] == [mask(number)]
    for other in "0123456789X":
        if other != number[17]:
            assert not is_valid_id(first17 + other, today=TODAY)


@needs_realdata
def test_real_pages_leak_nothing() -> None:
    for real in manifest():
        encoding = "utf-8" if real.actual_encoding == "utf-8" else "gb18030"
        tree = LexborHTMLParser(real.path.read_bytes().decode(encoding, "replace"))
        assert scan_page(tree, today=dt.date(2025, 1, 1)) == [], real.path.name


HTML = RANDOM_MARKUP


@settings(max_examples=200, deadline=None)
@given(HTML)
def test_any_markup_reads_without_error(html: str) -> None:
    for hit in scan_page(LexborHTMLParser(html), today=TODAY):
        assert hit.masked == "139****5678"


def test_no_number_is_repeated_in_clear_in_any_context() -> None:

    text = "申请人身份证号11010519491231002X，本人号码13812345678，办公电话075012345678。"
    hits = _find(text, today=_dt.date(2020, 6, 16))
    assert len(hits) == 2
    for hit in hits:
        assert "13812345678" not in hit.context
        assert "11010519491231002X" not in hit.context
        assert "075012345678" not in hit.context
