"""Agreement statistics against SciPy (ties included), bootstrap reproducibility, too-few-points handling."""

import math

import numpy as np
import pytest
from scipy import stats

from nastransfer.analysis import (
    Setting,
    agreement,
    agreement_table,
    check_frame,
    compare_settings,
    kendall_tau_b,
    pearson_r,
    spearman_rho,
    top_k_overlap,
)
from test_analysis_frames import study_frame


def _tied_pair(seed: int, n: int = 25):
    """Accuracies rounded to whole points, so both settings carry many ties."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(94, 1.5, n))
    y = np.round(0.6 * x + rng.normal(30, 1.0, n))
    return x, y


@pytest.mark.parametrize("seed", range(6))
def test_point_estimates_match_scipy_with_ties(seed):
    x, y = _tied_pair(seed)
    assert len(np.unique(x)) < len(x) and len(np.unique(y)) < len(y)
    est = agreement(x, y, n_boot=0)
    assert est["kendall_tau_b"].value == pytest.approx(
        stats.kendalltau(x, y, variant="b").statistic, abs=1e-12
    )
    assert est["spearman_rho"].value == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert est["pearson_r"].value == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)


def test_batched_rows_match_scipy_row_by_row():
    rng = np.random.default_rng(7)
    x = np.round(rng.normal(0, 1, (40, 12)), 1)
    y = np.round(x + rng.normal(0, 1, (40, 12)), 1)
    tau, rho, r = kendall_tau_b(x, y), spearman_rho(x, y), pearson_r(x, y)
    for i in range(len(x)):
        assert tau[i] == pytest.approx(stats.kendalltau(x[i], y[i], variant="b").statistic, abs=1e-12)
        assert rho[i] == pytest.approx(stats.spearmanr(x[i], y[i]).statistic, abs=1e-12)
        assert r[i] == pytest.approx(stats.pearsonr(x[i], y[i]).statistic, abs=1e-12)


def test_top_k_overlap_by_hand():
    x = np.array([90.0, 80, 70, 60, 50, 40])
    y = np.array([50.0, 80, 70, 90, 60, 40])  # top-2 by x: cells 0, 1; by y: cells 3, 1
    assert top_k_overlap(x, y, 2)[0] == 0.5
    assert top_k_overlap(x, y, 3)[0] == pytest.approx(2 / 3)  # {0,1,2} vs {3,1,2}
    assert top_k_overlap(x, x, 4)[0] == 1.0
    est = agreement(x, y, top_k=2, n_boot=0)
    assert est["top_k_overlap"].value == 0.5 and est["top_k_overlap"].note == "k=2"


def test_intervals_are_reproducible_given_a_seed():
    x, y = _tied_pair(3, n=30)
    first, again = agreement(x, y, n_boot=400, seed=11), agreement(x, y, n_boot=400, seed=11)
    other = agreement(x, y, n_boot=400, seed=12)
    assert first == again
    assert any((first[m].low, first[m].high) != (other[m].low, other[m].high) for m in first)
    for est in first.values():
        assert est.low <= est.value <= est.high or est.value in (est.low, est.high)


def test_interval_covers_point_and_narrows_with_more_cells():
    rng = np.random.default_rng(0)
    small_x = rng.normal(size=15)
    big_x = rng.normal(size=200)
    small = agreement(small_x, small_x + rng.normal(size=15), n_boot=500)["pearson_r"]
    big = agreement(big_x, big_x + rng.normal(size=200), n_boot=500)["pearson_r"]
    assert small.low < small.value < small.high
    assert big.high - big.low < small.high - small.low


def test_too_few_points_and_constants_give_nan_with_a_reason():
    few = agreement([1.0, 2.0], [2.0, 3.0])
    assert all(math.isnan(e.value) for e in few.values())
    assert "2 common cell(s); need at least 3" in few["kendall_tau_b"].note
    with_nan = agreement([1.0, 2.0, math.nan, 4.0], [1.0, math.nan, 3.0, 4.0])
    assert with_nan["pearson_r"].n == 2 and not with_nan["pearson_r"].ok
    flat = agreement([5.0, 5.0, 5.0, 5.0], [1.0, 2.0, 3.0, 4.0], n_boot=50)
    assert (
        not flat["kendall_tau_b"].ok and flat["kendall_tau_b"].note == "no variation in one of the settings"
    )
    assert not flat["pearson_r"].ok and flat["pearson_r"].format() == "n/a"


def test_compare_settings_joins_cells_and_averages_training_seeds():
    frame = check_frame(study_frame(methods=("darts", "gdas"), sources=("cifar10",), n_random=0, protocols=1))
    src, tgt = Setting("cifar10", "darts-cifar"), Setting("imagenet", "darts-imagenet")
    est = compare_settings(frame, src, tgt, n_boot=0)
    scores = frame.groupby(["cell", "eval_dataset"])["top1"].mean().unstack()
    x, y = scores["cifar10"].to_numpy(), scores["imagenet"].to_numpy()
    assert est["kendall_tau_b"].n == 6
    assert est["kendall_tau_b"].value == pytest.approx(stats.kendalltau(x, y).statistic)
    assert est["spearman_rho"].value == pytest.approx(stats.spearmanr(x, y).statistic)


def test_agreement_table_pairs_sources_with_targets_and_protocols():
    frame = check_frame(study_frame(search_seeds=2, eval_seeds=1, n_random=3))
    table = agreement_table(frame, n_boot=50)
    # 2 sources x 2 target protocols (matching source protocol), plus protocol pairs on 3 datasets.
    assert sorted(table["comparison"].value_counts().items()) == [
        ("protocol vs protocol", 3),
        ("proxy vs target", 2),
        ("source vs target", 2),
    ]
    on_imagenet = table[table["setting_a"] == "imagenet (darts-imagenet)"]
    assert on_imagenet["n_cells"].tolist() == [4 * 2 * 2 + 3]
    assert table["kendall_tau_b"].between(-1, 1).all()
