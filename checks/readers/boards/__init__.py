"""Message boards (互动交流, 领导信箱, 咨询投诉), read. Pure.

Boards come in every layout, so fields are found by their *labels*, not by position:

* a list page (:func:`read_message_list`) is read from a table whose header row names the
  columns (标题 / 留言时间 / 状态 / 答复时间 / 答复单位 ...), or else row by row: every link to a
  message whose enclosing row (``<tr>``, ``<li>``, ``<div>`` ...) carries a date; in such a row
  ``留言时间：…`` / ``状态：…`` labels are read when present, else the first date is the date asked
  and a status word (已回复 / 未回复 / 办理中 / 已办结 ...) anywhere in the row is its status;
* a detail page (:func:`read_message_detail`) is read by labels in tables (``<td>答复时间</td>
  <td>…</td>``, or a row of labels over a row of values), definition lists, label-value spans
  (``<span>答复时间：</span>2020-05-07``), headings over paragraphs, and ``label：value`` lines.
  A reply signed at its end (``白沙镇人民政府`` / ``2020年6月12日`` as its last lines) gives its
  unit and date when the page has no label for them.

Boards the heuristics miss take CSS selectors (:data:`SELECTOR_KEYS`): ``item`` picks the rows
of a list page and ``item_title``, ``item_link``, ``item_asked``, ``item_status``,
``item_replied``, ``item_unit`` the fields inside a row; ``title``, ``asked``, ``question``,
``status``, ``replied``, ``unit`` and ``reply`` pick the fields of a detail page. A selector
that is given wins over the heuristics for its field; the other fields are still found by
label. The config loader validates them with :func:`check_selectors`.

The replies are judged in :mod:`checks.messages`.
"""

from checks.readers.boards.detail import merge_message, read_message_detail
from checks.readers.boards.fields import (
    DETAIL_LABELS,
    PART_CONTENT,
    PART_TIME,
    PART_UNIT,
    PROCESSING,
    REPLIED,
    SELECTOR_KEYS,
    UNKNOWN,
    UNREPLIED,
    Message,
    check_selectors,
    normalize_status,
)
from checks.readers.boards.lists import read_message_list

__all__ = [
    "DETAIL_LABELS",
    "PART_CONTENT",
    "PART_TIME",
    "PART_UNIT",
    "PROCESSING",
    "REPLIED",
    "SELECTOR_KEYS",
    "UNKNOWN",
    "UNREPLIED",
    "Message",
    "check_selectors",
    "merge_message",
    "normalize_status",
    "read_message_detail",
    "read_message_list",
]
