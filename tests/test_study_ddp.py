"""A study whose target trainings run data-parallel: two gloo ranks under torchrun per training,
the slots of the local executor held by both processes, results stored like any other, and a rerun
that trains nothing."""

import json
from datetime import datetime
from pathlib import Path

import pytest

from nastransfer.cli.main import main
from nastransfer.errors import ConfigError
from nastransfer.runtime import CheckpointDir
from nastransfer.study import load, load_study

STUDY = """
name = "tiny-ddp"
space = "darts"

[[sources]]
name = "digits"
dataset = "digits"

[random]
n = 2

[[targets]]
name = "digits-target"
dataset = "digits"
overrides = { epochs = 1, channels = 4, layers = 3, batch_size = 32, image_size = 8, data_fraction = 0.3 }

[evaluate]
on_source = false

[executor]
workers = 2
threads_per_worker = 1
retries = 0
nproc_per_target = { digits-target = 2 }
"""


def _write(tmp_path: Path, text: str = STUDY) -> Path:
    path = tmp_path / "study.toml"
    path.write_text(text)
    return path


def _span(log: Path) -> tuple[datetime, datetime]:
    """When the torchrun of a task started and ended, from the lines the worker writes around it."""
    stamps = [
        datetime.fromisoformat(line.split()[0])
        for line in log.read_text().splitlines()
        if line.split(" ", 2)[1:2] in (["start"], ["end"])
    ]
    assert len(stamps) == 2, log.read_text()[-2000:]
    return stamps[0], stamps[1]


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    study = _write(tmp_path_factory.mktemp("ddp"))
    run_dir = study.parent / "run"
    assert main(["run", str(study), "--dir", str(run_dir), "--no-report"]) == 0
    return study, run_dir


def _check_two_rank_trainings(run_dir: Path) -> None:
    frame = load(run_dir)
    assert len(frame) == 2 and set(frame.eval_dataset) == {"digits-target"}
    assert frame.top1.between(0, 100).all() and (frame.params > 0).all()
    workdirs = sorted(p.parent for p in (run_dir / "tasks").glob("*/torchrun.log"))
    assert len(workdirs) == 2
    for workdir in workdirs:
        result = json.loads((workdir / "ddp-result.json").read_text())
        assert result["world_size"] == 2
        step, state = CheckpointDir(workdir / "checkpoints").load_latest()
        assert step == 1 and len(state["rng"]) == 2  # rank 0 saved both ranks' generators
        assert len((workdir / "log.jsonl").read_text().splitlines()) == 1  # only rank 0 logs
    first, second = (_span(w / "torchrun.log") for w in workdirs)
    # each training holds both worker slots: the two never overlap
    assert first[1] <= second[0] or second[1] <= first[0]


def test_target_trainings_run_on_two_ranks_and_are_stored(ddp_run):
    _check_two_rank_trainings(ddp_run[1])


def test_rerun_trains_nothing(ddp_run):
    study, run_dir = ddp_run
    logs = sorted((run_dir / "tasks").glob("*/torchrun.log"))
    before = [(p.read_text(), p.stat().st_mtime_ns) for p in logs]
    results_before = load(run_dir).sort_values("cell").top1.tolist()
    assert main(["run", str(study), "--dir", str(run_dir), "--no-report"]) == 0
    assert [(p.read_text(), p.stat().st_mtime_ns) for p in logs] == before
    assert load(run_dir).sort_values("cell").top1.tolist() == results_before


@pytest.mark.parametrize(
    ("executor", "where"),
    [
        (
            "nproc_per_target = { nowhere = 2 }",
            "executor.nproc_per_target.nowhere: no target named 'nowhere'",
        ),
        (
            "nproc_per_task = 3",
            "executor.nproc_per_task: target 'digits-target' protocol 'cpu-mini': "
            "batch_size 32 does not split over 3 processes",
        ),
        ("nproc_per_task = 0", "executor.nproc_per_task"),
    ],
)
def test_bad_process_counts_are_config_errors(tmp_path, executor, where):
    text = STUDY.replace("nproc_per_target = { digits-target = 2 }", executor)
    with pytest.raises(ConfigError) as caught:
        load_study(_write(tmp_path, text))
    assert where in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.slow
def test_on_ray_each_training_asks_for_both_cpus_and_matches_the_local_run(ddp_run, tmp_path):
    _, local_dir = ddp_run
    study = _write(tmp_path, STUDY.replace("retries = 0", 'retries = 0\nkind = "ray"'))
    run_dir = tmp_path / "run"
    assert main(["run", str(study), "--dir", str(run_dir), "--no-report"]) == 0
    _check_two_rank_trainings(run_dir)  # a local 2-CPU cluster: overlapping trainings would need 4
    local, on_ray = (load(d).sort_values("cell").reset_index(drop=True) for d in (local_dir, run_dir))
    assert on_ray[["cell", "top1", "top5"]].equals(local[["cell", "top1", "top5"]])
