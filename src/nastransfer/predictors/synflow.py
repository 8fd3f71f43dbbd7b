"""SynFlow: the synaptic flow through the network with all weights made positive (data-free).

Tanaka et al., "Pruning neural networks without any data by iteratively conserving synaptic flow",
NeurIPS 2020, define R = 1^T (prod_l |W_l|) 1, the network's output summed for an all-ones input
with every parameter replaced by its absolute value, and score each weight by |w * dR/dw|.
Abdelfattah et al. (ICLR 2021, released code `SamsungLabs/zero-cost-nas`, measure `synflow`) use
it as a zero-cost proxy: BatchNorm switched off, float64 (the product of many layers overflows
float32), one all-ones input of the data's shape, and the score summed over the weights of
convolutions and linear layers. The result depends only on the initial weights and the input
shape, never on the images.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from nastransfer.predictors.base import Batch, Predictor, logits, scored_layers, sum_products
from nastransfer.predictors.registry import register


def without_batchnorm(net: nn.Module) -> nn.Module:
    """A copy of `net` with every BatchNorm replaced by the identity (the reference's `bn=False` copy)."""
    clone = copy.deepcopy(net)
    for parent in list(clone.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.modules.batchnorm._BatchNorm):
                setattr(parent, name, nn.Identity())
    return clone


@register("synflow")
class SynFlow(Predictor):
    """sum over conv/linear weights of |w * dR/dw|, R the summed output for a ones input, |params|."""

    needs_data = False

    def score(self, net: nn.Module, batch: Batch) -> float:
        linear = without_batchnorm(net).double()
        with torch.no_grad():
            for parameter in linear.parameters():
                parameter.abs_()
        ones = torch.ones((1, *batch.shape), dtype=torch.float64, device=batch.inputs.device)
        layers = scored_layers(linear)
        weights = [layer.weight for layer in layers]
        grads = torch.autograd.grad(logits(linear, ones).sum(), weights, allow_unused=True)
        return sum_products(weights, grads, absolute=True)
