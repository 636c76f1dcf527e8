"""What the commands share: exit statuses, bad usage, ``--site``, ``--as-of`` and the token."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path
from typing import TypeAlias

from crawler.config import Config, Site, parse_when
from crawler.service.scans import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from storage.open import is_server_url

__all__ = [
    "EXIT_FAILURE",
    "EXIT_OK",
    "EXIT_USAGE",
    "Subparsers",
    "UsageError",
    "as_of_option",
    "selected_sites",
    "token",
]

#: What ``add_subparsers`` returns: each command module adds its parser to it.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class UsageError(Exception):
    """Bad usage: exit 2 with the message."""


def selected_sites(config: Config, wanted: list[str]) -> tuple[Site, ...]:
    """The sites named by ``--site`` (all of them without one); bad usage for an unknown id."""
    if not wanted:
        return config.sites
    known = {s.id for s in config.sites}
    for w in wanted:
        if w not in known:
            raise UsageError(
                f"--site {w}: no such site in {config.path} ({', '.join(sorted(known))})"
            )
    return tuple(s for s in config.sites if s.id in wanted)


def as_of_option(config: Config, text: str | None) -> dt.datetime | None:
    """``--as-of WHEN`` in the config's time zone (the config's ``as_of`` without one)."""
    if not text:
        return config.as_of
    try:
        return parse_when(text, config.tz)
    except ValueError as exc:
        raise UsageError(f"--as-of: {exc}") from None


def token(args: argparse.Namespace) -> str | None:
    """The web view's token: from --token-file or GOVMON_TOKEN, never the command line."""
    found = os.environ.get("GOVMON_TOKEN") or None
    if args.token_file:
        try:
            found = Path(args.token_file).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise UsageError(f"--token-file {args.token_file}: {exc.strerror}") from None
    db = getattr(args, "db", None)  # (replay has no store)
    if db is not None and not is_server_url(db) and not Path(db).exists():
        raise UsageError(f"--db {args.db}: no such store (run `govmon scan` first)")
    return found
