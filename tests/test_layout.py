"""The code's layout holds: a request flows one way (server → execution → schema → resolvers →
loaders → db), no module imports another that imports it back (imports inside functions and
under TYPE_CHECKING included), and no module is over 400 lines.

Imports are read from the source (ast), so an import that only runs in a function, or only
for the type checker, counts like any other.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["server", "execution", "schema", "resolvers", "loaders", "db"]
"""Top-level packages, each importing only those after it (and itself)."""
MAX_LINES = 400


def modules() -> dict[str, Path]:
    """Every module of the layered packages, by dotted name."""
    found = {}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = modules()


def imported(name: str, path: Path) -> Iterator[str]:
    """The project modules `path` (module `name`) imports, wherever the import statement is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


GRAPH = {name: sorted(set(imported(name, path))) for name, path in MODULES.items()}


def layer(module: str) -> int:
    return LAYERS.index(module.split(".")[0])


def test_every_import_flows_one_way() -> None:
    upward = [
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if layer(target) < layer(module)
    ]
    assert not upward, "\n".join(upward)


def test_no_module_imports_one_that_imports_it_back() -> None:
    cycles: list[list[str]] = []
    done: set[str] = set()

    def visit(module: str, stack: list[str]) -> None:
        if module in stack:
            cycles.append([*stack[stack.index(module) :], module])
            return
        if module in done:
            return
        for target in GRAPH[module]:
            visit(target, [*stack, module])
        done.add(module)

    for module in GRAPH:
        visit(module, [])
    assert not cycles, "\n".join(" -> ".join(cycle) for cycle in cycles)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_are_short(name: str) -> None:
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name}: {lines} lines (at most {MAX_LINES}: split it by job)"


def test_the_layout_test_sees_imports_hidden_in_functions_and_type_checking(tmp_path: Path) -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from execution.plan import Plan\n"
        "def f():\n    from loaders import Loaders\n"
        "from . import budget\n"
    )
    path = tmp_path / "probe.py"
    path.write_text(source)
    assert set(imported("execution.probe", path)) == {
        "execution.plan",
        "loaders",
        "execution.budget",
        "execution",
    }
