"""The import contract of the product code: imports flow one way, down the layers below.

Every module of ``crawler``, ``checks`` and ``storage`` belongs to the layer of its longest
matching prefix in :data:`LAYERS`. A module may import modules of its own layer or of a lower
one, never of a higher one; and no chain of imports leads from a module back to itself.
Imports under ``if TYPE_CHECKING:`` count too (a cycle hidden from the interpreter is still a
cycle for a reader), and so do imports inside functions, which are allowed only for optional
dependencies (ruff's PLC0415 enforces that; see pyproject.toml).

A failure names the importing file and line, and the layers involved: move the code to the
layer it belongs to, or pass the value in from above, rather than reordering this table.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("crawler", "checks", "storage")

# Highest first. Modules on one line are one layer: they may import each other (no cycles).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("crawler.__main__", "crawler.cli"),  # the command line, one module per command
    ("crawler.demo",),  # the bundled demo district, through the public API
    ("crawler.service",),  # daemon, planner, probe, metrics, alerts, web view
    ("crawler.scale",),  # several processes, the PostgreSQL job queue
    ("crawler.recordings",),  # WARC recording and replay
    ("crawler.reports",),  # the report model and one module per format
    ("crawler.core",),  # the crawl: frontier, scheduler, scan, preflight, check runner
    ("checks",),  # the checks and the table that wires them
    ("crawler.config",),  # reading and validating a config file
    ("checks.readers", "checks.scoring"),  # page readers: lists, dates, text, forms, platforms
    ("crawler.config.model",),  # the validated config's types
    ("crawler.net",),  # URLs, HTTP fetching, per-host rate limits
    ("storage",),  # the store: rows, one writer, SQLite and PostgreSQL backends
    ("checks.catalogue", "checks.categories", "checks.wording", "crawler"),  # the vocabulary
)


@dataclass(frozen=True, slots=True)
class Import:
    source: str  # the importing module
    target: str  # the imported product module
    path: Path
    line: int
    in_function: bool


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def product_modules() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            modules[_module_name(path)] = path
    return modules


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _walk(node: ast.AST, in_function: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, in_function
        else:
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            yield from _walk(child, inner)


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> Iterator[Import]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node, in_function in _walk(tree, False):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            # ``from a import b``: b may be a module (a.b) or a name in a
            names = [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            target = _resolve(name, modules)
            if target is not None and target != module:
                yield Import(module, target, path, node.lineno, in_function)


def layer_of(module: str) -> int:
    best, best_len = -1, -1
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    assert best >= 0, f"{module} belongs to no layer of tests/test_layers.py"
    return best


def all_imports() -> list[Import]:
    modules = product_modules()
    return [imp for mod, path in modules.items() for imp in imports_of(mod, path, modules)]


def _where(imp: Import) -> str:
    return f"{imp.path.relative_to(ROOT)}:{imp.line}"


def upward(imports: list[Import]) -> list[str]:
    """Imports of a higher layer, as readable lines."""
    out: list[str] = []
    for imp in imports:
        src, dst = layer_of(imp.source), layer_of(imp.target)
        if dst < src:
            line = (
                f"{_where(imp)}: {imp.source} (layer {' '.join(LAYERS[src])}) imports "
                f"{imp.target} (higher layer {' '.join(LAYERS[dst])})"
            )
            if line not in out:
                out.append(line)
    return out


def cycles(imports: list[Import]) -> list[list[str]]:
    """Every strongly connected set of modules bigger than one (Tarjan's algorithm)."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        graph.setdefault(imp.source, set()).add(imp.target)
        graph.setdefault(imp.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_module_has_a_layer() -> None:
    for module in product_modules():
        layer_of(module)


def test_imports_flow_down_the_layers() -> None:
    assert upward(all_imports()) == []


def test_no_import_cycles() -> None:
    assert cycles(all_imports()) == []


def test_function_level_imports_only_for_optional_dependencies() -> None:
    """Product modules import each other at the top of the file, where a reader sees them."""
    lazy = [f"{_where(i)}: {i.source} imports {i.target}" for i in all_imports() if i.in_function]
    assert lazy == []


def test_the_architecture_document_names_every_package() -> None:
    """docs/architecture.md describes the whole tree: every package has its section."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    packages = sorted(
        "/".join(p.parent.relative_to(ROOT).parts)
        for name in PACKAGES
        for p in (ROOT / name).rglob("__init__.py")
    )
    missing = [p for p in packages if f"`{p}`" not in text and f"`{p}/`" not in text]
    assert missing == []


def test_every_name_a_package_exports_can_be_imported() -> None:
    """Each package's ``__all__`` is its public API, imported eagerly or on first use
    (:func:`crawler.lazy_api`): every name in it must resolve, to what it names (a name shared
    with a submodule would turn into the module once the submodule is imported)."""
    for module, path in product_modules().items():
        if path.name != "__init__.py":
            continue
        package = importlib.import_module(module)
        names = getattr(package, "__all__", [])
        submodules = {p.stem for p in path.parent.glob("*.py")} | {
            p.name for p in path.parent.iterdir() if (p / "__init__.py").is_file()
        }
        for name in names:
            if name in submodules:  # a package that lists its modules (checks.readers)
                importlib.import_module(f"{module}.{name}")
            else:
                assert not isinstance(getattr(package, name), ModuleType), f"{module}.{name}"


# The contract's own traps: each rule fails on the import it exists to refuse.


def test_an_upward_import_is_named_with_its_file_and_line(tmp_path: Path) -> None:
    imp = Import("storage.base", "checks.base", ROOT / "storage" / "base.py", 15, False)
    (line,) = upward([imp])
    assert line.startswith("storage/base.py:15: storage.base (layer storage) imports checks.base")


def test_a_cycle_through_type_checking_is_found() -> None:
    a = Import("checks.base", "storage.base", ROOT / "checks" / "base.py", 24, False)
    b = Import("storage.base", "checks.base", ROOT / "storage" / "base.py", 15, False)
    assert cycles([a, b]) == [["checks.base", "storage.base"]]


def test_the_parser_sees_type_checking_function_level_and_relative_imports(
    tmp_path: Path,
) -> None:
    """The rules above read what :func:`imports_of` finds: it must see an import under
    ``if TYPE_CHECKING:``, one inside a function (marked so) and a relative one."""
    source = tmp_path / "mod.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from storage import base\n"
        "from . import sibling\n"
        "def f() -> None:\n"
        "    import checks.base\n",
        encoding="utf-8",
    )
    modules = dict.fromkeys(("storage.base", "checks.base", "crawler.core.sibling"), source)
    found = {(i.target, i.in_function) for i in imports_of("crawler.core.mod", source, modules)}
    assert found == {
        ("storage.base", False),
        ("crawler.core.sibling", False),
        ("checks.base", True),
    }


def test_the_longest_prefix_decides_the_layer() -> None:
    assert layer_of("checks.readers.dates") > layer_of("checks.columns")
    assert layer_of("crawler.config.model") > layer_of("crawler.config")
    assert layer_of("crawler") == len(LAYERS) - 1
    assert layer_of("crawler.cli.scan") == 0


if __name__ == "__main__":  # python -m tests.test_layers: every violation, one per line
    found = all_imports()
    for text in upward(found):
        print("upward:", text)
    for group in cycles(found):
        print("cycle:", " ".join(group))
    for imp in found:
        if imp.in_function:
            print(f"in a function: {_where(imp)}: {imp.source} imports {imp.target}")
