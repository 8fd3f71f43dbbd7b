"""Per-method statistics: mean and spread over search seeds per setting, method ranks, agreement between
the rankings different sources give, improvement over the random baseline, and a paired test against it.

A *method group* is a method searched on one source (the random baseline is `("random", "")`); its score
in a setting is one number per search seed: that seed's cell averaged over training seeds.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from nastransfer.analysis.agreement import MIN_POINTS, kendall_tau_b
from nastransfer.analysis.frame import RANDOM, TARGET_ROLE, Setting, cell_scores
from nastransfer.results_columns import SETTING_COLUMNS

GROUP = ["method", "source", "source_kind"]
SETTING = list(SETTING_COLUMNS)
MIN_PAIRS = 2
# With n pairs the smallest two-sided sign-flip p-value is 2 / 2**n: below 5 pairs it cannot reach 0.05.
MIN_PAIRS_FOR_5_PERCENT = 5
_EXACT_UP_TO = 16


def method_stats(frame: pd.DataFrame, metric: str = "top1") -> pd.DataFrame:
    """Mean, std (over search seeds, NaN with one seed) and seed count per method group and setting,
    with the rank of the searched methods within each (source, setting): 1 is best, ties share the mean rank.
    """
    scores = cell_scores(frame, metric)
    stats = (
        scores.groupby(GROUP + SETTING, sort=True)[metric]
        .agg(mean="mean", std="std", n_seeds="count")
        .reset_index()
    )
    searched = stats["method"] != RANDOM
    ranks = stats[searched].groupby(["source"] + SETTING)["mean"].rank(ascending=False, method="average")
    stats["rank"] = ranks.reindex(stats.index)
    return stats


def _random_scores(scores: pd.DataFrame, setting: Setting, metric: str) -> np.ndarray:
    rows = scores[
        (scores["method"] == RANDOM)
        & (scores["eval_dataset"] == setting.eval_dataset)
        & (scores["protocol"] == setting.protocol)
    ]
    return rows[metric].to_numpy(dtype=float)


def percentile_in(value: float, distribution: np.ndarray) -> float:
    """Percentile rank of `value` in `distribution`: share below, plus half the share equal, in percent."""
    if len(distribution) == 0 or math.isnan(value):
        return math.nan
    below = np.sum(distribution < value) + 0.5 * np.sum(distribution == value)
    return float(100.0 * below / len(distribution))


def relative_improvement(
    method: np.ndarray, random: np.ndarray, *, n_boot: int = 1000, seed: int = 0, confidence: float = 0.95
) -> tuple[float, float, float]:
    """RI = 100 * (mean(method) - mean(random)) / mean(random), with a two-sample percentile bootstrap
    interval (method seeds and random cells resampled independently). NaN interval with fewer than 2 random
    cells; with one method seed the interval reflects only the baseline's uncertainty.
    """
    method, random = np.asarray(method, dtype=float), np.asarray(random, dtype=float)
    if len(method) == 0 or len(random) == 0:
        return math.nan, math.nan, math.nan
    base = random.mean()
    point = float(100.0 * (method.mean() - base) / base)
    if len(random) < 2 or n_boot <= 0:
        return point, math.nan, math.nan
    rng = np.random.default_rng(seed)
    m = method[rng.integers(0, len(method), size=(n_boot, len(method)))].mean(axis=1)
    r = random[rng.integers(0, len(random), size=(n_boot, len(random)))].mean(axis=1)
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(100.0 * (m - r) / r, [tail, 100 - tail])
    return point, float(low), float(high)


def versus_random(
    frame: pd.DataFrame, *, n_boot: int = 1000, seed: int = 0, metric: str = "top1"
) -> pd.DataFrame:
    """Per searched method group and setting: mean, the random mean, RI with its interval, and the
    percentile of the method's mean (and the mean percentile of its cells) among the random cells there.
    """
    scores = cell_scores(frame, metric)
    rows = []
    searched = scores[scores["method"] != RANDOM]
    for i, (key, group) in enumerate(searched.groupby(GROUP + SETTING, sort=True)):
        method, source, kind, dataset, role, protocol = key
        values = group[metric].to_numpy(dtype=float)
        random = _random_scores(scores, Setting(dataset, protocol), metric)
        ri, low, high = relative_improvement(values, random, n_boot=n_boot, seed=seed + i)
        note = (
            "no random cells in this setting"
            if len(random) == 0
            else ("one random cell: no interval" if len(random) == 1 else "")
        )
        rows.append(
            {
                "method": method,
                "source": source,
                "source_kind": kind,
                "eval_dataset": dataset,
                "eval_role": role,
                "protocol": protocol,
                "n_seeds": len(values),
                "mean": values.mean(),
                "random_mean": random.mean() if len(random) else math.nan,
                "n_random": len(random),
                "ri": ri,
                "ri_low": low,
                "ri_high": high,
                "percentile": percentile_in(values.mean(), random),
                "cell_percentile": float(np.mean([percentile_in(v, random) for v in values]))
                if len(random)
                else math.nan,
                "note": note,
            }
        )
    return pd.DataFrame(
        rows,
        columns=GROUP
        + SETTING
        + [
            "n_seeds",
            "mean",
            "random_mean",
            "n_random",
            "ri",
            "ri_low",
            "ri_high",
            "percentile",
            "cell_percentile",
            "note",
        ],
    )


def sign_flip_test(differences: np.ndarray, *, n_resamples: int = 20000, seed: int = 0) -> float:
    """Two-sided p-value of a paired sign-flip permutation test on the mean difference.

    Under the null that method and random are exchangeable within a pair, each difference is as likely
    positive as negative; the p-value is the share of sign assignments whose |mean| reaches the observed
    one. Exact (all 2**n assignments) up to 16 pairs, Monte Carlo with a seeded generator beyond.
    """
    d = np.asarray(differences, dtype=float)
    n = len(d)
    if n <= _EXACT_UP_TO:
        signs = 1 - 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)
    else:
        signs = np.random.default_rng(seed).choice([-1, 1], size=(n_resamples, n))
    null = np.abs((signs * d).mean(axis=1))
    observed = abs(d.mean())
    hits = np.sum(null >= observed - 1e-12 * max(1.0, observed))
    return float(hits / len(null)) if n <= _EXACT_UP_TO else float((hits + 1) / (len(null) + 1))


def paired_test_vs_random(vs_random: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """Per method: method mean minus random mean on every (source, target setting) it was evaluated in,
    tested with `sign_flip_test`.

    Why pairs of settings and a sign-flip test: a setting fixes the dataset and the protocol, so the
    difference removes how hard the setting is; the cells of a method and of the random baseline are
    otherwise unpaired. The sign-flip test assumes no distribution of the differences (there are often
    only a handful), and it is exact for few pairs, where a normal approximation is not.
    """
    targets = vs_random[(vs_random["eval_role"] == TARGET_ROLE) & vs_random["random_mean"].notna()]
    rows = []
    for method, group in targets.groupby("method", sort=True):
        d = (group["mean"] - group["random_mean"]).to_numpy(dtype=float)
        n = len(d)
        if n < MIN_PAIRS:
            p, note = math.nan, f"{n} pair(s): too few for a test"
        else:
            p = sign_flip_test(d, seed=seed)
            note = "" if n >= MIN_PAIRS_FOR_5_PERCENT else f"{n} pairs: p cannot fall below {2 / 2**n:.3g}"
        rows.append(
            {
                "method": method,
                "n_pairs": n,
                "mean_difference": float(d.mean()) if n else math.nan,
                "wins": int(np.sum(d > 0)),
                "p_value": p,
                "note": note,
            }
        )
    return pd.DataFrame(rows, columns=["method", "n_pairs", "mean_difference", "wins", "p_value", "note"])


def ranking_agreement(stats: pd.DataFrame) -> pd.DataFrame:
    """Kendall tau-b between the method rankings two sources give on the same target setting,
    over the methods both searched (NaN with fewer than 3)."""
    targets = stats[(stats["eval_role"] == TARGET_ROLE) & (stats["method"] != RANDOM)]
    rows = []
    for (dataset, protocol), group in targets.groupby(["eval_dataset", "protocol"], sort=True):
        by_source = {s: g.set_index("method")["mean"] for s, g in group.groupby("source", sort=True)}
        for a, b in itertools.combinations(sorted(by_source), 2):
            both = pd.concat({"a": by_source[a], "b": by_source[b]}, axis=1, join="inner").dropna()
            n = len(both)
            tau = (
                float(kendall_tau_b(both["a"].to_numpy(), both["b"].to_numpy())[0])
                if n >= MIN_POINTS
                else math.nan
            )
            note = "" if n >= MIN_POINTS else f"{n} common method(s); need at least {MIN_POINTS}"
            if n >= MIN_POINTS and math.isnan(tau):
                note = "all methods tied under one source"
            rows.append(
                {
                    "eval_dataset": dataset,
                    "protocol": protocol,
                    "source_a": a,
                    "source_b": b,
                    "n_methods": n,
                    "kendall_tau_b": tau,
                    "note": note,
                }
            )
    return pd.DataFrame(
        rows,
        columns=["eval_dataset", "protocol", "source_a", "source_b", "n_methods", "kendall_tau_b", "note"],
    )


def rank_table(stats: pd.DataFrame, setting: Setting) -> pd.DataFrame:
    """Methods x sources: the rank of each method when searched on that source, on one target setting."""
    rows = stats[
        (stats["eval_dataset"] == setting.eval_dataset)
        & (stats["protocol"] == setting.protocol)
        & (stats["method"] != RANDOM)
    ]
    table = rows.pivot_table(index="method", columns="source", values="rank", aggfunc="first").sort_index()
    table.columns.name = None
    return table.reset_index()
