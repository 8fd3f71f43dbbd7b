"""GDAS (Dong & Yang, CVPR 2019): one op per edge by hard Gumbel-softmax, tau annealed 10 -> 0.1.

From the released code (D-X-Y/AutoDL-Projects: `search_model_gdas*.py`, `exps/algos/GDAS.py`,
`configs/search-opts/GDAS-NASNet-CIFAR.config`): the supernet forward (in the NB201 space every
unsampled op's zero hard weight joins its edge's sum, so all its architecture parameters get
straight-through gradients), the tau schedule, the derivation rule in the DARTS space (a node's 2
strongest (op, input) pairs over all its edges), Nesterov SGD with momentum 0.9 and weight decay 5e-4,
the weight step before the architecture step on each batch pair, Adam(3e-4, betas (0.5, 0.999),
weight decay 1e-3) on the architecture, gradient clip 5, cosine learning rate 0.025 -> 0.001.
From the study's common protocol (`Budget`): epochs, batch size, channels, layers and data.
docs/methods.md lists what still differs from the released code.
"""

from __future__ import annotations

from typing import Any

from nastransfer.nets.supernets import DartsSupernet, Supernet
from nastransfer.search.budget import Budget
from nastransfer.search.gradient import GradientSearcher, Hyper, Stage
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
    compilable = False  # the sampled op ids pick the ops that run: a graph per Gumbel sample
    default_hyper = Hyper(nesterov=True, weight_decay=5e-4)
    weight_step_first = True
    #: 250 epochs of DARTS's 8-cell, C=16 supernet at batch 64 (Dong & Yang).
    paper_budget = Budget(epochs=250, channels=16, layers=8, batch_size=64)

    def begin_epoch(self, net: Supernet, epoch: int, budget: Budget, stage: Stage) -> dict[str, Any]:
        tau = tau_at(epoch, budget.epochs)
        net.set_tau(tau)
        return {"tau": tau}

    def derive(self, net: Supernet) -> Any:
        return net.genotype(rule="gdas") if isinstance(net, DartsSupernet) else net.genotype()
