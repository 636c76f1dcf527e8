"""Reading what a process wrote to a pseudo-terminal (``os.openpty``)."""

from __future__ import annotations

import os


def read_terminal(leader: int) -> bytes:
    """Everything written to the terminal whose leader end is ``leader``, read as it comes (a
    display longer than the terminal's buffer) until every process holding it is gone; closes
    ``leader``."""
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the processes are gone and everything was read
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
    return b"".join(chunks)
