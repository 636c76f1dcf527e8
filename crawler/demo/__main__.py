"""``python -m crawler.demo``: serve the demo district by hand, run the whole demo, or record it.

python -m crawler.demo --port 8765          serve the static files until Ctrl-C
python -m crawler.demo --output demo-out    the same as ``govmon demo --output demo-out``
                                            (add --live to scan the static files instead)
python -m crawler.demo --record FILE        record a scan of the static files into FILE
                                            (crawler/demo/district.warc.gz: make demo-recording)
"""

from __future__ import annotations

import argparse
import contextlib
import threading
from pathlib import Path

from crawler.demo import HOSTS, SITE_ROOT, record_demo, run_demo, serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.demo", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8765, help="port to listen on (0: any)")
    parser.add_argument("--output", type=Path, help="run the demo scan into this folder instead")
    parser.add_argument(
        "--live", action="store_true", help="with --output: scan the static files, not a recording"
    )
    parser.add_argument(
        "--record", type=Path, metavar="FILE", help="record a scan of the static files into FILE"
    )
    args = parser.parse_args(argv)
    if args.record is not None:
        return record_demo(args.record)
    if args.output is not None:
        return run_demo(args.output, live=args.live)
    with serve(SITE_ROOT, args.host, args.port) as server:
        print(f"serving {SITE_ROOT} on {args.host}:{server.port} (Ctrl-C stops)")
        for host in HOSTS:
            print(f"  curl --connect-to {host}:80:{args.host}:{server.port} http://{host}/")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
