"""The paper's four findings, each set against the study's own number with its 95 % interval.

Every question gets one headline statistic per target setting, a difference in points of top-1 with a
percentile-bootstrap interval over cells (each group of cells resampled on its own), and a verdict:
*agrees*, *differs*, or *cannot tell at this size*, with the reason. `MARGIN` is the difference in
points that counts as "about the same": an interval inside [-MARGIN, +MARGIN] shows two things alike,
an interval excluding zero shows them different, and anything else is too wide to tell.

(i) mean target accuracy of cells searched on different datasets minus on proxy sets (paper: alike);
    and whether the proxy sets' designs rank the methods differently beyond search-seed noise
    (`analysis.proxy_design`; paper: they do);
(ii) per source, the standard deviation of the methods' means on the target minus on that source,
     each seed's cell scored on both (paper: alike on the source, different on the target);
(iii) the searched cells' mean minus the random cells' mean on the target (paper: random very
     competitive, i.e. not clearly beaten);
(iv) the size of the stronger protocol's mean gain on small (source) datasets minus its size on
     large (target) ones, cell by cell (paper: the protocol matters more on small datasets).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nastransfer.analysis import proxy_design
from nastransfer.analysis.frame import (
    RANDOM,
    RESULT_KEYS,
    SOURCE_ROLE,
    TARGET_ROLE,
    Setting,
    cell_scores,
    in_setting,
    protocol_order,
    settings,
)

MARGIN = 1.0
AGREES, DIFFERS, CANNOT_TELL = "agrees", "differs", "cannot tell at this size"

PAPER = {
    "sources": "cells searched on different small datasets transfer about as well as cells searched on "
    "proxy sets of the target",
    "design": "the design of the proxy set changes the ranking of methods considerably",
    "spread": "methods alike on the source differ significantly on the target",
    "random": "the random-sampling baseline is very competitive",
    "protocol": "the training protocol matters more on small datasets than on large ones",
}


@dataclass(frozen=True)
class Difference:
    """A difference of means in points with its 95 % percentile-bootstrap interval."""

    value: float
    low: float
    high: float
    n: tuple[int, ...]

    def format(self) -> str:
        if math.isnan(self.value):
            return "n/a"
        interval = "" if math.isnan(self.low) else f" [{self.low:+.2f}, {self.high:+.2f}]"
        return f"{self.value:+.2f}{interval}"

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    @property
    def within_margin(self) -> bool:
        return self.low >= -MARGIN and self.high <= MARGIN


@dataclass(frozen=True)
class Verdict:
    """One question's answer on one target setting."""

    question: str
    setting: str
    statistic: str
    difference: Difference
    verdict: str
    reason: str
    unit: str = " points"

    def line(self) -> str:
        return (
            f"{self.verdict}: on {self.setting}, {self.statistic} is {self.difference.format()}{self.unit} "
            f"(95 % interval); {self.reason}. The paper: {PAPER[self.question]}."
        )


def mean_difference(a, b, *, n_boot: int, seed: int, magnitude: bool = False) -> Difference:
    """mean(a) - mean(b), each sample resampled with replacement on its own; with `magnitude`,
    |mean(a)| - |mean(b)| (which of two effects is larger, whatever their signs)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) == 0 or len(b) == 0:
        return Difference(math.nan, math.nan, math.nan, (len(a), len(b)))
    size = np.abs if magnitude else np.asarray
    value = float(size(a.mean()) - size(b.mean()))
    if min(len(a), len(b)) < 2 or n_boot <= 0:
        return Difference(value, math.nan, math.nan, (len(a), len(b)))
    rng = np.random.default_rng(seed)
    boots = size(a[rng.integers(0, len(a), size=(n_boot, len(a)))].mean(axis=1)) - size(
        b[rng.integers(0, len(b), size=(n_boot, len(b)))].mean(axis=1)
    )
    low, high = np.percentile(boots, [2.5, 97.5])
    return Difference(value, float(low), float(high), (len(a), len(b)))


def _alike_verdict(d: Difference) -> tuple[str, str]:
    """For a finding that two things are alike."""
    if math.isnan(d.low):
        return CANNOT_TELL, "too few cells for an interval"
    if d.excludes_zero:
        return DIFFERS, "the interval excludes zero"
    if d.within_margin:
        return AGREES, f"the interval lies within ±{MARGIN:g} point"
    return CANNOT_TELL, f"the interval includes zero but also differences beyond ±{MARGIN:g} point"


def _searched_on_target(scores: pd.DataFrame) -> pd.DataFrame:
    return scores[(scores["method"] != RANDOM) & (scores["eval_role"] == TARGET_ROLE)]


def sources_verdicts(scores: pd.DataFrame, *, n_boot: int, seed: int) -> list[Verdict]:
    """(i) different-dataset sources minus proxy sets, on each target setting."""
    out = []
    searched = _searched_on_target(scores)
    for setting in settings(searched, TARGET_ROLE):
        rows = in_setting(searched, setting)
        by_kind = {kind: rows[rows["source_kind"] == kind]["top1"] for kind in ("dataset", "proxy")}
        if any(len(v) == 0 for v in by_kind.values()):
            continue
        d = mean_difference(by_kind["dataset"], by_kind["proxy"], n_boot=n_boot, seed=seed)
        statistic = "different datasets minus proxy sets"
        out.append(Verdict("sources", str(setting), statistic, d, *_alike_verdict(d)))
    return out


def design_verdicts(scores: pd.DataFrame, *, n_boot: int, seed: int) -> list[Verdict]:
    """(i), second half: on each target setting, do the proxy designs rank the methods differently?"""
    out = []
    searched = _searched_on_target(scores)
    for setting in settings(searched, TARGET_ROLE):
        rows = in_setting(searched, setting)
        effect = proxy_design.design_effect(
            rows[rows["source_kind"] == "proxy"], n_perm=n_boot, n_boot=n_boot, seed=seed
        )
        if effect is None:
            continue
        test = f"method x design F {effect.f:.2f}, permutation p {effect.p:.3f}"
        if effect.p < 0.05:
            reason = f"the designs reorder the methods beyond their search seeds' spread ({test})"
            verdict = AGREES
        else:
            verdict, reason = CANNOT_TELL, f"the reordering is within the search seeds' spread ({test})"
        tau = Difference(effect.tau, effect.tau_low, effect.tau_high, (effect.n_cells,))
        statistic = (
            f"the mean Kendall tau between {effect.n_designs} proxy designs' rankings "
            f"of {effect.n_methods} methods"
        )
        out.append(Verdict("design", str(setting), statistic, tau, verdict, reason, unit=""))
    return out


def method_spread_difference(
    pairs: pd.DataFrame, *, n_boot: int, seed: int
) -> tuple[Difference, float, float]:
    """The standard deviation of the methods' mean accuracies on the target minus on the source, with
    an interval from resampling each method's search seeds (the same draw for both sides, as each seed's
    cell is scored on both); also the two spreads. `pairs`: method, target, source (one row a cell)."""
    groups = [g[["target", "source"]].to_numpy(dtype=float) for _, g in pairs.groupby("method", sort=True)]

    def spreads(means: np.ndarray) -> np.ndarray:  # (..., methods, 2) -> (..., 2)
        return means.std(axis=-2, ddof=1)

    point = spreads(np.stack([g.mean(axis=0) for g in groups]))
    value = float(point[0] - point[1])
    if min(len(g) for g in groups) < 2 or n_boot <= 0:
        return Difference(value, math.nan, math.nan, (len(pairs),)), float(point[0]), float(point[1])
    rng = np.random.default_rng(seed)
    means = np.stack([g[rng.integers(0, len(g), size=(n_boot, len(g)))].mean(axis=1) for g in groups], axis=1)
    boots = spreads(means)
    low, high = np.percentile(boots[:, 0] - boots[:, 1], [2.5, 97.5])
    return Difference(value, float(low), float(high), (len(pairs),)), float(point[0]), float(point[1])


def spread_verdicts(scores: pd.DataFrame, *, n_boot: int, seed: int) -> list[Verdict]:
    """(ii) per source, how much more the methods searched on it spread on the target than on the
    source itself (under the source protocol matching the target's)."""
    out = []
    searched = scores[scores["method"] != RANDOM]
    keys = ["method", "search_seed", "cell"]
    for setting in settings(searched, TARGET_ROLE):
        on_target = in_setting(searched[searched["eval_role"] == TARGET_ROLE], setting)
        position = protocol_order(_on_role(searched, TARGET_ROLE, setting)).index(setting.protocol)
        for source, rows in on_target.groupby("source", sort=True):
            if rows["method"].nunique() < 2:
                continue
            own = searched[(searched["eval_role"] == SOURCE_ROLE) & (searched["eval_dataset"] == source)]
            on_source = _source_rows_matching(own[own["source"] == source], position)
            pairs = rows[keys + ["top1"]].merge(on_source[keys + ["top1"]], on=keys, suffixes=("_t", "_s"))
            pairs = pairs.rename(columns={"top1_t": "target", "top1_s": "source"})
            statistic = (
                f"searched on {source}, the spread of the methods' means on the target minus on the source"
            )
            if pairs["method"].nunique() < 2:
                nan = Difference(math.nan, math.nan, math.nan, (0,))
                out.append(
                    Verdict("spread", str(setting), statistic, nan, CANNOT_TELL, "no method on its source")
                )
                continue
            d, on_t, on_s = method_spread_difference(pairs, n_boot=n_boot, seed=seed)
            spreads = f"standard deviation {on_t:.2f} on the target, {on_s:.2f} on the source"
            if math.isnan(d.low):
                verdict, reason = CANNOT_TELL, "too few cells for an interval"
            elif d.low > 0:
                verdict, reason = AGREES, f"the methods spread more on the target ({spreads})"
            elif d.high < 0:
                verdict, reason = DIFFERS, f"the methods spread more on the source ({spreads})"
            else:
                verdict, reason = CANNOT_TELL, f"the interval includes zero ({spreads})"
            out.append(Verdict("spread", str(setting), statistic, d, verdict, reason))
    return out


def _on_role(scores: pd.DataFrame, role: str, setting: Setting) -> pd.Series:
    rows = scores[(scores["eval_role"] == role) & (scores["eval_dataset"] == setting.eval_dataset)]
    return rows["protocol"]


def _source_rows_matching(on_sources: pd.DataFrame, position: int) -> pd.DataFrame:
    """Each source's cells under the source protocol at the same place in its base-to-enhanced order."""
    parts = []
    for _, rows in on_sources.groupby("eval_dataset", sort=True):
        order = protocol_order(rows["protocol"])
        parts.append(rows[rows["protocol"] == order[min(position, len(order) - 1)]])
    return pd.concat(parts) if parts else on_sources


def random_verdicts(scores: pd.DataFrame, *, n_boot: int, seed: int) -> list[Verdict]:
    """(iii) every searched cell minus every random cell, on each target setting."""
    out = []
    for setting in settings(scores, TARGET_ROLE):
        rows = in_setting(scores[scores["eval_role"] == TARGET_ROLE], setting)
        searched, random = rows[rows["method"] != RANDOM]["top1"], rows[rows["method"] == RANDOM]["top1"]
        if len(searched) == 0 or len(random) == 0:
            continue
        d = mean_difference(searched, random, n_boot=n_boot, seed=seed)
        if math.isnan(d.low):
            verdict, reason = CANNOT_TELL, "too few cells for an interval"
        elif d.high < MARGIN:
            reason = f"searched cells are not better than random ones by {MARGIN:g} point or more"
            verdict = AGREES
        elif d.low > MARGIN:
            verdict, reason = DIFFERS, f"searched cells beat random ones by more than {MARGIN:g} point"
        else:
            verdict, reason = CANNOT_TELL, f"the interval reaches both sides of {MARGIN:g} point"
        out.append(Verdict("random", str(setting), "searched cells minus random cells", d, verdict, reason))
    return out


def methods_vs_random(frame: pd.DataFrame, *, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Per target setting and method, its cells from every source minus the random cells, in points
    with a 95 % interval: which methods the random baseline beats, ties or loses to."""
    scores = cell_scores(frame)
    rows = []
    for setting in settings(scores, TARGET_ROLE):
        here = in_setting(scores[scores["eval_role"] == TARGET_ROLE], setting)
        random = here[here["method"] == RANDOM]["top1"]
        for method, cells in here[here["method"] != RANDOM].groupby("method", sort=True):
            d = mean_difference(cells["top1"], random, n_boot=n_boot, seed=seed)
            rows.append(
                {
                    "eval_dataset": setting.eval_dataset,
                    "protocol": setting.protocol,
                    "method": method,
                    "n_cells": len(cells),
                    "n_random": len(random),
                    "difference": d.value,
                    "difference_low": d.low,
                    "difference_high": d.high,
                }
            )
    columns = ["eval_dataset", "protocol", "method", "n_cells", "n_random", "difference"]
    return pd.DataFrame(rows, columns=columns + ["difference_low", "difference_high"])


def _gains(scores: pd.DataFrame, role: str) -> np.ndarray:
    """Per search result and dataset of `role`, the last protocol's accuracy minus the base protocol's
    (the cells that the report's protocol table averages)."""
    gains = []
    for _, rows in scores[scores["eval_role"] == role].groupby("eval_dataset", sort=True):
        order = protocol_order(rows["protocol"])
        if len(order) < 2:
            continue
        wide = rows.pivot_table(index=RESULT_KEYS, columns="protocol", values="top1", aggfunc="mean")
        gains.append((wide[order[-1]] - wide[order[0]]).dropna().to_numpy())
    return np.concatenate(gains) if gains else np.array([])


def protocol_verdicts(scores: pd.DataFrame, *, n_boot: int, seed: int) -> list[Verdict]:
    """(iv) how much the protocol moves accuracy on small datasets minus on large ones: the size of
    its mean gain (or loss) cell by cell, so that a protocol that costs accuracy counts as mattering."""
    small, large = _gains(scores, SOURCE_ROLE), _gains(scores, TARGET_ROLE)
    if len(small) == 0 or len(large) == 0:
        return []
    d = mean_difference(small, large, n_boot=n_boot, seed=seed, magnitude=True)
    if math.isnan(d.low):
        verdict, reason = CANNOT_TELL, "too few cells for an interval"
    elif d.low > 0:
        verdict, reason = AGREES, "the protocol moves accuracy more on the small datasets"
    elif d.high < 0:
        verdict, reason = DIFFERS, "the protocol moves accuracy more on the large datasets"
    else:
        verdict, reason = CANNOT_TELL, "the interval includes zero"
    reason += f" (mean gain {small.mean():+.2f} on small, {large.mean():+.2f} on large datasets)"
    statistic = "the size of the stronger protocol's mean gain on small minus on large datasets"
    return [Verdict("protocol", "small vs large datasets", statistic, d, verdict, reason)]


def verdicts(frame: pd.DataFrame, *, n_boot: int = 1000, seed: int = 0) -> dict[str, list[Verdict]]:
    """Each question's verdicts (keys as the report's sections: sources, spread, random, protocol)."""
    scores = cell_scores(frame)
    return {
        "sources": sources_verdicts(scores, n_boot=n_boot, seed=seed)
        + design_verdicts(scores, n_boot=n_boot, seed=seed),
        "spread": spread_verdicts(scores, n_boot=n_boot, seed=seed),
        "random": random_verdicts(scores, n_boot=n_boot, seed=seed),
        "protocol": protocol_verdicts(scores, n_boot=n_boot, seed=seed),
    }
