"""The bad-input sweep: every command, every study key, damaged files and stores.

Each case is an argv, a mutation of a valid study, or a damage to a file; each must exit 2 with
exactly one line on stderr, no traceback, and leave the scratch folder exactly as it was (nothing
half-written, no run directory). No case trains anything: validation fails before any task runs.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import math
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from nastransfer.cli.main import main
from nastransfer.study import load_study
from nastransfer.study.config.preflight import check_data
from nastransfer.study.driver.lock import run_lock
from nastransfer.study.driver.run_dir import RunDir
from nastransfer.study.driver.store import Store

STORE_NAME, RESOLVED_NAME = RunDir.STORE, RunDir.RESOLVED

BASE: dict = {
    "name": "sweep",
    "space": "darts",
    "split_seed": 0,
    "seeds": [0],
    "sources": [
        {"name": "digits", "dataset": "digits"},
        {
            "name": "mnist-proxy",
            "proxy_of": "mnist",
            "classes": 3,
            "per_class": 4,
            "resolution": 8,
            "seed": 0,
        },
    ],
    "methods": [{"name": "darts", "label": "d", "params": {}, "budget": {"epochs": 1}}],
    "budget": {"epochs": 1, "channels": 4, "layers": 3, "batch_size": 16},
    "random": {"n": 1, "seed": 0},
    "targets": [
        {
            "name": "mnist",
            "dataset": "mnist",
            "root": "@DATA/mnist",
            "protocols": ["cpu-mini"],
            "overrides": {"epochs": 1, "channels": 4, "layers": 3},
            "protocol_overrides": {"cpu-mini": {"batch_size": 8}},
            "eval_seeds": [0],
        }
    ],
    "evaluate": {
        "on_source": True,
        "source_protocol": "cpu-mini",
        "source_overrides": {},
        "source_eval_seeds": [0],
    },
    "executor": {
        "kind": "local",
        "workers": 1,
        "retries": 0,
        "threads_per_worker": 1,
        "nproc_per_target": {},
    },
}

# -- a tiny TOML writer (tests only: the project reads TOML, it never writes it) ----------------------


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_value(v)}" for k, v in value.items()) + "}"


def to_toml(study: dict) -> str:
    """Scalars and plain lists first, then a [table] per dict and [[table]]s per list of dicts."""
    lines = [f"{k} = {_value(v)}" for k, v in study.items() if not (isinstance(v, dict) or _tables(v))]
    for key, value in study.items():
        entries = [value] if isinstance(value, dict) else value if _tables(value) else []
        for entry in entries:
            lines.append(f"\n[{key}]" if isinstance(value, dict) else f"\n[[{key}]]")
            lines += [f"{json.dumps(k)} = {_value(v)}" for k, v in entry.items()]
    return "\n".join(lines) + "\n"


def _tables(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


# -- the scratch folder: tiny IDX data, a valid study, a run directory with a store ---------------------


def _idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def _mnist(folder: Path) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 60), ("t10k", 20)):
        _idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 255, (n, 12, 12)))
        _idx(folder / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 10)


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """cwd scratch/work; tiny IDX in scratch/data/mnist; a valid scratch/study.toml; an empty store in run."""
    _mnist(tmp_path / "data" / "mnist")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    write_study(tmp_path, BASE)
    with Store.of_run(_mkdir(tmp_path / "run")):
        pass
    return tmp_path


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def write_study(scratch: Path, study: dict, name: str = "study.toml") -> Path:
    text = to_toml(study).replace("@DATA", str(scratch / "data"))
    path = scratch / name
    path.write_text(text)
    return path


def snapshot(root: Path) -> dict[str, str]:
    """Every file and folder under `root` with a digest of its bytes.

    SQLite's shared-memory index and an empty write-ahead log, which any reader of a WAL store
    creates beside it, are not content and are left out.
    """
    seen = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if key.endswith("-shm") or (key.endswith("-wal") and path.stat().st_size == 0):
            continue
        seen[key] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return seen


def expect_refused(scratch: Path, capsys, argv: list[str], *, contains: str = "") -> str:
    """Exit 2, one line on stderr naming the problem and nothing on stdout (so a run refuses before
    it prints its plan), no traceback, nothing written under scratch."""
    capsys.readouterr()
    before = snapshot(scratch)
    code = main([a.replace("@S", str(scratch)) for a in argv])
    out, err = capsys.readouterr()
    assert code == 2, (code, err)
    assert out == "", f"printed before refusing: {out!r}"
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert contains.replace("@S", str(scratch)) in err, err
    after = snapshot(scratch)
    assert after == before, f"the refused command wrote or changed {set(after.items()) ^ set(before.items())}"
    return err


def test_the_base_study_is_valid_and_its_data_loads(scratch):
    check_data(load_study(scratch / "study.toml"), "base")


# -- study-file mutations: (key path, value, what the error names) ----------------------------------------

MUTATIONS = [
    # 1. a config never runs code; a name is not a path
    ("methods.0.name", "os:system", "methods[0].name"),
    ("methods.0.name", "builtins:print", "is not a searcher"),
    ("methods.0.name", "nastransfer.search.base:SearchResult", "is not a searcher"),
    ("methods.0.name", "no_such_module_xyz:Thing", "methods[0].name"),
    ("methods.0.name", "os.path:../x", "methods[0].name"),
    ("methods.0", {"name": "random"}, "use [random] n"),
    ("methods.0.params", {"bogus": 1}, "methods[0].params"),
    ("methods.0.params", {"compile": "yes"}, 'methods[0].params.compile: darts takes "auto", true or false'),
    ("methods.0.params", {"compile": 1}, "methods[0].params.compile: darts takes \"auto\", true or false"),
    ("methods.0.params", {"arch_lr": math.inf}, "methods[0].params.arch_lr"),
    # typed params: each searcher's schema names the parameter and what it allows
    ("methods.0.params", {"lr": "fast"}, "methods[0].params.lr: darts takes a number in (0, 10]"),
    ("methods.0.params", {"lr": -1.0}, "methods[0].params.lr: darts takes a number in (0, 10]"),
    ("methods.0.params", {"lr": 1e308}, "methods[0].params.lr"),
    ("methods.0.params", {"momentum": "x"}, "methods[0].params.momentum: darts takes a number in [0, 1)"),
    ("methods.0.params", {"arch_betas": [2.0, 3.0]}, "methods[0].params.arch_betas"),
    ("methods.0.params", {"arch_betas": [0.5]}, "methods[0].params.arch_betas: darts takes a list of 2"),
    ("methods.0.params", {"nesterov": "yes"}, "methods[0].params.nesterov: darts takes true or false"),
    ("methods.0.params", {"grad_clip": -1.0}, "methods[0].params.grad_clip"),
    ("methods.0.params", {"weight_decay": True}, "methods[0].params.weight_decay"),
    ("methods.0.params", {"order": 3}, "methods[0].params.order: darts takes 1 or 2"),
    ("methods.0.params", {"device": "tpu"}, "methods[0].params.device: darts: unknown device 'tpu'"),
    ("methods.0.params", {"device": 3}, "methods[0].params.device"),
    ("methods.0.params", {"device": "mps"}, "methods[0].params.device: darts: unknown device 'mps'"),
    ("methods.0.params", {"device": "cuda:7"}, "methods[0].params.device"),
    ("methods.0", {"name": "rs", "params": {"queries": 0}}, "methods[0].params.queries: rs takes an integer"),
    ("methods.0", {"name": "re", "params": {"population": 3, "sample_size": 5}}, "params: re needs"),
    ("methods.0", {"name": "re", "params": {"population": 1.5}}, "methods[0].params.population"),
    ("methods.0.label", "", "methods[0].label"),
    ("methods.0.budget", {"layers": 2}, "methods[0].budget"),
    ("methods.0.budget", {"cells": 2}, "methods[0].budget"),
    ("name", "../escape", "name"),
    ("name", "a/b", "name"),
    ("name", "..", "name"),
    ("name", "x" * 5000, "name"),
    ("name", "", "name"),
    # 2. checked at load time, not inside tasks
    ("sources.1.classes", 0, "sources[1].classes"),
    ("sources.1.classes", 11, "sources[1]"),
    ("sources.1.classes", ["7", "cat"], "sources[1]"),
    ("sources.1.per_class", 10**9, "sources[1]"),
    ("sources.1.per_class", 0, "sources[1].per_class"),
    ("sources.1.resolution", 100000, "sources[1].resolution"),
    ("sources.1.resolution", 64, "sources[1].resolution"),
    ("sources.1.fraction", 1.5, "sources[1].fraction"),
    ("sources.1.seed", -1, "sources[1].seed"),
    ("sources.1.proxy_of", "nowhere", "sources[1].proxy_of"),
    ("sources.0.dataset", "nope", "sources[0].dataset"),
    ("sources.0.root", "/nonexistent", "sources[0].root"),
    ("sources.0.options", {"bogus": 1}, "sources[0].options.bogus"),
    ("sources.0.table", "nb201:nowhere", "sources[0]"),
    ("sources.0.name", "mnist", "already the name of sources[0]"),
    ("sources.0.name", "s" * 300, "sources[0].name"),
    ("seeds", [-1], "seeds[0]"),
    ("seeds", [2**40], "seeds[0]"),
    ("seeds", [], "seeds"),
    ("split_seed", -1, "split_seed"),
    ("random.n", 10**9, "random.n"),
    ("random.n", -1, "random.n"),
    ("random.seed", -1, "random.seed"),
    ("budget.layers", 10**6, "budget.layers"),
    ("budget.channels", 0, "budget.channels"),
    ("budget.data_fraction", math.nan, "budget.data_fraction"),
    ("targets.0.overrides", {"lr": math.inf}, "targets[0].overrides.lr"),
    ("targets.0.overrides", {"lr": -1.0}, "targets[0]"),
    ("targets.0.overrides", {"epoch": 1}, "targets[0].overrides.epoch"),
    ("targets.0.overrides", {"lr_every": "batch"}, "field 'lr_every'"),
    ("targets.0.protocol_overrides", {"cpu-mini": {"lr_every": 1}}, "targets[0]"),
    ("targets.0.overrides", {"layers": 10**6}, "targets[0]"),
    ("targets.0.protocol_overrides", {"paper": {"epochs": 1}}, "targets[0].protocol_overrides.paper"),
    ("targets.0.protocols", ["nope"], "targets[0].protocols[0]"),
    ("targets.0.protocols", [], "targets[0].protocols"),
    ("targets.0.eval_seeds", [-1], "targets[0].eval_seeds[0]"),
    ("targets.0.name", "t" * 300, "targets[0].name"),
    ("targets.0.dataset", "nope", "targets[0].dataset"),
    ("targets.0.root", "@DATA/nowhere", "targets[0].root"),
    ("targets.0.options", {"bogus": 1}, "targets[0].options.bogus"),
    ("targets.0.table", "nb201:cifar10", "targets[0]"),
    ("evaluate.on_source", "yes", "evaluate.on_source"),
    ("evaluate.source_protocol", "nope", "evaluate"),
    ("evaluate.source_overrides", {"lr": math.nan}, "evaluate.source_overrides.lr"),
    ("evaluate.source_overrides", {"split": "official"}, "sources[0]"),
    ("evaluate.source_eval_seeds", [-1], "evaluate.source_eval_seeds[0]"),
    ("executor.kind", "slurm", "executor.kind"),
    ("executor.workers", 0, "executor.workers"),
    ("executor.retries", -1, "executor.retries"),
    ("executor.threads_per_worker", 0, "executor.threads_per_worker"),
    ("executor.gpus_per_task", -1.0, "executor.gpus_per_task"),
    ("executor.nproc_per_task", 0, "executor.nproc_per_task"),
    ("executor.nproc_per_target", {"nowhere": 2}, "executor.nproc_per_target.nowhere"),
    ("executor.address", 5, "executor.address"),
    ("space", "nope", "space"),
    ("space", "graph", "has no evaluation network"),  # a space whose cells are only looked up in tables
    ("bogus", 1, "bogus"),
    ("sources", [], "sources"),
]


def _mutated(path: str, value, base: dict = BASE) -> dict:
    study = copy.deepcopy(base)
    *parents, last = path.split(".")
    node = study
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[int(last) if last.isdigit() else last] = value
    return study


@pytest.mark.parametrize(
    ("path", "value", "named"), MUTATIONS, ids=[f"{p}={str(v)[:20]}" for p, v, _ in MUTATIONS]
)
def test_bad_study_key_is_refused_before_any_run_dir(scratch, capsys, path, value, named):
    study = write_study(scratch, _mutated(path, value), "bad.toml")
    expect_refused(scratch, capsys, ["run", str(study)], contains=named)
    assert not (scratch / "work" / "runs").exists()


PLAN_MUTATIONS = [
    ("methods.0.params", {"lr": "fast"}, "methods[0].params.lr: darts takes a number in (0, 10]"),
    ("methods.0.params", {"device": "tpu"}, "methods[0].params.device"),
    ("methods.0.params", {"arch_betas": [2.0, 3.0]}, "methods[0].params.arch_betas"),
    ("methods.0.name", "os:system", "methods[0].name"),
]


@pytest.mark.parametrize(
    ("path", "value", "named"), PLAN_MUTATIONS, ids=[f"{p}={str(v)[:20]}" for p, v, _ in PLAN_MUTATIONS]
)
def test_plan_refuses_what_run_refuses(scratch, capsys, path, value, named):
    study = write_study(scratch, _mutated(path, value), "bad.toml")
    expect_refused(scratch, capsys, ["plan", str(study)], contains=f"bad.toml: {named}")


# -- a [fidelity] section: `plan` and `run` run the same checks, before anything is measured ------------

FIDELITY: dict = {
    "name": "fid",
    "space": "nb201",
    "sources": [{"name": "digits", "dataset": "digits"}],
    "evaluate": {"on_source": False},
    "fidelity": {
        "target": "nb201:cifar10",
        "cells": 5,
        "n_boot": 20,
        "proxies": [{"kind": "zero-cost", "predictors": ["params"], "net": {"C": 2, "N": 1}}],
    },
}

FIDELITY_MUTATIONS = [
    ("fidelity.proxies.0.net", {"C": 100000, "N": 5}, "proxies[0].net: {'C': 100000, 'N': 5} at batch 64"),
    ("fidelity.proxies.0.net", {"X": 3}, "proxies[0].net.X: the nb201 evaluation network takes no 'X'"),
    ("fidelity.proxies.0.net", {"C": 0}, "fidelity.proxies[0].net.C: a network size must be >= 1"),
    ("fidelity.proxies.0.net", {"N": -1}, "fidelity.proxies[0].net.N"),
    ("fidelity.proxies.0.batch_size", 1, "fidelity.proxies[0].batch_size"),
    ("fidelity.proxies.0.budget", {"epochs": -1}, "proxies[0].budget: does not apply to a zero-cost proxy"),
    ("fidelity.proxies.0.cost_per_cell_s", 1.0, "fidelity.proxies[0].cost_per_cell_s: does not apply"),
    ("fidelity.proxies.0.protocol", "cpu-mini", "fidelity.proxies[0].protocol: does not apply"),
    ("fidelity.proxies.0.source", "nowhere", "fidelity.proxies[0].source: 'nowhere' names no source"),
    ("fidelity.proxies.0.predictors", ["nope"], "fidelity.proxies[0].predictors[0]"),
    (
        "fidelity.proxies.0",
        {"kind": "table", "source": "digits", "cost_per_cell_s": 1.0},
        "fidelity.proxies[0].source: a table proxy cannot use source 'digits'",
    ),
    (
        "fidelity.proxies.0",
        {"kind": "train", "source": "digits", "net": {"C": 2}},
        "fidelity.proxies[0].net: does not apply to a train proxy",
    ),
    (
        "fidelity.proxies.0",
        {"kind": "supernet", "source": "digits", "protocol": "cpu-mini"},
        "fidelity.proxies[0].protocol: does not apply to a supernet",
    ),
    ("fidelity.seed", -1, "fidelity.seed"),
    ("fidelity.seed", 2**40, "fidelity.seed"),
    ("fidelity.n_boot", 0, "fidelity.n_boot"),
    ("fidelity.n_boot", -1, "fidelity.n_boot"),
    ("fidelity.cells", 2, "fidelity.cells"),
    ("fidelity.target", "nb201:nowhere", "fidelity.target[0]"),
]
FIDELITY_CASES = [(*case, command) for case in FIDELITY_MUTATIONS for command in ("plan", "run")]


@pytest.mark.parametrize(
    ("path", "value", "named", "command"),
    FIDELITY_CASES,
    ids=[f"{c}-{p}={str(v)[:24]}" for p, v, _, c in FIDELITY_CASES],
)
def test_bad_fidelity_section_is_refused_by_plan_and_run(scratch, capsys, path, value, named, command):
    study = write_study(scratch, _mutated(path, value, FIDELITY), "bad.toml")
    err = expect_refused(scratch, capsys, [command, str(study)], contains=named)
    assert "bad.toml: fidelity." in err, err


def test_the_fidelity_base_study_plans(scratch, capsys):
    assert main(["plan", str(write_study(scratch, FIDELITY, "fid.toml"))]) == 0, capsys.readouterr().err


def test_max_hours_names_a_small_plan_with_its_digits(scratch, capsys):
    study = write_study(scratch, FIDELITY, "fid.toml")
    argv = ["run", str(study), "--max-hours", "1e-9"]
    err = expect_refused(scratch, capsys, argv, contains="more than 1e-09")
    assert "needs 0.0 " not in err and "needs 0 " not in err, err


def test_a_config_never_runs_code(scratch, capsys):
    study = _mutated("methods.0.name", "os:system")
    study["methods"][0]["params"] = {"command": f"touch {scratch / 'PWNED'}"}
    expect_refused(
        scratch, capsys, ["run", str(write_study(scratch, study, "bad.toml"))], contains="not a searcher"
    )
    assert not (scratch / "PWNED").exists()


# -- study files and data files that are damaged -----------------------------------------------------------


def _damage_idx(scratch: Path) -> None:
    path = scratch / "data" / "mnist" / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[: len(raw) // 2]))


class _Evil:
    def __reduce__(self):
        return (os.system, ("true",))


def _evil_cifar(scratch: Path) -> None:
    folder = scratch / "data" / "cifar"
    folder.mkdir()
    for name in ("batches.meta", "data_batch_1"):
        (folder / name).write_bytes(pickle.dumps({"label_names": _Evil()}))


FILE_DAMAGE = {
    "truncated IDX": (_damage_idx, {}, "truncated"),
    "CIFAR pickle running os.system": (
        _evil_cifar,
        {"dataset": "cifar10", "root": "@DATA/cifar"},
        "targets[0]",
    ),
}


@pytest.mark.parametrize("case", list(FILE_DAMAGE))
def test_damaged_data_is_refused_before_any_task(scratch, capsys, case):
    damage, target_changes, named = FILE_DAMAGE[case]
    damage(scratch)
    study = copy.deepcopy(BASE)
    study["targets"][0].update(target_changes)
    study["sources"] = study["sources"][:1] if target_changes else study["sources"]
    path = write_study(scratch, study, "bad.toml")
    expect_refused(scratch, capsys, ["run", str(path), "--dir", "@S/fresh"], contains=named)


STUDY_FILES = {
    "missing": None,
    "a folder": "dir",
    "TOML syntax": b"name = 'x' y\n",
    "not UTF-8": b"name = '\xff\xfe'\n",
    "empty": b"",
}


@pytest.mark.parametrize("case", list(STUDY_FILES))
def test_bad_study_file(scratch, capsys, case):
    content = STUDY_FILES[case]
    path = scratch / "bad.toml"
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    expect_refused(scratch, capsys, ["run", str(path)], contains="bad.toml")


# -- damaged stores and run directories --------------------------------------------------------------------


def _garbage_store(run: Path) -> None:
    (run / STORE_NAME).write_bytes(b"this is not sqlite " * 200)


def _truncated_store(run: Path) -> None:
    with Store.of_run(run) as store:
        store.query("SELECT 1")
        with store.transaction() as db:
            db.execute("CREATE TABLE padding (x BLOB)")
            db.executemany("INSERT INTO padding VALUES (?)", [(os.urandom(4000),) for _ in range(20)])
    for suffix in ("-wal", "-shm"):
        (run / (STORE_NAME + suffix)).unlink(missing_ok=True)
    raw = (run / STORE_NAME).read_bytes()
    (run / STORE_NAME).write_bytes(raw[: len(raw) // 2])


def _future_store(run: Path) -> None:
    db = sqlite3.connect(run / STORE_NAME)
    with db:
        db.execute("UPDATE schema_version SET version = 99")
    db.close()


def _foreign_store(run: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        (run / (STORE_NAME + suffix)).unlink(missing_ok=True)
    db = sqlite3.connect(run / STORE_NAME)
    with db:
        db.execute("CREATE TABLE notes (x TEXT)")
    db.close()


def _garbage_resolved(run: Path) -> None:
    (run / RESOLVED_NAME).write_text("{ not json")


def _wrong_resolved(run: Path) -> None:
    (run / RESOLVED_NAME).write_text("[1, 2]")


STORE_DAMAGE = {
    "garbage sqlite": (_garbage_store, STORE_NAME),
    "truncated sqlite": (_truncated_store, STORE_NAME),
    "future schema": (_future_store, "newer nastransfer"),
    "another program's sqlite": (_foreign_store, "not a study store"),
    "garbage resolved json": (_garbage_resolved, RESOLVED_NAME),
    "resolved json of another shape": (_wrong_resolved, RESOLVED_NAME),
}


COMMANDS = {
    "run": ["run", "@S/study.toml", "--dir", "@S/run"],
    "status": ["status", "@S/run"],
    "export": ["export", "@S/run", "--to", "@S/out.csv"],
    "report": ["report", "@S/run"],
}
# status and export read only the store; run and report read the resolved config too
STORE_CASES = [
    (case, command)
    for case in STORE_DAMAGE
    for command in COMMANDS
    if "resolved" not in case or command in ("run", "report")
]


@pytest.mark.parametrize(("case", "command"), STORE_CASES, ids=[f"{c}-{m}" for c, m in STORE_CASES])
def test_damaged_run_directory_is_named_and_left_alone(scratch, capsys, case, command):
    damage, named = STORE_DAMAGE[case]
    damage(scratch / "run")
    expect_refused(scratch, capsys, COMMANDS[command], contains=named)


# -- what a run left beside its store: plan and cost files, stored proxy scores -----------------------------


def _fidelity_scores() -> tuple[dict, dict]:
    """The spec and stored scores of one finished zero-cost fidelity task over three NB201 cells."""
    from nastransfer.spaces import get_space

    space = get_space("nb201")
    cells = [space.sample(seed) for seed in range(3)]
    texts = [space.format(c) for c in cells]
    proxy = {"kind": "zero-cost", "name": "params", "predictor": "params", "source": None}
    spec = {"space": "nb201", "target": "nb201:cifar10", "seed": 0, "source": "", "cells": texts}
    result = {
        "cells": [space.key(c) for c in cells],
        "genotypes": texts,
        "scores": [1.0, 2.0, 3.0],
        "targets": [50.0, 60.0, 70.0],
        "cost": {"wall_s": 1.0, "device_s": 1.0, "peak_mem_mb": 0.0, "device": "cpu"},
    }
    return {**spec, "proxy": {**proxy, "batch_size": 64, "net": {"C": 2, "N": 1}}}, result


def _store_scores(run: Path, change) -> None:
    """The run's store as schema 3 left a finished fidelity task: its scores as JSON in `searches`,
    replaced by `change(result)`; opening the store migrates them to schema 4's `proxy_scores`."""
    from nastransfer.study.driver.tasks import Task
    from nastransfer.study.kinds import Work, get_kind

    spec, result = _fidelity_scores()
    task = Task.make("fidelity", spec)
    with Store.of_run(run) as store:
        store.add_tasks([task])
        get_kind(task.kind).record(store, task, Work([task.key], task.key), result, "", None)
        stored = change(copy.deepcopy(result))
        text = stored if isinstance(stored, str) else json.dumps(stored)
        with store.transaction() as db:
            db.execute("INSERT INTO searches (task_key, cell, json) VALUES (?, '', ?)", (task.key, text))
            db.execute("DROP TABLE proxy_scores")
            db.execute("UPDATE schema_version SET version = 3")


SCORE_DAMAGE = {
    "garbage": lambda r: "{ not json",
    "a list": lambda r: [],
    "empty": lambda r: {},
    "null": lambda r: None,
    "short": lambda r: {**r, "scores": r["scores"][:1]},
    "strings": lambda r: {**r, "scores": ["a", "b", "c"]},
    "booleans": lambda r: {**r, "scores": [True, False, True]},
    "targets a string": lambda r: {**r, "targets": "x"},
    "no cells": lambda r: {k: v for k, v in r.items() if k != "cells"},
    "bad cell text": lambda r: {**r, "genotypes": ["nonsense", *r["genotypes"][1:]]},
    "text of another cell": lambda r: {**r, "genotypes": r["genotypes"][::-1]},
}
SCORE_CASES = [(case, command) for case in SCORE_DAMAGE for command in ("export", "report")]


@pytest.mark.parametrize(("case", "command"), SCORE_CASES, ids=[f"{c}-{m}" for c, m in SCORE_CASES])
def test_damaged_stored_scores_are_named(scratch, capsys, case, command):
    _store_scores(scratch / "run", SCORE_DAMAGE[case])
    expect_refused(scratch, capsys, COMMANDS[command], contains="the stored scores of fidelity task")


def test_whole_stored_scores_export(scratch, capsys):
    _store_scores(scratch / "run", lambda r: r)
    assert main(["export", str(scratch / "run"), "--to", str(scratch / "out.csv")]) == 0, capsys.readouterr()
    assert len((scratch / "out.csv").read_text().splitlines()) == 1 + 3 + 3  # header, proxy and target rows


def _cost_file(content):
    def damage(run: Path) -> None:
        _store_scores(run, lambda r: r)
        path = run / "cost.json"
        if content == "dir":
            path.mkdir()
        else:
            path.write_text(content if isinstance(content, str) else json.dumps(content))

    return damage


def _folder(name: str):
    return lambda run: (run / name).mkdir()


_KIND_COST = {"tasks": 1, "estimated_device_s": 1.0, "measured_device_s": 1.0}
_COST = {
    "device": "cpu",
    "estimated_from": "measured",
    "kinds": {"fidelity": _KIND_COST},
    "planned_device_s": 1.0,
    "planned_total": "1 s",
    "measured_device_s": 1.0,
    "measured_total": "1 s",
}
RUN_FILE_DAMAGE = [
    ("run", _folder("plan.json"), "plan.json: is not a file"),
    ("run", _folder("cost.json"), "cost.json: is not a file"),
    ("report", _cost_file("dir"), "cost.json: is not a file"),
    ("report", _cost_file("{ not json"), "cost.json: not valid JSON"),
    ("report", _cost_file([]), "cost.json: not a cost summary"),
    ("report", _cost_file({}), "cost.json: not a cost summary"),
    ("report", _cost_file({**_COST, "kinds": []}), "cost.json: not a cost summary (kinds"),
    ("report", _cost_file({**_COST, "kinds": {"x": {**_KIND_COST, "tasks": "1"}}}), "kinds.x.tasks"),
    ("report", _cost_file({**_COST, "measured_device_s": "1"}), "measured_device_s"),
]


@pytest.mark.parametrize(
    ("command", "damage", "named"), RUN_FILE_DAMAGE, ids=[f"{c}-{n}" for c, _, n in RUN_FILE_DAMAGE]
)
def test_damaged_run_files_are_named_and_left_alone(scratch, capsys, command, damage, named):
    damage(scratch / "run")
    expect_refused(scratch, capsys, COMMANDS[command], contains=named)


def test_report_takes_the_study_fidelity_n_boot(scratch, capsys):
    from nastransfer.cli.report import report_run

    _store_scores(scratch / "run", lambda r: r)
    resolved = {"config": {"name": "fid", "fidelity": {"n_boot": 7}}}
    (scratch / "run" / RESOLVED_NAME).write_text(json.dumps(resolved))
    page = report_run(scratch / "run", ("md",), out_dir=scratch / "out").read_text()
    assert "(7 resamples)" in page and "1000 resamples" not in page


# -- command lines ----------------------------------------------------------------------------------------

FID = ["fidelity", "--target", "nb201:cifar10", "--cells", "5"]
ARGV = [
    # 7. usage errors are one line
    (["run", "@S/study.toml", "--bogus"], "No such option"),
    (["run", "@S/study.toml", "--workers", "0"], "--workers"),
    (["run", "@S/study.toml", "--executor", "slurm"], "--executor"),
    (["run"], "Missing argument"),
    (["nosuchcommand"], "nosuchcommand"),
    (["version", "extra"], "extra"),
    (["datasets", "--root", "@S"], "--root"),
    (["datasets", "--download", "nope"], "nope"),
    (["protocols", "nope"], "nope"),
    # 4. output paths
    (["run", "@S/study.toml", "--dir", "@S/study.toml"], "study.toml is not a folder"),
    (["report", "@S/run", "--out", "@S/study.toml"], "study.toml"),
    (["report", "@S/run", "--format", "pdf"], "pdf"),
    (["report", "@S/nowhere"], "nowhere"),
    (["report", "@S/run", "--n-boot", "-1"], "--n-boot"),
    (["export", "@S/run", "--to", "@S/missing/out.csv"], "missing"),
    (["export", "@S/run", "--to", "@S/data"], "data"),
    (["export", "@S/run", "--to", "@S/out.txt"], ".txt"),
    (["status", "@S/data"], "not a study run directory"),
    (["status", "@S/nowhere"], "nowhere"),
    (["export", "@S/nowhere", "--to", "@S/out.csv"], "nowhere"),
    (["export", "@S/run"], "--to"),
    (["report", "@S/data/mnist"], "mnist"),
    (["genotype", "params", "NO_SUCH_CELL"], "NO_SUCH_CELL"),
    (["genotype", "plot", "NO_SUCH_CELL", "-o", "@S/x.png"], "NO_SUCH_CELL"),
    (["genotype", "show", "@S/data"], "is not a published cell"),
    (["train", "--genotype", "@S/missing.txt", "--dataset", "digits"], "is not a published cell"),
    (["genotype", "plot", "DARTS_V2", "-o", "@S/x.xyz"], ".xyz"),
    (["genotype", "plot", "DARTS_V2", "-o", "@S/data"], "data"),
    # 5. numbers on the command line
    (["genotype", "params", "DARTS_V2", "--C", "0"], "--C"),
    (["genotype", "params", "DARTS_V2", "--C", "100000"], "--C"),
    (["genotype", "params", "DARTS_V2", "--layers", "-1"], "--layers"),
    (["genotype", "params", "DARTS_V2", "--classes", "0"], "--classes"),
    (["genotype", "params", "DARTS_V2", "--image-size", "0"], "--image-size"),
    (["genotype", "params", "DARTS_V2", "--in-channels", "0"], "--in-channels"),
    (["genotype", "params", "DARTS_V2", "--stem", "nope"], "--stem"),
    (["genotype", "sample", "--seed", "-1"], "--seed"),
    (["genotype", "sample", "--space", "nope"], "nope"),
    (["genotype", "show", "Genotype(normal=[nope"], ""),
    (["genotype", "show", "NO_SUCH_CELL"], "NO_SUCH_CELL"),
    (["train", "--genotype", "DARTS_V2", "--dataset", "digits", "--set", "lr=Infinity"], "lr"),
    (["train", "--genotype", "DARTS_V2", "--dataset", "digits", "--set", "lr=NaN"], "lr"),
    (["train", "--genotype", "DARTS_V2", "--dataset", "digits", "--set", "layers=1000000"], "layers"),
    (["train", "--genotype", "DARTS_V2", "--dataset", "digits", "--set", "epochs"], "epochs"),
    (["train", "--genotype", "DARTS_V2", "--dataset", "digits", "--seed", "-1"], "--seed"),
    (["train", "--genotype", "DARTS_V2", "--dataset", "nope", "--workdir", "@S/w"], "nope"),
    (["train", "--genotype", "DARTS_V2", "--dataset", "digits", "--protocol", "nope"], "nope"),
    (["train", "--genotype", "DARTS_V2", "--dataset", "digits", "--output", "@S/data"], "is a folder"),
    (["search", "--method", "darts", "--source", "digits", "-o", "@S/data"], "is a folder"),
    (["search", "--method", "os:system", "--source", "digits", "-o", "@S/s.json"], "not a searcher"),
    (["search", "--method", "darts", "--source", "digits", "-o", "@S/s.json", "--seed", "-1"], "--seed"),
    (["search", "--method", "darts", "--source", "digits", "-o", "@S/s.json", "--epochs", "0"], "epochs"),
    (
        ["search", "--method", "darts", "--source", "digits", "-o", "@S/s.json", "--layers", "1000000"],
        "layers",
    ),
    (["search", "--method", "darts", "--source", "digits", "-o", "@S/s.json", "--space", "nope"], "nope"),
    (
        ["search", "--method", "rs", "--source", "digits", "-o", "@S/s.json", "--device", "cpu"],
        "device: rs: unknown option 'device' (known: queries, report_every)",
    ),
    (["search", "--method", "darts", "--source", "digits", "-o", "@S/s.json", "--compile", "0"], "--compile"),
    # one device check for every command that takes one, table and sampling methods included
    (["search", "--method", "darts", "--source", "digits", "-o", "@S/s.json", "--device", "mps"], "--device"),
    (["search", "--method", "random", "--source", "digits", "-o", "@S/s.json", "--device", "tpu"], "tpu"),
    (["search", "--method", "rs", "--source", "digits", "-o", "@S/s.json", "--device", "tpu"], "--device"),
    (["search", "--method", "darts", "--source", "digits", "-o", "@S/s.json", "--device", "cuda:7"], "cuda"),
    (["train", "--genotype", "DARTS_V2", "--dataset", "digits", "--device", "meta"], "--device: unknown"),
    (["train", "--genotype", "DARTS_V2", "--dataset", "digits", "--device", "cuda:7"], "--device"),
    (
        ["search", "--method", "gdas", "--source", "digits", "-o", "@S/s.json", "--compile", "true"],
        "gdas: compile = true would compile a new graph",
    ),
    # the fidelity command: bounded like a study's [fidelity], all checked before any cell is scored
    ([*FID, "--proxy", "params", "--proxy", "params"], "--proxy 'params' is given twice"),
    ([*FID, "--proxy", "params", "--source", "digits", "--source", "digits"], "--source 'digits' is given"),
    ([*FID, "--proxy", "params", "--seed", "-1"], "--seed"),
    ([*FID, "--proxy", "params", "--n-boot", "-1"], "--n-boot"),
    ([*FID, "--proxy", "params", "--n-boot", "0"], "--n-boot"),
    ([*FID, "--proxy", "params", "--cells", "2"], "at least 3 cells"),
    ([*FID, "--proxy", "params", "--batch-size", "1"], "--batch-size"),
    ([*FID, "--proxy", "params", "--source", "nope"], "--source: 'nope': unknown dataset"),
    ([*FID, "--proxy", "nope"], "nope"),
    (["fidelity", "--target", "nb201:nowhere", "--proxy", "params"], "nowhere"),
    # output paths: special file systems, names and paths over the kernel's limits
    (["export", "@S/run", "--to", "/proc/x.csv"], "--to: /proc/x.csv: is on a special file system"),
    (["export", "@S/run", "--to", "/sys/x.csv"], "--to: /sys/x.csv: is on a special file system"),
    (["export", "@S/run", "--to", "@S/" + "x" * 300 + ".csv"], "a name of 304 bytes, over 255"),
    (["export", "@S/run", "--to", "@S/" + "d/" * 2100 + "x.csv"], "bytes, over 4095"),
    (["report", "@S/run", "--out", "/proc/x"], "--out: /proc/x: is on a special file system"),
    (["report", "@S/run", "--out", "/sys/x"], "--out: /sys/x: is on a special file system"),
    (["report", "@S/run", "--out", "@S/" + "x" * 300], "over 255"),
    (["report", "@S/run", "--out", "@S/study.toml/sub"], "study.toml is not a folder"),
    (["search", "--method", "random", "--source", "digits", "-o", "/proc/s.json"], "special file system"),
    (["train", "--genotype", "DARTS_V2", "--dataset", "digits", "-o", "/sys/t.json"], "special file system"),
    (["genotype", "plot", "DARTS_V2", "-o", "/proc/x.png"], "--output: /proc/x.png: is on a special"),
    (["run", "@S/study.toml", "--dir", "/proc/x"], "--dir: /proc/x: is on a special file system"),
    (["run", "@S/study.toml", "--dir", "@S/" + "x" * 300], "--dir: "),
    (["search", "--method", "darts", "--source", "digits", "-o", "@S/s.json", "--device", ""], "--device"),
    (["train", "--genotype", "DARTS_V2", "--dataset", "digits", "--device", ""], "--device"),
    (["tables", "query", "nb201:cifar10", "not-an-arch"], "not-an-arch"),
    (["tables", "query", "nb201-file:@S/none.json", "x"], "none.json"),
    (["tables", "tau", "nb201:nowhere", "nb201:cifar10"], "nowhere"),
    (["tables", "list", "--bogus"], "--bogus"),
    (["tables", "search", "nb201:nowhere"], "nowhere"),
    (["tables", "search", "nb201:cifar10", "--queries", "0"], "--queries"),
    (["tables", "search", "nb201:cifar10", "--seed", "-1"], "--seed"),
]


@pytest.mark.parametrize(("argv", "named"), ARGV, ids=[" ".join(a)[:80] for a, _ in ARGV])
def test_bad_command_line(scratch, capsys, argv, named):
    expect_refused(scratch, capsys, argv, contains=named)


# -- the run directory's lock ------------------------------------------------------------------------------


def test_second_run_on_a_locked_directory_refuses(scratch, capsys):
    with run_lock(scratch / "run"):
        expect_refused(
            scratch, capsys, ["run", "@S/study.toml", "--dir", "@S/run"], contains="another `nastransfer run`"
        )


def test_a_directory_holding_another_study_is_refused_before_the_plan(scratch, capsys):
    from nastransfer.study import plan_study
    from nastransfer.study.driver.driver import prepare_run_dir, resolved_config

    other = load_study(write_study(scratch, {**BASE, "name": "other"}, name="other.toml"))
    prepare_run_dir(resolved_config(other), scratch / "run", len(plan_study(other)))
    argv = ["run", "@S/study.toml", "--dir", "@S/run"]
    expect_refused(scratch, capsys, argv, contains="holds another study")


def test_kill_9_frees_the_lock(scratch):
    holder = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from nastransfer.study.driver.lock import run_lock
        with run_lock(Path({str(scratch / "run")!r})):
            print("held", flush=True)
            time.sleep(60)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    with pytest.raises(Exception, match="another"), run_lock(scratch / "run"):
        pass
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.time() + 10
    while True:
        try:
            with run_lock(scratch / "run"):
                break
        except Exception:
            assert time.time() < deadline
            time.sleep(0.05)


# -- the report's figure names -----------------------------------------------------------------------------


def test_figure_names_are_distinct_and_short():
    from nastransfer.analysis import plots

    figures: dict = {}
    for label in ("cite seer", "cite-seer", "x" * 300):
        plots._add(figures, "scatter", label, object())
    names = list(figures)
    assert len(set(names)) == 3 and names[0] == "scatter-cite-seer"
    assert all(len(name) < 100 for name in names)


# -- the Ray address ---------------------------------------------------------------------------------------


def test_ray_address_where_nothing_listens_fails_in_one_line_without_ray_logs(scratch, capfd):
    """`run --executor ray --address 127.0.0.1:1` (nothing listens): exit 2 at once, one line naming the
    address, nothing written, and no line of Ray's own on the terminal (file descriptors read, not sys)."""
    capfd.readouterr()
    before = snapshot(scratch)
    argv = ["run", str(scratch / "study.toml"), "--dir", str(scratch / "ray-run")]
    code = main([*argv, "--executor", "ray", "--address", "127.0.0.1:1"])
    out, err = capfd.readouterr()
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "--address 127.0.0.1:1: no Ray cluster answers" in err, err
    assert "Ray" not in out and snapshot(scratch) == before
