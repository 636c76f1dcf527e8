"""``govmon columns``: the column tree of each site as TOML a user can paste into the config."""

from __future__ import annotations

import json
from collections.abc import Sequence

from checks.categories import CATEGORY_NAMES
from crawler.config.model import Site
from storage.base import ColumnRecord


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a TOML basic string is a JSON string


def render_columns(sites: Sequence[Site], rows: Sequence[ColumnRecord]) -> str:
    by_site: dict[str, list[ColumnRecord]] = {}
    for row in rows:
        by_site.setdefault(row["site"], []).append(row)
    out = [
        "# The columns (栏目) govmon found. Paste a site's [[site.column]] entries under its",
        "# [[site]] in the config to pin them; correct `category` where the name misleads.",
        "",
    ]
    for site in sites:
        columns = by_site.get(site.id, [])
        out += [
            f"# {site.name} ({site.id}): {len(columns)} columns",
            "[[site]]",
            f"id = {_q(site.id)}",
            f"url = {_q(site.url)}",
            "",
        ]
        tops = [c for c in columns if c["top_level"] or not c["parent"]]
        children: dict[str, list[ColumnRecord]] = {}
        for c in columns:
            if c not in tops:
                children.setdefault(c["parent"] or "", []).append(c)
        for top in tops:
            out += _column(top, indent="  ")
            for child in children.pop(top["url"], []):
                out += _column(child, indent="    ")
        for orphans in children.values():
            for child in orphans:
                out += _column(child, indent="  ")
    return "\n".join(out) + "\n"


def _column(c: ColumnRecord, indent: str) -> list[str]:
    newest = c["newest"] or "no dated item"
    label = CATEGORY_NAMES.get(c["category"], c["category"])
    note = (
        f"{c['items']} items ({c['dated_items']} dated), newest {newest}, {c['pages']} list pages"
    )
    if not c["is_list"]:
        note += f"; not read as a list: {c['why']}"
    lines = [
        f"{indent}[[site.column]]  # {label}: {note}",
        f"{indent}name = {_q(c['name'])}",
        f"{indent}url = {_q(c['url'])}",
        f"{indent}category = {_q(c['category'])}",
    ]
    if c["top_level"]:
        lines.append(f"{indent}top_level = true")
    return [*lines, ""]
