"""govmon's crawler: the crawl and everything that drives it or shows its result.

Its packages (see docs/architecture.md): ``config``, ``net``, ``core``, ``recordings``,
``reports``, ``scale``, ``service``, ``cli`` and ``demo``. This module holds only the version
and :func:`lazy_api`, so that every layer may read it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence

__all__ = ["__version__", "lazy_api"]

__version__ = "0.1.0"


def lazy_api(package: str, api: Mapping[str, Sequence[str]]) -> Callable[[str], object]:
    """A package's module ``__getattr__`` (PEP 562) for its public API: ``api`` maps each
    submodule to the names it gives the package. A name is imported from its submodule when
    first asked for, so that importing one module of a package (the scan's store, say) does not
    import all the others (the web view, the Excel writer, the job queue) with it: ``govmon
    scan`` starts faster and holds less memory."""
    where = {name: module for module, names in api.items() for name in names}

    def get(name: str) -> object:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return get
