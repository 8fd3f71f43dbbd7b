"""Per-task overhead of the Ray executor against the local one, on a study of tiny tasks.

The study: `--cells` random NB201 cells, each looked up in the NAS-Bench-201 CIFAR-10 table (well
under a millisecond of work a task), so what a task costs is the executor's own round trip. Each
executor runs it with `--workers` workers of one thread (Ray: a local cluster of that many CPUs that
the executor starts), alternating, `--repeats` times. Per row, medians: start-up (the executor made
and a first task done on every worker) and the warm time per task after it; the last column is
that time over the local executor's.

    .venv/bin/python benchmarks/bench_ray.py --cells 60 --repeats 3
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from nastransfer.study import load_study, run_study
from nastransfer.study.config.schema import ExecutorConfig
from nastransfer.study.driver.run_dir import RunDir
from nastransfer.study.worker.executors import make_executor

STUDY = """
name = "bench-ray"
space = "nb201"

[[sources]]
name = "digits"
dataset = "digits"

[random]
n = {cells}

[[targets]]
name = "cifar10"
table = "nb201:cifar10"

[evaluate]
on_source = false
"""


def one_run(kind: str, cells: int, workers: int, folder: Path) -> tuple[float, float]:
    """(start-up seconds, warm seconds per task) of one run of the study on executor `kind`.

    Start-up is making the executor plus its first task on each worker (starting the worker
    process, importing torch, reading the table); the warm time per task is the span from then to
    the last result, over the tasks in it.
    """
    path = folder / "study.toml"
    path.write_text(STUDY.format(cells=cells))
    study = load_study(path)
    study = study.with_executor(ExecutorConfig(kind=kind, workers=workers, threads_per_worker=1, retries=0))
    started = time.perf_counter()
    executor = make_executor(study.executor)
    startup = time.perf_counter() - started
    summary = run_study(study, folder / "run", executor=executor)
    assert summary.ok, summary.cause
    with sqlite3.connect(RunDir(folder / "run").store) as db:
        first = db.execute("SELECT MIN(created) FROM tasks").fetchone()[0]
        finished = sorted(f for (f,) in db.execute("SELECT finished FROM tasks WHERE kind = 'evaluate'"))
    assert len(finished) == cells, len(finished)
    warm = finished[workers - 1]  # every worker has run one task
    return startup + warm - first, (finished[-1] - warm) / (cells - workers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[tuple[float, float]]] = {"local": [], "ray": []}
    for _ in range(args.repeats):
        for kind in runs:
            with tempfile.TemporaryDirectory(prefix="bench-ray-") as folder:
                runs[kind].append(one_run(kind, args.cells, args.workers, Path(folder)))
    table = Table(title=f"{args.cells} table look-ups, {args.workers} workers, median of {args.repeats}")
    for column in ("executor", "start-up s", "warm per task ms", "vs local"):
        table.add_column(column, justify="right")
    local_per_task = statistics.median(t for _, t in runs["local"])
    for kind, measured in runs.items():
        per_task = statistics.median(t for _, t in measured)
        table.add_row(
            kind,
            f"{statistics.median(s for s, _ in measured):.2f}",
            f"{per_task * 1000:.1f}",
            f"{per_task / local_per_task:.2f}x",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
