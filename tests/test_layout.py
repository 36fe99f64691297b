"""The architecture as tests (``docs/architecture.md``, "Layout and data flow"): arrows run one way, no module
imports a private name of another, no function over 80 lines outside the tests, no cache keyed by object
identity, no sys.path edits in scripts, and importing the command line loads neither numba nor matplotlib."""
from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("distributions", "mechanisms", "simulator")
#: part -> the parts of ours it must not import (the arrows of docs/architecture.md)
FORBIDDEN = {
    "distributions": ("mechanisms", "simulator"),
    "mechanisms": ("simulator",),
    "simulator.kernels": ("simulator.core", "simulator.cli", "simulator.paper", "simulator.backends"),
    "simulator.core": ("simulator.cli", "simulator.paper", "simulator.families"),
    "simulator.families": ("simulator.cli", "simulator.paper"),
    "simulator.backends": ("simulator.cli", "simulator.paper"),
    "simulator.paper": ("simulator.cli", "simulator.studies"),
    "simulator.studies": ("simulator.cli",),
}


def _sources(*folders):
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: pathlib.Path):
    """(absolute module, imported names) of every import statement in the file, relative ones resolved."""
    tree = ast.parse(path.read_text())
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            yield module, [a.name for a in node.names]


def _ours(module: str) -> bool:
    return module.split(".")[0] in PACKAGES


def test_arrows_run_one_way():
    wrong = []
    for path in _sources(*PACKAGES):
        name = _module_name(path)
        for part, banned in FORBIDDEN.items():
            if name == part or name.startswith(part + "."):
                for module, names in _imports(path):
                    targets = [module] + [f"{module}.{n}" for n in names]
                    if any(t == b or t.startswith(b + ".") for t in targets for b in banned):
                        wrong.append(f"{name} imports {module}")
    assert not wrong, wrong


def test_no_private_name_imported_across_modules():
    wrong = []
    for path in _sources(*PACKAGES, "scripts"):
        for module, names in _imports(path):
            if _ours(module) or module.startswith("."):
                wrong += [f"{_module_name(path)}: {module}.{n}" for n in names if n.startswith("_")]
    assert not wrong, wrong


def test_no_function_over_80_lines_outside_tests():
    long = []
    for path in _sources(*PACKAGES, "scripts"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = node.end_lineno - node.lineno + 1
                if size > 80:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({size} lines)")
    assert not long, long


def test_no_cache_keyed_by_object_identity():
    """``id(...)`` is how identity caches are keyed; per-market results are cached by the Market's value."""
    hits = []
    for path in _sources(*PACKAGES):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "id":
                hits.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not hits, hits


def test_scripts_do_not_edit_sys_path():
    edits = [str(p.relative_to(ROOT)) for p in _sources("scripts") if "sys.path" in p.read_text()]
    assert not edits, edits


@pytest.mark.parametrize("module", ["simulator", "simulator.cli", "distributions", "mechanisms"])
def test_import_loads_no_numba_or_matplotlib(module):
    """No side effects at import, and the command line starts without numba's import cost."""
    code = (f"import sys, {module}; from simulator.cli.main import build_parser; build_parser(); "
            "print(sorted(m for m in ('numba', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
