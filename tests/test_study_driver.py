"""The driver with random cells and one search that always fails: failures are retried, recorded
with their traceback and do not stop the study; Ctrl-C leaves nothing running; `status` and
`export` work. (A study whose data cannot work is refused before it starts: see test_bad_input.)"""

import functools
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pandas as pd
import pytest

from nastransfer.cli.main import main
from nastransfer.search import Searcher
from nastransfer.study import load


class FailingSearcher(Searcher):
    """A method that fails when it runs, after its study has been validated."""

    def search(self, space, data, budget, seed, workdir, progress=None):
        raise RuntimeError("deliberate search failure")


STUDY = """
name = "tiny-driver"
space = "darts"

[[sources]]
name = "digits"
dataset = "digits"

[[methods]]
name = "test_study_driver:FailingSearcher"   # workers import it from the tests folder
label = "failing"

[budget]
epochs = 1
channels = 4
layers = 3
batch_size = 16

[random]
n = 2

[[targets]]
name = "digits-target"
dataset = "digits"
overrides = { epochs = 1, channels = 4, layers = 3, batch_size = 64, data_fraction = 0.2 }

[evaluate]
source_overrides = { epochs = 1, channels = 4, layers = 3, batch_size = 64, data_fraction = 0.2 }

[executor]
workers = 2
threads_per_worker = 1
retries = 1
"""


def _write(tmp_path, text=STUDY):
    path = tmp_path / "study.toml"
    path.write_text(text)
    return path


def _rows(run_dir, sql):
    with sqlite3.connect(run_dir / "study.sqlite") as db:
        return db.execute(sql).fetchall()


def _has_tasks_table(run_dir):
    """The driver creates the file a moment before its first migration commits the tables."""
    if not (run_dir / "study.sqlite").exists():
        return False
    return bool(_rows(run_dir, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tasks'"))


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory):
    """One run in which the impossible proxy's tasks fail; later tests read it, the last one reruns it."""
    study = _write(tmp_path_factory.mktemp("study"))
    run_dir = study.parent / "run"
    assert main(["run", str(study), "--dir", str(run_dir), "--no-report"]) == 1  # some tasks failed
    return study, run_dir


def test_failures_are_retried_recorded_and_do_not_stop_the_study(failed_run, tmp_path, capsys):
    _, run_dir = failed_run
    failed = _rows(run_dir, "SELECT attempts, error FROM tasks WHERE status = 'failed'")
    assert len(failed) == 1  # the search, tried twice; its two evaluations are skipped
    assert all(
        attempts == 2 and "deliberate search failure" in error and "Traceback" in error
        for attempts, error in failed
    )
    assert len(_rows(run_dir, "SELECT 1 FROM tasks WHERE status = 'skipped'")) == 2
    frame = load(run_dir)
    assert len(frame) == 2 * 2 and set(frame.eval_dataset) == {"digits", "digits-target"}
    capsys.readouterr()
    assert main(["status", str(run_dir)]) == 0
    assert "deliberate search failure" in capsys.readouterr().out
    assert main(["export", str(run_dir), "--to", str(tmp_path / "results.csv")]) == 0
    assert (tmp_path / "results.csv").read_text().startswith("cell,genotype,space,method,")
    assert main(["export", str(run_dir), "--to", str(tmp_path / "results.xlsx")]) == 2
    assert main(["export", str(run_dir), "--to", str(tmp_path / "results.parquet")]) == 0
    back = pd.read_parquet(tmp_path / "results.parquet")
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)


def test_another_study_in_the_same_dir_is_refused(failed_run):
    study, run_dir = failed_run
    other = study.parent / "other.toml"
    other.write_text(STUDY.replace("n = 2", "n = 3"))
    assert main(["run", str(other), "--dir", str(run_dir), "--no-report"]) == 2


def test_rerun_retries_failures_and_keeps_done_work(failed_run):
    study, run_dir = failed_run
    finished = _rows(run_dir, "SELECT key, finished FROM tasks WHERE status = 'done' ORDER BY key")
    assert main(["run", str(study), "--dir", str(run_dir), "--workers", "1", "--no-report"]) == 1
    assert _rows(run_dir, "SELECT key, finished FROM tasks WHERE status = 'done' ORDER BY key") == finished
    assert _rows(run_dir, "SELECT DISTINCT attempts FROM tasks WHERE status = 'failed'") == [(4,)]


def test_ctrl_c_leaves_unfinished_tasks_pending(tmp_path):
    study = _write(tmp_path, STUDY.replace("epochs = 1", "epochs = 30").replace("n = 2", "n = 4"))
    run_dir = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "nastransfer.cli.main",
        "run",
        str(study),
        "--dir",
        str(run_dir),
        "--no-report",
    ]
    tests = os.path.dirname(__file__)
    path = os.pathsep.join(filter(None, [tests, os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": path}
    # Ctrl-C's default action for the driver even where the suite runs as a background job of a
    # non-interactive shell, which starts it with SIGINT ignored: Python then never raises
    # KeyboardInterrupt, and the driver (rightly) runs on.
    driver = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        preexec_fn=functools.partial(signal.signal, signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        time.sleep(0.2)
        if _has_tasks_table(run_dir) and _rows(run_dir, "SELECT 1 FROM tasks WHERE status = 'running'"):
            break
    driver.send_signal(signal.SIGINT)
    assert driver.wait(timeout=60) == 130
    statuses = {status for (status,) in _rows(run_dir, "SELECT status FROM tasks")}
    assert "running" not in statuses and "pending" in statuses


def test_an_aborted_executor_starts_no_fresh_workers():
    """abort() kills the workers, which breaks the pool: a task the queue thread was just handing
    over must not start a new pool, whose workers would keep a Ctrl-C'd driver alive."""
    from nastransfer.study.worker.executors.local import LocalExecutor

    executor = LocalExecutor(workers=1, threads=1)
    executor.abort()
    broken = executor._pool
    broken._broken = "a worker was killed by abort()"  # what the pool's manager thread sets
    with pytest.raises(RuntimeError, match="aborted"):
        executor._run({})
    assert executor._pool is broken
