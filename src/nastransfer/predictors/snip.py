"""SNIP: connection sensitivity, |w * dL/dw| summed over the weights, on one batch at initialisation.

Lee et al., "SNIP: single-shot network pruning based on connection sensitivity", ICLR 2019,
score each connection by |dL/dc| for a multiplicative mask c = 1 on it, which equals |w * dL/dw|.
As a zero-cost proxy (Abdelfattah et al., ICLR 2021, `SamsungLabs/zero-cost-nas`, measure
`snip`): cross-entropy of one training batch, BatchNorm in training mode, summed over the weights
of convolutions and linear layers.
"""

from __future__ import annotations

from torch import nn

from nastransfer.predictors.base import Batch, Predictor, loss_gradients, sum_products
from nastransfer.predictors.registry import register


@register("snip")
class Snip(Predictor):
    """sum |w * dL/dw| over conv/linear weights, L the cross-entropy of the batch."""

    def score(self, net: nn.Module, batch: Batch) -> float:
        weights, grads = loss_gradients(net, batch)
        return sum_products(weights, grads, absolute=True)
