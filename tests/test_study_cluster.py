"""A study on a real two-node Ray cluster (`ray start --head`, `ray start --address`, one CPU each,
token auth on, loopback only: tests/ray_cluster.py): tasks on both nodes and the local run's results;
a node killed mid-study; the driver killed with kill -9 and rerun; a node that cannot see the run
directory refused before anything runs.

The cluster is shared by the module's tests in order: each test that loses a node adds one back.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nastransfer.cli.main import main
from nastransfer.results_columns import COST_COLUMNS
from nastransfer.study import load
from nastransfer.study.driver.run_dir import RunDir
from ray_cluster import Cluster, Node, can_make_namespaces

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not can_make_namespaces(), reason="needs root: a loopback-only network namespace"),
]

STUDY = """
name = "on-a-cluster"
space = "darts"

[[sources]]
name = "digits"
dataset = "digits"

[random]
n = 4

[[targets]]
name = "mnist"
dataset = "mnist5k"
protocols = ["cpu-mini"]
overrides = { epochs = 2, channels = 4, layers = 3, batch_size = 32, image_size = 8, data_fraction = 0.1 }

[evaluate]
on_source = false

[executor]
threads_per_worker = 1
retries = 1
"""
ROWS = 4
KEYS = ["cell", "eval_dataset", "protocol", "eval_seed"]
NASTRANSFER = str(Path(sys.executable).with_name("nastransfer"))
RUN_TIMEOUT_S = 240


@pytest.fixture(scope="module")
def study_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("study") / "cluster.toml"
    path.write_text(STUDY)
    return path


@pytest.fixture(scope="module")
def local_run(study_file, tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("local") / "run"
    assert main(["run", str(study_file), "--dir", str(run_dir), "--no-report", "--executor", "local"]) == 0
    return run_dir


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A head and one worker node; every process they started is ended after, by pid (stop raises
    if any is left)."""
    started = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        yield started.start(workers=1)
    finally:
        started.stop()


def _run(cluster: Cluster, study_file: Path, run_dir: Path, log: Path):
    """`nastransfer run ... --executor ray --address` as a user runs it on the cluster (a driver process)."""
    argv = [NASTRANSFER, "run", str(study_file), "--dir", str(run_dir), "--no-report"]
    argv += ["--executor", "ray", "--address", cluster.address]
    return cluster.command(argv, stdout=log.open("w"), stderr=subprocess.STDOUT)


# Ray's log lines start with a date; what it prints from the cluster names its source: "(raylet) ...".
RAY_LINE = re.compile(r"^\[?\d{4}-\d\d-\d\d|\((raylet|autoscaler|pid=\d+)")


def _no_ray_lines(log: Path) -> None:
    """None of Ray's own lines reached the driver's terminal."""
    text = log.read_text()
    assert "Traceback" not in text and not [line for line in text.splitlines() if RAY_LINE.search(line)], text


def _same_results(run_dir: Path, local_run: Path) -> None:
    """The export equals the local run's in every column but the timings."""
    ours, local = (load(d).sort_values(KEYS).reset_index(drop=True) for d in (run_dir, local_run))
    assert len(ours) == len(local) == ROWS
    kept = [c for c in local.columns if c not in COST_COLUMNS]
    assert ours[kept].equals(local[kept])


def _tasks(run_dir: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(f"file:{run_dir / 'study.sqlite'}?mode=ro", uri=True) as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM tasks WHERE kind = 'evaluate'").fetchall()


def _rows_once(run_dir: Path) -> None:
    with sqlite3.connect(run_dir / "study.sqlite") as db:
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT eval_key) FROM results").fetchone() == (ROWS, ROWS)


def test_a_study_runs_on_both_nodes_with_the_local_results(cluster, study_file, local_run, tmp_path, capsys):
    run_dir = tmp_path / "run"
    driver = _run(cluster, study_file, run_dir, tmp_path / "driver.log")
    assert driver.wait(timeout=RUN_TIMEOUT_S) == 0, (tmp_path / "driver.log").read_text()
    assert cluster.listening() == {"127.0.0.1"}  # every Ray server bound to loopback only
    _same_results(run_dir, local_run)
    nodes = {row["node"] for row in _tasks(run_dir)}
    assert len(nodes) == 2  # the head and the worker node each ran tasks
    capsys.readouterr()
    assert main(["status", str(run_dir)]) == 0
    shown = capsys.readouterr().out
    assert all(f"node {node}:" in shown for node in nodes), shown
    _no_ray_lines(tmp_path / "driver.log")


def _lost_task_with_checkpoint(run_dir: Path, node: str, deadline: float) -> Path:
    """The workdir of a task running on `node` with its first epoch checkpointed and its last not yet."""
    while time.time() < deadline:
        for attempt in RunDir(run_dir).attempts():
            workdir = attempt.parent
            try:
                on = json.loads(attempt.read_text())["node"]
            except (OSError, ValueError):
                continue
            checkpoints = workdir / "checkpoints"
            started = (checkpoints / "epoch-000001.pt").exists()
            if on == node and started and not (checkpoints / "epoch-000002.pt").exists():
                return workdir
        time.sleep(0.02)
    raise AssertionError("no task on the worker node reached its first checkpoint in time")


def _node_id(cluster: Cluster, node: Node, run_dir: Path, deadline: float) -> str:
    """The Ray node id of `node`: the one its workers write in their tasks' attempt files."""
    while time.time() < deadline:
        for attempt in RunDir(run_dir).attempts():
            try:
                seen = json.loads(attempt.read_text())
            except (OSError, ValueError):
                continue
            if int(seen["worker"].rsplit(":", 1)[1]) in node.pids():
                return seen["node"]
        time.sleep(0.02)
    raise AssertionError("the worker node ran no task")


def test_a_node_lost_mid_study(cluster, study_file, local_run, tmp_path):
    """The worker node killed (raylet, agents, workers by pid) while it trains a checkpointed task: the
    study finishes on the head, the lost task retried once and resumed from its checkpoint, no row
    lost or written twice, the local results."""
    node = cluster.nodes[-1]
    run_dir = tmp_path / "run"
    driver = _run(cluster, study_file, run_dir, tmp_path / "driver.log")
    deadline = time.time() + RUN_TIMEOUT_S
    node_id = _node_id(cluster, node, run_dir, deadline)
    workdir = _lost_task_with_checkpoint(run_dir, node_id, deadline)
    first = (workdir / "checkpoints" / "epoch-000001.pt").stat()
    killed = cluster.kill_node(node)
    assert killed and not node.pids()
    assert driver.wait(timeout=RUN_TIMEOUT_S) == 0, (tmp_path / "driver.log").read_text()

    _same_results(run_dir, local_run)
    _rows_once(run_dir)
    tasks = _tasks(run_dir)
    lost = [row for row in tasks if row["eval_key"] == workdir.name]
    assert [row["attempts"] for row in lost] == [2] and lost[0]["node"] != node_id
    retried = sum(row["attempts"] - 1 for row in tasks)
    assert all(row["status"] == "done" for row in tasks)
    again = (workdir / "checkpoints" / "epoch-000001.pt").stat()  # kept, not written again: resumed
    assert (again.st_ino, again.st_mtime_ns) == (first.st_ino, first.st_mtime_ns)
    assert (workdir / "checkpoints" / "epoch-000002.pt").exists()
    _no_ray_lines(tmp_path / "driver.log")  # not even Ray's "node marked dead"
    print(f"node lost: {len(killed)} processes killed, {retried} task(s) retried, {len(tasks)} rows")


def test_driver_killed_and_rerun_resumes_on_the_same_cluster(cluster, study_file, local_run, tmp_path):
    cluster.add_node()  # the node the previous test lost, back
    run_dir = tmp_path / "run"
    driver = _run(cluster, study_file, run_dir, tmp_path / "first.log")
    deadline = time.time() + RUN_TIMEOUT_S
    while not any(row["status"] == "done" for row in _tasks_if_any(run_dir)):
        assert driver.poll() is None and time.time() < deadline, (tmp_path / "first.log").read_text()
        time.sleep(0.05)
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    done_before = sum(row["status"] == "done" for row in _tasks(run_dir))
    assert done_before < ROWS
    again = _run(cluster, study_file, run_dir, tmp_path / "again.log")
    assert again.wait(timeout=RUN_TIMEOUT_S) == 0, (tmp_path / "again.log").read_text()
    _same_results(run_dir, local_run)
    _rows_once(run_dir)
    _no_ray_lines(tmp_path / "again.log")


def _tasks_if_any(run_dir: Path) -> list[sqlite3.Row]:
    try:
        return _tasks(run_dir)
    except sqlite3.Error:  # not created yet
        return []


def test_a_node_that_cannot_see_the_run_directory_is_refused(cluster, study_file, tmp_path):
    """A node whose machine lacks the run directory's storage (its own mount namespace, an empty
    folder over it): exit 2, one line naming the node and the path, nothing run or left behind."""
    hidden = tmp_path / "hidden"
    blind = cluster.add_node(hide=hidden)
    run_dir = hidden / "run"
    log = tmp_path / "driver.log"
    try:
        driver = _run(cluster, study_file, run_dir, log)
        assert driver.wait(timeout=RUN_TIMEOUT_S) == 2, log.read_text()
    finally:
        cluster.kill_node(blind)
    lines = [line for line in log.read_text().splitlines() if line.startswith("error")]
    assert len(lines) == 1 and "Traceback" not in log.read_text(), log.read_text()
    assert f"cannot see the run directory {run_dir}" in lines[0] and "node 127.0.0.1 (" in lines[0]
    assert not run_dir.exists()
