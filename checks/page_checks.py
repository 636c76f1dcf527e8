"""The page checks wired to the crawl: replies to messages, policy interpretations, service
guides, and page content (lexicons, personal data, hidden links).

They share the columns check's model of each site: which page is a column's list page, which
page is an item of which column (a message of a 政务咨询 board, a document of a 政策文件 column,
a guide of a 办事指南 column). The domain logic lives in :mod:`checks.messages`,
:mod:`checks.interpretation`, :mod:`checks.guides`, :mod:`checks.lexicon`, :mod:`checks.pii` and
:mod:`checks.hidden`; this module only routes pages to it and turns its answers into findings.
Each check that reads the columns check's model declares ``needs_columns``: the registry
(:mod:`checks.registry`) then runs the columns check before it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from checks.base import Finding, PageView, ScanContext
from checks.columns import ColumnCheck, ColumnState
from checks.guides import guide_missing, is_incomplete
from checks.hidden import hidden_links
from checks.interpretation import (
    Doc,
    Interpretations,
    in_window,
    read_doc,
    unmatched_policies,
)
from checks.lexicon import Lexicon
from checks.messages import FaqIndex, ReplyRules, judge_message
from checks.pii import find_pii
from checks.readers.boards import Message, merge_message, read_message_detail, read_message_list
from checks.readers.text import page_lines
from crawler.config.model import Site


def _finding(code: str, site: Site, column: ColumnState | None, url: str,
             detail: dict[str, object], page: str | None = None) -> Finding:  # fmt: skip
    return Finding(
        check=code,
        site=site.id,
        unit=column.unit if column is not None else site.unit,
        url=url,
        page=page or url,
        column=column.name if column is not None else None,
        detail=detail,
    )


@dataclass(slots=True)
class _Listed:
    column: ColumnState
    message: Message
    detail: Message | None = None


class MessageCheck:
    """互动回应: late, overdue, unanswered and incomplete replies on consultation boards."""

    needs_columns: ClassVar[bool] = True  # reads the columns check's model of the site

    codes: tuple[str, ...] = (
        "message.unanswered",
        "message.late_reply",
        "message.overdue",
        "message.incomplete",
    )

    def __init__(self, context: ScanContext, columns: ColumnCheck) -> None:
        self.columns = columns
        self.as_of = context.as_of_date
        rules = context.config.rules
        self.rules = ReplyRules(
            reply_working_days=rules.reply_working_days,
            simple_reply_working_days=rules.simple_reply_working_days,
            unanswered_max_days=rules.unanswered_max_days,
            count_from="same_day" if rules.reply_count_from == "same_day" else "next_day",
        )
        self._listed: dict[str, dict[str, _Listed]] = {}  # site -> message URL -> listing

    def on_page(self, site: Site, page: PageView) -> Iterable[Finding]:
        tree = page.parsed.tree
        if tree is None:
            return ()
        listed = self._listed.setdefault(site.id, {})
        column = self.columns.list_column(site, page)
        # a board or a message built by script that could not be read says nothing: the columns
        # check reports it column.unreadable, and no message is judged on an empty shell
        shell = page.script is not None and page.script.unreadable and page.script.part == "page"
        if column is not None and column.category == "consultation" and not shell:
            found = read_message_list(
                tree, page.final_url, selectors=column.selectors, as_of=self.as_of
            )
            for msg in found:
                listed.setdefault(msg.url, _Listed(column, msg))
        entry = listed.get(page.url)
        if entry is not None and entry.detail is None and not shell:
            entry.detail = read_message_detail(
                tree, page.url, selectors=entry.column.selectors, as_of=self.as_of
            )
        return ()

    def wants_browser_view(self, site: Site, url: str) -> bool:
        """A message of a board is read as a browser shows it (detail pages filled by script)."""
        return url in self._listed.get(site.id, {})

    def finish(self, site: Site) -> Iterable[Finding]:
        faq_titles = [
            item.title
            for col in self.columns.columns(site)
            if col.category == "faq"
            for item in col.items.values()
        ]
        faq = FaqIndex(faq_titles) if faq_titles else None
        found = []
        for url, entry in self._listed.get(site.id, {}).items():
            msg = (
                entry.message
                if entry.detail is None
                else merge_message(entry.message, entry.detail)
            )
            for judgement in judge_message(
                msg, self.as_of, self.rules, simple=entry.column.simple, faq=faq
            ):
                found.append(_finding(judgement.code, site, entry.column, url, judgement.detail))
        return found


class PolicyCheck:
    """政策解读: every policy document of the look-back year has its interpretation."""

    needs_columns: ClassVar[bool] = True  # reads the columns check's model of the site

    codes: tuple[str, ...] = ("policy.no_interpretation",)

    def __init__(self, context: ScanContext, columns: ColumnCheck) -> None:
        self.columns = columns
        self.as_of = context.as_of_date
        self._policies: dict[str, list[tuple[ColumnState, Doc]]] = {}
        # interpretations of the whole scan: a portal's 政策解读 may explain a department's file.
        # Each is normalised once, when recorded, not again for every site's policies.
        self._interpretations = Interpretations()

    def on_page(self, site: Site, page: PageView) -> Iterable[Finding]:
        tree = page.parsed.tree
        column = self.columns.item_column(page.url)
        if tree is None or column is None or column.category not in ("policy", "interpretation"):
            return ()
        if self.columns.list_column(site, page) is not None:
            return ()  # a link to another column's list, not a document
        doc = read_doc(tree, page.url, title=None, published=self.columns.item_date(page.url))
        if column.category == "policy":
            self._policies.setdefault(site.id, []).append((column, doc))
        else:
            self._interpretations.add(doc)
        return ()

    def finish(self, site: Site) -> Iterable[Finding]:
        policies = self._policies.get(site.id, [])
        if not policies:
            return []
        since = self.as_of - dt.timedelta(days=365)
        owners = {doc.url: column for column, doc in policies}
        missing = unmatched_policies(
            [doc for _, doc in policies], self._interpretations, since=since, until=self.as_of
        )
        return [
            _finding(
                "policy.no_interpretation",
                site,
                owners.get(doc.url),
                doc.url,
                {
                    "title": doc.title,
                    "published": doc.published.isoformat() if doc.published else None,
                    "number": doc.number,
                    "interpretations_seen": len(self._interpretations),
                },
            )
            for doc in missing
        ]

    def documents(self) -> tuple[dict[str, list[Doc]], list[Doc]]:
        """What this scan read: each site's policy documents, and every interpretation. A scan
        shared out (queue jobs, ``--processes``) sees only its own sites' interpretations:
        :func:`reconcile_interpretations` matches the parts' documents across the whole scan."""
        policies = {site: [doc for _, doc in docs] for site, docs in self._policies.items()}
        return policies, self._interpretations.docs


def policy_documents(checks: Iterable[object]) -> tuple[dict[str, list[Doc]], list[Doc]]:
    """:meth:`PolicyCheck.documents` of the policy check among ``checks`` (nothing when the
    scan ran without it)."""
    policy = next((c for c in checks if isinstance(c, PolicyCheck)), None)
    return policy.documents() if policy is not None else ({}, [])


def reconcile_interpretations(
    policies: dict[str, list[Doc]], interpretations: list[Doc], as_of: dt.date
) -> dict[str, set[str]]:
    """Per site, the policy URLs (in ``finish``'s window) that some interpretation of the whole
    scan explains. Where a part of a shared scan reported one as ``policy.no_interpretation``
    (it did not see that interpretation), the finding is to be withdrawn, so that the shared
    scan ends with the findings a single process gives; for the rest it changes nothing."""
    every = Interpretations(interpretations)
    since = as_of - dt.timedelta(days=365)
    explained: dict[str, set[str]] = {}
    for site, docs in policies.items():
        window = [d.url for d in docs if in_window(d.published, since, as_of)]
        still = {d.url for d in unmatched_policies(docs, every, since=since, until=as_of)}
        gone = set(window) - still
        if gone:
            explained[site] = gone
    return explained


def doc_to_json(doc: Doc) -> dict[str, object]:
    return {
        "url": doc.url,
        "title": doc.title,
        "published": doc.published.isoformat() if doc.published else None,
        "text": doc.text,
        "number": doc.number,
        "interpretation_links": list(doc.interpretation_links),
        "source_links": list(doc.source_links),
    }


def doc_from_json(data: dict[str, Any]) -> Doc:
    published = data.get("published")
    return Doc(
        url=str(data["url"]),
        title=str(data["title"]),
        published=dt.date.fromisoformat(published) if isinstance(published, str) else None,
        text=str(data.get("text") or ""),
        number=data.get("number"),
        interpretation_links=tuple(data.get("interpretation_links") or ()),
        source_links=tuple(data.get("source_links") or ()),
    )


class GuideCheck:
    """办事指南: a guide missing 4 or more of the 10 key elements."""

    needs_columns: ClassVar[bool] = True  # reads the columns check's model of the site

    codes: tuple[str, ...] = ("service.guide_incomplete",)

    def __init__(self, context: ScanContext, columns: ColumnCheck) -> None:
        self.columns = columns

    def on_page(self, site: Site, page: PageView) -> Iterable[Finding]:
        tree = page.parsed.tree
        column = self.columns.item_column(page.url)
        if tree is None or column is None or column.category != "service":
            return ()
        if self.columns.list_column(site, page) is not None:
            return ()  # a link to another column's list (a channel's 办事指南), not a guide
        missing = guide_missing(tree)
        if not is_incomplete(missing):
            return ()
        detail: dict[str, object] = {"title": page.parsed.title, "missing": missing}
        return [_finding("service.guide_incomplete", site, column, page.url, detail)]

    def finish(self, site: Site) -> Iterable[Finding]:
        return ()


@dataclass(slots=True)
class ContentCheck:
    """Content of every in-scope page: typos and sensitive words (lexicons), leaked personal
    data, and hidden links pointing off the site (暗链)."""

    # the columns check follows list pages and column links: run with it, the content checks
    # read every page a full scan reaches
    needs_columns: ClassVar[bool] = True

    context: ScanContext
    lexicon: Lexicon = field(init=False)
    codes: tuple[str, ...] = (
        "content.typo",
        "content.sensitive",
        "content.pii",
        "content.hidden_link",
    )

    def __post_init__(self) -> None:
        content = self.context.config.content
        self.lexicon = Lexicon.load(
            typo_files=[content.typo_lexicon] if content.typo_lexicon else [],
            sensitive_files=[content.sensitive_lexicon] if content.sensitive_lexicon else [],
            allow=content.allow,
            allow_files=[content.allow_lexicon] if content.allow_lexicon else [],
        )

    def on_page(self, site: Site, page: PageView) -> Iterable[Finding]:
        tree = page.parsed.tree
        if tree is None:
            return []
        enabled = self.context.config.checks.enabled
        found: list[Finding] = []
        # the main text, read once for every content check
        text = "\n".join(page_lines(tree))
        if enabled("content.typo") or enabled("content.sensitive"):
            by_code: dict[str, list[dict[str, str | None]]] = {}
            for hit in self.lexicon.scan_text(text):
                by_code.setdefault(hit.code, []).append(hit.detail())
            for code, hits in by_code.items():
                detail: dict[str, object] = {**hits[0], "hits": hits[:20], "count": len(hits)}
                if code == "content.sensitive":
                    detail["needs_review"] = True
                found.append(_finding(code, site, None, page.url, detail))
        if enabled("content.pii"):
            pii = find_pii(text, today=self.context.as_of_date)
            if pii:
                leaks = [h.detail() for h in pii]
                detail = {**leaks[0], "hits": leaks[:20], "count": len(leaks)}
                found.append(_finding("content.pii", site, None, page.url, detail))
        if enabled("content.hidden_link"):
            hidden = hidden_links(tree, page.final_url, site.scope)
            if hidden:
                links = [{"url": h.url, "text": h.text, "reason": h.reason} for h in hidden]
                detail = {"links": links[:20], "count": len(links)}
                found.append(_finding("content.hidden_link", site, None, page.url, detail))
        return found

    def finish(self, site: Site) -> Iterable[Finding]:
        return ()
