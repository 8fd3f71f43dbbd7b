"""Per-method statistics on small hand-made frames: mean/std over seeds, tied ranks, RI and percentiles by
hand, the sign-flip test against SciPy's exact permutation test, and tau between sources' rankings."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nastransfer.analysis import (
    Setting,
    check_frame,
    method_stats,
    paired_test_vs_random,
    percentile_in,
    rank_table,
    ranking_agreement,
    relative_improvement,
    sign_flip_test,
    versus_random,
)


def _row(
    method, source, search_seed, cell, top1, eval_seed=0, dataset="imagenet", role="target", protocol="p"
):
    return {
        "cell": cell,
        "method": method,
        "source": source,
        "source_kind": "dataset" if source else "",
        "search_seed": search_seed,
        "eval_dataset": dataset,
        "eval_role": role,
        "protocol": protocol,
        "eval_seed": eval_seed,
        "top1": top1,
    }


def small_frame() -> pd.DataFrame:
    """Random cells at 70, 72, 74, 76 (mean 73); darts: cell d0 trained twice (74, 76 -> 75) and d1 at 77
    (mean 76); gdas and pc-darts tie at a mean of 73."""
    rows = [_row("random", "", i, f"r{i}", v) for i, v in enumerate([70.0, 72.0, 74.0, 76.0])]
    rows += [_row("darts", "cifar10", 0, "d0", 74.0, 0), _row("darts", "cifar10", 0, "d0", 76.0, 1)]
    rows += [_row("darts", "cifar10", 1, "d1", 77.0)]
    rows += [_row("gdas", "cifar10", 0, "g0", 72.0), _row("gdas", "cifar10", 1, "g1", 74.0)]
    rows += [_row("pc-darts", "cifar10", 0, "p0", 73.0)]
    return check_frame(pd.DataFrame(rows))


def test_mean_std_over_search_seeds_and_tied_ranks():
    stats_ = method_stats(small_frame()).set_index("method")
    assert stats_.loc["darts", "mean"] == pytest.approx(76.0)
    assert stats_.loc["darts", "std"] == pytest.approx(np.std([75.0, 77.0], ddof=1))
    assert stats_.loc["darts", "n_seeds"] == 2
    assert math.isnan(stats_.loc["pc-darts", "std"])  # one seed
    assert stats_.loc["darts", "rank"] == 1.0
    assert stats_.loc["gdas", "rank"] == stats_.loc["pc-darts", "rank"] == 2.5
    assert math.isnan(stats_.loc["random", "rank"])


def test_relative_improvement_and_percentiles_by_hand():
    vs = versus_random(small_frame(), n_boot=300, seed=1).set_index("method")
    assert vs.loc["darts", "random_mean"] == 73.0
    assert vs.loc["darts", "ri"] == pytest.approx(100 * (76 - 73) / 73)
    assert vs.loc["gdas", "ri"] == pytest.approx(0.0)
    assert vs.loc["darts", "percentile"] == pytest.approx(100 * 3.5 / 4)  # 76: three below, one equal
    assert vs.loc["darts", "cell_percentile"] == pytest.approx((75.0 + 100.0) / 2)  # cells at 75 and 77
    low, high = vs.loc["darts", "ri_low"], vs.loc["darts", "ri_high"]
    assert low < vs.loc["darts", "ri"] < high
    again = versus_random(small_frame(), n_boot=300, seed=1).set_index("method")
    assert (again.loc["darts", "ri_low"], again.loc["darts", "ri_high"]) == (low, high)


def test_relative_improvement_without_enough_random_cells():
    ri, low, high = relative_improvement(np.array([75.0]), np.array([70.0]))
    assert ri == pytest.approx(100 * 5 / 70) and math.isnan(low) and math.isnan(high)
    assert all(math.isnan(v) for v in relative_improvement(np.array([75.0]), np.array([])))


def test_percentile_in_counts_ties_as_half():
    assert percentile_in(74.0, np.array([70.0, 74.0, 74.0, 80.0])) == 50.0
    assert percentile_in(90.0, np.array([70.0, 80.0])) == 100.0
    assert math.isnan(percentile_in(1.0, np.array([])))


@pytest.mark.parametrize(
    "differences", [[0.5, -0.2, 0.3, 0.4], [1.0, 2.0, -0.5, 0.7, 0.9, 1.1, -0.1], [0.3] * 5]
)
def test_sign_flip_test_equals_scipy_exact_permutation_test(differences):
    d = np.array(differences)
    expected = stats.permutation_test(
        (d,), np.mean, permutation_type="samples", n_resamples=np.inf, alternative="two-sided"
    ).pvalue
    assert sign_flip_test(d) == pytest.approx(expected)


def test_sign_flip_monte_carlo_is_seeded_and_close_to_exact():
    d = np.random.default_rng(0).normal(0.3, 1.0, 17)  # one past the exact limit
    exact = stats.permutation_test(
        (d,), np.mean, permutation_type="samples", n_resamples=2**17, alternative="two-sided"
    ).pvalue
    assert sign_flip_test(d, seed=3) == sign_flip_test(d, seed=3)
    assert sign_flip_test(d, seed=3) == pytest.approx(exact, abs=0.02)


def test_paired_test_says_when_pairs_are_too_few():
    tests = paired_test_vs_random(versus_random(small_frame(), n_boot=0)).set_index("method")
    assert tests.loc["darts", "n_pairs"] == 1 and math.isnan(tests.loc["darts", "p_value"])
    assert tests.loc["darts", "note"] == "1 pair(s): too few for a test"


def test_paired_test_over_settings():
    rows = []
    for t, offset in enumerate([0.0, 1.0, 2.0, 3.0, 4.0, 5.0]):
        target = f"target{t}"
        rows += [_row("random", "", i, f"r{i}", 70 + offset + i, dataset=target) for i in range(3)]
        rows += [_row("darts", "cifar10", 0, "d0", 72.5 + offset, dataset=target)]  # +1.5 over random mean
    tests = paired_test_vs_random(versus_random(check_frame(pd.DataFrame(rows)), n_boot=0)).set_index(
        "method"
    )
    assert tests.loc["darts", "n_pairs"] == 6 and tests.loc["darts", "wins"] == 6
    assert tests.loc["darts", "mean_difference"] == pytest.approx(1.5)
    assert tests.loc["darts", "p_value"] == pytest.approx(2 / 2**6)
    assert tests.loc["darts", "note"] == ""


def test_kendall_tau_between_sources_rankings():
    means = {"cifar10": [74.0, 75.0, 73.0, 76.0], "proxy": [75.5, 74.2, 73.1, 76.3]}
    rows = [
        _row(m, s, 0, f"{m}-{s}", v)
        for s, vals in means.items()
        for m, v in zip(["darts", "gdas", "pc-darts", "p-darts"], vals, strict=True)
    ]
    taus = ranking_agreement(method_stats(check_frame(pd.DataFrame(rows))))
    assert taus[["source_a", "source_b", "n_methods"]].values.tolist() == [["cifar10", "proxy", 4]]
    assert taus["kendall_tau_b"].iloc[0] == pytest.approx(stats.kendalltau(*means.values()).statistic)
    ranks = rank_table(method_stats(check_frame(pd.DataFrame(rows))), Setting("imagenet", "p"))
    assert ranks.columns.tolist() == ["method", "cifar10", "proxy"]
    assert ranks.set_index("method").loc["p-darts"].tolist() == [1.0, 1.0]
    assert ranks.set_index("method").loc["darts"].tolist() == [3.0, 2.0]
