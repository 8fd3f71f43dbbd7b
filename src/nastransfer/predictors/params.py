"""Parameter count: the size baseline every zero-cost predictor must beat.

Abdelfattah et al. (ICLR 2021) and later surveys (e.g. White et al., "A deeper look at zero-cost
proxies", 2022) find the number of parameters a strong ranking proxy on NAS-Bench-201 (Spearman
about 0.7 on CIFAR-10), so a predictor is only useful where it does better. Data-free.
"""

from __future__ import annotations

from torch import nn

from nastransfer.nets import count_params
from nastransfer.predictors.base import Batch, Predictor
from nastransfer.predictors.registry import register


@register("params")
class Params(Predictor):
    """The network's parameter count (auxiliary head excluded)."""

    needs_data = False

    def score(self, net: nn.Module, batch: Batch) -> float:
        return float(count_params(net))
