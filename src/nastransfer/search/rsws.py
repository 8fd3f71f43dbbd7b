"""Random search with weight sharing (Li & Talwalkar, UAI 2019), as its released code runs it.

From the released code (liamcli/randomNAS_release: `darts_wrapper_discrete.py`,
`random_weight_share.py`): each training batch samples one cell, drawing ops from all of the space's
ops, `none` included, and runs every op of the supernet with weight 1 on the cell and 0 off it, so
off-path weights get zero gradients and SGD still applies weight decay and momentum to them, and
every BatchNorm keeps running statistics of its input. Then `budget.n_samples` cells, drawn the
same way, are scored in eval mode (running BatchNorm statistics) by validation accuracy on
successive blocks of `EVAL_BATCHES` validation batches; the best `RESCORED` are scored again on
the whole validation split and the best of those is returned. Optimiser: DARTS's SGD (0.025,
momentum 0.9, weight decay 3e-4, cosine to 0.001); gradient clip 0.25 and 100 epochs are the
released script's defaults (its command-line defaults; the runs of the paper set them per run in a
spreadsheet we do not reproduce). Batch size, channels, layers and data come from the study's
budget. docs/methods.md lists what still differs from the released code.

There are no architecture parameters and so nothing to sharpen: each epoch's history records the
shared-weight training loss/accuracy and the validation accuracy of a fixed probe set of sampled
cells; the scores of all candidates are in the result's `extra["scores"]` and `extra["rescored"]`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import torch

from nastransfer.errors import ConfigError
from nastransfer.nets.supernets import Supernet
from nastransfer.search.budget import Budget
from nastransfer.search.gradient import GradientSearcher, Hyper, RunState
from nastransfer.search.inputs import SearchData
from nastransfer.search.random_sampling import sample_cells
from nastransfer.search.registry import register
from nastransfer.spaces import get_space

EVAL_BATCHES = 10  # validation batches per candidate in the first round (the released code's)
RESCORED = 10  # best candidates scored again on the whole validation split (the released code's)
PROBE_CELLS = 4


def sample_path(space: str, seed: int) -> Any:
    """A cell as the released weight-sharing search draws one: every op may be drawn, `none` too."""
    return get_space(space).draw_path(seed)  # DARTS's draws `none` too, as NB201's sampler does


def sample_paths(space: str, n: int, seed: int) -> list[Any]:
    """`n` such cells, fixed by `seed` (each from its own child seed)."""
    return sample_cells(space, n, seed, sample=lambda s: sample_path(space, s))


@register("rsws")
class RandomSearchWeightSharing(GradientSearcher):
    """Shared weights trained on uniformly sampled paths, then the best of `n_samples` sampled cells."""

    form = "mixed"
    default_hyper = Hyper(grad_clip=0.25)
    #: Shared weights trained 100 epochs (the released script's default), then 1000 cells scored.
    paper_budget = Budget(epochs=100, channels=16, layers=8, batch_size=64, n_samples=1000)

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
        return net(x, path=sample_path(self._space, seed), every_op=True)

    def end_epoch(self, net: Supernet, data: SearchData, seed: int) -> dict[str, Any]:
        return {"probe_val_acc": probe_accuracy(net, self._space, data, seed)}

    def derive(self, net: Supernet) -> Any:
        return "(chosen after training, by shared-weight validation accuracy)"

    def finish(
        self, run: RunState, space: str, data: SearchData, budget: Budget, seed: int
    ) -> tuple[Any, dict]:
        candidates = sample_paths(space, budget.n_samples, seed)
        stream = _batches_forever(data)
        scores = [score(run.net, cell, stream, EVAL_BATCHES) for cell in candidates]
        ranked = sorted(range(len(candidates)), key=lambda i: -scores[i])  # stable: ties keep draw order
        full = {i: score(run.net, candidates[i], validation_pass(data)) for i in ranked[:RESCORED]}
        best = max(full, key=lambda i: full[i])  # ties: the better first-round score
        return candidates[best], {
            "scores": [{"genotype": str(candidates[i]), "val_acc": scores[i]} for i in ranked],
            "rescored": [{"genotype": str(candidates[i]), "val_acc": v} for i, v in full.items()],
        }


def _batches_forever(data: SearchData) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Validation batches pass after pass (each pass reshuffled), as the released scorer's iterator."""
    for rounds in itertools.count():
        data.val.set_epoch(rounds)
        yield from data.val


def validation_pass(data: SearchData) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """One pass over the validation split, in the same order every time."""
    data.val.set_epoch(0)
    return iter(data.val)


@torch.no_grad()
def score(
    net: Supernet, cell: Any, batches: Iterator[tuple[torch.Tensor, torch.Tensor]], limit: int | None = None
) -> float:
    """Validation accuracy (%) of `cell` with the shared weights on the next `limit` batches (all when
    None), in eval mode: BatchNorms use the running statistics training gathered."""
    net.eval()
    correct = total = 0
    for i, (x, y) in enumerate(batches):
        correct += int((net(x, path=cell).argmax(1) == y).sum())
        total += len(y)
        if limit is not None and i + 1 == limit:
            break
    net.train()
    return 100.0 * correct / max(total, 1)


def probe_accuracy(net: Supernet, space: str, data: SearchData, seed: int) -> float:
    """Mean shared-weight validation accuracy of a few fixed sampled cells (the epoch's progress)."""
    cells = sample_paths(space, PROBE_CELLS, seed + 7919)
    return sum(score(net, c, validation_pass(data), limit=2) for c in cells) / len(cells)
