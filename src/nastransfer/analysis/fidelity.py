"""Proxy fidelity: how well a cheap proxy ranks cells as the target does, what it costs, which to use.

For each proxy (a score per cell and a measured cost) against the target's score of the same cells:
Kendall's tau-b, Spearman's rho and the overlap of the top 5 % and 10 % of cells, each with a
percentile-bootstrap 95 % interval over cells; a paired bootstrap (the same resamples for two
proxies) of their tau difference; the Pareto front of tau against cost; and the recommendation:
the cheapest proxy whose tau is not significantly below the best one's.

Bootstrap Kendall taus are computed from resample *counts*: a resample weights each original pair
of cells by the product of their counts (a pair of copies of one cell is tied, adding nothing),
so every resample costs one matrix product with the pairs' sign matrix instead of an n^2 pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nastransfer.analysis.agreement import (
    MIN_POINTS,
    Estimate,
    kendall_tau_b,
    percentile_interval,
    resample_index,
    spearman_rho,
    top_k_overlap,
)

TOP_FRACTIONS = {"top5": 0.05, "top10": 0.10}
STATISTICS = ("kendall", "spearman", *TOP_FRACTIONS)
_BLOCK = 1024  # columns of the pair-sign matrix held at once


@dataclass(frozen=True)
class ProxyScores:
    """One proxy's score of each cell (a Series indexed by cell key) and what computing them cost."""

    proxy: str
    source: str
    scores: pd.Series
    cost_s: float

    @property
    def label(self) -> str:
        return f"{self.proxy} on {self.source}" if self.source else self.proxy


def from_scores_frame(frame: pd.DataFrame) -> tuple[list[ProxyScores], pd.Series]:
    """The proxies of a scores frame of one target (cell, proxy, source, score, target, cost_s) and the
    target's scores."""
    proxies = [
        ProxyScores(proxy, source, group.set_index("cell")["score"].astype(float), group["cost_s"].sum())
        for (proxy, source), group in frame.groupby(["proxy", "source"], sort=False)
    ]
    target = frame.drop_duplicates("cell").set_index("cell")["target"].astype(float)
    return proxies, target


def top_k(n: int, fraction: float) -> int:
    """The k of a top-`fraction` overlap among n cells: at least one."""
    return max(1, round(fraction * n))


def resample_counts(index: np.ndarray, n: int) -> np.ndarray:
    """(B, n) float counts of each cell in each bootstrap resample of `resample_index`."""
    counts = np.zeros((len(index), n))
    np.add.at(counts, (np.arange(len(index))[:, None], index), 1.0)
    return counts


def kendall_resamples(x: np.ndarray, y: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Kendall's tau-b of x and y on each resample given by its cell counts (rows of `counts`)."""
    n = len(x)
    concord = np.zeros(len(counts))
    untied_x = np.zeros(len(counts))
    untied_y = np.zeros(len(counts))
    for start in range(0, n, _BLOCK):
        cols = slice(start, start + _BLOCK)
        sx = np.sign(x[:, None] - x[None, cols])
        sy = np.sign(y[:, None] - y[None, cols])
        right = counts[:, cols]
        concord += ((counts @ (sx * sy)) * right).sum(axis=1)
        untied_x += ((counts @ np.abs(sx)) * right).sum(axis=1)
        untied_y += ((counts @ np.abs(sy)) * right).sum(axis=1)
    denom = np.sqrt(untied_x * untied_y)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, concord / denom, np.nan)


def _finite_pairs(*arrays: np.ndarray) -> list[np.ndarray]:
    keep = np.all([np.isfinite(a) for a in arrays], axis=0)
    return [a[keep] for a in arrays]


def _estimate(value: float, sample: np.ndarray | None, n: int, confidence: float, note: str = "") -> Estimate:
    if math.isnan(value):
        return Estimate(math.nan, n=n, note="no variation in the proxy or the target")
    low, high = percentile_interval(sample, confidence) if sample is not None else (math.nan, math.nan)
    return Estimate(value, low, high, n, note)


def fidelity(
    proxy, target, *, n_boot: int = 1000, seed: int = 0, confidence: float = 0.95
) -> dict[str, Estimate]:
    """Kendall tau-b, Spearman rho, top-5 % and top-10 % overlap of paired scores, with bootstrap intervals.

    Cells where either score is not finite are left out first; all statistics use the same resamples.
    """
    x, y = _finite_pairs(np.asarray(proxy, dtype=float), np.asarray(target, dtype=float))
    n = len(x)
    if n < MIN_POINTS:
        note = f"{n} scored cell(s); need at least {MIN_POINTS}"
        return {name: Estimate(math.nan, n=n, note=note) for name in STATISTICS}
    index = resample_index(n, n_boot, seed) if n_boot > 0 else None
    out = {
        "kendall": _estimate(
            float(kendall_tau_b(x, y)[0]),
            None if index is None else kendall_resamples(x, y, resample_counts(index, n)),
            n,
            confidence,
        ),
        "spearman": _estimate(
            float(spearman_rho(x, y)[0]),
            None if index is None else spearman_rho(x[index], y[index]),
            n,
            confidence,
        ),
    }
    for name, fraction in TOP_FRACTIONS.items():
        k = top_k(n, fraction)
        sample = None if index is None else top_k_overlap(x[index], y[index], k)
        out[name] = _estimate(float(top_k_overlap(x[None], y[None], k)[0]), sample, n, confidence, f"k={k}")
    return out


def paired_difference(
    a, b, target, *, n_boot: int = 1000, seed: int = 0, confidence: float = 0.95
) -> Estimate:
    """tau(a, target) - tau(b, target) on the cells all three score, with a paired-bootstrap interval.

    An interval above 0 says `a` ranks significantly better than `b` at that confidence.
    """
    a, b, t = _finite_pairs(*(np.asarray(v, dtype=float) for v in (a, b, target)))
    n = len(t)
    if n < MIN_POINTS:
        return Estimate(math.nan, n=n, note=f"{n} cell(s) scored by both; need at least {MIN_POINTS}")
    value = float(kendall_tau_b(a, t)[0] - kendall_tau_b(b, t)[0])
    sample = None
    if n_boot > 0:
        counts = resample_counts(resample_index(n, n_boot, seed), n)
        sample = kendall_resamples(a, t, counts) - kendall_resamples(b, t, counts)
    return _estimate(value, sample, n, confidence)


def pareto_front(cost: np.ndarray, quality: np.ndarray) -> np.ndarray:
    """True where no other point is at most as costly and at least as good, and strictly better in one."""
    cost, quality = np.asarray(cost, dtype=float), np.asarray(quality, dtype=float)
    front = np.isfinite(quality)
    for i in np.flatnonzero(front):
        no_worse = (cost <= cost[i]) & (quality >= quality[i])
        better = (cost < cost[i]) | (quality > quality[i])
        front[i] = not np.any(no_worse & better & np.isfinite(quality))
    return front


def _aligned(proxy: ProxyScores, target: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    both = pd.concat({"p": proxy.scores, "t": target}, axis=1, join="inner")
    return both["p"].to_numpy(dtype=float), both["t"].to_numpy(dtype=float)


def fidelity_table(
    proxies: list[ProxyScores], target: pd.Series, *, n_boot: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """One row per proxy: cells, each statistic with its interval, costs, Pareto membership (tau vs cost)."""
    rows = []
    for i, proxy in enumerate(proxies):
        x, y = _aligned(proxy, target)
        stats = fidelity(x, y, n_boot=n_boot, seed=seed + i)
        row = {"proxy": proxy.proxy, "source": proxy.source, "label": proxy.label}
        row["cells"] = stats["kendall"].n
        for name, est in stats.items():
            row.update({name: est.value, f"{name}_low": est.low, f"{name}_high": est.high})
        row["cost_s"] = float(proxy.cost_s)
        row["cost_per_cell_s"] = float(proxy.cost_s) / max(len(proxy.scores), 1)
        rows.append(row)
    columns = ["proxy", "source", "label", "cells"]
    columns += [c for name in STATISTICS for c in (name, f"{name}_low", f"{name}_high")]
    table = pd.DataFrame(rows, columns=[*columns, "cost_s", "cost_per_cell_s"])
    table["pareto"] = pareto_front(table["cost_per_cell_s"], table["kendall"]) if rows else []
    return table


def recommendation(
    table: pd.DataFrame, proxies: list[ProxyScores], target: pd.Series, *, n_boot: int = 1000, seed: int = 0
) -> str:
    """One sentence: the cheapest proxy (per cell) whose tau is not significantly below the best proxy's."""
    scored = table[np.isfinite(table["kendall"])]
    if scored.empty:
        return "No proxy could be ranked against the target (too few scored cells)."
    by_label = {p.label: p for p in proxies}
    best = scored.loc[scored["kendall"].idxmax()]
    best_scores = by_label[best["label"]].scores
    for _, row in scored.sort_values(["cost_per_cell_s", "kendall"], ascending=[True, False]).iterrows():
        if row["label"] == best["label"]:
            cheaper = (scored["cost_per_cell_s"] < row["cost_per_cell_s"]).any()
            reason = "every cheaper proxy ranks significantly worse" if cheaper else "it is also the cheapest"
            return (
                f"Use {row['label']}: the best rank fidelity (Kendall tau {_fmt(row, 'kendall')}, "
                f"{row['cost_per_cell_s']:.3g} s per cell), and {reason}."
            )
        both = pd.concat(
            {"best": best_scores, "p": by_label[row["label"]].scores, "t": target}, axis=1, join="inner"
        )
        diff = paired_difference(both["best"], both["p"], both["t"], n_boot=n_boot, seed=seed)
        if diff.ok and not diff.low > 0:
            return (
                f"Use {row['label']}: Kendall tau {_fmt(row, 'kendall')} "
                f"at {row['cost_per_cell_s']:.3g} s per cell "
                f"is not significantly below the best, {best['label']} (tau {_fmt(best, 'kendall')}, "
                f"{best['cost_per_cell_s']:.3g} s per cell; paired difference {diff.format()})."
            )
    raise AssertionError("the best proxy is always reached")  # pragma: no cover


def _fmt(row: pd.Series, name: str) -> str:
    return Estimate(row[name], row[f"{name}_low"], row[f"{name}_high"]).format()


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The fidelity table as text cells for a terminal or the report: estimates with their intervals."""
    return pd.DataFrame(
        {
            "proxy": table["label"],
            "cells": table["cells"].astype(int).astype(str),
            "Kendall tau": [_fmt(r, "kendall") for _, r in table.iterrows()],
            "Spearman rho": [_fmt(r, "spearman") for _, r in table.iterrows()],
            "top 5 %": [_fmt(r, "top5") for _, r in table.iterrows()],
            "top 10 %": [_fmt(r, "top10") for _, r in table.iterrows()],
            "s per cell": [f"{v:.3g}" for v in table["cost_per_cell_s"]],
            "s in all": [f"{v:.3g}" for v in table["cost_s"]],
            "Pareto": ["yes" if v else "" for v in table["pareto"]],
        }
    )


def json_records(table: pd.DataFrame) -> list[dict]:
    """The table as the `fidelity --json` objects: one per (proxy, source)."""

    def num(v: float) -> float | None:
        return None if not math.isfinite(v) else float(v)

    records = []
    for _, row in table.iterrows():
        records.append(
            {
                "proxy": row["proxy"],
                "source": row["source"],
                "cells": int(row["cells"]),
                "kendall": num(row["kendall"]),
                "kendall_ci": [num(row["kendall_low"]), num(row["kendall_high"])],
                "spearman": num(row["spearman"]),
                "spearman_ci": [num(row["spearman_low"]), num(row["spearman_high"])],
                "topk_overlap": {
                    f"{round(100 * fraction)}%": {
                        "value": num(row[name]),
                        "ci": [num(row[f"{name}_low"]), num(row[f"{name}_high"])],
                    }
                    for name, fraction in TOP_FRACTIONS.items()
                },
                "cost_s": num(row["cost_s"]),
                "cost_per_cell_s": num(row["cost_per_cell_s"]),
                "pareto": bool(row["pareto"]),
            }
        )
    return records
