"""govmon's crawler: the crawl and everything that drives it or shows its result.

Its packages (see docs/architecture.md): ``config``, ``net``, ``core``, ``recordings``,
``reports``, ``scale``, ``service``, ``cli`` and ``demo``. This module holds only the version,
so that every layer may read it.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
