"""The layout: imports flow one way (no module imports, even lazily or for type checking,
a module that imports it back; the layers of pyproject.toml's import-linter contracts
hold), and no module reads another module's private (underscore) names."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import rcnlab

PACKAGE = Path(rcnlab.__file__).resolve().parent


def import_graph() -> dict[str, set[str]]:
    """Module -> the rcnlab modules it imports anywhere in its text."""
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("rcnlab", *path.relative_to(PACKAGE).with_suffix("").parts)
        mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                # ``from rcnlab import shipped`` imports the module rcnlab.shipped (the package's
                # own text only runs first, as for every import below it: not counted)
                subs = [f"{node.module}.{a.name}" for a in node.names]
                targets = subs if all(t in mods for t in subs) else [node.module, *subs]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph[name].update(t for t in targets if t in mods and t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while not comp or comp[-1] != v:
                comp.append(stack.pop())
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_the_emulation_core_knows_no_device_class() -> None:
    graph = import_graph()
    for name in (m for m in graph if m.startswith("rcnlab.emu")):
        assert not {t for t in graph[name] if t.startswith("rcnlab.devices")}, name


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


#: Underscore names that are the public API of standard-library types.
STDLIB_PUBLIC = {"_replace", "_asdict", "_fields", "_make", "_value_", "_name_", "_missing_"}


def _own_names(tree: ast.Module) -> set[str]:
    """Every underscore name a module defines itself (functions, classes, attributes, fields)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return {n for n in names if n.startswith("_")}


def foreign_private_reads(source: str, where: str, own: set[str] | None = None) -> list[str]:
    """``where:line: ...`` for each private name that ``source`` imports or reads but neither
    defines itself nor finds in ``own`` (the names its package shares)."""
    tree = ast.parse(source)
    own = _own_names(tree) | (own or set())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found += [f"{where}:{node.lineno}: imports {a.name}" for a in node.names
                      if a.name.startswith("_") and not a.name.startswith("__")]
        elif (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
              and node.attr not in own and node.attr not in STDLIB_PUBLIC):
            found.append(f"{where}:{node.lineno}: reads .{node.attr}")
    return found


def test_no_module_reads_another_modules_private_names() -> None:
    """A private name is its module's; in a subpackage (a device split by concern into
    modules, say) it is the package's: its modules share it, no one else reads it."""
    paths = sorted(PACKAGE.rglob("*.py"))
    scope = {p: p if p.parent == PACKAGE else p.parent for p in paths}
    shared: dict[Path, set[str]] = {}
    for p in paths:
        shared.setdefault(scope[p], set()).update(_own_names(ast.parse(p.read_text(encoding="utf-8"))))
    found = [line for p in paths for line in foreign_private_reads(p.read_text(encoding="utf-8"),
                                                                    str(p.relative_to(PACKAGE)), shared[scope[p]])]
    assert not found, "\n".join(found)


def test_the_private_read_finder_finds_one() -> None:
    assert foreign_private_reads("from m import _x\nlab._real(1)\nself._own = 1\nself._own\n", "f") == [
        "f:1: imports _x", "f:2: reads ._real"]


@pytest.mark.skipif(shutil.which("lint-imports", path=str(Path(sys.executable).parent)) is None,
                    reason="import-linter is not installed")
def test_the_layer_contracts_hold() -> None:
    """pyproject.toml's import-linter contracts: the layers, and Textual only in rcnlab.tui."""
    done = subprocess.run([str(Path(sys.executable).parent / "lint-imports")], cwd=PACKAGE.parent,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
