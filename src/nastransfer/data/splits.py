"""Stratified train / validation / test splits (40/40/20 in the paper, after Yang et al. 2020)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from nastransfer.data.base import Dataset, Subset
from nastransfer.errors import DatasetError

PAPER_FRACTIONS = (0.4, 0.4, 0.2)


def split_counts(n: int, fractions: Sequence[float]) -> np.ndarray:
    """Integer parts summing to n, each within one of `n * fraction` (largest remainders round up)."""
    exact = np.asarray(fractions, dtype=np.float64) * n
    counts = np.floor(exact).astype(np.int64)
    remainder = n - int(counts.sum())
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:remainder]] += 1
    return counts


def three_way_split(
    labels: Sequence[int] | np.ndarray, fractions: Sequence[float] = PAPER_FRACTIONS, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Disjoint, covering, per-class stratified (train, val, test) index arrays, sorted, fixed by seed."""
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1.0) > 1e-6:
        raise DatasetError(f"split fractions must be three numbers >= 0 summing to 1, got {fractions}")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[], [], []]
    for cls in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == cls))
        bounds = np.cumsum(split_counts(len(members), fractions))[:-1]
        for part, chunk in zip(parts, np.split(members, bounds), strict=True):
            part.append(chunk)
    return tuple(  # type: ignore[return-value]
        np.sort(np.concatenate(part)) if part else np.empty(0, dtype=np.int64) for part in parts
    )


class Splits(NamedTuple):
    """Search uses `train`/`val`; final training uses `train_val` and reports on `test`."""

    train: Subset
    val: Subset
    test: Subset

    @property
    def train_val(self) -> Subset:
        return self.train.concat(self.val)


def paper_splits(dataset: Dataset, seed: int = 0, fractions: Sequence[float] = PAPER_FRACTIONS) -> Splits:
    """The paper's stratified 40/40/20 split of one dataset, as three views."""
    train, val, test = three_way_split(dataset.labels, fractions, seed)
    return Splits(Subset(dataset, train), Subset(dataset, val), Subset(dataset, test))
