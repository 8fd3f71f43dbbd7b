"""NASWOT: log-determinant of the kernel of binary ReLU activation codes over one batch.

Mellor et al., "Neural architecture search without training", ICML 2021 (released code
`BayesWatch/nas-without-training`): each image gets a binary code c_n, one bit per ReLU unit
(1 where the unit is active, input > 0); K[n, m] counts the units on which images n and m agree,
K = C C^T + (1 - C)(1 - C)^T, and the score is log|det K|. Distinct codes (the network tells the
images apart) give a large score. BatchNorm in training mode, accumulated in float64.
"""

from __future__ import annotations

import torch
from torch import nn

from nastransfer.errors import ConfigError
from nastransfer.predictors.base import Batch, Predictor, net_dtype
from nastransfer.predictors.registry import register


def hamming_kernel(codes: torch.Tensor) -> torch.Tensor:
    """K = C C^T + (1-C)(1-C)^T of binary codes (N, units): units on which each pair agrees."""
    c = codes.double()
    return c @ c.T + (1 - c) @ (1 - c).T


@register("naswot")
class Naswot(Predictor):
    """log|det K|, K[n, m] the number of ReLU units on which images n and m are both on or both off."""

    def score(self, net: nn.Module, batch: Batch) -> float:
        relus = [m for m in net.modules() if isinstance(m, nn.ReLU)]
        if not relus:
            raise ConfigError(f"naswot reads codes from ReLU modules; a {type(net).__name__} has none")
        n = len(batch.inputs)
        kernel = torch.zeros((n, n), dtype=torch.float64)

        def add_codes(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
            kernel.add_(hamming_kernel((output.detach().flatten(1) > 0).cpu()))

        handles = [relu.register_forward_hook(add_codes) for relu in relus]
        try:
            net.train()
            with torch.no_grad():
                net(batch.inputs.to(net_dtype(net)))
        finally:
            for handle in handles:
                handle.remove()
        return float(torch.linalg.slogdet(kernel)[1])
