"""`nastransfer plan` on a tiny study: counts per kind, the JSON keys scripts read, FLOP estimates for an
absent GPU, the cache, `run` refusing a plan above max_hours, and bad input (one line, exit 2)."""

import json

import pytest
import torch

from nastransfer.cli.main import main
from nastransfer.study import load_study, plan_study
from nastransfer.study.cost.plan import TaskCost, schedule_wall_s
from nastransfer.study.cost.step_costs import DataShape

RANDOM_WS = """
[[methods]]
name = "random"
label = "random-ws"
"""


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("NASTRANSFER_CACHE", str(folder))
    return folder


@pytest.fixture
def study_text(tiny_study):
    return tiny_study("tiny-plan", RANDOM_WS, search_epochs=2, source_epochs=1)


@pytest.fixture
def study(tmp_path, study_text):
    path = tmp_path / "tiny.toml"
    path.write_text(study_text)
    return path


def _plan_json(capsys, *args) -> dict:
    capsys.readouterr()
    assert main(["plan", *map(str, args), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_plan_counts_and_json_keys(study, capsys, cache_dir):
    plan = _plan_json(capsys, study)
    assert {"tasks", "device_s", "wall_s", "device", "by_task"} <= set(plan)
    tasks = plan_study(load_study(study))
    expected = {kind: sum(t.kind == kind for t in tasks) for kind in ("search", "sample", "evaluate")}
    assert plan["tasks"] == expected
    assert plan["device"] == "cpu" and plan["estimated_from"] == "measured"
    by_key = {t["key"]: t for t in plan["by_task"]}
    assert set(by_key) == {t.key for t in tasks}
    assert all(t["device_s"] > 0 for t in plan["by_task"] if t["kind"] == "evaluate")
    assert all(t["device_s"] == 0 for t in plan["by_task"] if t["kind"] == "sample")
    random_ws = [t for t in plan["by_task"] if t["kind"] == "search" and t["method"] == "random-ws"]
    assert random_ws and all(t["device_s"] == 0 for t in random_ws)  # a random draw trains nothing
    gdas = [t for t in plan["by_task"] if t["kind"] == "search" and t["method"] == "gdas"]
    assert gdas and all(t["device_s"] > 0 for t in gdas)
    assert plan["device_s"] == pytest.approx(sum(t["device_s"] for t in plan["by_task"]))
    assert 0 < plan["wall_s"] <= plan["device_s"]
    # The timings are cached: a second plan measures nothing and gives the same numbers.
    assert any('"train"' in key for key in json.loads((cache_dir / "speed.json").read_text()))
    again = _plan_json(capsys, study)
    assert again["device_s"] == plan["device_s"]


def test_plan_table_and_workers(study, capsys):
    assert main(["plan", str(study), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "plan:" in out and "CPU-hours" in out and "1 worker(s)" in out


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU here is measured, not estimated")
def test_plan_for_an_absent_gpu_comes_from_flops(study, capsys):
    plan = _plan_json(capsys, study, "--device", "cuda")
    assert plan["device"] == "cuda" and plan["estimated_from"] == "flops"
    assert plan["device_s"] > 0 and "GPU-days" in plan["total"]


def test_wall_time_replays_dependencies():
    search = TaskCost("s", "search", "m", "src", "", "", 10.0)
    trainings = [TaskCost(f"e{i}", "evaluate", "m", "src", "t", "p", 4.0, producer="s") for i in range(2)]
    tasks = [search, *trainings]
    seconds = {t.key: t.device_s for t in tasks}
    assert schedule_wall_s(tasks, 1, seconds) == pytest.approx(18.0)
    assert schedule_wall_s(tasks, 2, seconds) == pytest.approx(14.0)  # trainings wait for their search


def test_run_refuses_a_plan_above_max_hours(study, study_text, tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert main(["run", str(study), "--dir", str(run_dir), "--max-hours", "0.000001"]) == 2
    err = capsys.readouterr().err
    assert "--max-hours" in err and "--force" in err and len(err.strip().splitlines()) == 1
    assert not run_dir.exists()
    capped = tmp_path / "capped.toml"
    capped.write_text(study_text + "max_hours = 0.000001\n")
    assert main(["run", str(capped), "--dir", str(run_dir)]) == 2
    assert "executor.max_hours" in capsys.readouterr().err
    assert not run_dir.exists()


@pytest.mark.parametrize(
    ("edit", "args"),
    [
        (lambda text: text, ["--device", "tpu"]),
        (lambda text: text.replace('name = "gdas"', 'name = "no-such-method"'), []),
        (lambda text: text.replace('protocols = ["cpu-mini"]', 'protocols = ["no-such-protocol"]'), []),
        (lambda text: text + "max_hours = -1\n", []),
        (lambda text: "name = [", []),
    ],
)
def test_bad_input_is_one_line_and_exit_2(edit, args, study_text, tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(edit(study_text))
    capsys.readouterr()
    assert main(["plan", str(path), *args]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_missing_study_file_is_exit_2(tmp_path):
    assert main(["plan", str(tmp_path / "nope.toml")]) == 2


RANDOM_ONLY = """
name = "tiny-cost"
space = "nb201"

[[sources]]
name = "digits"
dataset = "digits"

[random]
n = 1

[[targets]]
name = "mnist"
dataset = "mnist5k"
overrides = { epochs = 1, channels = 4, layers = 3, batch_size = 32, image_size = 8, data_fraction = 0.05 }

[evaluate]
source_overrides = { epochs = 1, channels = 4, layers = 3, batch_size = 32, image_size = 8 }

[executor]
workers = 1
threads_per_worker = 1
"""


def test_run_keeps_its_plan_and_reports_estimated_vs_measured(tmp_path, capsys):
    study = tmp_path / "cost.toml"
    study.write_text(RANDOM_ONLY)
    run_dir = tmp_path / "run"
    assert main(["run", str(study), "--dir", str(run_dir), "--max-hours", "1"]) == 0
    assert "plan: " in capsys.readouterr().out
    plan = json.loads((run_dir / "plan.json").read_text())
    assert plan["tasks"] == {"sample": 1, "evaluate": 2}
    cost = json.loads((run_dir / "cost.json").read_text())
    evaluate = cost["kinds"]["evaluate"]
    assert evaluate["tasks"] == 2 and evaluate["estimated_device_s"] > 0 and evaluate["measured_device_s"] > 0
    assert cost["measured_total"].endswith("CPU-hours")
    report = (run_dir / "report" / "report.md").read_text()
    assert "## Cost" in report and "Estimated vs measured cost" in report


@pytest.mark.parametrize(
    ("searcher", "space", "layers", "shape"),
    [
        ("darts", "darts", 3, DataShape(0, 100, 3, 32)),
        ("pcdarts", "darts", 3, DataShape(0, 5, 1, 28)),
        ("darts", "darts", 4, DataShape(0, 10, 1, 14)),
        ("darts", "darts", 12, DataShape(0, 10, 3, 16)),  # counted at 6 and 9 cells
        ("darts", "nb201", 3, DataShape(0, 10, 1, 28)),  # counted at N = 1 and 2
    ],
)
def test_supernet_macs_counted_once_and_scaled_are_exact(searcher, space, layers, shape):
    """One count per supernet at 8 px, 3 channels, 10 classes (or shallower), scaled to the source."""
    from nastransfer.nets import count_flops
    from nastransfer.search import published_budget
    from nastransfer.study.cost.step_costs import _ShapeOnly, search_macs
    from nastransfer.study.worker.body import make_searcher

    method = make_searcher(searcher, {})
    budget = published_budget(searcher).replace(channels=4, layers=layers, image_size=None)
    net = method.build(space, budget, _ShapeOnly(shape, shape.size), method.stages(space, budget)[0])
    counted = count_flops(net, (shape.channels, shape.size, shape.size))
    assert search_macs(method, space, budget, 0, shape) == pytest.approx(counted, rel=1e-9)


def test_a_cold_plan_measures_in_worker_processes_and_a_warm_one_measures_nothing(study, monkeypatch):
    """On 2 workers every missing timing is made in a worker process, 2 at a time (the plan's own
    process makes none: it would raise here), and kept: the next plan measures nothing, unless the
timing method has changed since."""
    from nastransfer.runtime.speed_cache import TimingCache
    from nastransfer.study.cost.plan import estimate_study
    from nastransfer.study.cost.step_costs import Measurement

    config = load_study(study)
    cold = TimingCache()

    def refuse(self):
        raise AssertionError(f"measured in the plan's process: {self.fn.__name__}")

    monkeypatch.setattr(Measurement, "run", refuse)
    first = estimate_study(config, workers=2, cache=cold)
    keys = list(cold.entries)
    assert any('"searcher"' in key for key in keys) and any('"train"' in key for key in keys)
    again = estimate_study(config, workers=1, cache=TimingCache())  # read back from the file
    assert first.device_s > 0 and again.device_s == pytest.approx(first.device_s)
    # timings an older timing method made are not reused: one more would be measured here, and raise
    from nastransfer.study.cost import step_costs

    monkeypatch.setattr(step_costs, "TIMING_METHOD", step_costs.TIMING_METHOD + 1)
    with pytest.raises(AssertionError, match="measured in the plan's process"):
        estimate_study(config, workers=1, cache=TimingCache())
