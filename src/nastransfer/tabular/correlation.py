"""How alike two tables rank the cells they share: Kendall's tau-b over their common cells."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nastransfer.errors import DatasetError
from nastransfer.tabular.tables import Table


def common_accuracies(
    first: Table, second: Table, metric: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """`metric` (default: each table's `rank_metric`) of the cells both hold, aligned by canonical key."""
    if first.space != second.space:
        spaces = f"{first.space} and {second.space}"
        raise DatasetError(f"tables {first.name} and {second.name} hold cells of different spaces ({spaces})")
    keys = [key for key in first.records if key in second.records]
    return (
        np.array([first.records[k][1][metric or first.rank_metric] for k in keys], dtype=np.float64),
        np.array([second.records[k][1][metric or second.rank_metric] for k in keys], dtype=np.float64),
    )


def kendall_tau(first: Table, second: Table, metric: str | None = None) -> float:
    """Kendall's tau-b between two tables over their common cells."""
    x, y = common_accuracies(first, second, metric)
    if len(x) < 2:
        raise DatasetError(f"tables {first.name} and {second.name} share fewer than two cells")
    from scipy.stats import kendalltau  # here: scipy.stats adds ~2 s to every command's start-up

    return float(kendalltau(x, y).statistic)


def tau_matrix(tables: Sequence[Table], metric: str | None = None) -> np.ndarray:
    """Symmetric matrix of pairwise Kendall tau (1 on the diagonal)."""
    matrix = np.eye(len(tables))
    for i in range(len(tables)):
        for j in range(i + 1, len(tables)):
            matrix[i, j] = matrix[j, i] = kendall_tau(tables[i], tables[j], metric)
    return matrix
