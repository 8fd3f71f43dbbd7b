"""Short-training proxies: each cell trained briefly on a source under a named protocol with overrides.

The score is the test top-1 of `train.TrainEvaluator` (the paper's split of the source; any dataset
or proxy view of one), so a proxy is "train N epochs at width C on this data"; each cell has its own
work directory, so a killed measurement resumes cell by cell.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from nastransfer.data import Dataset
from nastransfer.runtime import Cost


def short_training_scores(
    cells: list[Any],
    source: Dataset,
    protocol: str,
    overrides: dict[str, Any],
    *,
    seed: int,
    workdir: str | Path,
    on_cell=None,
) -> tuple[list[float], Cost]:
    """Top-1 (%) of each cell after the protocol's training, and the summed cost of the trainings."""
    from nastransfer.train import TrainEvaluator, get_protocol

    chosen = get_protocol(protocol, **overrides)
    evaluator = TrainEvaluator(show_progress=False)
    scores: list[float] = []
    total: Cost | None = None
    for cell in cells:
        folder = Path(workdir) / hashlib.sha256(cell.key.encode()).hexdigest()[:16]
        result = evaluator.evaluate(cell, source, chosen, seed, folder)
        scores.append(float(result.top1))
        total = result.cost if total is None else total + result.cost
        if on_cell is not None:
            on_cell()
    return scores, total if total is not None else Cost(0.0, 0.0, 0.0, "none")
