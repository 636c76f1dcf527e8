"""Recordings: every exchange of a scan written to a WARC file, WARC/ARC files read back, and
``govmon replay`` serving them.

* :mod:`~crawler.recordings.model`: what a recorded response or failure is
  (:class:`RecordedResponse`, :class:`RecordedFailure`, :func:`honest_headers`);
* :mod:`~crawler.recordings.writer`: :class:`WarcRecorder`, the fetcher's recorder;
* :mod:`~crawler.recordings.framing`: the records of a file, read as far as they go;
* :mod:`~crawler.recordings.parsing`: the HTTP messages inside records;
* :mod:`~crawler.recordings.stream`: :class:`StreamIndex`, checkpoints to re-enter a gzip file
  compressed as one stream;
* :mod:`~crawler.recordings.reader`: :func:`read_exchanges`, :func:`index_records` and
  :func:`read_response_at`;
* :mod:`~crawler.recordings.replay`: ``govmon replay``, the recordings served on loopback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler import lazy_api

if TYPE_CHECKING:
    from crawler.recordings.framing import MAX_BLOCK
    from crawler.recordings.model import (
        FAILURE_TYPE,
        TRUNCATED_HEADER,
        RecordedFailure,
        RecordedResponse,
        WarcError,
        body_digest,
        honest_headers,
    )
    from crawler.recordings.reader import Located, index_records, read_exchanges, read_response_at
    from crawler.recordings.replay import (
        INDEX,
        REPLAY_HEADER,
        ReplayIndex,
        make_app,
        parse_listen,
        run_replay,
    )
    from crawler.recordings.stream import CHECKPOINT_EVERY, MAX_CHECKPOINTS, StreamIndex
    from crawler.recordings.writer import SOFTWARE, WarcRecorder, warc_date

__all__ = [
    "CHECKPOINT_EVERY",
    "FAILURE_TYPE",
    "INDEX",
    "MAX_BLOCK",
    "MAX_CHECKPOINTS",
    "REPLAY_HEADER",
    "SOFTWARE",
    "TRUNCATED_HEADER",
    "Located",
    "RecordedFailure",
    "RecordedResponse",
    "ReplayIndex",
    "StreamIndex",
    "WarcError",
    "WarcRecorder",
    "body_digest",
    "honest_headers",
    "index_records",
    "make_app",
    "parse_listen",
    "read_exchanges",
    "read_response_at",
    "run_replay",
    "warc_date",
]

__getattr__ = lazy_api(__name__, __file__)
