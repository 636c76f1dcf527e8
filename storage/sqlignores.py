"""Ignores in the store: single findings, rules by URL pattern, and the log of every change.

``govmon ignore`` sets findings aside (false positives, accepted exceptions): one finding by its
identity (table ``ignores``), or every finding whose subject URL matches a pattern, optionally
of one check and/or one site (``ignore_rules``; a rule's id is ``r`` and its number). The store
keeps them and the log (``ignore_log``: who, when, what, why, and the reason before a change);
the patterns themselves are read when a report is built (:mod:`crawler.reports.ignores`). A
change and its log entry are one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from storage.base import IgnoreError
from storage.rows import IGNORE_LOG, IGNORE_RULES, IGNORES, Row
from storage.sqlhooks import SQLBackend, now_iso

__all__ = ["IgnoreSQL", "rule_subject"]

_IGNORES = (
    "SELECT identity, site, check_code, url, reason, author, created_at, changed_at FROM ignores "
)
_RULES = (
    "SELECT id, pattern, check_code, site, reason, author, created_at, changed_at"
    " FROM ignore_rules "
)
_HEX = frozenset("0123456789abcdef")


class IgnoreSQL(SQLBackend):
    """The ignores' part of :class:`storage.sqlbase.SQLStore`."""

    async def identities(self, prefix: str, *, ignored: bool = False) -> list[dict[str, Any]]:
        """Finding identities that start with the hex digits ``prefix``, with their check,
        site and URL (``ignored``: only the ignored ones); at most 11, in order."""
        prefix = prefix.lower()
        if not prefix or not set(prefix) <= _HEX:
            return []
        # every identity is hex: those starting with the prefix lie in [prefix, prefix + "g")
        rows = await self._fetch(
            "SELECT DISTINCT identity, check_code, site, url"
            f" FROM {'ignores' if ignored else 'findings'}"
            " WHERE identity >= ? AND identity < ? ORDER BY identity LIMIT 11",
            (prefix, prefix + "g"),
        )
        return [{"id": r[0], "check": r[1], "site": r[2], "url": r[3]} for r in rows]

    async def ignore(
        self, identity: str, reason: str, *, by: str = "", update: bool = False
    ) -> dict[str, Any]:
        """Set the finding ``identity`` aside, or (``update``) change the reason of one set
        aside. Re-ignoring with the reason it has changes nothing; with another reason, it is
        an :class:`IgnoreError` unless ``update``: a reason never changes by accident."""
        existing = await self._ignored(identity)
        now = now_iso()
        write: tuple[str, Row]
        if existing is None:
            if update:
                raise IgnoreError(f"finding {identity} is not ignored: nothing to update")
            rows = await self._fetch(
                "SELECT site, check_code, url FROM findings WHERE identity = ?"
                " ORDER BY scan_id DESC LIMIT 1",
                (identity,),
            )
            if not rows:
                raise IgnoreError(f"{self.path}: no finding {identity!r} in the store")
            site, check, url = rows[0]
            write = (self._insert(IGNORES), (identity, site, check, url, reason, now, by))
            log = self._log(now, by, "ignore", identity, f"{check} {site} {url}", reason)
        elif existing["reason"] == reason:
            return {**existing, "change": "none"}  # the same reason again: nothing to change
        elif not update:
            raise IgnoreError(
                f"finding {identity} is already ignored, with another reason:"
                f" {existing['reason']!r} (by {existing['by'] or 'unknown'})",
                existing,
            )
        else:
            write = (
                "UPDATE ignores SET reason = ?, author = ?, changed_at = ? WHERE identity = ?",
                (reason, by, now, identity),
            )
            subject = f"{existing['check']} {existing['site']} {existing['url']}"
            log = self._log(now, by, "update", identity, subject, reason, existing["reason"])
        await self._executemany([(write[0], [self._row(write[1])]), log], writer=False)
        done = await self._ignored(identity)
        assert done is not None
        return {**done, **_change(existing)}

    async def unignore(self, identity: str, *, by: str = "", reason: str = "") -> bool:
        """Undo :meth:`ignore`; whether there was anything to undo."""
        existing = await self._ignored(identity)
        if existing is None:
            return False
        subject = f"{existing['check']} {existing['site']} {existing['url']}"
        await self._executemany(
            [
                ("DELETE FROM ignores WHERE identity = ?", [(identity,)]),
                self._log(now_iso(), by, "undo", identity, subject, reason, existing["reason"]),
            ],
            writer=False,
        )
        return True

    async def ignores(self) -> dict[str, dict[str, Any]]:
        """Every ignored finding identity with its ignore."""
        return {
            str(r[0]): _ignore_note(r)
            async for r in self._rows(_IGNORES + "ORDER BY created_at, identity")
        }

    async def ignore_rule(
        self,
        pattern: str,
        reason: str,
        *,
        check: str | None = None,
        site: str | None = None,
        by: str = "",
        update: bool = False,
    ) -> dict[str, Any]:
        """A rule setting aside the findings whose URL matches ``pattern`` (of ``check`` and of
        ``site``, every one when None), or (``update``) a new reason for the rule already
        there; as :meth:`ignore`. The store keeps the pattern as given (the caller checks and
        normalises it: :mod:`crawler.reports.ignores`)."""
        key = (pattern, check or "", site or "")
        where = "WHERE pattern = ? AND check_code = ? AND site = ?"
        found = await self._fetch(_RULES + where, key)
        existing = _rule_note(found[0]) if found else None
        now = now_iso()
        subject = rule_subject(pattern, check, site)
        if existing is None:
            if update:
                raise IgnoreError(f"no rule for {subject}: nothing to update")
            # the log names the rule by the id the insert gives it, in the same transaction
            statements = [
                (self._insert(IGNORE_RULES), [self._row((*key, reason, now, by))]),
                (
                    f"INSERT INTO {IGNORE_LOG.name} ({', '.join(IGNORE_LOG.columns)})"
                    f" SELECT ?, ?, 'ignore', 'r' || id, ?, ?, NULL FROM ignore_rules {where}",
                    [self._row((now, by, subject, reason, *key))],
                ),
            ]
        elif existing["reason"] == reason:
            return {**existing, "change": "none"}
        elif not update:
            raise IgnoreError(
                f"rule {existing['id']} ({subject}) is already there, with another reason:"
                f" {existing['reason']!r} (by {existing['by'] or 'unknown'})",
                existing,
            )
        else:
            statements = [
                (
                    "UPDATE ignore_rules SET reason = ?, author = ?, changed_at = ? WHERE id = ?",
                    [self._row((reason, by, now, int(existing["id"][1:])))],
                ),
                self._log(now, by, "update", existing["id"], subject, reason, existing["reason"]),
            ]
        await self._executemany(statements, writer=False)
        done = await self._fetch(_RULES + where, key)
        return {**_rule_note(done[0]), **_change(existing)}

    async def ignore_rules(self) -> list[dict[str, Any]]:
        """Every rule, oldest first."""
        return [_rule_note(r) async for r in self._rows(_RULES + "ORDER BY id")]

    async def unignore_rule(self, rule: int, *, by: str = "", reason: str = "") -> bool:
        """Delete the rule ``r<rule>``; whether there was one."""
        found = await self._fetch(_RULES + "WHERE id = ?", (rule,))
        if not found:
            return False
        note = _rule_note(found[0])
        subject = rule_subject(note["pattern"], note["check"], note["site"])
        await self._executemany(
            [
                ("DELETE FROM ignore_rules WHERE id = ?", [(rule,)]),
                self._log(now_iso(), by, "undo", note["id"], subject, reason, note["reason"]),
            ],
            writer=False,
        )
        return True

    async def ignore_log(self) -> list[dict[str, Any]]:
        """Every change of the ignores, oldest first."""
        keys = ("at", "by", "action", "target", "subject", "reason", "previous")
        return [
            dict(zip(keys, r, strict=True))
            async for r in self._rows(
                f"SELECT {', '.join(IGNORE_LOG.columns)} FROM ignore_log ORDER BY id"
            )
        ]

    async def _ignored(self, identity: str) -> dict[str, Any] | None:
        rows = await self._fetch(_IGNORES + "WHERE identity = ?", (identity,))
        return _ignore_note(rows[0]) if rows else None

    def _log(
        self,
        at: str,
        by: str,
        action: str,
        target: str,
        subject: str,
        reason: str,
        previous: str | None = None,
    ) -> tuple[str, list[Row]]:
        """The statement recording one change of the ignores (in the change's transaction)."""
        row = (at, by, action, target, subject, reason, previous)
        return self._insert(IGNORE_LOG), [self._row(row)]


def rule_subject(pattern: str, check: str | None, site: str | None) -> str:
    """A rule in words, for messages and the log."""
    return f"{pattern} ({check or 'every check'}, {'site ' + site if site else 'every site'})"


def _change(existing: dict[str, Any] | None) -> dict[str, Any]:
    """What a call changed: ``added``, or ``updated`` (with the ``previous`` reason)."""
    if existing is None:
        return {"change": "added"}
    return {"change": "updated", "previous": existing["reason"]}


def _ignore_note(r: Sequence[Any]) -> dict[str, Any]:
    return {
        "id": r[0], "kind": "finding", "site": r[1], "check": r[2], "url": r[3],
        "pattern": None, "reason": r[4], "by": r[5], "since": r[6], "changed": r[7],
    }  # fmt: skip


def _rule_note(r: Sequence[Any]) -> dict[str, Any]:
    return {
        "id": f"r{r[0]}", "kind": "rule", "site": r[3] or None, "check": r[2] or None,
        "url": None, "pattern": r[1], "reason": r[4], "by": r[5], "since": r[6],
        "changed": r[7],
    }  # fmt: skip
