"""The fast selection (``python -m pytest``, without ``--run-slow``) still imports and
exercises every module of ``minigan/`` (issue 22): every module imports, and every module
is reached from a test the fast selection runs — a test file that imports it, runs its
``minigan`` subcommand, or imports a minigan module that imports it.  Read from the
sources (ast), so the check itself costs nothing; a test file counts when at least one of
its tests is not marked ``slow``."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest
from conftest import require

import minigan

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "minigan"
MODULES = sorted({"minigan"} | {m.name for m in pkgutil.walk_packages(minigan.__path__, "minigan.")})
COMMANDS = {p.stem.replace("_", "-"): f"minigan.commands.{p.stem}" for p in (PACKAGE / "commands").glob("*.py")
            if p.stem != "__init__"}


def source_of(module: str) -> Path:
    path = ROOT.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def is_slow_mark(node: ast.AST) -> bool:
    return "slow" in ast.unparse(node) and "mark" in ast.unparse(node)


def runs_in_fast_selection(tree: ast.Module) -> bool:
    """Whether some test of the file is not marked slow (module-wide or on itself)."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in node.targets):
            if is_slow_mark(node.value):
                return False
    tests = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name.startswith(
        ("test_", "Test"))]
    return any(not any(is_slow_mark(d) for d in t.decorator_list) for t in tests)


def imported_modules(tree: ast.Module, module: str | None = None) -> set[str]:
    """minigan modules a source imports anywhere (``module``: its own name, for relative imports)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level and module:
                package = module.split(".") if source_of(module).name == "__init__.py" else module.split(".")[:-1]
                package = package[:len(package) - (node.level - 1)]
                base = ".".join(package + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return {name for name in found if name in MODULES}


def commands_run(tree: ast.Module) -> set[str]:
    """``minigan`` subcommands a test file runs (string arguments naming one)."""
    text = ast.unparse(tree)
    if "minigan" not in text or not ("subprocess" in text or "cli.main" in text or "main(" in text):
        return set()
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return {COMMANDS[s] for s in strings if s in COMMANDS} | ({"minigan.cli", "minigan.__main__"} if strings & set(
        COMMANDS) else set())


def reached_by_fast_tests() -> set[str]:
    reached = {"minigan"}
    for path in ROOT.glob("tests/test_*.py"):
        if path.name == Path(__file__).name:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if runs_in_fast_selection(tree):
            reached |= imported_modules(tree) | commands_run(tree)
    # Importing a module imports the packages above it.
    reached |= {".".join(m.split(".")[:k]) for m in reached for k in range(1, m.count(".") + 1)}
    todo = list(reached)
    while todo:  # what the reached modules import is reached too
        name = todo.pop()
        source = source_of(name)
        if not source.is_file():  # a folder of data files (minigan.data.bundled)
            continue
        for sub in imported_modules(ast.parse(source.read_text(encoding="utf-8")), name) - reached:
            reached.add(sub)
            todo.append(sub)
    return reached


#: modules that import an optional dependency at the top (the PyTorch bridge): it must be there in CI
OPTIONAL = {"minigan.interop.torch": "torch"}


@pytest.mark.parametrize("module", [m for m in MODULES if m != "minigan.__main__"])
def test_every_module_imports(module):
    if module in OPTIONAL:
        require(OPTIONAL[module], f"{module} needs {OPTIONAL[module]}: pip install torch==2.13.0")
    importlib.import_module(module)


def test_every_module_is_reached_by_the_fast_selection():
    missing = sorted(set(MODULES) - reached_by_fast_tests())
    assert not missing, f"modules no fast test reaches (only slow tests, or none): {missing}"


def test_the_check_sees_a_slow_only_file_and_relative_imports():
    slow = ast.parse("import pytest\nimport minigan.viewer\npytestmark = pytest.mark.slow\ndef test_a(): pass\n")
    assert not runs_in_fast_selection(slow)
    marked = ast.parse("import pytest\n@pytest.mark.slow\ndef test_a(): pass\n")
    assert not runs_in_fast_selection(marked)
    assert runs_in_fast_selection(ast.parse("def test_a(): pass\n"))
    assert imported_modules(ast.parse("from ..nn import Dense\nfrom .im2col import col2im\n"),
                            "minigan.nn.conv") >= {"minigan.nn", "minigan.nn.im2col"}
