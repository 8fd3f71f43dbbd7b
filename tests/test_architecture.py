"""Structure the code keeps: the bottom-level helpers every layer shares (the atomic writer and the
restricted unpickler), and no import cycle among the modules of any package, deferred imports included."""

from __future__ import annotations

import ast
import functools
import io
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nastransfer
from nastransfer.atomic import atomic_write_bytes, atomic_write_text, atomic_writer
from nastransfer.safe_pickle import PlainDataError, PlainRecord, load_plain_data


def test_atomic_writes_replace_the_file_or_leave_it_as_it_was(tmp_path):
    target = tmp_path / "deep" / "result.json"
    atomic_write_text(target, "first")
    assert target.read_text() == "first"
    with pytest.raises(RuntimeError), atomic_writer(target) as handle:
        handle.write(b"half of the second")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "first" and [p.name for p in target.parent.iterdir()] == ["result.json"]
    atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"


def test_the_shared_helpers_import_no_torch():
    code = "import sys, nastransfer.atomic, nastransfer.safe_pickle; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


class Row:
    """Stands for a benchmark package's record class (pickled under this module's name)."""

    def __init__(self, accuracy: float) -> None:
        self.accuracy = accuracy


def test_named_record_classes_become_plain_holders_and_others_are_refused():
    blob = pickle.dumps({(0, 1): Row(np.float64(93.5))}, protocol=4)
    with pytest.raises(PlainDataError, match=f"refuses the pickled global {__name__}.Row"):
        load_plain_data(io.BytesIO(blob))
    rows = load_plain_data(io.BytesIO(blob), records=[(__name__, "Row")])
    row = rows[(0, 1)]
    assert type(row) is PlainRecord and vars(row) == {"accuracy": 93.5}


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, name: str, modules: set[str]) -> set[str]:
    """The `nastransfer` modules one file imports anywhere in it (inside functions and type-checking
    blocks too): `from package import module` names the module, any other name its package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.add(target if target in modules else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return (found & modules) - {name}


@functools.cache
def _modules_on_a_cycle() -> tuple[str, ...]:
    """Every `nastransfer` module that imports itself back through a chain of imports."""
    root = Path(nastransfer.__file__).parent.parent
    files = {_module_name(p, root): p for p in (root / "nastransfer").rglob("*.py")}
    graph = {name: _imports(path, name, set(files)) for name, path in files.items()}
    assert {"nastransfer.search.gradient", "nastransfer.study.worker.executors"} <= set(graph)  # all are read

    def returns_to(start: str) -> bool:
        seen, todo = set(), list(graph[start])
        while todo:
            module = todo.pop()
            if module == start:
                return True
            if module not in seen:
                seen.add(module)
                todo.extend(graph[module])
        return False

    return tuple(sorted(module for module in graph if returns_to(module)))


_ROOT = Path(nastransfer.__file__).parent
#: Every package, sub-packages (the study's rooms, the spaces' folders) included, dotted below nastransfer.
PACKAGES = sorted(
    ".".join(init.parent.relative_to(_ROOT).parts)
    for init in _ROOT.rglob("__init__.py")
    if init.parent != _ROOT
)


@pytest.mark.parametrize("package", [*PACKAGES, "top level"])
def test_no_module_imports_itself_back(package):
    """Every package's modules, their `__init__`s and the top-level modules, deferred and
    type-checking imports included: no import cycle through any module of `package`."""
    cycles = [module for module in _modules_on_a_cycle() if _package_of(module) == package]
    assert not cycles, f"import cycle through {cycles}"


def _package_of(module: str) -> str:
    """The innermost package holding `module` (a package's `__init__` is its own), else "top level"."""
    parts = module.split(".")[1:]
    inner = [".".join(parts[:n]) for n in range(len(parts), 0, -1) if ".".join(parts[:n]) in PACKAGES]
    return inner[0] if inner else "top level"
