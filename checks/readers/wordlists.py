"""Lexicon files: the typo list (``wrong<TAB>right[<TAB>protected,...]``) and word lists
(sensitive words, the allow list), the user's and the shipped ones in ``checks/data`` (see its
README for what is in them and why). Reading only: :class:`checks.lexicon.Lexicon` matches
them over a page. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path


@dataclass(frozen=True, slots=True)
class TypoEntry:
    """``wrong`` is an error whatever its context; ``protected`` are longer correct words that
    contain it (a hit inside one of them is not a typo)."""

    wrong: str
    right: str
    protected: tuple[str, ...] = ()


class LexiconError(ValueError):
    """A lexicon file that cannot be read: says which file, which line and what is wrong."""


def _data_text(name: str) -> str:
    return resources.files("checks").joinpath("data", name).read_text(encoding="utf-8")


def _content_lines(text: str) -> Iterable[tuple[int, str]]:
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip().lstrip("\ufeff")
        if line and not line.startswith("#"):
            yield number, line


def parse_typo_lexicon(text: str, source: str = "<typos>") -> list[TypoEntry]:
    """Lines ``wrong<TAB>right[<TAB>protected,protected...]``; ``#`` starts a comment line.

    Two fields separated by spaces are accepted too. Raises :class:`LexiconError` naming the
    source and line for anything else.
    """
    out: list[TypoEntry] = []
    for number, line in _content_lines(text):
        fields = [f.strip() for f in line.split("\t")] if "\t" in line else line.split()
        if len(fields) not in (2, 3) or not fields[0] or not fields[1]:
            raise LexiconError(f"{source}:{number}: expected 'wrong<TAB>right', got {line!r}")
        wrong, right = fields[0], fields[1]
        if wrong == right:
            raise LexiconError(f"{source}:{number}: {wrong!r} is its own suggestion")
        protected: tuple[str, ...] = ()
        if len(fields) == 3 and fields[2]:
            protected = tuple(p.strip() for p in re.split(r"[,，]", fields[2]) if p.strip())
            bad = [p for p in protected if wrong not in p]
            if bad:
                raise LexiconError(
                    f"{source}:{number}: protected words must contain {wrong!r}: {bad}"
                )
        out.append(TypoEntry(wrong, right, protected))
    return out


def parse_word_list(text: str, source: str = "<words>") -> list[str]:
    """One word or phrase a line; ``#`` starts a comment line."""
    words = []
    for number, line in _content_lines(text):
        if "\t" in line:
            raise LexiconError(f"{source}:{number}: one word or phrase a line, got {line!r}")
        words.append(line)
    return words


def _read(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LexiconError(f"{path}: cannot read the lexicon: {exc}") from exc


def read_typo_lexicon(path: str | Path) -> list[TypoEntry]:
    return parse_typo_lexicon(_read(path), str(path))


def read_word_list(path: str | Path) -> list[str]:
    return parse_word_list(_read(path), str(path))


@lru_cache(maxsize=1)
def shipped_typos() -> tuple[TypoEntry, ...]:
    return tuple(parse_typo_lexicon(_data_text("typos.tsv"), "checks/data/typos.tsv"))


@lru_cache(maxsize=1)
def shipped_sensitive() -> tuple[str, ...]:
    return tuple(parse_word_list(_data_text("sensitive.txt"), "checks/data/sensitive.txt"))
