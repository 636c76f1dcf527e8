"""URLs, HTTP fetching and per-host rate limits: the crawl's view of the network.

The public API: :func:`canonicalize` and the other URL helpers, :class:`HttpFetcher` (the one
HTTP client of a scan, behind the :class:`Fetcher` seam) and the :class:`FetchResult` it
answers with, :class:`GovResolver` (the DNS policy), and :class:`HostPolicy` (politeness).
"""

from crawler.net.fetcher import (
    FAILURE_HEADER,
    REPLAY_FAILED,
    REPLAY_HEADER,
    SNIFF_BYTES,
    BlockedAddressError,
    Exchange,
    Failure,
    Fetcher,
    FetchResult,
    GovResolver,
    HttpFetcher,
    Recorder,
    classify_exception,
    is_private_address,
)
from crawler.net.ratelimit import HostPolicy, parse_retry_after
from crawler.net.urls import (
    canonicalize,
    hostname,
    in_scope,
    is_ip_literal,
    origin,
    path_extension,
)

__all__ = [
    "FAILURE_HEADER",
    "REPLAY_FAILED",
    "REPLAY_HEADER",
    "SNIFF_BYTES",
    "BlockedAddressError",
    "Exchange",
    "Failure",
    "FetchResult",
    "Fetcher",
    "GovResolver",
    "HostPolicy",
    "HttpFetcher",
    "Recorder",
    "canonicalize",
    "classify_exception",
    "hostname",
    "in_scope",
    "is_ip_literal",
    "is_private_address",
    "origin",
    "parse_retry_after",
    "path_extension",
]
