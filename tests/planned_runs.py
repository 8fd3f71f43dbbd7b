"""A finished run of any study, filled in without training: the planner's own tasks in a real store,
each given a made-up cell and score in the same records a real run writes. The report and the export
then read it as they read any run, so a test can hold them to every shape of study the planner makes.

Made-up cells repeat the way real ones do: a random draw (a method whose searcher is `random`) finds
the same cell on every source, two seeds of one method on one source find the same cell, and the
random baseline's first cells are the draws' cells.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from nastransfer.study import Store, Task, evaluation_key, plan_study
from nastransfer.study.config.resolved import ResolvedStudy
from nastransfer.study.kinds import Work, get_kind

_BASE = {"source": 80.0, "target": 70.0}


def _cell(task: Task) -> str:
    spec = task.spec
    if task.kind == "sample" or spec.get("searcher") == "random":
        return f"cell-draw-{spec['seed']}"
    return f"cell-{spec['method']}-{spec['source']}-{spec['seed'] // 2}"


def _quality(cell: str) -> float:
    return float(np.random.default_rng(zlib.crc32(cell.encode())).normal())


def _top1(cell: str, setting: dict, rng: np.random.Generator) -> float:
    if setting["data"]["kind"] == "table":
        return round(90.0 + 2.0 * _quality(cell), 2)  # a table: the same number on every look-up
    gain = 0.8 if "enhanced" in setting["protocol"] else 0.0
    noise = rng.normal(0, 0.3)
    return round(_BASE[setting["role"]] + 1.5 * _quality(cell) + gain + noise, 2)


def _proxy_result(spec: dict, rng: np.random.Generator) -> dict:
    cells = spec["cells"]
    return {
        "cells": cells,
        "genotypes": cells,
        "scores": [_quality(c) + rng.normal(0, 0.5) for c in cells],
        "targets": [90.0 + 2.0 * _quality(c) for c in cells],
        "cost": {"wall_s": 1.0, "device_s": 1.0},
    }


def fill_run(study: ResolvedStudy, run_dir: Path, seed: int = 0) -> Path:
    """Write `run_dir`'s store as a finished run of `study` would leave it; returns `run_dir`."""
    rng = np.random.default_rng(seed)
    run_dir.mkdir(parents=True, exist_ok=True)
    tasks = plan_study(study)
    cells: dict[str, str] = {}
    cost = {"wall_s": 2.0, "device_s": 2.0}
    with Store.of_run(run_dir) as store:
        store.add_tasks(tasks)
        for task in tasks:
            spec = task.spec
            if task.kind in ("search", "sample"):
                cells[task.key] = _cell(task)
                search = {"cost": cost} if task.kind == "search" else None
                store.record_genotype(task.key, spec["space"], cells[task.key], cells[task.key], search)
            elif task.kind == "evaluate":
                cell = cells[task.producer]
                eval_key = evaluation_key(cell, spec["space"], spec["setting"])
                if store.has_result(eval_key):
                    store.link_evaluation(task.key, eval_key, cell)
                    store.finish_from_stored([task.key])
                    continue
                top1 = _top1(cell, spec["setting"], rng)
                result = {"top1": top1, "top5": min(100.0, top1 + 10), "params": 1000, "flops": 5000}
                store.record_evaluation([task.key], eval_key, cell, {**result, "cost": cost})
            else:  # a proxy's scores, recorded as its kind records them
                get_kind(task.kind).record(
                    store, task, Work([task.key], task.key), _proxy_result(spec, rng), "", None
                )
    return run_dir
