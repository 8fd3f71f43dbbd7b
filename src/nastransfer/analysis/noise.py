"""The noise floor of each evaluation setting: how far two trainings of the same cells agree.

A ranking read from one setting is only as good as that setting's own ranking. Where a setting has
two or more training seeds, its cells' accuracies under each pair of seeds give a seed-to-seed Kendall
tau-b (1: every retraining ranks the cells alike), with a bootstrap interval over cells, and the
training noise (the standard deviation across seeds of one cell) is set beside the spread between
cells (the standard deviation of the cells' mean accuracies). A setting whose seed-to-seed tau is
below `NOISY_TAU` has every ranking statement on it flagged.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from nastransfer.analysis.agreement import MIN_POINTS, kendall_tau_b, percentile_interval, resample_index
from nastransfer.analysis.frame import Setting
from nastransfer.results_columns import EVAL_SEED, SETTING_COLUMNS

NOISY_TAU = 0.5

COLUMNS = [
    "eval_dataset",
    "eval_role",
    "protocol",
    "n_cells",
    "n_seeds",
    "seed_tau",
    "seed_tau_low",
    "seed_tau_high",
    "seed_std",
    "cell_std",
    "noise_share",
]


def _mean_pairwise_tau(wide: np.ndarray) -> np.ndarray:
    """Mean Kendall tau-b over every pair of seed columns, per leading resample: (B, cells, seeds) -> (B,)."""
    pairs = list(itertools.combinations(range(wide.shape[2]), 2))
    return np.mean([kendall_tau_b(wide[:, :, a], wide[:, :, b]) for a, b in pairs], axis=0)


def noise_floor(frame: pd.DataFrame, *, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """One row per setting trained under two or more seeds (see the module's docstring)."""
    rows = []
    trainings = frame.dropna(subset=["top1"]).drop_duplicates(["cell", *SETTING_COLUMNS, EVAL_SEED])
    for keys, group in trainings.groupby(list(SETTING_COLUMNS), sort=True):
        wide = group.pivot_table(index="cell", columns=EVAL_SEED, values="top1", aggfunc="mean").dropna()
        if wide.shape[1] < 2:
            continue
        values = wide.to_numpy(dtype=float)
        low = high = tau = math.nan
        if len(values) >= MIN_POINTS:
            tau = float(_mean_pairwise_tau(values[None])[0])
            if n_boot > 0 and not math.isnan(tau):
                resampled = values[resample_index(len(values), n_boot, seed)]
                low, high = percentile_interval(_mean_pairwise_tau(resampled))
        seed_std = float(np.sqrt(np.mean(values.var(axis=1, ddof=1)))) if len(values) else math.nan
        cell_std = float(values.mean(axis=1).std(ddof=1)) if len(values) > 1 else math.nan
        rows.append(
            dict(
                zip(SETTING_COLUMNS, keys, strict=True),
                n_cells=len(values),
                n_seeds=wide.shape[1],
                seed_tau=tau,
                seed_tau_low=low,
                seed_tau_high=high,
                seed_std=seed_std,
                cell_std=cell_std,
                noise_share=seed_std / cell_std if cell_std and not math.isnan(cell_std) else math.nan,
            )
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def noisy_settings(floor: pd.DataFrame) -> dict[Setting, float]:
    """The settings whose seed-to-seed tau is below `NOISY_TAU`, with that tau."""
    noisy = floor[floor["seed_tau"] < NOISY_TAU]
    return {Setting(r.eval_dataset, r.protocol): float(r.seed_tau) for r in noisy.itertuples(index=False)}


def readings(floor: pd.DataFrame) -> list[str]:
    """One sentence per measured setting."""
    out = []
    for row in floor.itertuples(index=False):
        setting = Setting(row.eval_dataset, row.protocol)
        if math.isnan(row.seed_tau):
            out.append(f"{setting}: {row.n_cells} cell(s) under {row.n_seeds} seeds, too few for a seed tau.")
            continue
        low, high = row.seed_tau_low, row.seed_tau_high
        interval = "" if math.isnan(low) else f" [{low:.2f}, {high:.2f}]"
        verdict = (
            f"below {NOISY_TAU}: rankings on it are flagged"
            if row.seed_tau < NOISY_TAU
            else "rankings on it are above the noise floor"
        )
        out.append(
            f"{setting}: two trainings of the same {row.n_cells} cells rank them with Kendall tau "
            f"{row.seed_tau:.2f}{interval}; training noise {row.seed_std:.2f} points against a spread of "
            f"{row.cell_std:.2f} between cells; {verdict}."
        )
    return out
