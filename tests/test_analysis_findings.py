"""The noise floor (seed-to-seed tau, training noise against the spread between cells) and the four
verdicts, on frames small enough to check by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from nastransfer.analysis import findings, noise, proxy_design
from nastransfer.analysis.frame import cell_scores

BASE = {"genotype": "g", "space": "darts", "top5": 0.0, "params": 0, "flops": 0}


def _row(cell, method, source, kind, role, dataset, protocol, top1, eval_seed=0, search_seed=0):
    return {
        **BASE,
        "cell": cell,
        "method": method,
        "source": source,
        "source_kind": kind,
        "search_seed": search_seed,
        "eval_dataset": dataset,
        "eval_role": role,
        "protocol": protocol,
        "eval_seed": eval_seed,
        "top1": top1,
    }


def _seeded(values: list[list[float]]) -> pd.DataFrame:
    """Cells c0, c1, ... on one target setting, one column of accuracies per training seed."""
    return pd.DataFrame(
        [
            _row(f"c{i}", "m", "s", "dataset", "target", "t", "p", v, eval_seed=j)
            for i, row in enumerate(values)
            for j, v in enumerate(row)
        ]
    )


def test_noise_floor_by_hand():
    floor = noise.noise_floor(_seeded([[1, 2], [3, 3], [5, 7], [8, 9]]), n_boot=200)
    row = floor.iloc[0]
    assert row.n_cells == 4 and row.n_seeds == 2
    assert row.seed_tau == pytest.approx(1.0)
    # within-cell variances 0.5, 0, 2, 0.5 -> sqrt(mean) ; spread of the means 1.5, 3, 6, 8.5
    assert row.seed_std == pytest.approx(math.sqrt(0.75))
    assert row.cell_std == pytest.approx(np.std([1.5, 3, 6, 8.5], ddof=1))
    assert row.seed_tau_low <= row.seed_tau <= row.seed_tau_high


def test_reversed_seeds_are_noisy_and_flagged():
    frame = _seeded([[1, 4], [2, 3], [3, 2], [4, 1]])
    floor = noise.noise_floor(frame, n_boot=100)
    assert floor.iloc[0].seed_tau == pytest.approx(-1.0)
    assert set(noise.noisy_settings(floor)) == {("t", "p")}
    assert "flagged" in noise.readings(floor)[0]


def test_mean_pairwise_tau_over_three_seeds():
    values = np.array([[1, 1, 4], [2, 2, 3], [3, 3, 2], [4, 4, 1]], dtype=float)
    # pairs (0,1): 1, (0,2): -1, (1,2): -1
    assert noise._mean_pairwise_tau(values[None])[0] == pytest.approx(-1 / 3)


def test_one_seed_has_no_noise_floor():
    assert noise.noise_floor(_seeded([[1], [2], [3]])).empty


def test_mean_difference_and_its_interval():
    d = findings.mean_difference([3.0, 5.0, 7.0], [1.0, 2.0, 3.0], n_boot=500, seed=1)
    assert d.value == pytest.approx(3.0)
    assert d.low <= 3.0 <= d.high and d.excludes_zero
    same = findings.mean_difference([3.0, 5.0, 7.0], [1.0, 2.0, 3.0], n_boot=500, seed=1)
    assert same == d
    assert math.isnan(findings.mean_difference([1.0], [2.0], n_boot=100, seed=0).low)


def _sources_frame(proxy_shift: float, n: int = 30, noise_sd: float = 0.2) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        for kind, shift in (("dataset", 0.0), ("proxy", proxy_shift)):
            top1 = 70 + shift + rng.normal(0, noise_sd)
            rows.append(_row(f"{kind}{i}", "m", f"src-{kind}", kind, "target", "t", "p", top1, search_seed=i))
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("shift", "sd", "verdict"),
    [(0.0, 0.2, findings.AGREES), (2.0, 0.2, findings.DIFFERS), (0.0, 8.0, findings.CANNOT_TELL)],
)
def test_sources_verdicts(shift, sd, verdict):
    (answer,) = findings.sources_verdicts(cell_scores(_sources_frame(shift, noise_sd=sd)), n_boot=500, seed=0)
    assert answer.verdict == verdict
    assert answer.difference.value == pytest.approx(-shift, abs=3 * sd)
    assert answer.line().startswith(verdict)


def test_random_and_protocol_verdicts():
    rng = np.random.default_rng(1)
    rows = []
    for i in range(20):
        for role, dataset, gain in (("source", "small", 3.0), ("target", "large", 0.0)):
            for protocol, plus in (("base", 0.0), ("enhanced", gain)):
                top1 = 70 + plus + rng.normal(0, 0.1)
                where = (role, dataset, protocol)
                rows.append(_row(f"s{i}", "m", "small", "dataset", *where, top1, search_seed=i))
                rows.append(_row(f"r{i}", "random", "", "", *where, top1 - 3, search_seed=i))
    scores = cell_scores(pd.DataFrame(rows))
    random = findings.random_verdicts(scores, n_boot=300, seed=0)
    assert {v.verdict for v in random} == {findings.DIFFERS}  # searched cells 3 points better
    table = findings.methods_vs_random(pd.DataFrame(rows), n_boot=300)
    assert list(table["protocol"]) == ["base", "enhanced"] and set(table["method"]) == {"m"}
    assert (
        table["difference"].to_numpy() == pytest.approx([3.0, 3.0]) and (table["difference_low"] > 2.5).all()
    )
    (protocol,) = findings.protocol_verdicts(scores, n_boot=300, seed=0)
    assert protocol.verdict == findings.AGREES and protocol.difference.value == pytest.approx(3.0, abs=0.2)


def test_method_spread_difference_by_hand():
    # two methods, three seeds each: target means 70 and 74, source means 90 and 90.5
    pairs = pd.DataFrame(
        {
            "method": ["a"] * 3 + ["b"] * 3,
            "target": [69.0, 70.0, 71.0, 73.0, 74.0, 75.0],
            "source": [90.0, 90.0, 90.0, 90.5, 90.5, 90.5],
        }
    )
    d, on_target, on_source = findings.method_spread_difference(pairs, n_boot=400, seed=0)
    assert on_target == pytest.approx(4 / math.sqrt(2)) and on_source == pytest.approx(0.5 / math.sqrt(2))
    assert d.value == pytest.approx(3.5 / math.sqrt(2)) and d.low > 0


def test_spread_verdict_agrees_when_methods_part_only_on_the_target():
    rng = np.random.default_rng(2)
    rows = []
    for method, shift in (("a", 0.0), ("b", 5.0), ("c", 10.0)):
        for i in range(6):
            cell = f"{method}{i}"
            rows.append(
                _row(
                    cell,
                    method,
                    "src",
                    "dataset",
                    "target",
                    "t",
                    "p",
                    70 + shift + rng.normal(0, 1),
                    search_seed=i,
                )
            )
            rows.append(
                _row(
                    cell,
                    method,
                    "src",
                    "dataset",
                    "source",
                    "src",
                    "p",
                    90 + rng.normal(0, 0.3),
                    search_seed=i,
                )
            )
    (answer,) = findings.spread_verdicts(cell_scores(pd.DataFrame(rows)), n_boot=300, seed=0)
    assert answer.verdict == findings.AGREES and answer.difference.value == pytest.approx(5.0, abs=1.0)


def _design_cells(means: dict[tuple[str, str], list[float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"method": m, "source": s, "top1": v} for (m, s), values in means.items() for v in values]
    )


def test_design_interaction_f_is_the_balanced_two_way_anova():
    rng = np.random.default_rng(1)
    methods, designs, n = ["a", "b", "c"], ["p", "q"], 3
    y = rng.normal(size=(3, 2, n)) * 2 + np.array([[0, 5], [3, 1], [2, 2]])[:, :, None]
    cells = _design_cells(
        {(m, d): list(y[i, j]) for i, m in enumerate(methods) for j, d in enumerate(designs)}
    )
    effect = proxy_design.design_effect(cells, n_perm=200, n_boot=50, seed=0)
    cell_means = y.mean(axis=2)
    interaction = (
        cell_means - cell_means.mean(1, keepdims=True) - cell_means.mean(0, keepdims=True) + y.mean()
    )
    ss_interaction, ss_within = n * (interaction**2).sum(), ((y - cell_means[:, :, None]) ** 2).sum()
    expected = (ss_interaction / ((3 - 1) * (2 - 1))) / (ss_within / (3 * 2 * (n - 1)))
    assert effect.f == pytest.approx(expected, rel=1e-9)
    assert (effect.n_methods, effect.n_designs, effect.n_cells) == (3, 2, 18)


def _design_frame(means: dict[tuple[str, str], list[float]]) -> pd.DataFrame:
    """`_design_cells` as the results frame's target rows of cells searched on proxy sets."""
    return _design_cells(means).assign(
        cell=lambda f: [f"c{i}" for i in range(len(f))],
        source_kind="proxy",
        eval_role="target",
        eval_dataset="t",
        protocol="p",
        search_seed=0,
        eval_seed=0,
    )


def test_reversed_method_order_between_designs_agrees():
    order = {"a": 80.0, "b": 82.0, "c": 84.0, "d": 86.0}
    cells = {}
    for k, (m, v) in enumerate(order.items()):
        cells[(m, "p")] = [v, v + 0.1, v - 0.1]
        cells[(m, "q")] = [172.0 - v + 0.05 * k, 172.1 - v, 171.9 - v]
    effect = proxy_design.design_effect(_design_cells(cells), n_perm=500, n_boot=200, seed=0)
    assert effect.p < 0.01 and effect.tau == pytest.approx(-1.0)
    frame = _design_frame(cells)
    (verdict,) = findings.design_verdicts(frame, n_boot=200, seed=0)
    assert verdict.verdict == findings.AGREES and "points" not in verdict.line()


def test_a_design_that_shifts_every_method_alike_cannot_be_told_apart():
    rng = np.random.default_rng(3)
    base = {"a": 80.0, "b": 81.0, "c": 82.0}
    cells = {
        (m, d): list(v + shift + rng.normal(size=3))
        for m, v in base.items()
        for d, shift in (("p", 0), ("q", 5))
    }
    effect = proxy_design.design_effect(_design_cells(cells), n_perm=500, n_boot=200, seed=0)
    assert effect.p > 0.05
    assert effect.tau_low <= effect.tau <= effect.tau_high


def test_design_effect_needs_three_methods_with_two_cells_each():
    cells = {(m, d): [1.0, 2.0] for m in ("a", "b") for d in ("p", "q")}
    assert proxy_design.design_effect(_design_cells(cells), n_perm=10, n_boot=10, seed=0) is None
    cells.update({("c", "p"): [1.0, 2.0], ("c", "q"): [3.0]})  # c has one cell on q: dropped
    assert proxy_design.design_effect(_design_cells(cells), n_perm=10, n_boot=10, seed=0) is None


@pytest.mark.parametrize("small_gain, large_gain, verdict", [(-3.0, 0.0, "agrees"), (1.0, -3.0, "differs")])
def test_protocol_verdict_weighs_losses_as_much_as_gains(small_gain, large_gain, verdict):
    rng = np.random.default_rng(2)
    rows = [
        _row(f"s{i}", "m", "small", "dataset", role, dataset, protocol, 70 + plus + rng.normal(0, 0.1))
        for i in range(15)
        for role, dataset, gain in (("source", "small", small_gain), ("target", "large", large_gain))
        for protocol, plus in (("base", 0.0), ("enhanced", gain))
    ]
    (protocol,) = findings.protocol_verdicts(cell_scores(pd.DataFrame(rows)), n_boot=300, seed=0)
    assert protocol.verdict == verdict
    assert protocol.difference.value == pytest.approx(abs(small_gain) - abs(large_gain), abs=0.2)


def test_identical_cells_without_interaction_are_not_a_significant_reordering():
    cells = {
        (m, d): [v + shift] * 2
        for m, v in (("a", 1.0), ("b", 2.0), ("c", 3.0))
        for d, shift in (("p", 0), ("q", 5))
    }
    effect = proxy_design.design_effect(_design_cells(cells), n_perm=50, n_boot=20, seed=0)
    assert not effect.p < 0.05 and effect.tau == pytest.approx(1.0)  # 0/0 up to rounding: no evidence
    frame = _design_frame(cells)
    (verdict,) = findings.design_verdicts(frame, n_boot=50, seed=0)
    assert verdict.verdict == findings.CANNOT_TELL
