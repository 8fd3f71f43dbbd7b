"""Re-initialised copies and Gaussian inputs for predictors whose released code draws its own.

Zen-NAS and SWAP re-draw every convolution and linear weight from N(0, 1), AZ-NAS from Kaiming's
normal (fan-in, ReLU gain); all set biases to 0 and normalisation layers' scale to 1 and shift to 0.
The draws come from torch's global generator, as in the released code (`predictors.score_cells`
seeds it before each cell), and a copy is re-initialised so the scored net keeps its weights.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn

from nastransfer.predictors.base import Batch, net_dtype

Init = Callable[[torch.Tensor], object]


def gaussian(weight: torch.Tensor) -> object:
    """N(0, 1), Zen-NAS's and SWAP's `network_weight_gaussian_init`."""
    return nn.init.normal_(weight)


def kaiming_fan_in(weight: torch.Tensor) -> object:
    """Kaiming normal, fan-in, ReLU gain: AZ-NAS's default `kaiming_norm_fanin`."""
    return nn.init.kaiming_normal_(weight, mode="fan_in", nonlinearity="relu")


def reinitialise(net: nn.Module, init: Init) -> nn.Module:
    """Re-draw `net`'s weights in place (as the released code does) and reset BatchNorm statistics."""
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.Conv2d | nn.Linear):
                init(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.modules.batchnorm._BatchNorm | nn.GroupNorm):
                if module.weight is not None:
                    nn.init.ones_(module.weight)
                    nn.init.zeros_(module.bias)
                if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.track_running_stats:
                    module.reset_running_stats()
    return net


def reinitialised(net: nn.Module, init: Init) -> nn.Module:
    """A copy of `net` re-initialised by `reinitialise`; `net` itself is left as it is."""
    return reinitialise(copy.deepcopy(net), init)


def gaussian_inputs(net: nn.Module, batch: Batch) -> torch.Tensor:
    """Standard normal images of the batch's size and shape in the net's dtype (the released codes'
    `torch.randn` stand-in for data)."""
    return torch.randn(batch.inputs.shape, dtype=net_dtype(net), device=batch.inputs.device)
