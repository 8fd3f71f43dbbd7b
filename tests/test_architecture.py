"""Structure the code keeps: the bottom-level helpers every layer shares (the atomic writer and the
restricted unpickler), and no import cycle among the study modules, deferred imports included."""

from __future__ import annotations

import ast
import io
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nastransfer.study
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


def _study_imports(path: Path) -> set[str]:
    """The `nastransfer.study` modules one file imports anywhere in it (inside functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nastransfer.study."):
            found.add(node.module.removeprefix("nastransfer.study."))
    return found


def test_study_modules_import_no_cycle():
    folder = Path(nastransfer.study.__file__).parent
    graph = {
        str(p.relative_to(folder).with_suffix("")).replace("/", "."): _study_imports(p)
        for p in folder.rglob("*.py")
        if p.name != "__init__.py"
    }

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cycles = [module for module in graph if reaches(module, module, set())]
    assert not cycles, f"import cycle through {cycles}"
