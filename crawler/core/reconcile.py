"""The store write of a shared scan's reconciliation: the checks say which findings an
interpretation read elsewhere explains (:func:`checks.page_checks.reconcile_interpretations`);
the crawl withdraws them from the store."""

from __future__ import annotations

from storage.base import Store

#: The one code a reconciliation withdraws.
EXPLAINED_CODE = "policy.no_interpretation"


async def withdraw_explained(store: Store, scan_id: int, explained: dict[str, set[str]]) -> int:
    """Withdraw the ``policy.no_interpretation`` findings ``explained`` names (per site, their
    policy URLs); how many went."""
    gone = 0
    for site, urls in explained.items():
        gone += await store.withdraw_findings(scan_id, EXPLAINED_CODE, site, sorted(urls))
    return gone
