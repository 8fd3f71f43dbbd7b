"""A search's compile choice (`search.speed`): auto measures only long searches and compiles where
the measured compile repays; a compiled search computes what the eager one does, keeps one graph
per step kind, and a resumed search keeps the choice its run made."""

from __future__ import annotations

import functools
import shutil
import time

import pytest
import torch
import torch._dynamo

from nastransfer import search
from nastransfer.data import load_dataset, make_proxy, paper_splits
from nastransfer.errors import ConfigError
from nastransfer.nets import compiling
from nastransfer.runtime import speed_cache
from nastransfer.search import gradient
from nastransfer.search import speed as search_speed

#: An NB201 supernet of 5 cells (N=1); P-DARTS runs in the DARTS space, of at least 3 cells.
BUDGET = search.Budget(epochs=2, channels=4, layers=1, batch_size=16, image_size=8)


@pytest.fixture(scope="module")
def splits():
    return paper_splits(make_proxy(load_dataset("fashion-mnist"), per_class=8, seed=0))


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NASTRANSFER_CACHE", str(tmp_path / "cache"))


#: Compile with dynamo but no inductor (seconds, not minutes): the graphs, guards and recompiles are
#: dynamo's; the ops run as eager ones do.
DYNAMO_ONLY = functools.partial(compiling.compile_net, backend="eager")


def run(splits, workdir, **options):
    searcher = search.get("pcdarts", arch_lr=0.05, **options)
    return searcher.search("nb201", splits, BUDGET, seed=3, workdir=workdir)


@pytest.fixture(scope="module")
def compiled_search(splits, tmp_path_factory):
    """A search compiled (`DYNAMO_ONLY`): its result, its workdir, and dynamo's graphs and breaks."""
    work = tmp_path_factory.mktemp("compiled")
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NASTRANSFER_CACHE", str(work / "cache"))
        patch.setattr(gradient, "compile_net", DYNAMO_ONLY)
        result = run(splits, work / "search", compile=True)
    counters = torch._dynamo.utils.counters
    counts = {"graphs": counters["stats"]["unique_graphs"], "breaks": sum(counters["graph_break"].values())}
    torch._dynamo.reset()
    return result, work / "search", counts


def same_search(a, b) -> None:
    assert str(a.genotype) == str(b.genotype)
    for key in ("train_loss", "val_loss", "arch_distribution"):
        assert [r[key] for r in a.history] == [r[key] for r in b.history], key


def test_compiled_search_equals_eager_with_one_graph_per_step_kind(splits, tmp_path, compiled_search):
    compiled, _, counts = compiled_search
    eager = run(splits, tmp_path / "eager", compile=False)
    assert (eager.extra["compiled"], compiled.extra["compiled"]) == (False, True)
    same_search(eager, compiled)
    # the weight step (architecture frozen) and the architecture step (weights frozen), no break
    assert counts == {"graphs": 2, "breaks": 0}


def test_auto_never_measures_a_short_search(splits, tmp_path, monkeypatch):
    monkeypatch.setattr(search_speed, "pair_times", lambda *a, **k: pytest.fail("measured a short search"))
    assert run(splits, tmp_path / "w").extra["compiled"] is False


def fake_pair_times(eager_s: float, compile_s: float, compiled_s: float, calls: list[bool]):
    def fake(searcher, run_state, shape, device, compiled):
        calls.append(compiled)
        if compiled:
            return [compiled_s + compile_s, compiled_s] + [compiled_s] * speed_cache.TIMED_STEPS
        return [eager_s] * (speed_cache.WARMUP_STEPS + speed_cache.TIMED_STEPS)

    return fake


@pytest.mark.parametrize(
    ("eager_s", "compile_s", "compiled_s", "measured", "compiles"),
    [
        (1e-3, 60.0, 5e-4, [False], False),  # the prior says it cannot repay: compile not measured
        (1e4, 60.0, 1e4 - 0.01, [False, True], False),  # measured: repays only after 6,000 pairs
        (1e4, 60.0, 5e3, [False, True], True),  # measured: repaid within the first pair
    ],
)
def test_auto_compiles_where_the_measured_compile_repays(
    splits, tmp_path, monkeypatch, eager_s, compile_s, compiled_s, measured, compiles
):
    monkeypatch.setattr(gradient, "compile_net", lambda net: net)  # the choice, not the compile
    monkeypatch.setattr(search_speed, "MEASURE_MIN_STEPS", 1)
    calls: list[bool] = []
    monkeypatch.setattr(search_speed, "pair_times", fake_pair_times(eager_s, compile_s, compiled_s, calls))
    assert run(splits, tmp_path / "w").extra["compiled"] is compiles
    assert calls == measured
    # the measurement is cached per machine and network: a rerun measures nothing and chooses the same
    assert run(splits, tmp_path / "again").extra["compiled"] is compiles
    assert calls == measured


def test_pair_times_runs_the_methods_own_steps_and_leaves_the_run_alone(splits, tmp_path, monkeypatch):
    monkeypatch.setattr(search_speed, "MEASURE_MIN_STEPS", 1)
    monkeypatch.setattr(compiling, "may_repay_compile", lambda *a: False)  # time eager steps only
    plain = run(splits, tmp_path / "plain")
    monkeypatch.setenv("NASTRANSFER_CACHE", str(tmp_path / "cold"))
    measured = run(splits, tmp_path / "measured")  # times 7 eager batch pairs first
    same_search(plain, measured)
    entry = next(iter((tmp_path / "cold" / "speed.json").read_text().splitlines()[1:2]))
    assert "|search pcdarts order 1|arch steps True" in entry


def test_a_resumed_search_keeps_the_compile_choice_of_its_run(
    splits, tmp_path, monkeypatch, compiled_search
):
    straight, workdir, _ = compiled_search
    work = shutil.copytree(workdir, tmp_path / "w")
    (work / "epoch-000001.pt").unlink()  # as if killed during the last epoch
    monkeypatch.setattr(gradient, "compile_net", DYNAMO_ONLY)
    resumed = run(splits, work)  # auto would stay eager on a search this short
    assert resumed.extra["compiled"] is True
    same_search(straight, resumed)


@pytest.mark.parametrize("method", ["gdas", "pdarts"])
def test_methods_whose_graph_changes_never_compile(method, splits, tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="compile = true would compile a new graph"):
        search.get(method, compile=True)
    monkeypatch.setattr(search_speed, "MEASURE_MIN_STEPS", 1)
    monkeypatch.setattr(search_speed, "pair_times", lambda *a, **k: pytest.fail("measured"))
    space, budget = ("darts", BUDGET.replace(layers=3)) if method == "pdarts" else ("nb201", BUDGET)
    result = search.get(method).search(space, splits, budget, 0, tmp_path)
    assert result.extra["compiled"] is False


@pytest.mark.parametrize("setting", ["yes", "true", 1, 0, None])
def test_a_bad_compile_setting_is_one_clear_error(setting):
    with pytest.raises(ConfigError, match=r'compile: darts takes "auto", true or false \(.*\), got '):
        search.get("darts", compile=setting)


def test_what_choosing_costs_is_part_of_the_search_cost(splits, tmp_path, monkeypatch):
    plain = run(splits, tmp_path / "plain").cost.device_s

    def costly_choice(*args):
        start = time.process_time()
        while time.process_time() - start < 2.0:  # a measurement's CPU time
            pass
        return False

    monkeypatch.setattr(gradient, "search_compiles", costly_choice)
    assert run(splits, tmp_path / "costly").cost.device_s - plain > 1.5


def test_the_prior_prices_a_supernet_compile_by_its_edges_and_graphs(splits, tmp_path, monkeypatch):
    """A supernet compiles for far longer than an evaluation network (bench_compile): the decision
    to measure assumes 20 CPU-s per edge and graph, here 18 edges x 2 graphs, not 7 minutes."""
    asked = []

    def spy(steps, step_s, device, compile_s=None):
        asked.append(compile_s)
        return False

    monkeypatch.setattr(search_speed, "MEASURE_MIN_STEPS", 1)
    monkeypatch.setattr(search_speed, "pair_times", fake_pair_times(1.0, 0.0, 1.0, []))
    monkeypatch.setattr(compiling, "may_repay_compile", spy)
    assert run(splits, tmp_path / "w").extra["compiled"] is False
    assert asked == [720.0]
