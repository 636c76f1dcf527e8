"""``govmon probe``: availability rounds now, every site's home page once a round."""

from __future__ import annotations

import argparse
import datetime as dt

from checks.availability import INSUFFICIENT, Period, judge_period
from crawler.cli.common import (
    EXIT_OK,
    Subparsers,
    UsageError,
    command,
    config_argument,
    store_option,
)
from crawler.config import load_config
from crawler.service.probe import run_rounds
from crawler.service.scans import run_coroutine
from storage.open import open_store

__all__ = ["add_probe"]


def add_probe(sub: Subparsers) -> None:
    probe = command(
        sub,
        "probe",
        summary="availability rounds now: every site's home page once a round",
        description="""
            Fetch every site's home page now, once a round, and store each answer as an
            availability sample (可用性), as the daemon does through the day; then print each
            site's result and its availability judgement over the last days.
        """,
        example=(
            ("govmon probe govmon.toml", "one round now, into govmon.db"),
            (
                "govmon probe govmon.toml --rounds 3 --interval 600",
                "three rounds, ten minutes apart",
            ),
        ),
    )
    config_argument(probe)
    store_option(probe)
    probe.add_argument(
        "--rounds", type=int, default=1, metavar="N", help="how many rounds (default: %(default)s)"
    )
    probe.add_argument(
        "--interval",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="the time between rounds (default: %(default)s)",
    )
    probe.set_defaults(run=lambda args: run_coroutine(_probe(args)))


async def _probe(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.rounds < 1 or args.interval < 0:
        raise UsageError("probe: --rounds must be at least 1 and --interval not negative")
    store = await open_store(args.db)
    try:
        rounds = await run_rounds(config, store, args.rounds, args.interval)
        samples = await store.samples()
    finally:
        await store.close()
    last = rounds[-1] if rounds else []
    for row in last:
        state = "ok" if row.ok else f"FAILED at {row.failed_at} ({row.error or row.status})"
        print(f"  {row.site:<12} {row.total_ms or 0:>6} ms  {state}")
    # the rolling judgement of the last days, as a scan's report would judge them today
    now = dt.datetime.now(config.tz)
    days = max(1, config.rules.availability_period_days)
    period = Period(now - dt.timedelta(days=days), now + dt.timedelta(seconds=1), "probe",
                    config.rules.availability_min_samples)  # fmt: skip
    _, judged = judge_period(samples, period, tz=config.tz)
    for j in judged:
        d = j.detail
        verdict = (
            f"not judged: {d['samples']} samples, fewer than the {period.min_samples} a verdict"
            " needs"
            if j.code == INSUFFICIENT
            else j.code
        )
        print(f"{j.site}: {verdict} — {d['failures']} of {d['samples']} samples failed"
              f" ({d['percent']} %) over the last {days} days")  # fmt: skip
    return EXIT_OK
