"""Votes of several predictors over a set of cells, by rank: `vote:synflow,naswot` and `vote-mean:...`.

A vote is no per-network score: a cell's vote depends on the other cells scored with it. Each
component predictor ranks the cells ascending (the best cell gets rank n; ties share their mean
rank, as `scipy.stats.rankdata` gives them), and

- `vote` sums log(rank_i / n) over the predictors: AZ-NAS's non-linear rank aggregation (Lee & Ham,
  CVPR 2024, released code `cvlab-yonsei/AZ-NAS`: `np.log(stats.rankdata(s) / l)` summed over its
  proxies), which lets a cell that one predictor ranks last fall far whatever the others say;
- `vote-mean` takes the mean rank (the linear aggregation AZ-NAS compares against).

Higher is better in both. A non-finite component score (a NaN of a failed cell, naswot's -inf of
a singular kernel) ranks below every finite one, so a broken cell is never a vote's best.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from nastransfer.errors import ConfigError
from nastransfer.predictors.base import Batch
from nastransfer.predictors.cells import score_cells
from nastransfer.predictors.registry import get, names
from nastransfer.runtime import Cost

AGGREGATIONS = ("vote", "vote-mean")


@dataclass(frozen=True)
class Vote:
    """An aggregation (`vote` or `vote-mean`) of two or more distinct registered predictors."""

    aggregation: str
    predictors: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.aggregation}:{','.join(self.predictors)}"

    @property
    def needs_data(self) -> bool:
        """Whether any component reads the images (then the vote needs a source)."""
        return any(get(name).needs_data for name in self.predictors)

    def aggregate(self, scores: np.ndarray) -> np.ndarray:
        """The vote of each cell from a (predictors, cells) array of component scores."""
        ranks = np.stack([ascending_ranks(row) for row in np.atleast_2d(scores)])
        if self.aggregation == "vote":
            return np.log(ranks / ranks.shape[1]).sum(axis=0)
        return ranks.mean(axis=0)


def is_vote(name: str) -> bool:
    """Whether `name` reads as a vote (`vote:...` or `vote-mean:...`), valid or not."""
    return name.partition(":")[0] in AGGREGATIONS and ":" in name


def parse_vote(text: str) -> Vote:
    """`vote:a,b,c` or `vote-mean:a,b,c`; a ConfigError names an unknown, repeated or missing predictor."""
    aggregation, colon, listed = text.partition(":")
    if aggregation not in AGGREGATIONS or not colon:
        raise ConfigError(f"{text!r} is not a vote (write {' or '.join(a + ':a,b' for a in AGGREGATIONS)})")
    parts = [p.strip() for p in listed.split(",")]
    if len(parts) < 2 or not all(parts):
        raise ConfigError(f"{text!r}: a vote needs two or more predictors, comma-separated")
    for part in parts:
        if part not in names():
            raise ConfigError(f"{text!r}: unknown zero-cost predictor {part!r} (known: {', '.join(names())})")
    if len(set(parts)) != len(parts):
        raise ConfigError(f"{text!r}: a predictor appears twice")
    return Vote(aggregation, tuple(parts))


def ascending_ranks(values: Sequence[float]) -> np.ndarray:
    """Ranks 1..n in float64, the highest value n, ties their mean; non-finite values below all others."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or len(array) == 0:
        raise ConfigError(f"ranks need a non-empty list of scores, got shape {array.shape}")
    finite = np.isfinite(array)
    low = np.min(array[finite]) - 1.0 if finite.any() else 0.0
    return stats.rankdata(np.where(finite, array, low)).astype(np.float64)


def score_set(
    name: str,
    cells: Sequence[Any],
    batch: Batch,
    *,
    net_options: dict[str, Any],
    seed: int = 0,
    dtype: str = "float32",
    on_cell: Callable[[], None] | None = None,
) -> tuple[list[float], Cost]:
    """Each cell's score by a predictor or a vote over `cells`, and the cost (all components summed)."""
    if not is_vote(name):
        return score_cells(
            name, cells, batch, net_options=net_options, seed=seed, dtype=dtype, on_cell=on_cell
        )
    vote = parse_vote(name)
    rows, total = [], None
    for index, component in enumerate(vote.predictors):
        tick = on_cell if index == len(vote.predictors) - 1 else None  # one tick per cell
        scores, cost = score_cells(
            component, cells, batch, net_options=net_options, seed=seed, dtype=dtype, on_cell=tick
        )
        rows.append(scores)
        total = cost if total is None else total + cost
    return vote.aggregate(np.array(rows, dtype=np.float64)).tolist(), total
