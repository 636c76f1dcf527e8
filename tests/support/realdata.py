"""Access to ../shared/realdata (real Chinese pages); tests using it skip when it is absent,
except where ``GOVMON_REQUIRE_REALDATA=1`` (CI, where it always sits beside the clone): there a
missing folder fails the run instead of skipping silently."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.paths import REPO_ROOT

_CANDIDATES = [
    Path(os.environ.get("GOVMON_REALDATA", "/nonexistent")),
    REPO_ROOT.parent / "shared" / "realdata",  # ../shared beside the clone
]
REALDATA = next((p for p in _CANDIDATES if (p / "MANIFEST.tsv").is_file()), None)

if REALDATA is None and os.environ.get("GOVMON_REQUIRE_REALDATA") == "1":
    raise RuntimeError(
        "GOVMON_REQUIRE_REALDATA=1 but no realdata folder was found (looked in: "
        + ", ".join(str(p) for p in _CANDIDATES)
        + "); set GOVMON_REALDATA to its path"
    )

needs_realdata = pytest.mark.skipif(REALDATA is None, reason="../shared/realdata is absent")


@dataclass(frozen=True)
class RealPage:
    path: Path
    actual_encoding: str
    declared: str
    title: str
    meta_pubdate: str
    label: str


def manifest() -> list[RealPage]:
    if REALDATA is None:
        return []
    rows = []
    with (REALDATA / "MANIFEST.tsv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            rows.append(
                RealPage(
                    path=REALDATA / row["path"],
                    actual_encoding=row["actual_encoding"],
                    declared=row["declared_charset"],
                    title=row["title"],
                    meta_pubdate=row["meta_PubDate"].strip(),
                    label=row["ground_truth_date"].strip(),
                )
            )
    return rows
