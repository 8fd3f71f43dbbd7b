"""Does the design of a proxy set change the ranking of methods, beyond what their search seeds vary?

The paper's finding (i) has a second half: proxy sets of one target cut in different ways (fewer
classes, fewer images, lower resolution) rank the NAS methods differently. Two proxy designs can rank
five methods differently by chance alone when each method has only a few search seeds, so a bare
Kendall tau between their rankings cannot tell. The test here is the two-way one: target accuracy of
each searched cell as method + design (additive) against method x design (the design changes the
methods' order). Its F statistic is judged by Freedman and Lane's permutation of the additive model's
residuals (exact enough for the few cells a study has; no normality assumed). The tau between the
designs' rankings, with a bootstrap interval over cells, is the effect size reported beside it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nastransfer.analysis.agreement import kendall_tau_b

MIN_METHODS = 3  # a ranking of fewer methods has at most one pair to swap
MIN_CELLS = 2  # per method and design: the within-group noise needs two


@dataclass(frozen=True)
class DesignEffect:
    """The interaction test and the designs' rank agreement on one target setting."""

    f: float
    p: float
    tau: float
    tau_low: float
    tau_high: float
    n_methods: int
    n_designs: int
    n_cells: int


def usable(cells: pd.DataFrame) -> pd.DataFrame:
    """The cells of methods that every design has at least `MIN_CELLS` of (columns method, source, top1)."""
    counts = cells.groupby(["method", "source"]).size().unstack(fill_value=0)
    keep = counts.index[(counts >= MIN_CELLS).all(axis=1)]
    return cells[cells["method"].isin(keep)]


def design_effect(cells: pd.DataFrame, *, n_perm: int, n_boot: int, seed: int) -> DesignEffect | None:
    """The method x design test on `cells` (one row per searched cell: method, source, top1), or None
    when fewer than two designs or `MIN_METHODS` methods have `MIN_CELLS` cells each."""
    cells = usable(cells)
    methods, designs = sorted(cells["method"].unique()), sorted(cells["source"].unique())
    if len(methods) < MIN_METHODS or len(designs) < 2:
        return None
    y = cells["top1"].to_numpy(float)
    m = pd.Categorical(cells["method"], categories=methods).codes
    d = pd.Categorical(cells["source"], categories=designs).codes
    group = m * len(designs) + d
    additive = _hat(np.column_stack([np.eye(len(methods))[m], np.eye(len(designs))[d][:, 1:]]))
    full = _hat(np.eye(len(methods) * len(designs))[group])
    df_full = len(y) - len(methods) * len(designs)
    df_interaction = (len(methods) - 1) * (len(designs) - 1)
    rng = np.random.default_rng(seed)
    fitted, residuals = additive @ y, y - additive @ y
    permuted = fitted + residuals[np.argsort(rng.random((n_perm, len(y))), axis=1)]
    f_obs = _f(y[None], additive, full, df_interaction, df_full)[0]
    f_perm = _f(permuted, additive, full, df_interaction, df_full)
    p = (1 + np.count_nonzero(f_perm >= f_obs - 1e-12)) / (1 + n_perm)
    tau, low, high = _rank_agreement(cells, methods, designs, n_boot=n_boot, rng=rng)
    return DesignEffect(float(f_obs), float(p), tau, low, high, len(methods), len(designs), len(y))


def _hat(x: np.ndarray) -> np.ndarray:
    """The projection onto the columns of `x`."""
    return x @ np.linalg.pinv(x)


def _f(
    ys: np.ndarray, additive: np.ndarray, full: np.ndarray, df_interaction: int, df_full: int
) -> np.ndarray:
    """The interaction's F for each row of `ys`: the additive model's extra residual over the full one's."""
    rss_additive = ((ys - ys @ additive.T) ** 2).sum(axis=1)
    rss_full = ((ys - ys @ full.T) ** 2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return ((rss_additive - rss_full) / df_interaction) / (rss_full / df_full)


def _rank_agreement(
    cells: pd.DataFrame, methods: list, designs: list, *, n_boot: int, rng: np.random.Generator
) -> tuple[float, float, float]:
    """Mean Kendall tau-b between every two designs' method rankings (by mean top-1), with a 95 %
    percentile-bootstrap interval (each method and design's cells resampled on their own)."""
    observed = np.empty((1, len(designs), len(methods)))
    boot = np.empty((n_boot, len(designs), len(methods)))
    for (i, design), (j, method) in itertools.product(enumerate(designs), enumerate(methods)):
        top1 = cells[(cells["source"] == design) & (cells["method"] == method)]["top1"].to_numpy(float)
        observed[0, i, j] = top1.mean()
        boot[:, i, j] = top1[rng.integers(0, len(top1), size=(n_boot, len(top1)))].mean(axis=1)

    def mean_tau(means: np.ndarray) -> np.ndarray:
        pairs = itertools.combinations(range(len(designs)), 2)
        return np.nanmean([kendall_tau_b(means[:, a], means[:, b]) for a, b in pairs], axis=0)

    low, high = np.nanpercentile(mean_tau(boot), [2.5, 97.5])
    return float(mean_tau(observed)[0]), float(low), float(high)
