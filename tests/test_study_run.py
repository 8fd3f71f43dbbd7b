"""End to end: a tiny real study on local workers and on a local Ray cluster gives the same numbers;
drivers killed with SIGKILL at random moments resume to the same results, with no row lost or
written twice."""

import os
import random
import signal
import sqlite3
import subprocess
import sys

import pytest

from nastransfer.cli.main import main
from nastransfer.study import load

pytestmark = pytest.mark.slow

# The same search twice finds the same cell: it is trained once per setting.
AGAIN = """
[[methods]]
name = "gdas"
label = "gdas-again"
"""

SETTING = ["cell", "method", "source", "search_seed", "eval_dataset", "protocol", "eval_seed"]
EXPECTED_ROWS = 2 * 2 * 2 + 2 * 3  # found cells x (own source + target) + random cells x (2 sources + target)


@pytest.fixture(scope="module")
def study_file(tmp_path_factory, tiny_study):
    path = tmp_path_factory.mktemp("study") / "tiny.toml"
    path.write_text(tiny_study("tiny-run", AGAIN, search_epochs=1, source_epochs=2))
    return path


@pytest.fixture(scope="module")
def local_run(study_file, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("local") / "run"
    assert main(["run", str(study_file), "--dir", str(run_dir)]) == 0
    return run_dir


def _frame(run_dir):
    return load(run_dir).sort_values(SETTING).reset_index(drop=True)


def _same_results(a, b):
    assert len(a) == len(b) == EXPECTED_ROWS
    assert a[SETTING].equals(b[SETTING])
    assert a["top1"].tolist() == b["top1"].tolist()
    assert a["top5"].tolist() == b["top5"].tolist()


def test_local_run_is_complete_and_deduplicated(local_run):
    frame = _frame(local_run)
    assert len(frame) == EXPECTED_ROWS
    assert not frame.duplicated(SETTING).any()
    assert (frame[frame.eval_dataset == "digits"].top1 > 15).any()  # trained for real: above 10 % chance
    with sqlite3.connect(local_run / "study.sqlite") as db:
        trainings = db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        statuses = dict(db.execute("SELECT status, COUNT(*) FROM tasks GROUP BY status").fetchall())
    assert statuses == {"done": 4 + 2 + EXPECTED_ROWS}
    found = frame[frame.method != "random"]
    # gdas and gdas-again find one cell per source, so its 4 settings are trained once each
    assert found.groupby(["source", "eval_dataset"]).cell.nunique().eq(1).all()
    assert trainings == EXPECTED_ROWS - 4
    assert (local_run / "study.resolved.json").is_file()


def test_ray_run_matches_local(study_file, local_run, tmp_path):
    run_dir = tmp_path / "ray"
    assert main(["run", str(study_file), "--dir", str(run_dir), "--executor", "ray", "--no-report"]) == 0
    _same_results(_frame(local_run), _frame(run_dir))


KILLS = 3


def _run_seconds(run_dir):
    """How long the uninterrupted run's tasks took, first created to last finished."""
    with sqlite3.connect(run_dir / "study.sqlite") as db:
        return db.execute("SELECT MAX(finished) - MIN(created) FROM tasks").fetchone()[0]


def test_kill_9_at_random_moments_and_resume(study_file, local_run, tmp_path):
    """KILLS drivers killed with SIGKILL (with their workers) at random moments of the run, then one
    resume: the results equal the uninterrupted run's, with no row lost or written twice."""
    run_dir = tmp_path / "killed"
    command = [
        sys.executable,
        "-m",
        "nastransfer.cli.main",
        "run",
        str(study_file),
        "--dir",
        str(run_dir),
        "--no-report",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    rng = random.Random()
    span = _run_seconds(local_run)
    for _ in range(KILLS):
        driver = subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.DEVNULL)
        moment = rng.uniform(0.0, span)  # anywhere from start-up to the last task
        try:
            driver.wait(timeout=moment)
        except subprocess.TimeoutExpired:
            os.killpg(driver.pid, signal.SIGKILL)  # the driver and its workers, at once
            driver.wait()
        assert driver.returncode in (0, -signal.SIGKILL), driver.returncode  # never refused as locked
    resumed = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, timeout=600)
    assert resumed.returncode == 0
    _same_results(_frame(local_run), _frame(run_dir))
    with sqlite3.connect(run_dir / "study.sqlite") as db:
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT eval_key) FROM results").fetchone() == (
            EXPECTED_ROWS - 4,
            EXPECTED_ROWS - 4,
        )
