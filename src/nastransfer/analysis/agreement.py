"""How far two evaluation settings agree on the same cells: rank and linear correlations and top-k overlap,
each with a percentile-bootstrap interval over cells.

The statistics are computed here on whole batches of bootstrap resamples at once (one row per resample),
so a thousand resamples cost one vectorised pass; the tests check every point estimate against SciPy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from nastransfer.analysis.frame import (
    TARGET_ROLE,
    Setting,
    cell_scores,
    in_setting,
    matched_sources,
    settings,
    source_kinds,
)

METRICS = ("kendall_tau_b", "spearman_rho", "pearson_r", "top_k_overlap")
MIN_POINTS = 3
TOP_FRACTION = 0.25
# Bound on the sign matrices held at once by the Kendall computation (elements, int8).
_SIGN_BUDGET = 4_000_000


@dataclass(frozen=True)
class Estimate:
    """A statistic with its bootstrap interval; NaN with a `note` saying why when it cannot be computed."""

    value: float
    low: float = math.nan
    high: float = math.nan
    n: int = 0
    note: str = ""

    @property
    def ok(self) -> bool:
        return not math.isnan(self.value)

    def format(self, digits: int = 2) -> str:
        """'0.42 [0.10, 0.71]', or 'n/a' when missing; the interval only when it exists."""
        if not self.ok:
            return "n/a"
        text = f"{self.value:.{digits}f}"
        if not (math.isnan(self.low) or math.isnan(self.high)):
            text += f" [{self.low:.{digits}f}, {self.high:.{digits}f}]"
        return text


def kendall_tau_b(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Kendall's tau-b of each row pair of (B, n) arrays: concordance corrected for ties in either one."""
    x, y = np.atleast_2d(x), np.atleast_2d(y)
    batch, n = x.shape
    out = np.empty(batch)
    step = max(1, _SIGN_BUDGET // max(1, n * n))
    for start in range(0, batch, step):
        xs, ys = x[start : start + step], y[start : start + step]
        sx = np.sign(xs[:, :, None] - xs[:, None, :]).astype(np.int8)
        sy = np.sign(ys[:, :, None] - ys[:, None, :]).astype(np.int8)
        concord = (sx * sy).sum(axis=(1, 2), dtype=np.int64)
        untied_x = np.abs(sx).sum(axis=(1, 2), dtype=np.int64)
        untied_y = np.abs(sy).sum(axis=(1, 2), dtype=np.int64)
        denom = np.sqrt(untied_x.astype(float) * untied_y.astype(float))
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start : start + step] = np.where(denom > 0, concord / denom, np.nan)
    return out


def pearson_r(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson's r of each row pair; NaN where either row is constant."""
    x, y = np.atleast_2d(x).astype(float), np.atleast_2d(y).astype(float)
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    constant = (np.ptp(x, axis=1) == 0) | (np.ptp(y, axis=1) == 0)
    denom = np.sqrt((xc * xc).sum(axis=1) * (yc * yc).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.clip((xc * yc).sum(axis=1) / denom, -1.0, 1.0)
    return np.where(constant, np.nan, r)


def spearman_rho(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman's rho of each row pair: Pearson's r of the average ranks (ties share their mean rank)."""
    x, y = np.atleast_2d(x), np.atleast_2d(y)
    return pearson_r(rankdata(x, axis=1), rankdata(y, axis=1))


def top_k_overlap(x: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """Fraction of the k best cells under x that are also among the k best under y.

    Ties at the k-th place are broken by cell order, the same way for x and y.
    """
    x, y = np.atleast_2d(x), np.atleast_2d(y)
    best_x = np.argsort(-x, axis=1, kind="stable")[:, :k]
    best_y = np.argsort(-y, axis=1, kind="stable")[:, :k]
    rows = np.arange(x.shape[0])[:, None]
    in_x = np.zeros(x.shape, dtype=bool)
    in_y = np.zeros(y.shape, dtype=bool)
    in_x[rows, best_x] = True
    in_y[rows, best_y] = True
    return (in_x & in_y).sum(axis=1) / k


def default_top_k(n: int) -> int:
    """A quarter of the cells, at least one."""
    return max(1, round(TOP_FRACTION * n))


def _all_metrics(x: np.ndarray, y: np.ndarray, k: int) -> dict[str, np.ndarray]:
    return {
        "kendall_tau_b": kendall_tau_b(x, y),
        "spearman_rho": spearman_rho(x, y),
        "pearson_r": pearson_r(x, y),
        "top_k_overlap": top_k_overlap(x, y, k),
    }


def resample_index(n: int, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n) cell indices drawn with replacement, one resample a row; same seed, same rows."""
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


def percentile_interval(sample: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile interval of bootstrap values, NaNs left out; (NaN, NaN) when more than half are NaN."""
    valid = sample[~np.isnan(sample)]
    if not len(valid) or len(valid) * 2 < len(sample):
        return math.nan, math.nan
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(valid, [tail, 100 - tail])
    return float(low), float(high)


def agreement(
    x, y, *, top_k: int | None = None, n_boot: int = 1000, seed: int = 0, confidence: float = 0.95
) -> dict[str, Estimate]:
    """All four agreement statistics of paired scores, each with a percentile-bootstrap interval.

    Cells are resampled with replacement (the same resamples for all four statistics); a resample on
    which a statistic is undefined (e.g. all ties) is left out, and the interval is dropped when more
    than half are. Pairs with a NaN are dropped first. Same seed, same intervals.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"agreement needs two 1-D arrays of one length, got {x.shape} and {y.shape}")
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    n = len(x)
    if n < MIN_POINTS:
        note = f"{n} common cell(s); need at least {MIN_POINTS}"
        return {name: Estimate(math.nan, n=n, note=note) for name in METRICS}
    k = min(top_k or default_top_k(n), n)
    points = {name: float(v[0]) for name, v in _all_metrics(x[None], y[None], k).items()}
    index = resample_index(n, n_boot, seed)
    boots = _all_metrics(x[index], y[index], k) if n_boot > 0 else {}
    out = {}
    for name in METRICS:
        value, note = points[name], ""
        if math.isnan(value):
            note = "no variation in one of the settings"
            out[name] = Estimate(math.nan, n=n, note=note)
            continue
        if name == "top_k_overlap":
            note = f"k={k}"
        low = high = math.nan
        if n_boot > 0:
            low, high = percentile_interval(boots[name], confidence)
            if math.isnan(low):
                note = "; ".join(filter(None, [note, "bootstrap mostly degenerate, no interval"]))
        out[name] = Estimate(value, low, high, n, note)
    return out


def paired_scores(frame: pd.DataFrame, a: Setting, b: Setting, metric: str = "top1") -> pd.DataFrame:
    """Cells evaluated in both settings, with their score (mean over training seeds) in each."""
    scores = cell_scores(frame, metric)

    def one(setting: Setting) -> pd.Series:
        return in_setting(scores, setting).groupby("cell")[metric].mean()

    joined = pd.concat({"a": one(a), "b": one(b)}, axis=1, join="inner")
    return joined.dropna().sort_index()


def compare_settings(
    frame: pd.DataFrame, a: Setting, b: Setting, *, metric: str = "top1", **options
) -> dict[str, Estimate]:
    """Agreement of settings `a` and `b` over the cells evaluated in both (options go to `agreement`)."""
    both = paired_scores(frame, a, b, metric)
    return agreement(both["a"].to_numpy(), both["b"].to_numpy(), **options)


def _comparisons(frame: pd.DataFrame) -> list[tuple[str, Setting, Setting]]:
    """Each source (or proxy) against each target under the matching protocol, and each dataset's protocols
    pairwise."""
    kinds = source_kinds(frame)
    pairs = []
    for tgt in settings(frame, TARGET_ROLE):
        for source in matched_sources(frame, tgt):
            kind = "proxy vs target" if kinds[source.eval_dataset] == "proxy" else "source vs target"
            pairs.append((kind, source, tgt))
    all_settings = settings(frame)
    for i, a in enumerate(all_settings):
        pairs += [
            ("protocol vs protocol", a, b) for b in all_settings[i + 1 :] if b.eval_dataset == a.eval_dataset
        ]
    return pairs


def agreement_table(
    frame: pd.DataFrame, *, n_boot: int = 1000, seed: int = 0, metric: str = "top1"
) -> pd.DataFrame:
    """One row per pair of settings that share cells: n, each statistic with its interval, and notes."""
    rows = []
    for i, (kind, a, b) in enumerate(_comparisons(frame)):
        both = paired_scores(frame, a, b, metric)
        if both.empty:
            continue
        stats = agreement(both["a"].to_numpy(), both["b"].to_numpy(), n_boot=n_boot, seed=seed + i)
        row = {"comparison": kind, "setting_a": str(a), "setting_b": str(b), "n_cells": len(both)}
        for name, est in stats.items():
            row.update({name: est.value, f"{name}_low": est.low, f"{name}_high": est.high})
        row["note"] = "; ".join(dict.fromkeys(e.note for e in stats.values() if e.note and not e.ok)) or (
            stats["top_k_overlap"].note
        )
        rows.append(row)
    columns = ["comparison", "setting_a", "setting_b", "n_cells"]
    columns += [c for name in METRICS for c in (name, f"{name}_low", f"{name}_high")] + ["note"]
    return pd.DataFrame(rows, columns=columns)
