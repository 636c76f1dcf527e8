"""Which page checks run: the built-in ones, wired in one table, and those registered by other
packages under the ``govmon.checks`` entry-point group."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points

import structlog

from checks import catalogue
from checks.base import CheckFactory, PageCheck, ScanContext
from checks.catalogue import ENTRY_POINT_GROUP, declare_checks
from checks.columns import ColumnCheck
from checks.page_checks import ContentCheck, GuideCheck, MessageCheck, PolicyCheck
from checks.site_checks import IndicatorsCheck

log = structlog.get_logger("govmon.checks")

__all__ = ["BUILTIN_CHECKS", "ENTRY_POINT_GROUP", "builtin_checks", "declare_checks", "load_checks"]

#: How a built-in check is made: from the scan's context and the columns check, whose model of
#: the site (list pages, items, their columns) it may read.
BuiltinFactory = Callable[[ScanContext, ColumnCheck], PageCheck]


def _content(context: ScanContext, columns: ColumnCheck) -> PageCheck:
    return ContentCheck(context)


#: The shipped checks after the columns check (which every scan builds first), in the order
#: they see each page. A new built-in check is one line here (and its codes in the catalogue).
BUILTIN_CHECKS: tuple[tuple[str, BuiltinFactory], ...] = (
    ("messages", MessageCheck),  # 互动回应: checks/messages.py
    ("policies", PolicyCheck),  # 政策解读: checks/interpretation.py
    ("guides", GuideCheck),  # 办事指南: checks/guides.py
    ("site indicators", IndicatorsCheck),  # search, IPv6, 找错, activity ...: checks/site_checks.py
    ("content", _content),  # typos, sensitive words, personal data, hidden links
)


def builtin_checks(context: ScanContext) -> list[PageCheck]:
    """The shipped checks, in the order they see each page: the columns check, then
    :data:`BUILTIN_CHECKS`."""
    columns = ColumnCheck(context)
    return [columns, *(make(context, columns) for _, make in BUILTIN_CHECKS)]


def _wanted(check: PageCheck, context: ScanContext) -> bool:
    return any(context.config.checks.enabled(code) for code in check.codes)


def _needs_columns(check: PageCheck) -> bool:
    """Whether a check declares that it reads the columns check's model (``needs_columns``)."""
    return bool(getattr(check, "needs_columns", False))


def load_checks(context: ScanContext, extra: list[CheckFactory] | None = None) -> list[PageCheck]:
    """Every check with at least one code not disabled in ``[checks] disable``.

    The columns check also runs, first, when a wanted check declares ``needs_columns``; its
    findings are then dropped unless it is wanted itself.
    """
    builtins = builtin_checks(context)
    checks = [c for c in builtins if _wanted(c, context)]
    needing = [type(c).__name__ for c in checks if _needs_columns(c)]
    if needing and not any(isinstance(c, ColumnCheck) for c in checks):
        log.info("checks.dependency_added", check="ColumnCheck", needed_by=needing)
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
