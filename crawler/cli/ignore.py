"""``govmon ignore``: set findings aside as false positives or accepted exceptions.

One finding, by its id or a unique prefix of it; or a rule, by a URL pattern, for every finding
whose URL matches (of one check and/or one site, or all): a footer link on every channel is one
rule. Reasons change only with ``--update``; ``--undo`` counts a finding, or a rule's findings,
again; ``--list`` and ``--history`` show the ignores and every change, with who and why. The
patterns are :mod:`crawler.reports.ignores`; the store keeps the ignores and their log.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import getpass
import re
import shlex
import unicodedata
from collections.abc import Sequence
from typing import Any, cast

from checks.catalogue import all_specs, spec
from checks.registry import declare_checks
from crawler.cli.common import EXIT_OK, Subparsers, UsageError
from crawler.reports.ignores import (
    Ignores,
    PatternError,
    is_finding_prefix,
    normalise_pattern,
)
from crawler.reports.model import IgnoreNote
from crawler.reports.words import cn_time, zone_named
from crawler.service.scans import run_coroutine
from storage.base import IgnoreError, Store, StoreError
from storage.dburl import shown
from storage.open import open_store

__all__ = ["add_ignore"]

_RULE_ID = re.compile(r"[rR]([1-9][0-9]{0,17})\Z")
_EXAMPLES = """\
examples:
  govmon ignore 3fa9 --reason '对方网站维护，已函告'
      one finding: its id in the report, or the first 4 or more of its digits
  govmon ignore --url 'https://beian.miit.gov.cn/*' --check link.broken \\
      --reason '备案链接，属页脚公共链接'
      a rule: every link.broken finding whose URL matches, on every site
  govmon ignore --list                    every ignore, with its reason, who and when
  govmon ignore --history                 every change of the ignores
  govmon ignore 3fa9 --reason '新理由' --update   change a reason (r2 for a rule)
  govmon ignore r2 --undo                 count the rule's findings again

URL patterns: * is the only wildcard. In the path and query it matches anything, / and ?
included; in the host it matches part of one label (never a dot), so 'https://a.gov.cn/x*'
never matches https://a.gov.cn.evil/x. The scheme may be http, https or * (either).
Everything else is literal. See README.md, "Ignoring findings".
"""


def add_ignore(sub: Subparsers) -> None:
    ignore = sub.add_parser(
        "ignore",
        help="set findings aside as false positives or accepted exceptions (one, or by URL)",
        description="Set findings aside as false positives or accepted exceptions: they leave\n"
        "the verdicts and scores of every report, past and future, and are listed apart with\n"
        "the reason and the ignore that set them aside. Every change is recorded with who and\n"
        "why.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ignore.add_argument(
        "target",
        nargs="?",
        metavar="ID",
        help="a finding's id (from the report; a unique prefix of 4 or more digits will do),"
        " or a rule's id (r1, r2, …: see --list)",
    )
    ignore.add_argument(
        "--url",
        metavar="PATTERN",
        help="a rule instead: every finding whose URL matches PATTERN (quote it)",
    )
    ignore.add_argument(
        "--check", metavar="CODE", help="with --url: only findings of this check (link.broken)"
    )
    ignore.add_argument("--site", metavar="SITE", help="with --url: only findings of this site id")
    ignore.add_argument("--reason", metavar="TEXT", help="why (required, except with --undo)")
    ignore.add_argument(
        "--by", metavar="NAME", help="who makes the change (default: your user name)"
    )
    mode = ignore.add_mutually_exclusive_group()
    mode.add_argument("--update", action="store_true", help="change the reason of an ignore")
    mode.add_argument("--undo", action="store_true", help="count the finding(s) again")
    mode.add_argument("--list", action="store_true", help="print every ignore")
    mode.add_argument("--history", action="store_true", help="print every change of the ignores")
    ignore.add_argument("--db", default="govmon.db", help="the store (default: govmon.db)")
    ignore.set_defaults(run=lambda args: run_coroutine(_ignore(args)))


async def _ignore(args: argparse.Namespace) -> int:
    by = _checked(args)
    store = await open_store(args.db, create=False)
    try:
        if args.list:
            print(await _listing(store, shown(args.db)))
        elif args.history:
            print(await _history(store, shown(args.db)))
        elif args.url is not None:
            await _by_url(store, args, by)
        elif _RULE_ID.match(args.target):
            await _by_rule_id(store, args, by)
        else:
            await _by_finding(store, args, by)
    finally:
        await store.close()
    return EXIT_OK


def _checked(args: argparse.Namespace) -> str:
    """Bad usage said before the store is opened; who makes the change."""
    if args.list or args.history:
        given = [f for f in ("target", "url", "check", "site", "reason") if getattr(args, f)]
        if given:
            flag = "--list" if args.list else "--history"
            raise UsageError(f"ignore {flag} takes no other option (got {_flags(given)})")
        return ""
    if args.target is not None and args.url is not None:
        raise UsageError("ignore: give a finding or rule ID, or --url PATTERN, not both")
    if args.target is None and args.url is None:
        raise UsageError(
            "ignore: say what to set aside: a finding's ID (see the report) or"
            " --url PATTERN (or --list to see the ignores)"
        )
    if args.url is None and (args.check or args.site):
        raise UsageError("ignore: --check and --site limit a rule: use them with --url PATTERN")
    reason = (args.reason or "").strip()
    if not args.undo and not reason:
        raise UsageError("ignore: --reason TEXT is required (say why, for the next inspector)")
    args.reason = reason
    by = (args.by if args.by is not None else _os_user()).strip()
    if not by:
        raise UsageError("ignore: --by NAME: say who makes the change")
    return by


def _flags(names: Sequence[str]) -> str:
    return ", ".join("ID" if n == "target" else f"--{n}" for n in names)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this user id (a container)
        return ""


def _again(args: argparse.Namespace, target: str, *flags: str) -> str:
    """A command line to paste: ``govmon ignore TARGET FLAGS --db DB``, quoted for a shell."""
    words = ["govmon", "ignore", target, *flags]
    if args.db != "govmon.db":
        words += ["--db", shown(args.db)]  # (a server URL without its password)
    return " ".join(shlex.quote(w) for w in words)


# -- one finding ------------------------------------------------------------------------------


async def _by_finding(store: Store, args: argparse.Namespace, by: str) -> None:
    target = args.target.strip().lower()
    if not is_finding_prefix(target):
        raise UsageError(
            f"ignore: {args.target!r} is not a finding's id: expected its 16 hex digits as the"
            " report shows them (or the first 4 or more), or a rule's id (r1, r2, …)"
        )
    changing = args.undo or args.update
    found = await store.identities(target, ignored=changing)
    if not found:
        where = "among the ignored findings (see govmon ignore --list)" if changing else "in"
        raise UsageError(
            f"ignore: no finding id starts with {target} "
            + (where if changing else f"{where} {shown(args.db)}")
        )
    if len(found) > 1:
        more = " (and more)" if len(found) > 10 else ""
        lines = [f"  {f['id']}  {f['check']}  {f['site']}  {f['url']}" for f in found[:10]]
        raise UsageError(
            f"ignore: {target} is the start of {len(found[:10])} finding ids{more}; give more"
            " of its digits:\n" + "\n".join(lines)
        )
    identity = found[0]["id"]
    if args.undo:
        await store.unignore(identity, by=by, reason=args.reason)
        print(f"finding {identity} counts again ({found[0]['check']} {found[0]['url']})")
        return
    try:
        done = await store.ignore(identity, args.reason, by=by, update=args.update)
    except IgnoreError as exc:
        hint = _again(args, identity, "--reason", args.reason, "--update")
        raise UsageError(f"ignore: {exc}\n  to change the reason: {hint}") from None
    what = f"{done['check']} {done['url']} (site {done['site']})"
    print(_changed(f"finding {identity}", what, done))


def _changed(name: str, what: str, done: dict[str, Any]) -> str:
    if done["change"] == "none":
        return f"{name} is already ignored with this reason; nothing changed"
    if done["change"] == "updated":
        return f"{name}: reason changed to {done['reason']!r} (was {done['previous']!r})"
    return f"ignored {name}: {what}: {done['reason']}"


# -- rules ------------------------------------------------------------------------------------


async def _by_url(store: Store, args: argparse.Namespace, by: str) -> None:
    try:
        pattern = normalise_pattern(args.url)
    except PatternError as exc:
        raise UsageError(f"ignore --url: {exc}") from None
    check = _known_check(args.check) if args.check else None
    site = await _known_site(store, args.site) if args.site else None
    if args.undo:
        rules = await store.ignore_rules()
        key = (pattern, check, site)
        rule = next((r for r in rules if (r["pattern"], r["check"], r["site"]) == key), None)
        if rule is None:
            raise UsageError(
                f"ignore --undo: no rule for {pattern} with these limits (see govmon ignore --list)"
            )
        await _undo_rule(store, args, rule, by)
        return
    try:
        done = await store.ignore_rule(
            pattern, args.reason, check=check, site=site, by=by, update=args.update
        )
    except IgnoreError as exc:
        rule_id = exc.existing["id"] if exc.existing else "rN"
        hint = _again(args, rule_id, "--reason", args.reason, "--update")
        raise UsageError(f"ignore: {exc}\n  to change the reason: {hint}") from None
    scope = f"{check or 'every check'}, {'site ' + site if site else 'every site'}"
    print(_changed(f"rule {done['id']}", f"{pattern} ({scope})", done))
    if done["change"] == "added":
        print(await _effect(store, done))


async def _by_rule_id(store: Store, args: argparse.Namespace, by: str) -> None:
    number = int(args.target[1:])
    rule = next((r for r in await store.ignore_rules() if r["id"] == f"r{number}"), None)
    if rule is None:
        raise UsageError(f"ignore: no rule r{number} (see govmon ignore --list)")
    if args.undo:
        await _undo_rule(store, args, rule, by)
        return
    if not args.update:
        raise UsageError(
            f"ignore: r{number} is a rule already: to change its reason add --update"
            f" ({_again(args, f'r{number}', '--reason', args.reason, '--update')});"
            " to delete it, --undo"
        )
    done = await store.ignore_rule(
        rule["pattern"], args.reason, check=rule["check"], site=rule["site"], by=by, update=True
    )
    print(_changed(f"rule {done['id']}", rule["pattern"], done))


async def _undo_rule(store: Store, args: argparse.Namespace, rule: dict[str, Any], by: str) -> None:
    await store.unignore_rule(int(rule["id"][1:]), by=by, reason=args.reason)
    print(f"rule {rule['id']} deleted: the findings of {rule['pattern']} count again")


def _known_check(code: str) -> str:
    declare_checks()  # a plug-in's codes too
    if spec(code) is None:
        codes = [s.code for s in all_specs()]
        close = difflib.get_close_matches(code, codes, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise UsageError(f"ignore --check: no check {code!r}{hint}; see 'Check codes' in README.md")
    return code


async def _known_site(store: Store, site: str) -> str:
    known = {s["id"] for info in await store.scans() for s in info.sites}
    if site not in known:
        raise UsageError(
            f"ignore --site: no site {site!r} in the store's scans"
            f" ({', '.join(sorted(known)) or 'no scan yet'})"
        )
    return site


async def _effect(store: Store, rule: dict[str, Any]) -> str:
    """What a new rule sets aside in the latest scan: a check of the pattern."""
    try:
        info = await store.scan_info("latest")
    except StoreError:
        return "  (no scan in the store yet: it will apply to every scan's report)"
    findings = await store.findings(info.id)
    matched = Ignores(rules=[cast(IgnoreNote, rule)]).matching(findings)
    if not matched:
        return (
            f"  it matches no finding of scan {info.id} (the latest); it will apply to every"
            " scan's report. Check the pattern: a * in the host matches within one label only."
        )
    sites = sorted({f["site"] for f in matched})
    return (
        f"  it sets aside {len(matched)} finding(s) of scan {info.id} (the latest), on"
        f" {len(sites)} site(s): {', '.join(sites)}; and applies to every scan's report"
    )


# -- listing ----------------------------------------------------------------------------------


async def _listing(store: Store, db: str) -> str:
    tz = await _zone(store)
    rules = await store.ignore_rules()
    singles = list((await store.ignores()).values())
    if not rules and not singles:
        return f"no ignores in {db}"
    rows = [
        ["编号 id", "范围 scope", "对象 url / pattern", "理由 reason", "操作人 by", "日期 date"]
    ]
    for r in rules:
        scope = f"{r['check'] or '所有检查项'} · {r['site'] or '所有网站'}"
        rows.append([r["id"], scope, r["pattern"], r["reason"], r["by"], _dates(r, tz)])
    for f in singles:
        scope = f"{f['check']} · {f['site']}"
        rows.append([f["id"], scope, f["url"], f["reason"], f["by"], _dates(f, tz)])
    summary = f"{len(rules)} 条规则 rules, {len(singles)} 个单项忽略 findings"
    return _table(rows, wrap=(3,)) + "\n" + summary


async def _history(store: Store, db: str) -> str:
    tz = await _zone(store)
    log = await store.ignore_log()
    if not log:
        return f"no changes of the ignores in {db}"
    words = {"ignore": "忽略 ignore", "update": "改理由 update", "undo": "撤销 undo"}
    rows = [["时间 at", "操作人 by", "操作 action", "编号 id", "对象 subject", "理由 reason",
             "原理由 previous"]]  # fmt: skip
    for e in log:
        rows.append([cn_time(e["at"], tz), e["by"], words.get(e["action"], e["action"]),
                     e["target"], e["subject"], e["reason"], e["previous"] or ""])  # fmt: skip
    return _table(rows, wrap=(5, 6))


async def _zone(store: Store) -> dt.tzinfo:
    """The time zone of the latest scan's config (Beijing time without one)."""
    try:
        info = await store.scan_info("latest")
    except StoreError:
        return zone_named(None)
    return zone_named((info.settings or {}).get("timezone"))


def _dates(note: dict[str, Any], tz: dt.tzinfo) -> str:
    text = cn_time(note["since"], tz)
    return text + (f"（{cn_time(note['changed'], tz)} 改）" if note.get("changed") else "")


def _table(rows: list[list[str]], wrap: tuple[int, ...] = ()) -> str:
    """Rows as aligned columns (a Chinese character is two columns wide); a cell of a ``wrap``
    column wider than 40 is wrapped onto further lines (ids and URLs never are: they are
    copied from here)."""
    wrapped = [
        [_wrap(str(cell)) if i and c in wrap else [str(cell or "—") if i else str(cell)]
         for c, cell in enumerate(row)]
        for i, row in enumerate(rows)
    ]  # fmt: skip
    widths = [max(_width(line) for row in wrapped for line in row[c]) for c in range(len(rows[0]))]
    out = []
    for i, row in enumerate(wrapped):
        for n in range(max(len(cell) for cell in row)):
            parts = [
                _pad(cell[n] if n < len(cell) else "", w)
                for cell, w in zip(row, widths, strict=True)
            ]
            out.append("  ".join(parts).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def _wrap(text: str, width: int = 40) -> list[str]:
    if not text:
        return ["—"]
    if _width(text) <= width:
        return [text]
    lines, line = [], ""
    for ch in text:
        if _width(line + ch) > width:
            lines.append(line)
            line = ""
        line += ch
    return [*lines, line] if line else lines or [""]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
