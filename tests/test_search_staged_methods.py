"""The slower methods end to end on a real Fashion-MNIST proxy: second-order DARTS and P-DARTS."""

from __future__ import annotations

import pytest

from nastransfer import search
from nastransfer.data import load_dataset, make_proxy, paper_splits
from nastransfer.search import Budget
from nastransfer.spaces import darts, nb201


@pytest.fixture(scope="module")
def splits():
    """120 Fashion-MNIST images (12 per class): 48 train, 48 val, 24 test."""
    return paper_splits(make_proxy(load_dataset("fashion-mnist"), per_class=12, seed=0))


def tiny(method: str, **changes) -> Budget:
    sizes = {"epochs": 1, "channels": 4, "layers": 3, "batch_size": 16, "image_size": 8, "warmup_epochs": 0}
    return search.published_budget(method).replace(**{**sizes, **changes})


def test_second_order_darts_runs_and_sharpens(splits, tmp_path):
    budget = tiny("darts2")
    result = search.get("darts2", arch_lr=0.05).search("darts", splits, budget, seed=0, workdir=tmp_path)
    assert isinstance(result.genotype, darts.Genotype)
    assert result.history[-1]["entropy"] < result.extra["initial_entropy"]


def test_pdarts_prunes_ops_grows_depth_and_caps_skips(splits, tmp_path):
    budget = tiny("pdarts")
    result = search.get("pdarts", arch_lr=0.05).search("darts", splits, budget, seed=0, workdir=tmp_path)
    stages = result.extra["stages"]
    assert [s["layers"] for s in stages] == [3, 7, 10]
    assert [s["keep"] for s in stages] == [8, 5, 3]
    assert [r["kept_ops"] for r in result.history] == [8, 5, 3]
    assert [r["layers"] for r in result.history] == [3, 7, 10]
    assert sum(op == "skip_connect" for op, _ in result.genotype.normal) <= 2
    # pruning and training both sharpen: the last stage's distribution is far below uniform
    assert result.history[-1]["entropy"] < result.extra["initial_entropy"] - 0.5


@pytest.mark.parametrize("method", ["darts2", "pdarts", "rsws"])
def test_method_runs_in_the_nb201_space(method, splits, tmp_path):
    budget = tiny(method, layers=1, n_samples=3)
    result = search.get(method).search("nb201", splits, budget, seed=0, workdir=tmp_path)
    assert isinstance(result.genotype, nb201.Arch)
    assert nb201.Arch.parse(str(result.genotype)) == result.genotype
