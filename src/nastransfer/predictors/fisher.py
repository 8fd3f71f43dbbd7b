"""Fisher: the diagonal-Fisher channel saliency of Theis et al., summed over the network.

Theis et al., "Faster gaze prediction with dense networks and Fisher pruning", 2018, estimate the
loss increase from removing channel k as 0.5 * mean_n (sum_spatial a_nk * dL/da_nk)^2, a the
channel's activation. As a zero-cost proxy (Abdelfattah et al., ICLR 2021, `SamsungLabs/zero-cost-nas`,
measure `fisher`): a is the output of each convolution and linear layer on one training batch,
BatchNorm in training mode; the reference spreads each channel's value over the weights of that
channel (in_channels/groups x kernel area of them) and sums all weights, so each channel counts
that many times here too.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from nastransfer.predictors.base import Batch, Predictor, check_labels, logits, net_dtype, scored_layers
from nastransfer.predictors.registry import register


@register("fisher")
class Fisher(Predictor):
    """sum over conv/linear layers and output channels k of 0.5 mean_n (sum a*dL/da)^2 x weights of k."""

    def score(self, net: nn.Module, batch: Batch) -> float:
        layers = scored_layers(net)
        acts: list[tuple[nn.Module, torch.Tensor]] = []
        handles = [layer.register_forward_hook(lambda m, _i, out: acts.append((m, out))) for layer in layers]
        try:
            net.train()
            out = logits(net, batch.inputs.to(net_dtype(net)))
        finally:
            for handle in handles:
                handle.remove()
        check_labels(out, batch)
        loss = nn.functional.cross_entropy(out, batch.targets)
        grads = torch.autograd.grad(loss, [a for _, a in acts], allow_unused=True)
        total = 0.0
        for (layer, act), grad in zip(acts, grads, strict=True):
            if grad is None:
                continue
            g_nk = (act.detach() * grad).flatten(2).sum(2) if act.ndim > 2 else act.detach() * grad
            per_channel = 0.5 * g_nk.pow(2).mean(0)
            total += float(per_channel.sum()) * math.prod(layer.weight.shape[1:])
        return total
