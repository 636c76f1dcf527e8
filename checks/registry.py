"""Which page checks run: the built-in ones and those registered by other packages."""

from __future__ import annotations

from importlib.metadata import entry_points

import structlog

from checks.base import CheckFactory, PageCheck, ScanContext
from checks.columns import ColumnCheck

log = structlog.get_logger("govmon.checks")

ENTRY_POINT_GROUP = "govmon.checks"
BUILTIN: list[CheckFactory] = [ColumnCheck]


def load_checks(context: ScanContext, extra: list[CheckFactory] | None = None) -> list[PageCheck]:
    """Instantiate every check whose codes are not all disabled in ``[checks] disable``."""
    factories: list[tuple[str, CheckFactory]] = [(f"builtin:{f!r}", f) for f in BUILTIN]
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            factories.append((f"{ep.name} ({ep.value})", ep.load()))
        except Exception as exc:  # a broken plug-in is reported, not fatal
            log.error("checks.load_failed", entry_point=ep.name, error=str(exc))
    factories.extend((f"extra:{f!r}", f) for f in extra or [])
    config = context.config
    checks: list[PageCheck] = []
    for name, factory in factories:
        check = factory(context)
        if any(config.checks.enabled(code) for code in check.codes):
            checks.append(check)
        else:
            log.info("checks.disabled", check=name)
    return checks
