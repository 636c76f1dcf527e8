"""The ``govmon`` command line. Exit status: 0 done, 1 a run-time failure, 2 bad usage/config,
130 / 143 a scan stopped by SIGINT / SIGTERM before it completed."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import signal
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from crawler import __version__
from crawler.config import Config, ConfigError, load_config, parse_when
from storage.base import StoreError
from storage.dburl import shown

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad usage: exit 2 with the message."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="govmon",
        description="Inspect government websites: links, columns, replies, verdicts.",
    )
    p.add_argument("--version", action="version", version=f"govmon {__version__}")
    p.add_argument("--log-level", default="warning", help="debug, info, warning (default), error")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    scan = sub.add_parser("scan", help="inspect every site of CONFIG into the store")
    scan.add_argument("config")
    scan.add_argument("--db", default="govmon.db", help="store (default: govmon.db)")
    scan.add_argument("--as-of", dest="as_of", metavar="WHEN", help="monitoring time point")
    scan.add_argument("--site", action="append", default=[], metavar="ID", help="only this site")
    scan.add_argument("--record", metavar="WARC", help="also write every exchange to this WARC")
    scan.add_argument(
        "--proxy",
        metavar="URL",
        help="send every request through this proxy (govmon replay), https URLs included",
    )
    scan.add_argument(
        "--resume",
        action="store_true",
        help="continue the newest incomplete scan of this config in the store",
    )
    scan.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="share the crawl between N processes, sites of one host in the same one (1)",
    )

    report = sub.add_parser("report", help="print the findings of a scan")
    report.add_argument("--db", default="govmon.db")
    report.add_argument("--scan", default="latest", metavar="ID|latest")
    report.add_argument("--format", default="json", choices=("json", "csv", "md", "html", "xlsx"))
    report.add_argument("--output", metavar="FILE", help="write here (required for xlsx)")
    report.add_argument(
        "--compare",
        metavar="ID",
        help="what is new, persisting, resolved since scan ID (an earlier one), or 'previous':"
        " the newest earlier complete scan of the same sites",
    )

    ignore = sub.add_parser(
        "ignore", help="mark a finding as a false positive or accepted exception (or --undo)"
    )
    ignore.add_argument("finding", metavar="FINDING", help="the finding's id (see the report)")
    ignore.add_argument("--reason", help="why (required unless --undo)")
    ignore.add_argument("--undo", action="store_true", help="count the finding again")
    ignore.add_argument("--db", default="govmon.db")

    inspect = sub.add_parser("inspect", help="show what the crawler sees on one page")
    inspect.add_argument("url")
    inspect.add_argument("--as-of", dest="as_of", metavar="WHEN")
    inspect.add_argument("--format", default="text", choices=("text", "json"))
    inspect.add_argument("--config", help="use this config's [crawl] settings (resolve, timeout)")

    columns = sub.add_parser(
        "columns", help="print the discovered column tree of each site, pasteable into CONFIG"
    )
    columns.add_argument("config")
    columns.add_argument("--site", action="append", default=[], metavar="ID", help="only this site")
    columns.add_argument("--as-of", dest="as_of", metavar="WHEN", help="monitoring time point")
    columns.add_argument(
        "--depth", type=int, default=3, help="how deep to look for columns and their lists (3)"
    )

    serve = sub.add_parser("serve", help="a read-only web view of the store")
    serve.add_argument("--db", default="govmon.db")
    serve.add_argument("--listen", default="127.0.0.1:8080", metavar="HOST:PORT")
    serve.add_argument(
        "--token-file",
        metavar="FILE",
        help="a file holding the access token (or set GOVMON_TOKEN); required off loopback",
    )

    probe = sub.add_parser("probe", help="availability rounds now: every site's home page once")
    probe.add_argument("config")
    probe.add_argument("--db", default="govmon.db")
    probe.add_argument("--rounds", type=int, default=1, metavar="N")
    probe.add_argument("--interval", type=float, default=60.0, metavar="SECONDS")

    daemon = sub.add_parser("daemon", help="sample, scan inside the window, warn; until stopped")
    daemon.add_argument("config")
    daemon.add_argument("--db", default="govmon.db")
    daemon.add_argument(
        "--queue",
        action="store_true",
        help="(postgresql:// only) submit each scan to `govmon worker`s instead of crawling",
    )
    daemon.add_argument(
        "--metrics-listen",
        metavar="HOST:PORT",
        help="where /healthz and /metrics answer (default: [schedule] metrics_listen)",
    )

    record = sub.add_parser("record", help="a scan that also writes every response to a WARC")
    record.add_argument("config")
    record.add_argument("--warc", required=True, metavar="FILE")
    record.add_argument("--db", default="govmon.db")
    record.add_argument("--as-of", dest="as_of", metavar="WHEN")
    record.add_argument("--site", action="append", default=[], metavar="ID")

    replay = sub.add_parser("replay", help="serve recorded responses on loopback (scan --proxy)")
    replay.add_argument("warc", nargs="+", metavar="WARC")
    replay.add_argument("--listen", default="127.0.0.1:8090", metavar="HOST:PORT")
    replay.add_argument(
        "--token-file",
        metavar="FILE",
        help="a file holding the access token (or set GOVMON_TOKEN); required off loopback",
    )

    submit = sub.add_parser(
        "submit", help="queue a scan of CONFIG in PostgreSQL, one job per site (for workers)"
    )
    submit.add_argument("config")
    submit.add_argument("--db", required=True, metavar="postgresql://…")
    submit.add_argument("--as-of", dest="as_of", metavar="WHEN")
    submit.add_argument(
        "--window", metavar="DURATION", help="the sampling window from now, e.g. 5d, 36h (status)"
    )

    worker = sub.add_parser("worker", help="run queued site jobs from PostgreSQL until stopped")
    worker.add_argument("--db", required=True, metavar="postgresql://…")
    worker.add_argument("--jobs", type=int, default=1, metavar="N", help="sites at once (1)")
    worker.add_argument(
        "--until-idle", action="store_true", help="exit when no site of any scan is left to do"
    )
    worker.add_argument("--heartbeat", type=float, default=10.0, metavar="SECONDS")
    worker.add_argument(
        "--stalled-after",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="a worker silent this long is lost: its sites go back to the queue (30)",
    )

    status = sub.add_parser("status", help="queued scans: sites queued, running, done; ETA")
    status.add_argument("--db", required=True, metavar="postgresql://…")
    status.add_argument("--scan", type=int, metavar="ID")
    status.add_argument("--format", choices=("text", "json"), default="text")

    demo = sub.add_parser("demo", help="scan the bundled demo district and write its report")
    demo.add_argument("--output", default="demo-out", metavar="DIR")
    demo.add_argument(
        "--live",
        action="store_true",
        help="serve the district's static files instead of replaying its bundled recording",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from crawler.core.logs import configure

    configure(args.log_level)
    try:
        if args.command == "scan":
            return _run(_scan(args))
        if args.command == "report":
            return _run(_report(args))
        if args.command == "inspect":
            return _run(_inspect(args))
        if args.command == "columns":
            return _run(_columns(args))
        if args.command == "ignore":
            return _run(_ignore(args))
        if args.command == "record":
            args.record, args.proxy, args.resume = args.warc, None, False
            return _run(_scan(args))
        if args.command == "replay":
            return _run(_replay(args))
        if args.command == "probe":
            return _run(_probe(args))
        if args.command == "daemon":
            return _run(_daemon(args))
        if args.command in ("submit", "worker", "status"):
            return _run(_queue_command(args))
        if args.command == "serve":
            return _run(_serve(args, _token(args)))
        if args.command == "demo":
            from crawler.demo import run_demo

            return run_demo(Path(args.output), live=args.live)
    except ConfigError as exc:
        print(f"govmon: config error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"govmon: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except StoreError as exc:
        print(f"govmon: store error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("govmon: interrupted", file=sys.stderr)
        return 130
    print(f"govmon: unknown command {args.command}", file=sys.stderr)
    return EXIT_USAGE


def _run(coro: Coroutine[Any, Any, int]) -> int:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:  # pragma: no cover - uvloop is a dependency, but not on every platform
        return asyncio.run(coro)


def _load(path: str) -> Config:
    return load_config(path)


def _sites(config: Config, wanted: list[str]) -> tuple[Any, ...]:
    if not wanted:
        return config.sites
    known = {s.id for s in config.sites}
    for w in wanted:
        if w not in known:
            raise UsageError(
                f"--site {w}: no such site in {config.path} ({', '.join(sorted(known))})"
            )
    return tuple(s for s in config.sites if s.id in wanted)


def _as_of(config: Config, text: str | None) -> Any:
    if not text:
        return config.as_of
    try:
        return parse_when(text, config.tz)
    except ValueError as exc:
        raise UsageError(f"--as-of: {exc}") from None


async def _columns(args: argparse.Namespace) -> int:
    """A shallow scan into a temporary store, then the column tree as TOML."""
    import dataclasses
    import tempfile

    from crawler.config.columns_toml import render_columns
    from crawler.core.engine import Scan
    from crawler.core.logs import ProgressLine
    from storage.sqlite import SQLiteStore

    config = _load(args.config)
    sites = _sites(config, args.site)
    shallow = dataclasses.replace(config.crawl, max_depth=max(1, args.depth))
    config = dataclasses.replace(config, crawl=shallow)
    progress = ProgressLine()
    with tempfile.TemporaryDirectory(prefix="govmon-columns-") as tmp:
        store = await SQLiteStore.open(Path(tmp) / "columns.db")
        try:
            scan = Scan(config, store, sites=sites, as_of=_as_of(config, args.as_of),
                        progress=progress)  # fmt: skip
            result = await scan.run()
            rows = await store.columns(result.scan_id)
        finally:
            progress.done()
            await store.close()
    sys.stdout.write(render_columns(sites, rows))
    return EXIT_OK


async def _scan(args: argparse.Namespace) -> int:
    from crawler.core.engine import Scan
    from crawler.core.logs import ProgressLine
    from storage.open import open_store

    config = _load(args.config)
    sites = _sites(config, args.site)
    as_of = _as_of(config, args.as_of)
    processes = getattr(args, "processes", 1)  # `govmon record` has no --processes
    if processes < 1:
        raise UsageError(f"--processes {processes}: at least 1")
    if processes > 1:
        if args.resume or args.record:
            option = "--resume" if args.resume else "--record"
            raise UsageError(f"--processes cannot be combined with {option}; use one process")
        from crawler.scale.processes import scan_command

        return await scan_command(config, sites, config_arg=args.config, db=args.db, as_of=as_of,
                                  processes=processes, proxy=args.proxy,
                                  log_level=args.log_level)  # fmt: skip
    store = await open_store(args.db)
    progress = ProgressLine()
    loop = asyncio.get_running_loop()
    recording_error: str | None = None
    try:
        resume = None
        if args.resume:
            from crawler.core.engine import config_digest

            # (a scan shared out to several processes or queue workers is never resumable)
            resume = await store.resumable(config_digest(config))
            if resume is None:
                print("govmon: no incomplete scan of this config to resume: starting a new one",
                      file=sys.stderr)  # fmt: skip
        recorder = None
        if args.record:
            from crawler.recordings import WarcRecorder

            recorder = WarcRecorder(args.record, append=resume is not None)
        scan = Scan(
            config,
            store,
            sites=sites,
            as_of=as_of,
            progress=progress,
            resume=resume,
            recorder=recorder,
            proxy=args.proxy,
        )
        stopped_by: list[int] = []

        def stop(sig: int) -> None:
            stopped_by.append(sig)
            scan.stop()

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop, sig)
        try:
            result = await scan.run()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            if recorder is not None:
                recording_error = _close_recorder(recorder)
    finally:
        progress.done()
        await store.close()
    if recording_error is not None:
        print(f"govmon: recording {args.record}: {recording_error}", file=sys.stderr)
        return EXIT_FAILURE
    if result.status != "complete":
        print(
            f"govmon: scan {result.scan_id} stopped ({result.status}); everything done so far is"
            f" stored: continue it with `govmon scan {args.config} --db {shown(args.db)} --resume`."
            " Its report says 检查未完成 and gives the sites not finished no verdict (unchecked).",
            file=sys.stderr,
        )
        return stopped_status(stopped_by[0] if stopped_by else signal.SIGTERM)
    _summary(scan, result.scan_id, args.db)
    return EXIT_OK


def stopped_status(sig: int) -> int:
    """The exit status of a scan stopped by ``sig`` before it completed: 128 + the signal's
    number, as shells report it (130 for SIGINT, 143 for SIGTERM)."""
    return 128 + int(sig)


def _close_recorder(recorder: Any) -> str | None:
    """Close a WARC recorder; what went wrong (a full disk), if anything. The store has
    everything the scan found either way."""
    from crawler.recordings import WarcError

    try:
        recorder.close()
    except WarcError as exc:
        return str(exc)
    return None


def script_summary(scripted: Any) -> str:
    """The summary's line on pages built by script (nothing on a site without any)."""
    s = scripted.stats
    if not (s.static or s.needed_browser):
        return ""
    line = (
        f"built by script: {s.static} pages read without a browser, {s.needed_browser} needed a"
        f" browser: {s.rendered} rendered, {s.unreadable} could not be read (column.unreadable)\n"
    )
    if s.unreadable and scripted.unavailable:
        line += f"  no browser: {scripted.unavailable}\n"
    return line


def _summary(scan: Any, scan_id: int, db: str) -> None:
    s = scan.stats
    out = sys.stdout
    out.write(
        f"scan {scan_id} complete: {s.pages} pages, {s.requests} requests, "
        f"{s.broken} broken, {s.blocked} blocked, {s.retries} retries, {s.rechecks} re-checks"
        f" in {scan.elapsed:.1f}s\n"
    )
    for st in scan.sites:
        out.write(
            f"  {st.site.id:<12} {st.pages:>6} pages  {st.errors:>4} broken  {st.site.name}\n"
        )
    scripted = getattr(scan, "scripted", None)
    if scripted is not None:
        out.write(script_summary(scripted))
    out.write(f"report: govmon report --db {shown(db)} --scan {scan_id} --format md\n")


async def _report(args: argparse.Namespace) -> int:
    from crawler.reports import ReportError, build_report, render
    from storage.open import open_store

    if args.format == "xlsx" and not args.output:
        raise UsageError("--format xlsx needs --output FILE.xlsx")
    store = await open_store(args.db, create=False)
    try:
        report = await build_report(store, args.scan, args.compare)
    except ReportError as exc:
        raise UsageError(str(exc)) from None
    finally:
        await store.close()
    out = render(report, args.format)
    data = out.encode("utf-8") if isinstance(out, str) else out
    if args.output:
        try:
            await asyncio.to_thread(Path(args.output).write_bytes, data)
        except OSError as exc:
            print(f"govmon: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
            return EXIT_FAILURE
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return EXIT_OK


async def _replay(args: argparse.Namespace) -> int:
    from crawler.recordings import WarcError
    from crawler.recordings.replay import run_replay

    try:
        await run_replay(args.warc, args.listen, token=_token(args))
    except (WarcError, OSError) as exc:  # an unreadable file, a port already in use
        print(f"govmon: replay: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except ValueError as exc:
        raise UsageError(f"replay: {exc}") from None
    return EXIT_OK


async def _probe(args: argparse.Namespace) -> int:
    from checks.availability import INSUFFICIENT, Period, judge_period
    from crawler.service.probe import run_rounds
    from storage.open import open_store

    config = _load(args.config)
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


async def _daemon(args: argparse.Namespace) -> int:
    from crawler.service.daemon import run_daemon

    config = _load(args.config)
    if args.queue:
        from crawler.scale.jobqueue import QueueError, require_postgres

        try:
            require_postgres(args.db, "daemon --queue")
        except QueueError as exc:
            raise UsageError(str(exc)) from None
    listen = None
    if args.metrics_listen:
        host, _, port = args.metrics_listen.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise UsageError(f"--metrics-listen {args.metrics_listen!r}: expected HOST:PORT")
        listen = (host.strip("[]"), int(port))
    return await run_daemon(config, args.db, queue=args.queue, listen=listen)


async def _queue_command(args: argparse.Namespace) -> int:
    from crawler.scale import jobqueue as queue

    try:
        if args.command == "submit":
            as_of = None
            if args.as_of:
                config = _load(args.config)
                try:
                    as_of = parse_when(args.as_of, config.tz)
                except ValueError as exc:
                    raise UsageError(f"--as-of: {exc}") from None
            try:
                window = queue.parse_duration(args.window) if args.window else None
            except ValueError as exc:
                raise UsageError(f"--window: {exc}") from None
            scan_id, sites = await queue.submit(args.config, args.db, as_of=as_of, window=window)
            print(scan_id)
            print(f"queued {sites} sites of scan {scan_id}", file=sys.stderr)
            return EXIT_OK
        if args.command == "worker":
            if args.jobs < 1:
                raise UsageError("worker: --jobs must be at least 1")
            await queue.run_worker(
                args.db,
                jobs=args.jobs,
                heartbeat=args.heartbeat,
                stalled_after=args.stalled_after,
                recover_every=max(1.0, min(10.0, args.stalled_after / 3)),
                until_idle=args.until_idle,
            )
            return EXIT_OK
        rows = await queue.status(args.db, args.scan)
        if args.format == "json":
            print(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=2))
        else:
            print(queue.format_status(rows))
        return EXIT_OK
    except queue.QueueError as exc:
        raise UsageError(str(exc)) from None


def _token(args: argparse.Namespace) -> str | None:
    """The web view's token: from --token-file or GOVMON_TOKEN, never the command line."""
    import os

    token = os.environ.get("GOVMON_TOKEN") or None
    if args.token_file:
        try:
            token = Path(args.token_file).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise UsageError(f"--token-file {args.token_file}: {exc.strerror}") from None
    from storage.open import is_server_url

    db = getattr(args, "db", None)  # (replay has no store)
    if db is not None and not is_server_url(db) and not Path(db).exists():
        raise UsageError(f"--db {args.db}: no such store (run `govmon scan` first)")
    return token


async def _serve(args: argparse.Namespace, token: str | None) -> int:
    from crawler.service.web import ServeError, run_server

    try:
        await run_server(args.db, args.listen, token)
    except ServeError as exc:
        raise UsageError(f"serve: {exc}") from None
    return EXIT_OK


async def _ignore(args: argparse.Namespace) -> int:
    from storage.open import open_store

    if not args.undo and not (args.reason or "").strip():
        raise UsageError("ignore: --reason TEXT is required (say why, for the next inspector)")
    store = await open_store(args.db, create=False)
    try:
        if args.undo:
            if not await store.unignore(args.finding):
                raise UsageError(f"ignore --undo: finding {args.finding} was not ignored")
            print(f"finding {args.finding} counts again")
        else:
            done = await store.ignore(args.finding, args.reason.strip())
            print(f"ignored {done['check']} {done['url']} ({done['site']}): {done['reason']}")
    finally:
        await store.close()
    return EXIT_OK


async def _inspect(args: argparse.Namespace) -> int:
    from crawler.cli.inspect_page import inspect_url

    config = _load(args.config) if args.config else None
    as_of = None
    if args.as_of:
        tz = config.tz if config is not None else ZoneInfo("Asia/Shanghai")
        try:
            as_of = parse_when(args.as_of, tz).date()
        except ValueError as exc:
            raise UsageError(f"--as-of: {exc}") from None
    elif config is not None and config.as_of is not None:
        as_of = config.as_of.date()
    result = await inspect_url(args.url, config, as_of)
    if args.format == "json":
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        for key in ("url", "status", "charset", "title", "published"):
            print(f"{key:>10}: {result[key]}")
        print(f"{'list':>10}: {'yes' if result['is_list'] else 'no'} ({result['why']})")
        if result.get("script"):
            print(f"{'script':>10}: {result['script']}")
        print(f"{'items':>10}: {len(result['items'])}")
        for item in result["items"]:
            print(f"            {item['date'] or '----------'}  {item['title']}  {item['url']}")
        if result["pagination"]:
            print(f"{'pages':>10}: {len(result['pagination'])} more list pages")
            for more in result["pagination"]:
                print(f"            {more}")
        print(f"{'links':>10}: {len(result['links'])}")
        for link in result["links"]:
            print(f"            {link}")
    return EXIT_OK if result["status"] is not None else EXIT_FAILURE
