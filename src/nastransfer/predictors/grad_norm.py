"""Gradient norm: the sum over layers of the Euclidean norm of each layer's loss gradient.

Abdelfattah et al., "Zero-cost proxies for lightweight NAS", ICLR 2021 (released code
`SamsungLabs/zero-cost-nas`, measure `grad_norm`): cross-entropy of one training batch at
initialisation, ||dL/dW_l||_2 of each convolution and linear weight W_l, summed over layers.
"""

from __future__ import annotations

from torch import nn

from nastransfer.predictors.base import Batch, Predictor, loss_gradients
from nastransfer.predictors.registry import register


@register("grad_norm")
class GradNorm(Predictor):
    """sum over conv/linear layers of ||dL/dW||_2."""

    def score(self, net: nn.Module, batch: Batch) -> float:
        _, grads = loss_gradients(net, batch)
        return float(sum(float(g.norm()) for g in grads))
