"""Personal data leaked on pages: resident ID numbers and mobile numbers. Pure.

* **ID numbers**: 18 characters (17 digits and a check character, a digit or X) that pass the
  GB 11643-1999 checksum (ISO 7064 MOD 11-2), start with a real province code and carry a
  plausible birth date (a real day, from 1900 up to the day of the check). A number inside a
  longer run of digits or letters (an order number, a file name, a URL) is not one.
* **Mobile numbers**: 11 digits ``1[3-9]xxxxxxxxx`` (spaces or hyphens allowed as 3-4-4), not
  inside a longer run of digits and not part of an ID number. A number given as a contact
  (联系电话：…, 咨询电话 …, 手机：… just before it) is published on purpose, not leaked:
  it is left out unless ``include_contacts`` is set.
* Masked numbers (``110105********1234``, ``138****5678``) are how a page shows them safely:
  they never match.

Hits carry the number masked the same way (the report must not leak it again) and a context
snippet with the number masked.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from selectolax.lexbor import LexborHTMLParser, LexborNode

from checks.readers.text import page_lines

ID_NUMBER: Final = "id_number"
MOBILE: Final = "mobile"

_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS: Final = "10X98765432"
# province-level codes (GB/T 2260), the first two digits of every ID number
_PROVINCES: Final = frozenset(
    {
        11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
        50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83, 91,
    }
)  # fmt: skip
# not inside a longer run of digits or letters, a masked number, a URL or a file name
_ID = re.compile(r"(?<![0-9A-Za-z*_/=])([1-9]\d{16}[0-9Xx])(?![0-9A-Za-z*_/=])")
_MOBILE = re.compile(r"(?<![0-9A-Za-z*_/=])(1[3-9]\d[- ]?\d{4}[- ]?\d{4})(?![0-9A-Za-z*_/=])")
_CONTACT = re.compile(
    r"(?:联系电话|咨询电话|联系方式|联系手机|手机号码|手机号|手机|电话|热线|联系人|举报电话|"
    r"监督电话|投诉电话|值班电话|服务电话|办公电话|传真|tel|phone)"
    r"[^，。；;\n]{0,12}$",
    re.IGNORECASE,
)
CONTEXT_CHARS: Final = 20


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of an ID number."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("17 digits expected")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def is_valid_id(number: str, *, today: dt.date | None = None) -> bool:
    """Whether ``number`` is a valid 18-character resident ID number (see the module notes)."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    if int(number[:2]) not in _PROVINCES:
        return False
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if born.year < 1900 or born > (today or dt.date.today()):
        return False
    return id_check_char(number[:17]) == number[17].upper()


def mask(number: str) -> str:
    """``110105********1234`` for an ID number, ``138****5678`` for a mobile number."""
    digits = re.sub(r"[- ]", "", number)
    if len(digits) == 18:
        return digits[:6] + "*" * 8 + digits[14:]
    if len(digits) == 11:
        return digits[:3] + "****" + digits[7:]
    return "*" * len(digits)


@dataclass(frozen=True, slots=True)
class PiiHit:
    kind: str  # ID_NUMBER or MOBILE
    masked: str
    context: str  # ±20 characters, the number masked
    start: int

    def detail(self) -> dict[str, str]:
        return {"kind": self.kind, "text": self.masked, "context": self.context}


# What every ID number (17 digits in a row, the first not 0) and every mobile number holds: one
# search for it passes over most pages without running the patterns above.
_CANDIDATE = re.compile(r"[1-9]\d{16}|1[3-9]\d[- ]?\d{4}[- ]?\d{4}")
_LONG_NUMBER = re.compile(r"\d{11,17}[\dXx]?")


def _mask_numbers(text: str) -> str:
    """``text`` with every long number masked, keeping its length (so offsets stay valid):
    evidence must never repeat a number in clear, not even a neighbour of the hit."""

    def hide(match: re.Match[str]) -> str:
        s = match.group()
        keep = 6 if len(s) >= 15 else 3
        return s[:keep] + "*" * (len(s) - keep - 4) + s[-4:]

    return _LONG_NUMBER.sub(hide, text)


def _context(text: str, start: int, end: int, masked: str) -> str:
    """``text`` must already be masked (see :func:`_mask_numbers`)."""
    before = text[max(0, start - CONTEXT_CHARS) : start]
    after = text[end : end + CONTEXT_CHARS]
    return " ".join(f"{before}{masked}{after}".split())


def find_pii(
    text: str, *, today: dt.date | None = None, include_contacts: bool = False
) -> list[PiiHit]:
    """ID numbers and mobile numbers in ``text``, in order (see the module notes)."""
    hits: list[PiiHit] = []
    taken: list[tuple[int, int]] = []
    if _CANDIDATE.search(text) is None:
        return hits  # nothing that could be an ID or a mobile number
    shown = _mask_numbers(text)
    for match in _ID.finditer(text):
        number = match.group(1)
        if is_valid_id(number, today=today):
            start, end = match.span(1)
            masked = mask(number)
            hits.append(PiiHit(ID_NUMBER, masked, _context(shown, start, end, masked), start))
            taken.append((start, end))
    for match in _MOBILE.finditer(text):
        start, end = match.span(1)
        if any(s <= start < e for s, e in taken):
            continue
        if not include_contacts:
            line_start = text.rfind("\n", 0, start) + 1
            if _CONTACT.search(text[max(line_start, start - 16) : start]):
                continue
        masked = mask(match.group(1))
        hits.append(PiiHit(MOBILE, masked, _context(shown, start, end, masked), start))
    hits.sort(key=lambda h: h.start)
    return hits


def find_pii_lines(
    lines: Sequence[str], *, today: dt.date | None = None, include_contacts: bool = False
) -> list[PiiHit]:
    return find_pii("\n".join(lines), today=today, include_contacts=include_contacts)


def scan_page(
    root: LexborHTMLParser | LexborNode,
    *,
    today: dt.date | None = None,
    include_contacts: bool = False,
) -> list[PiiHit]:
    """Personal data in a page's main text (navigation, headers and footers skipped)."""
    return find_pii_lines(page_lines(root), today=today, include_contacts=include_contacts)
