"""大汉 Hanweb JCMS: a column's rows in ``<datastore>`` records, later groups by POST to its
``dataproxy.jsp`` (see :mod:`checks.readers.jsread`). Pure."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crawler.net.urls import canonicalize

_DATASTORE = re.compile(
    r"<script\b[^>]*\btype\s*=\s*[\"']?text/xml[\"']?[^>]*>\s*(<datastore\b.*?</datastore>)"
    r"\s*</script\s*>",
    re.IGNORECASE | re.DOTALL,
)
_RECORD = re.compile(r"<record\b[^>]*>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.IGNORECASE | re.S)
_NEXTGROUP = re.compile(r"<nextgroup\b[^>]*>\s*<!\[CDATA\[(.*?)\]\]>", re.IGNORECASE | re.DOTALL)
_TOTALRECORD = re.compile(r"<totalrecord>\s*([0-9]{1,9})\s*<", re.IGNORECASE)
_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_JPAGE_SETTING = re.compile(
    r"\b(totalRecord|perPage|groupSize)\s*[:=]\s*['\"]?([0-9]{1,9})", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Datastore:
    """One ``<script type="text/xml"><datastore>`` of a page: where it is in the page's text
    (the whole script element), its rows, and its ``nextgroup`` link (the dataproxy URL with
    the column's parameters), if any."""

    start: int
    end: int
    records: tuple[str, ...]
    nextgroup: str | None
    total: int | None


def parse_datastore(xml: str) -> tuple[list[str], str | None, int | None]:
    """The rows, the ``nextgroup`` link and the ``totalrecord`` of a datastore document."""
    records = [m.group(1).strip() for m in _RECORD.finditer(xml)]
    nextgroup = None
    found = _NEXTGROUP.search(xml)
    if found is not None:
        href = _HREF.search(found.group(1))
        nextgroup = html.unescape(href.group(1)) if href is not None else None
    total = _TOTALRECORD.search(xml)
    return records, nextgroup, int(total.group(1)) if total else None


def hanweb_datastores(text: str) -> list[Datastore]:
    """Every datastore of a Hanweb page, in page order."""
    if "datastore" not in text:
        return []
    out = []
    for match in _DATASTORE.finditer(text):
        records, nextgroup, total = parse_datastore(match.group(1))
        out.append(Datastore(match.start(), match.end(), tuple(records), nextgroup, total))
    return out


def jpage_settings(text: str) -> dict[str, int]:
    """``totalRecord``, ``perPage`` and ``groupSize`` of the page's ``jpage`` call (lower-cased
    keys), as far as it says them."""
    out: dict[str, int] = {}
    for match in _JPAGE_SETTING.finditer(text):
        out.setdefault(match.group(1).lower(), int(match.group(2)))
    return out


def dataproxy_request(
    page_url: str, nextgroup: str, start: int, end: int, per_page: int
) -> tuple[str, bytes] | None:
    """The POST a jpage script sends for rows ``start``…``end``: its URL and its form body."""
    link = canonicalize(nextgroup, page_url)
    if link is None:
        return None
    head, _, query = link.partition("?")
    fields = [p for p in query.split("&") if p and not p.startswith("page=")]
    if not any(p.startswith("col=") for p in fields):
        fields.insert(0, "col=1")
    if not any(p.startswith("sourceContentType=") for p in fields):
        at = next((i + 1 for i, p in enumerate(fields) if p.startswith("columnid=")), len(fields))
        fields.insert(at, "sourceContentType=1")
    url = f"{head}?startrecord={start}&endrecord={end}&perpage={per_page}"
    return url, "&".join(fields).encode("ascii", "replace")


def inline_datastores(
    text: str, stores: Sequence[Datastore], extra: Mapping[int, list[str]]
) -> str:
    """The page with each datastore's script replaced by its rows (and the rows fetched for it
    later, ``extra`` by its index), as a browser shows them once jpage has run."""
    out = []
    at = 0
    for i, store in enumerate(stores):
        rows = [*store.records, *extra.get(i, [])]
        out.append(text[at : store.start])
        joined = "\n".join(rows)
        if rows and rows[0].lstrip()[:3].lower() == "<tr":  # table rows keep their table
            joined = f"<table>{joined}</table>"
        out.append(joined)
        at = store.end
    out.append(text[at:])
    return "".join(out)
