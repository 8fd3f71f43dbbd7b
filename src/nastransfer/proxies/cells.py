"""The cells of a fidelity measurement and their target scores, from a benchmark table.

The cells are a seeded uniform sample without replacement of the cells the table holds (all of
them when K covers the table), so the ground truth of every chosen cell is known. They come in the
sample's random order, so the first k of them are themselves a uniform sample: a costly proxy
scores a prefix of the cells a cheap one scores.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from nastransfer.errors import ConfigError
from nastransfer.tabular import Table, get_table

#: Input shape and classes of the networks a data-free predictor scores, per table dataset:
#: the target's own images (Abdelfattah et al. score NB201 CIFAR-10 cells on 3 x 32 x 32).
TABLE_INPUTS = {
    "cifar10": ((3, 32, 32), 10),
    "cifar100": ((3, 32, 32), 100),
    "imagenet16-120": ((3, 16, 16), 120),
}


def target_table(target: str, space: str) -> Table:
    """The target table, which must cover `space`."""
    table = get_table(target)
    if table.space != space:
        raise ConfigError(f"target {target} holds {table.space} cells, not {space} cells")
    return table


def choose_cells(table: Table, k: int, seed: int) -> list[Any]:
    """min(K, all) cells of the table, uniformly without replacement by `seed`, in random order."""
    if k < 3:
        raise ConfigError(f"a fidelity measurement needs at least 3 cells, got {k}")
    keys = sorted(table.records)
    order = np.random.default_rng(seed).permutation(len(keys))[:k]
    return [table.records[keys[i]][0] for i in order]


def target_scores(table: Table, cells: list[Any]) -> pd.Series:
    """The table's ranking metric of each cell, indexed by cell key."""
    return pd.Series({c.key: table.query(c)[table.rank_metric] for c in cells}, name="target", dtype=float)


def table_input(target: str) -> tuple[tuple[int, int, int], int]:
    """(C, H, W) and classes of the target's images; CIFAR-10's when the table names no known dataset."""
    return TABLE_INPUTS.get(target.rsplit(":", 1)[-1], TABLE_INPUTS["cifar10"])
