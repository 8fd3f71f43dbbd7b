"""Every method end to end on a real Fashion-MNIST proxy at a tiny budget: a valid cell, a recorded
budget and history, and (for the gradient methods) an architecture distribution that sharpens."""

from __future__ import annotations

import math

import pytest

from nastransfer import search
from nastransfer.data import load_dataset, make_proxy, paper_splits
from nastransfer.errors import CheckpointError
from nastransfer.search import Budget
from nastransfer.search.rsws import sample_paths
from nastransfer.spaces import darts, get_space, nb201


@pytest.fixture(scope="module")
def splits():
    """120 Fashion-MNIST images (12 per class): 48 train, 48 val, 24 test."""
    return paper_splits(make_proxy(load_dataset("fashion-mnist"), per_class=12, seed=0))


def tiny(method: str, space: str, **changes) -> Budget:
    layers = 3 if space == "darts" else 1
    sizes = {
        "epochs": 2,
        "channels": 4,
        "layers": layers,
        "batch_size": 16,
        "image_size": 8,
        "warmup_epochs": 0,
    }
    return search.published_budget(method).replace(**{**sizes, **changes})


def check_history(result, budget: Budget, epochs: int) -> None:
    assert result.budget == budget
    assert len(result.history) == epochs
    for record in result.history:
        for key in (
            "train_loss",
            "train_acc",
            "entropy",
            "genotype",
            "arch_distribution",
            "val_loss",
            "val_acc",
        ):
            assert key in record, key
        assert math.isfinite(record["train_loss"])
    assert result.cost.wall_s > 0 and result.cost.device_s >= 0


@pytest.mark.parametrize(
    ("method", "space"),
    [
        ("darts", "darts"),
        ("pcdarts", "darts"),
        ("gdas", "darts"),
        ("darts", "nb201"),
        ("gdas", "nb201"),
        ("pcdarts", "nb201"),
    ],
)
def test_gradient_method_finds_a_cell_and_sharpens(method, space, splits, tmp_path):
    budget = tiny(method, space)
    result = search.get(method, arch_lr=0.05).search(space, splits, budget, seed=0, workdir=tmp_path)
    cell_type = darts.Genotype if space == "darts" else nb201.Arch
    assert isinstance(result.genotype, cell_type)
    assert result.history[-1]["genotype"] == str(result.genotype)
    check_history(result, budget, 2)
    entropies = [result.extra["initial_entropy"]] + [r["entropy"] for r in result.history]
    assert entropies[-1] < entropies[0] - 1e-3, entropies
    if method == "gdas":
        assert [r["tau"] for r in result.history] == [10.0, 0.1]
    if space == "nb201":
        assert nb201.Arch.parse(str(result.genotype)) == result.genotype


def test_rsws_trains_shared_weights_and_returns_the_best_scored_cell(splits, tmp_path):
    budget = tiny("rsws", "darts", n_samples=4)
    result = search.get("rsws").search("darts", splits, budget, seed=0, workdir=tmp_path)
    scores, rescored = result.extra["scores"], result.extra["rescored"]
    assert len(scores) == len(rescored) == 4  # fewer than 10 candidates: all are scored again
    best = max(rescored, key=lambda s: s["val_acc"])
    assert best["genotype"] == str(result.genotype)
    assert [s["val_acc"] for s in scores] == sorted((s["val_acc"] for s in scores), reverse=True)
    assert {str(c) for c in sample_paths("darts", 4, 0)} == {s["genotype"] for s in scores}
    # nothing sharpens (no architecture parameters): entropy stays uniform; probes are recorded
    assert all(abs(r["entropy"] - math.log(8)) < 1e-3 for r in result.history)
    assert all(0.0 <= r["probe_val_acc"] <= 100.0 for r in result.history)


@pytest.mark.parametrize("space", ["darts", "nb201"])
def test_random_baseline_returns_the_seeded_sample(space, splits, tmp_path):
    budget = tiny("random", space)
    first = search.get("random").search(space, splits, budget, seed=3, workdir=tmp_path)
    again = search.get("random").search(space, splits, budget, seed=3, workdir=tmp_path)
    other = search.get("random").search(space, splits, budget, seed=4, workdir=tmp_path)
    assert first.genotype == again.genotype != other.genotype
    cells = search.sample_cells(space, 5, seed=0)
    assert cells == search.sample_cells(space, 5, seed=0) and len({str(c) for c in cells}) == 5


@pytest.mark.parametrize("space", ["darts", "nb201"])
def test_random_method_draws_apart_from_the_random_baseline(space, splits, tmp_path):
    """The study's baseline trains `space.sample(k)`, k = 0, 1, ...; the method must not return them."""
    budget = tiny("random", space)
    method = {
        str(search.get("random").search(space, splits, budget, seed=s, workdir=tmp_path / str(s)).genotype)
        for s in range(5)
    }
    baseline = {str(get_space(space).sample(k)) for k in range(5)}
    assert len(method) == 5 and not method & baseline


def test_a_workdir_of_another_search_is_refused_and_a_finished_one_is_reused(splits, tmp_path):
    budget = tiny("gdas", "nb201", epochs=1)
    first = search.get("gdas").search("nb201", splits, budget, seed=0, workdir=tmp_path)
    again = search.get("gdas").search("nb201", splits, budget, seed=0, workdir=tmp_path)
    assert again.genotype == first.genotype and again.history == first.history
    with pytest.raises(CheckpointError, match="different search"):
        search.get("gdas").search("nb201", splits, budget, seed=1, workdir=tmp_path)
