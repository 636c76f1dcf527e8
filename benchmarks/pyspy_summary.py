"""Where the CPU goes: a summary of a ``py-spy record -f raw`` profile.

    python -m benchmarks.pyspy_summary PROFILE.txt [--top 30]

Each line of a raw profile is one call stack (``frame;frame;…``, outermost first, each frame
``function (file:line)``) and the number of samples that saw it. A function's *inclusive* share
is the share of samples with the function anywhere on the stack (counted once per sample even
when it recurses); its *self* share, the share with it on top. Frames are keyed by function and
file, lines ignored. Shares are of all samples taken (py-spy leaves idle threads out by default,
so a loop waiting in ``epoll`` is not counted).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

FRAME_RE = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
# frames on (almost) every stack: the process's entry points, the loop
ENTRY_FUNCTIONS = frozenset({"<module>", "main", "_run", "run", "Runner.run"})


@dataclass
class Profile:
    samples: int
    inclusive: Counter[str]
    self_time: Counter[str]
    by_file: Counter[str]

    def share(self, count: int) -> float:
        return 100.0 * count / self.samples if self.samples else 0.0


def frame_key(frame: str) -> tuple[str, str]:
    """``("Scan._handle", "crawler/core/engine.py")`` of
    ``Scan._handle (crawler/core/engine.py:526)``."""
    match = FRAME_RE.match(frame.strip())
    if match is None:
        return frame.strip(), ""
    return match.group("func"), match.group("file")


def load(path: Path) -> Profile:
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    by_file: Counter[str] = Counter()
    samples = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        samples += count
        frames = [frame_key(f) for f in stack.split(";") if f]
        seen: set[str] = set()
        for func, file in frames:
            key = f"{func} ({file})" if file else func
            if key not in seen:
                seen.add(key)
                inclusive[key] += count
        if frames:
            func, file = frames[-1]
            self_time[f"{func} ({file})" if file else func] += count
            by_file[_area(file)] += count
    return Profile(samples, inclusive, self_time, by_file)


def _area(file: str) -> str:
    """The package or module a file belongs to: ``checks/readers/listing.py``, ``aiohttp``, …"""
    if file.startswith(("crawler/", "checks/", "storage/")):
        return file
    if "/" in file:
        return file.split("/", 1)[0]
    return file or "?"


def summary(profile: Profile, top: int = 30) -> dict[str, list[tuple[str, float]]]:
    def rows(counter: Counter[str], skip_entry: bool) -> list[tuple[str, float]]:
        out = []
        for key, count in counter.most_common():
            if skip_entry and key.split(" (", 1)[0] in ENTRY_FUNCTIONS:
                continue
            out.append((key, round(profile.share(count), 1)))
            if len(out) >= top:
                break
        return out

    return {
        "inclusive": rows(profile.inclusive, True),
        "self": rows(profile.self_time, False),
        "self_by_file": rows(profile.by_file, False),
    }


def render(profile: Profile, top: int = 30) -> str:
    parts = [f"{profile.samples} samples"]
    titles = {
        "inclusive": "inclusive share (on the stack)",
        "self": "self share (on top of the stack)",
        "self_by_file": "self share by module",
    }
    for name, rows in summary(profile, top).items():
        parts.append(f"\n{titles[name]}:")
        parts += [f"  {share:5.1f} %  {key}" for key, share in rows]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pyspy_summary", description=__doc__)
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    profile = load(args.profile)
    if args.json:
        json.dump(summary(profile, args.top), sys.stdout, indent=1)
        print()
    else:
        print(render(profile, args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
