"""GraSP: gradient signal preservation, -w * (H g) summed over the weights (one Hessian-vector product).

Wang et al., "Picking winning tickets before training by preserving gradient flow", ICLR 2020,
score weights by -theta * H g, g the loss gradient and H the Hessian. As a zero-cost proxy
(Abdelfattah et al., ICLR 2021, `SamsungLabs/zero-cost-nas`, measure `grasp`): g from one batch
(temperature 1), H g as the gradient of the scalar g_detached . dL/dw (built with
`create_graph`), score sum of -w * Hg over the weights of convolutions and linear layers; the sign
is the reference's (accuracy correlated negatively with the unsigned one).
"""

from __future__ import annotations

import torch
from torch import nn

from nastransfer.predictors.base import Batch, Predictor, loss_gradients, sum_products
from nastransfer.predictors.registry import register


@register("grasp")
class Grasp(Predictor):
    """sum of -w * (H g) over conv/linear weights, g = dL/dw on the batch, H = d^2L/dw^2."""

    def score(self, net: nn.Module, batch: Batch) -> float:
        weights, grads = loss_gradients(net, batch, create_graph=True)
        z = sum((g.detach() * g).sum() for g in grads)
        if not z.requires_grad:  # the loss is linear in every weight: H g = 0
            return 0.0
        hg = torch.autograd.grad(z, weights, allow_unused=True)
        return -sum_products(weights, list(hg), absolute=False)
