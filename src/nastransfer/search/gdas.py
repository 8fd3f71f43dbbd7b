"""GDAS (Dong & Yang, CVPR 2019): one op per edge by hard Gumbel-softmax, tau annealed 10 -> 0.1."""

from __future__ import annotations

from typing import Any

from nastransfer.nets.supernets import Supernet
from nastransfer.search.budget import Budget
from nastransfer.search.gradient import GradientSearcher, Stage
from nastransfer.search.registry import register

TAU_MAX, TAU_MIN = 10.0, 0.1


def tau_at(epoch: int, epochs: int) -> float:
    """Linear schedule from TAU_MAX at the first epoch to TAU_MIN at the last."""
    if epochs <= 1:
        return TAU_MAX
    done = epoch / (epochs - 1)
    return TAU_MAX * (1.0 - done) + TAU_MIN * done


@register("gdas")
class Gdas(GradientSearcher):
    """Sampled supernet: only the sampled op of each edge runs; straight-through arch gradients."""

    form = "sampled"
    #: 250 epochs of DARTS's 8-cell, C=16 supernet at batch 64 (Dong & Yang).
    paper_budget = Budget(epochs=250, channels=16, layers=8, batch_size=64)

    def begin_epoch(self, net: Supernet, epoch: int, budget: Budget, stage: Stage) -> dict[str, Any]:
        tau = tau_at(epoch, budget.epochs)
        net.set_tau(tau)
        return {"tau": tau}
