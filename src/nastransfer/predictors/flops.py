"""FLOPs: multiply-adds of one forward pass, the compute baseline beside `params`.

Abdelfattah et al. (ICLR 2021) report FLOPs with the parameter count as the baselines; the count is
`nets.count_flops` (convolutions and linear layers, one image of the batch's shape). Data-free.
"""

from __future__ import annotations

from torch import nn

from nastransfer.nets import count_flops
from nastransfer.predictors.base import Batch, Predictor
from nastransfer.predictors.registry import register


@register("flops")
class Flops(Predictor):
    """Multiply-adds of one forward pass on one image of the batch's shape."""

    needs_data = False

    def score(self, net: nn.Module, batch: Batch) -> float:
        return float(count_flops(net, batch.shape))
