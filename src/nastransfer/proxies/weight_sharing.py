"""The weight-sharing proxy: one supernet trained with uniformly sampled paths, every cell scored with
the inherited weights (the one-shot ranking of random search with weight sharing, Li & Talwalkar 2019).

It is `search.rsws` with the cells to score given instead of sampled: the supernet trains on the
source's search-train split for the budget's epochs (checkpointed, so it resumes), then each cell's
score is its validation accuracy on the first `EVAL_BATCHES` batches of the search-val split with
shared weights in eval mode (RSWS's first-round scoring; the released code's re-scoring of the best 10
chooses one cell and has no part in a ranking).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nastransfer.data import Splits
from nastransfer.runtime import Cost
from nastransfer.search import published_budget
from nastransfer.search.rsws import EVAL_BATCHES, RandomSearchWeightSharing, score, validation_pass


class _GivenCells(RandomSearchWeightSharing):
    """RSWS that scores a given list of cells (in order) after training the shared weights."""

    def __init__(self, cells: list[Any], **options: Any) -> None:
        super().__init__(**options)
        self.cells = cells

    def finish(self, run, space, data, budget, seed):
        scores = [score(run.net, cell, validation_pass(data), EVAL_BATCHES) for cell in self.cells]
        best = max(range(len(scores)), key=scores.__getitem__)
        return self.cells[best], {"scores": scores}


def weight_sharing_scores(
    cells: list[Any], space: str, splits: Splits, budget: dict[str, Any], *, seed: int, workdir: str | Path
) -> tuple[list[float], Cost]:
    """Shared-weight validation accuracy (%) of each cell, and the cost of training and scoring."""
    chosen = published_budget("rsws").replace(**budget, n_samples=len(cells))
    result = _GivenCells(cells).search(space, splits, chosen, seed, Path(workdir), progress=False)
    return [float(s) for s in result.extra["scores"]], result.cost
