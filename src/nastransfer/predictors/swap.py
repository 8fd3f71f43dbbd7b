"""SWAP: the number of distinct sample-wise activation patterns of the ReLU units (+ a size prior).

Peng et al., "SWAP-NAS: sample-wise activation patterns for ultra-fast NAS", ICLR 2024 (released
code `pym1024/SWAP`, `src/metrics/swap.py`, `correlation.py`): 16 training images through the
network in training mode; every `nn.ReLU` whose input is a 4-D map gives its output's sign, one
bit per unit and image; each unit's pattern is its bits over the 16 images, and the score is the
number of distinct patterns over all units. It is averaged over 32 repeats, each after re-drawing
every convolution and linear weight from N(0, 1) (BatchNorm scale 1, shift 0). Higher is better
(more expressive).

`swap_reg` multiplies each repeat's count by exp(-(P - mu)^2 / sigma), P the parameter count in
thousands (`count_parameters` / 1e3 as released): a Gaussian prior on model size. The released
code takes mu and sigma as arguments and publishes no NB201 values; the defaults here centre the
prior on the largest NB201 network at C=16, N=5 (all 3x3 convolutions, 1,531 K parameters with 3
input channels and 10 classes) with sigma = mu^2, so it grows with size over the whole space.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from nastransfer.errors import ConfigError
from nastransfer.predictors.base import Batch, Predictor, net_dtype
from nastransfer.predictors.registry import register
from nastransfer.predictors.reinit import gaussian, reinitialise, reinitialised

SAMPLES = 16
REPEATS = 32
MU_K = 1531.0
SIGMA_K2 = MU_K**2
KEY_BITS = 62


def relu_codes(net: nn.Module, x: torch.Tensor, who: str) -> torch.Tensor:
    """(images, units) booleans: each ReLU unit (of a 4-D map) on or off for each image, in call order."""
    relus = [m for m in net.modules() if isinstance(m, nn.ReLU)]
    if not relus:
        raise ConfigError(f"{who} reads activation patterns of ReLU modules; a {type(net).__name__} has none")
    maps: list[torch.Tensor] = []

    def keep(_module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        if inputs[0].ndim == 4:
            maps.append((output.detach() > 0).flatten(1))

    handles = [relu.register_forward_hook(keep) for relu in relus]
    try:
        net.train()
        with torch.no_grad():
            net(x)
    finally:
        for handle in handles:
            handle.remove()
    if not maps:
        raise ConfigError(f"{who}: no ReLU of {type(net).__name__} ran on a 4-D feature map")
    return torch.cat(maps, dim=1)


def distinct_columns(codes: torch.Tensor) -> int:
    """The number of distinct columns of a boolean (rows, columns) matrix.

    Up to 62 rows, each column becomes one integer key (bit i = row i) and the keys are counted by
    a sort (a row-wise unique of a million columns is ~30x slower); more rows are packed into bytes.
    """
    if len(codes) <= KEY_BITS:
        keys = torch.zeros(codes.shape[1], dtype=torch.int64, device=codes.device)
        for bit, row in enumerate(codes):
            keys |= row.to(torch.int64) << bit
        return int(torch.unique(keys).numel())
    return len(np.unique(np.packbits(codes.cpu().numpy().T, axis=1), axis=0))


def param_thousands(net: nn.Module) -> float:
    """Parameters in thousands, auxiliary head excluded (the released `count_parameters`)."""
    return sum(p.numel() for name, p in net.named_parameters() if "auxiliary" not in name) / 1e3


@register("swap")
class Swap(Predictor):
    """Mean over 32 N(0, 1) re-draws of the number of distinct ReLU patterns over 16 images."""

    def __init__(self, mu_k: float | None = None, sigma_k2: float | None = None) -> None:
        self.mu_k, self.sigma_k2 = mu_k, sigma_k2

    def score(self, net: nn.Module, batch: Batch) -> float:
        if len(batch.inputs) < 2:
            raise ConfigError(f"{self.name} needs a batch of at least 2 images (it compares their patterns)")
        factor = 1.0
        if self.mu_k is not None and self.sigma_k2 is not None:
            factor = math.exp(-((param_thousands(net) - self.mu_k) ** 2) / self.sigma_k2)
        x = batch.inputs[:SAMPLES].to(net_dtype(net))
        copy = reinitialised(net, gaussian)
        counts = []
        for repeat in range(REPEATS):
            if repeat:
                reinitialise(copy, gaussian)
            counts.append(distinct_columns(relu_codes(copy, x, self.name)) * factor)
        return float(np.mean(counts))


@register("swap_reg")
class SwapRegularised(Swap):
    """`swap` times exp(-(params/1e3 - mu)^2 / sigma), the parameter-count regularised SWAP."""

    def __init__(self, mu_k: float = MU_K, sigma_k2: float = SIGMA_K2) -> None:
        super().__init__(mu_k, sigma_k2)
