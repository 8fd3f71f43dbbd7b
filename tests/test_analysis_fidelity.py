"""Proxy fidelity: statistics against SciPy, the count-based bootstrap Kendall, Pareto front, paired
bootstrap and the recommendation sentence."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau, spearmanr

from nastransfer.analysis.agreement import kendall_tau_b, resample_index
from nastransfer.analysis.fidelity import (
    ProxyScores,
    fidelity,
    fidelity_table,
    json_records,
    kendall_resamples,
    paired_difference,
    pareto_front,
    recommendation,
    resample_counts,
    top_k,
)


def scores(n=200, noise=0.5, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    target = rng.normal(size=n)
    proxy = target + noise * rng.normal(size=n)
    if ties:
        proxy = np.round(proxy)
    return proxy, target


@pytest.mark.parametrize("ties", [False, True])
def test_point_estimates_match_scipy_and_bootstrap_kendall_matches_the_direct_one(ties):
    x, y = scores(ties=ties)
    stats = fidelity(x, y, n_boot=50, seed=1)
    assert stats["kendall"].value == pytest.approx(kendalltau(x, y).statistic)
    assert stats["spearman"].value == pytest.approx(spearmanr(x, y).statistic)
    assert stats["kendall"].low < stats["kendall"].value < stats["kendall"].high
    index = resample_index(len(x), 30, 2)
    direct = kendall_tau_b(x[index], y[index])
    np.testing.assert_allclose(kendall_resamples(x, y, resample_counts(index, len(x))), direct, atol=1e-12)


def test_top_k_is_five_and_ten_percent_and_perfect_proxy_overlaps_fully():
    assert (top_k(1000, 0.05), top_k(1000, 0.10), top_k(7, 0.05)) == (50, 100, 1)
    x, y = scores(n=100, noise=0.0)
    stats = fidelity(x, y, n_boot=20)
    assert stats["top5"].value == stats["top10"].value == 1.0
    assert (stats["top5"].note, stats["top10"].note) == ("k=5", "k=10")


def test_same_seed_same_intervals_and_nan_cells_are_dropped():
    x, y = scores()
    x[:10] = np.nan
    a, b = fidelity(x, y, n_boot=40, seed=3), fidelity(x, y, n_boot=40, seed=3)
    assert a == b and a["kendall"].n == 190
    few = fidelity([1.0, 2.0], [2.0, 1.0])
    assert math.isnan(few["kendall"].value) and "need at least 3" in few["kendall"].note
    flat = fidelity(np.ones(10), np.arange(10.0), n_boot=10)
    assert not flat["kendall"].ok


def test_paired_difference_separates_a_good_from_a_bad_proxy():
    good, target = scores(noise=0.1)
    bad = target + 3.0 * np.random.default_rng(9).normal(size=len(target))
    diff = paired_difference(good, bad, target, n_boot=200)
    assert diff.low > 0
    same = paired_difference(good, good, target, n_boot=50)
    assert same.value == same.low == same.high == 0.0


def test_pareto_front():
    cost = np.array([1.0, 2.0, 3.0, 1.0, 5.0])
    tau = np.array([0.3, 0.5, 0.4, 0.2, np.nan])
    assert pareto_front(cost, tau).tolist() == [True, True, False, False, False]


def test_table_recommends_the_cheapest_proxy_not_significantly_below_the_best():
    _, target = scores(n=150, noise=0.0)
    cells = [f"c{i}" for i in range(150)]
    rng = np.random.default_rng(4)
    t = pd.Series(target, index=cells)

    def noisy(level):
        return pd.Series(target + level * rng.normal(size=150), index=cells)

    proxies = [
        ProxyScores("good", "", noisy(0.3), cost_s=150.0),
        ProxyScores("near", "mnist", noisy(0.32), cost_s=15.0),
        ProxyScores("noise", "", pd.Series(rng.normal(size=150), index=cells), cost_s=1.5),
    ]
    table = fidelity_table(proxies, t, n_boot=100)
    assert table["label"].tolist() == ["good", "near on mnist", "noise"]
    assert table["cost_per_cell_s"].tolist() == [1.0, 0.1, 0.01]
    assert table["cells"].tolist() == [150, 150, 150]
    sentence = recommendation(table, proxies, t, n_boot=100)
    assert sentence.startswith("Use near on mnist: Kendall tau")
    assert "not significantly below the best" in sentence
    records = json_records(table)
    assert set(records[0]) >= {"proxy", "source", "cells", "kendall", "kendall_ci", "spearman", "spearman_ci"}
    assert set(records[0]) >= {"topk_overlap", "cost_s"}
    assert set(records[0]["topk_overlap"]) == {"5%", "10%"}
    only_best = recommendation(table.iloc[:1], proxies[:1], t, n_boot=20)
    assert only_best.startswith("Use good: the best rank fidelity") and "also the cheapest" in only_best
    no_near = recommendation(table.iloc[[0, 2]], [proxies[0], proxies[2]], t, n_boot=50)
    assert no_near.startswith("Use good:") and "every cheaper proxy ranks significantly worse" in no_near
