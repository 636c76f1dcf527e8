"""How often ``published_date`` finds the labelled day of a real page.

    python -m benchmarks.dates_realdata [REALDATA_DIR]

Labels come from ``MANIFEST.tsv`` (``ground_truth_date``) and ``cwce/date/<id>.txt``. A label
counts only when it names a day (``2005-3-11 12:12``); ``UNKNOWN``, ``UNKNWON``, a person's
name or a month (``2003-5``) are no label. Pages are decoded with ``decode_html`` as the crawler
does. Prints the share of labelled pages whose extracted day equals the label, and the misses.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

from checks.readers.encoding import decode_html
from checks.readers.published import published_date

TARGET = 0.90
_DAY = re.compile(r"\s*([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?![0-9])")


@dataclass(frozen=True, slots=True)
class Miss:
    path: str
    want: dt.date
    got: dt.date | None


@dataclass(slots=True)
class Evaluation:
    total: int = 0
    hits: int = 0
    seconds: float = 0.0
    misses: list[Miss] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.hits / self.total if self.total else 0.0


def find_realdata() -> Path | None:
    candidates = [
        Path(os.environ["GOVMON_REALDATA"]) if os.environ.get("GOVMON_REALDATA") else None,
        Path(__file__).resolve().parents[2] / "shared" / "realdata",
    ]
    return next((p for p in candidates if p is not None and (p / "MANIFEST.tsv").is_file()), None)


def label_day(label: str) -> dt.date | None:
    """The day a label names, or ``None`` (``UNKNOWN``, a name, ``2003-5``, ``2018``)."""
    match = _DAY.match(label)
    if match is None:
        return None
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def labelled_pages(root: Path) -> dict[str, dt.date]:
    """Relative path → labelled day, for every page of ``root`` whose label has a day."""
    labels: dict[str, dt.date] = {}
    with (root / "MANIFEST.tsv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            day = label_day(row.get("ground_truth_date") or "")
            if day is not None:
                labels[row["path"]] = day
    date_dir = root / "cwce" / "date"
    if date_dir.is_dir():
        for label_file in sorted(date_dir.glob("*.txt")):
            page = f"cwce/original/{label_file.stem}.html"
            day = label_day(label_file.read_text(encoding="utf-8", errors="replace"))
            if day is not None and (root / page).is_file():
                labels.setdefault(page, day)
    return labels


def evaluate(root: Path) -> Evaluation:
    result = Evaluation()
    for page, want in sorted(labelled_pages(root).items()):
        decoded = decode_html((root / page).read_bytes())
        started = time.perf_counter()
        got = published_date(LexborHTMLParser(decoded.text))
        result.seconds += time.perf_counter() - started
        result.total += 1
        if got == want:
            result.hits += 1
        else:
            result.misses.append(Miss(page, want, got))
    return result


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else find_realdata()
    if root is None or not (root / "MANIFEST.tsv").is_file():
        print("realdata not found: pass its folder or set GOVMON_REALDATA", file=sys.stderr)
        return 2
    result = evaluate(root)
    print(
        f"published_date: {result.hits}/{result.total} labelled pages = {result.share:.1%} "
        f"(target {TARGET:.0%}), {result.seconds * 1000 / max(result.total, 1):.1f} ms a page"
    )
    for miss in result.misses:
        got = miss.got.isoformat() if miss.got is not None else "none"
        print(f"  miss {miss.path}: labelled {miss.want.isoformat()}, read {got}")
    return 0 if result.share >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
