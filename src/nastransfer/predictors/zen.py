"""Zen-score: how much the pre-pooling features move under a small input perturbation, BN-rescaled.

Lin et al., "Zen-NAS: a zero-shot NAS for high-performance image recognition", ICCV 2021 (released
code `idstcv/ZenNAS`, `ZeroShotProxy/compute_zen_score.py`; its NB201 form in `cvlab-yonsei/AZ-NAS`,
`NB201/ZeroShotProxy/compute_zen_score.py`). Every convolution and linear weight re-drawn from
N(0, 1) (BatchNorm scale 1, shift 0), the network in training mode without gradients; x and e
standard normal images of the batch's size and shape, f the features before global pooling:

    zen = log(mean over images of sum |f(x) - f(x + 0.01 e)|)
          + sum over BatchNorm2d layers of log sqrt(mean of its running_var)

where the running variances are those after the two forward passes (momentum 0.1 from 1, as a
fresh network has them). One repeat, as the released search (`repeat=1`, batch 64) runs it. Higher
is better (more expressive). Data-free: only the batch's size and shape matter.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from nastransfer.predictors.base import Batch, Predictor
from nastransfer.predictors.registry import register
from nastransfer.predictors.reinit import gaussian, gaussian_inputs, reinitialised
from nastransfer.predictors.stages import pre_pooling

MIXUP_GAMMA = 1e-2


@register("zen")
class Zen(Predictor):
    """log E|f(x) - f(x + 0.01 e)| plus the log BatchNorm scales, weights from N(0, 1)."""

    needs_data = False

    def score(self, net: nn.Module, batch: Batch) -> float:
        copy = reinitialised(net, gaussian)
        copy.train()
        with torch.no_grad():
            x = gaussian_inputs(copy, batch)
            e = gaussian_inputs(copy, batch)
            out = pre_pooling(copy, x, self.name)
            mixed = pre_pooling(copy, x + MIXUP_GAMMA * e, self.name)
            change = float((out - mixed).abs().flatten(1).sum(1).mean())
            scales = sum(
                0.5 * math.log(float(m.running_var.mean()))
                for m in copy.modules()
                if isinstance(m, nn.BatchNorm2d) and m.running_var is not None
            )
        return (math.log(change) if change > 0 else -math.inf) + scales
