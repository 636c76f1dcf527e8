"""Which page checks run: the built-in ones and those registered by other packages."""

from __future__ import annotations

from importlib.metadata import entry_points

import structlog

from checks import catalogue
from checks.base import CheckFactory, PageCheck, ScanContext
from checks.builtin import builtin_checks
from checks.catalogue import ENTRY_POINT_GROUP
from checks.columns import ColumnCheck

log = structlog.get_logger("govmon.checks")

__all__ = ["ENTRY_POINT_GROUP", "declare_checks", "load_checks"]


def declare_checks() -> list[str]:
    """Declare every check's catalogue entries before any scan: the shipped ones (declared when
    their modules, imported here, were imported) and every installed plug-in's, so that a
    config can score their codes. Returns the plug-ins that failed to load (a scan's loader
    reports them)."""
    failed: list[str] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            catalogue.declare(ep.load())
        except Exception:  # any plug-in error: the scan's loader reports it
            failed.append(ep.name)
    return failed


def _wanted(check: PageCheck, context: ScanContext) -> bool:
    return any(context.config.checks.enabled(code) for code in check.codes)


def load_checks(context: ScanContext, extra: list[CheckFactory] | None = None) -> list[PageCheck]:
    """Every check with at least one code not disabled in ``[checks] disable``.

    The columns check also runs, with its findings dropped, when only checks that read its
    model of the site (messages, policies, guides) are wanted.
    """
    builtins = builtin_checks(context)
    checks = [c for c in builtins if _wanted(c, context)]
    if checks and not any(isinstance(c, ColumnCheck) for c in checks):
        checks.insert(0, next(c for c in builtins if isinstance(c, ColumnCheck)))
    factories: list[tuple[str, CheckFactory]] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            factories.append((f"{ep.name} ({ep.value})", ep.load()))
        except Exception as exc:  # a broken plug-in is reported, not fatal
            log.error("checks.load_failed", entry_point=ep.name, error=str(exc))
    factories.extend((f"extra:{f!r}", f) for f in extra or [])
    for name, factory in factories:
        catalogue.declare(factory)  # its codes: named, described and scored like ours
        check = factory(context)
        if _wanted(check, context):
            checks.append(check)
        else:
            log.info("checks.disabled", check=name)
    return checks
