"""The task-kind registry: the built-in kinds, and a kind added from here (one class and its
registration, nothing else changed) that runs through a real `nastransfer run` on local workers,
resumes without redoing anything, shows in `status` and reaches `export`."""

import math
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from nastransfer.cli.main import main
from nastransfer.errors import ConfigError
from nastransfer.study.driver.tasks import Task
from nastransfer.study.kinds import KINDS, TaskCost, TaskKind, get_kind, kind_names, register_kind

TABLE = "cell_lengths"
STUDY = """
name = "toy-kind"
space = "nb201"

[[sources]]
name = "digits"
dataset = "digits"

[evaluate]
on_source = false

[random]
n = 3

[[targets]]
name = "nb201-cifar10"
table = "nb201:cifar10"

[executor]
workers = 2
threads_per_worker = 1
"""


class CellLength(TaskKind):
    """Each produced cell's text length: a task per cell, run in a worker, its own table and rows."""

    name = "cell-length"
    tables = {
        TABLE: f"CREATE TABLE IF NOT EXISTS {TABLE} (task_key TEXT PRIMARY KEY, cell TEXT, length INTEGER)"
    }

    def expand(self, study, planned):
        producers = [t for t in planned if get_kind(t.kind).produces_cell]
        return [Task.make(self.name, {"space": study.space}, producer=t.key) for t in producers]

    def payload(self, task, cell):
        return {"genotype": cell[1]}

    def run(self, payload, workdir):
        with open(workdir / "runs.txt", "a") as runs:  # how often the work ran: once, resumed or not
            runs.write("ran\n")
        return {"length": len(payload["genotype"])}

    def record(self, store, task, work, result, worker, node):
        row = {"task_key": task.key, "cell": work.cell[0], "length": result["length"]}
        store.record_rows(task.key, TABLE, [row], None, worker, node)

    def frame_rows(self, store):
        rows = store.query(
            f"SELECT t.spec, c.cell, g.text, c.length FROM tasks t JOIN {TABLE} c ON c.task_key = t.key "
            "JOIN genotypes g ON g.key = c.cell WHERE t.kind = ? AND t.status = 'done' ORDER BY t.rowid",
            (self.name,),
        )
        blank = {"source": "", "source_kind": "", "search_seed": 0, "eval_dataset": "", "protocol": ""}
        costs = dict.fromkeys(("search_wall_s", "search_device_s", "eval_wall_s", "eval_device_s"), 0.0)
        return [
            {
                "cell": r["cell"],
                "genotype": r["text"],
                "space": "nb201",
                "method": self.name,
                **blank,
                "eval_role": self.name,
                "eval_seed": 0,
                "top1": float(r["length"]),
                "top5": math.nan,
                "params": 0,
                "flops": 0,
                **costs,
            }
            for r in rows
        ]

    def price(self, task, estimator):
        return TaskCost(task.key, task.kind, self.name, "", "", "", 0.0, producer=task.producer)


def test_the_built_in_kinds_in_plan_order():
    assert kind_names()[:4] == ["search", "sample", "evaluate", "fidelity"]
    with pytest.raises(ConfigError, match="^task kind 'search' is already registered$"):
        register_kind(get_kind("search"))
    with pytest.raises(ConfigError, match=r"^unknown task kind 'nope' \(known: evaluate, fidelity, sample"):
        get_kind("nope")


@pytest.fixture
def toy_kind():
    register_kind(CellLength())
    yield
    KINDS.remove(CellLength.name)


def _lengths(run: Path) -> list[tuple]:
    with sqlite3.connect(run / "study.sqlite") as db:
        return db.execute(
            f"SELECT c.cell, c.length, t.finished FROM {TABLE} c JOIN tasks t "
            "ON t.key = c.task_key ORDER BY c.cell"
        ).fetchall()


def test_a_kind_registered_here_runs_resumes_and_exports(toy_kind, tmp_path, capsys):
    (tmp_path / "toy.toml").write_text(STUDY)
    run = tmp_path / "run"
    command = ["run", str(tmp_path / "toy.toml"), "--dir", str(run), "--no-report"]
    assert main(command) == 0
    first = _lengths(run)
    assert len(first) == 3 and all(length > 0 for _, length, _ in first)
    assert main(command) == 0  # resumed: nothing to do
    assert _lengths(run) == first
    runs = sorted((run / "tasks").glob("*/runs.txt"))
    assert len(runs) == 3 and all(path.read_text() == "ran\n" for path in runs)
    capsys.readouterr()
    assert main(["status", str(run)]) == 0
    assert "cell-length" in capsys.readouterr().out
    assert main(["export", str(run), "--to", str(tmp_path / "out.csv")]) == 0
    frame = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    toy = frame[frame["method"] == "cell-length"]
    looked_up = frame[frame["eval_role"] == "target"]
    assert sorted(toy["cell"]) == sorted(looked_up["cell"]) and len(toy) == 3
    assert (toy["top1"] == toy["genotype"].str.len()).all()
