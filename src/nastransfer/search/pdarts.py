"""P-DARTS (Chen et al., ICCV 2019): three stages of growing depth, pruning ops between them.

Paper: stages of 5, 11, 17 cells keeping 8, 5, 3 candidate ops per edge, 25 epochs each (10 of
them weights only), dropout on skip-connections (0.1, 0.4, 0.7, decaying once arch updates
start), and at most 2 skip-connections in the final normal cell. Here the stage depths scale
with the budget (`layers` x 1, 11/5, 17/5) and the kept-op counts with the space's op count
(x 8/8, 5/8, 3/8, at least 2); both are recorded in the result's `extra["stages"]`.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from nastransfer.nets.supernets import Supernet
from nastransfer.search.budget import Budget
from nastransfer.search.gradient import GradientSearcher, Hyper, Stage
from nastransfer.search.registry import register
from nastransfer.spaces import get_space

DEPTH_RATIOS = (5, 11, 17)
KEEP = (8, 5, 3)
SKIP_DROPOUT = (0.1, 0.4, 0.7)
DROPOUT_DECAY = 0.2
MAX_SKIP = 2


def stage_plan(space: str, layers: int) -> list[Stage]:
    """The three stages for a first-stage depth of `layers` in `space`."""
    n_ops = len(get_space(space).ops)
    return [
        Stage(
            layers=max(layers, round(layers * ratio / DEPTH_RATIOS[0])),
            keep=max(2, round(n_ops * keep / KEEP[0])),
            skip_dropout=rate,
        )
        for ratio, keep, rate in zip(DEPTH_RATIOS, KEEP, SKIP_DROPOUT, strict=True)
    ]


def top_ops_mask(weights: torch.Tensor, mask: torch.Tensor, keep: int) -> torch.Tensor:
    """Per edge, the `keep` allowed ops of largest weight (`none` competes, as in P-DARTS)."""
    scores = weights.masked_fill(~mask, float("-inf"))
    kept = torch.zeros_like(mask)
    kept.scatter_(1, scores.topk(min(keep, int(mask.sum(1).min())), dim=1).indices, True)
    return kept


@register("pdarts")
class PDarts(GradientSearcher):
    """Progressive DARTS; weights lr 0.025 cosine to 0, arch lr 6e-4 (P-DARTS's code)."""

    form = "mixed"
    compilable = False  # a graph per skip-dropout rate (one each epoch) and per stage's network
    default_hyper = Hyper(lr_min=0.0, arch_lr=6e-4)
    #: 25 epochs per stage (10 of them weights only), a first stage of 5 cells, C=16, batch 96.
    paper_budget = Budget(epochs=25, channels=16, layers=5, batch_size=96, warmup_epochs=10)

    def stages(self, space: str, budget: Budget) -> list[Stage]:
        return stage_plan(space, budget.layers)

    def begin_epoch(self, net: Supernet, epoch: int, budget: Budget, stage: Stage) -> dict[str, Any]:
        if epoch < budget.warmup_epochs:
            rate = stage.skip_dropout * (budget.epochs - epoch - 1) / budget.epochs
        else:
            rate = stage.skip_dropout * math.exp(-(epoch - budget.warmup_epochs) * DROPOUT_DECAY)
        net.set_skip_dropout(rate)
        return {
            "skip_dropout": rate,
            "layers": stage.layers,
            "kept_ops": int(net.op_mask(net.cell_types[0]).sum(1).max()),
        }

    def next_stage_masks(self, net: Supernet, keep: int) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            return {
                k: top_ops_mask(net.op_weights(k).cpu(), net.op_mask(k).cpu(), keep) for k in net.cell_types
            }

    def derive(self, net: Supernet) -> Any:
        if net.cell_types == ("normal", "reduce"):
            return net.genotype(max_skip=MAX_SKIP)
        return net.genotype()
