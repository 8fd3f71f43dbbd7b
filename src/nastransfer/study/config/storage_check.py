"""Storage every node of a cluster must see, checked on each node before any task runs there.

A task that runs on another machine writes its checkpoints under the run directory's path there and
reads its data where that machine finds it. A node without that storage fails every task it gets,
after hours; so the driver writes a token file into the run directory, and one probe on each node
reads it back and finds every dataset the study reads (by the same lookup its tasks use: a
dataset's `root`, else that node's `$NASTRANSFER_DATA` and cache). `look` is the probe.
"""

from __future__ import annotations

import importlib.util
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nastransfer.errors import DatasetError
from nastransfer.study.config.resolved import ResolvedStudy
from nastransfer.study.driver.run_dir import RunDir


@dataclass(frozen=True)
class StorageNeeds:
    """What a node must see: the run directory (holding `token` in `RunDir.TOKEN`) and the datasets
    (name, root)."""

    run_dir: str
    token: str
    datasets: tuple[tuple[str, str | None], ...]


def datasets_read(study: ResolvedStudy) -> tuple[tuple[str, str | None], ...]:
    """(dataset, root) of every dataset the study's tasks read; proxies read the dataset they view."""
    specs = [source.data for source in study.sources] + [target.data for target in study.targets]
    found: dict[tuple[str, str | None], None] = {}
    for spec in specs:
        while spec["kind"] == "proxy":
            spec = spec["of"]
        if spec["kind"] == "dataset":
            found[(spec["dataset"], spec["root"])] = None
    return tuple(found)


@contextmanager
def token_in(run_dir: Path, datasets: tuple[tuple[str, str | None], ...]) -> Iterator[StorageNeeds]:
    """A fresh token written into `run_dir` for the block (removed after), as the needs to check."""
    token = secrets.token_hex(16)
    path = RunDir(run_dir).token
    path.write_text(token, encoding="utf-8")
    try:
        yield StorageNeeds(str(run_dir.resolve()), token, datasets)
    finally:
        path.unlink(missing_ok=True)


def look(needs: StorageNeeds) -> str | None:
    """On a node: None if it sees the run directory and every dataset, else the first problem."""
    path = RunDir(needs.run_dir).token
    try:
        seen = path.read_text(encoding="utf-8")
    except OSError as err:
        return f"cannot see the run directory {needs.run_dir} ({err.strerror or type(err).__name__})"
    if seen != needs.token:
        return f"sees another folder at {needs.run_dir}; the run directory must be one that all nodes share"
    for name, root in needs.datasets:
        problem = _dataset_problem(name, root)
        if problem:
            return problem
    return None


def _dataset_problem(name: str, root: str | None) -> str | None:
    from nastransfer.data.registry import dataset_spec

    spec = dataset_spec(name)
    if spec.package is not None:
        found = importlib.util.find_spec(spec.package) is not None
        return None if found else f"dataset {name!r}: no Python package {spec.package}"
    try:
        spec.locate(root)
    except DatasetError as err:
        return str(err)
    return None


def node_name(node: dict[str, Any]) -> str:
    """How a message names a Ray node: its address and the start of its id."""
    return f"node {node['NodeManagerAddress']} ({node['NodeID'][:8]})"
