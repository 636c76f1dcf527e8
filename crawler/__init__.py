"""govmon's crawler: the crawl and everything that drives it or shows its result.

Its packages (see docs/architecture.md): ``config``, ``net``, ``core``, ``recordings``,
``reports``, ``scale``, ``service``, ``cli`` and ``demo``. This module holds only the version
and :func:`lazy_api`, so that every layer may read it.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Callable
from pathlib import Path

__all__ = ["__version__", "lazy_api"]

__version__ = "0.1.0"


def lazy_api(package: str, init_file: str) -> Callable[[str], object]:
    """A package's module ``__getattr__`` (PEP 562) for its public API: the names its
    ``__init__.py`` imports under ``if TYPE_CHECKING:`` (what type checkers and readers see) are
    imported from their submodules when first asked for. So importing one module of a package
    (the scan's process management, say) does not import all the others with it (the job queue,
    the web view, the Excel writer): ``govmon scan`` starts faster and holds less memory."""
    where: dict[str, str] = {}

    def get(name: str) -> object:
        if not where:  # read once, on the first name asked for
            where.update(_type_checking_imports(Path(init_file)))
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return get


def _type_checking_imports(path: Path) -> dict[str, str]:
    """Name -> module of the ``from module import name`` lines under ``if TYPE_CHECKING:``."""
    out: dict[str, str] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for imp in node.body:
                if isinstance(imp, ast.ImportFrom) and imp.module:
                    out.update((alias.asname or alias.name, imp.module) for alias in imp.names)
    return out
