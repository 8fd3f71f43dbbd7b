"""Random search with weight sharing (Li & Talwalkar, UAI 2019).

The supernet's weights are trained on one uniformly sampled cell per batch (only that cell's ops
run); then `budget.n_samples` cells are sampled and scored by validation accuracy with the
shared weights, and the best is returned. There are no architecture parameters and so nothing
to sharpen: each epoch's history records the shared-weight training loss/accuracy and the
validation accuracy of a fixed probe set of sampled cells, which rises as the shared weights
learn; the scores of all candidates are in the result's `extra["scores"]`.
"""

from __future__ import annotations

from typing import Any

import torch

from nastransfer.errors import ConfigError
from nastransfer.nets.supernets import Supernet
from nastransfer.search.budget import Budget
from nastransfer.search.gradient import GradientSearcher, RunState
from nastransfer.search.inputs import SearchData
from nastransfer.search.random_sampling import sample_cells
from nastransfer.search.registry import register
from nastransfer.spaces import get_space

EVAL_BATCHES = 10  # validation batches per candidate (Li & Talwalkar score on a few minibatches)
PROBE_CELLS = 4


@register("rsws")
class RandomSearchWeightSharing(GradientSearcher):
    """Shared weights trained on uniformly sampled paths, then the best of `n_samples` sampled cells."""

    form = "mixed"
    #: DARTS's schedule for the shared weights, then 1000 sampled cells scored (Li & Talwalkar).
    paper_budget = Budget(epochs=50, channels=16, layers=8, batch_size=64, n_samples=1000)

    def check(self, space: str, budget: Budget) -> None:
        super().check(space, budget)
        if budget.n_samples < 1:
            raise ConfigError(
                f"{self.name}: budget n_samples must be >= 1 (cells to score), got {budget.n_samples}"
            )
        self._space = space

    def arch_active(self, epoch: int, budget: Budget) -> bool:
        return False

    def train_logits(self, net: Supernet, x: torch.Tensor) -> torch.Tensor:
        seed = int(torch.randint(0, 2**31 - 1, ()))  # from the checkpointed global generator
        return net(x, path=get_space(self._space).sample(seed))

    def end_epoch(self, net: Supernet, data: SearchData, seed: int) -> dict[str, Any]:
        return {"probe_val_acc": probe_accuracy(net, self._space, data, seed)}

    def derive(self, net: Supernet) -> Any:
        return "(chosen after training, by shared-weight validation accuracy)"

    def finish(
        self, run: RunState, space: str, data: SearchData, budget: Budget, seed: int
    ) -> tuple[Any, dict]:
        candidates = sample_cells(space, budget.n_samples, seed)
        scores = [score(run.net, cell, data) for cell in candidates]
        best = max(range(len(candidates)), key=lambda i: scores[i])
        ranked = sorted(zip(scores, map(str, candidates), strict=True), reverse=True)
        return candidates[best], {"scores": [{"genotype": g, "val_acc": s} for s, g in ranked]}


@torch.no_grad()
def score(net: Supernet, cell: Any, data: SearchData, batches: int = EVAL_BATCHES) -> float:
    """Validation accuracy (%) of `cell` with the shared weights on the first `batches` val batches.

    BatchNorm uses batch statistics (train mode): running averages mix all sampled paths.
    """
    net.train()
    data.val.set_epoch(0)
    correct = total = 0
    for i, (x, y) in enumerate(data.val):
        if i == batches:
            break
        correct += int((net(x, path=cell).argmax(1) == y).sum())
        total += len(y)
    return 100.0 * correct / max(total, 1)


def probe_accuracy(net: Supernet, space: str, data: SearchData, seed: int) -> float:
    """Mean shared-weight validation accuracy of a few fixed sampled cells (the epoch's progress)."""
    cells = sample_cells(space, PROBE_CELLS, seed + 7919)
    return sum(score(net, c, data, batches=2) for c in cells) / len(cells)
