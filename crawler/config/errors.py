"""The config's error and how it names a wrong value."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

__all__ = ["ConfigError", "describe"]


class ConfigError(Exception):
    """A configuration problem: which file, which key, what is wrong."""

    def __init__(self, path: str, key: str, reason: str) -> None:
        self.path = path
        self.key = key
        self.reason = reason
        where = f"{path}: {key}" if key else path
        super().__init__(f"{where}: {reason}")


def describe(value: object) -> str:
    """A TOML value as an error message names it: ``an integer (3)``, ``an array``, ..."""
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    for kind, label in names.items():
        if type(value) is kind:
            return f"{label} ({value!r})"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return f"a date/time ({value})"
    return type(value).__name__
