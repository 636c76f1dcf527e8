"""The checks: what govmon finds on a site, and the page readers they judge with.

A check plug-in needs only the names below: a page check (:class:`PageCheck`) sees every
in-scope page as a :class:`PageView` and returns findings (:class:`Finding`); a site check
(:class:`SiteCheck`) also gets :class:`SiteTools` for its own requests; both are made from the
scan's :class:`ScanContext` and declare their codes as :class:`CheckSpec` entries of the
catalogue (:func:`declare`). Registered under the ``govmon.checks`` entry-point group, they run
beside the built-in ones, wired in :mod:`checks.registry`.
"""

from checks.base import (
    CheckFactory,
    Finding,
    PageCheck,
    PageView,
    ScanContext,
    SiteCheck,
    SiteTools,
)
from checks.catalogue import ENTRY_POINT_GROUP, CheckSpec, Judgement, Rule, declare

__all__ = [
    "ENTRY_POINT_GROUP",
    "CheckFactory",
    "CheckSpec",
    "Finding",
    "Judgement",
    "PageCheck",
    "PageView",
    "Rule",
    "ScanContext",
    "SiteCheck",
    "SiteTools",
    "declare",
]
