"""govmon's crawler: configuration, URL frontier, per-host scheduling, fetching, extraction."""

__version__ = "0.1.0"
