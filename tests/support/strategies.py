"""Hypothesis strategies shared by the tests."""

from __future__ import annotations

from hypothesis import strategies as st

MARKUP_FRAGMENTS = st.sampled_from(
    [
        "<table>", "</table>", "<tr>", "<td>", "</td>", "<th>", "<ul>", "<li>", "<dl>", "<dt>",
        "<dd>", "<div class=\"nav\">", "<div style=\"display:none\">", "</div>", "<span>",
        "</span>", "<a href=\"t1.html\">", "<a href=\"http://x.test/\">", "</a>", "<br>",
        "<style>.a{display:none}</style>", "留言时间：", "答复时间", "答复单位：", "状态：",
        "已回复", "未回复", "办理中", "2020-05-08", "2020年5月15日", "06-11", "区城管局",
        "设定依据", "收费标准：无", "〔2020〕12号", "《某某办法》", "不忘出心", "13912345678",
        "：", " ", "\n", "咨询",
    ]
)  # fmt: skip
RANDOM_MARKUP = st.lists(MARKUP_FRAGMENTS, max_size=40).map("".join)
"""Random markup built from the pieces government pages are made of (tables, lists, hidden
boxes, labels, dates, document numbers, phone numbers): every reader must take it."""
