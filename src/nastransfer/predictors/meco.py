"""MeCo: the minimum eigenvalue of the channel correlation of each module's feature map, summed.

Jiang et al., "MeCo: zero-shot NAS with one data and single forward pass via minimum eigenvalue of
correlation", NeurIPS 2023 (released code `HamsterMimi/MeCo`, `correlation/NAS_Bench_201.py`,
measure `meco`): one training image (batch size 1) through the network at its default
initialisation in training mode; a forward hook on every module (the network itself included)
takes the image's output, one row per channel (C, H*W) (a vector of k values: k rows of one
value), its correlation matrix across channels with NaN and infinite entries set to 0, and that
matrix's smallest eigenvalue; the score is the sum over modules, NaN and infinite terms dropped.
Higher is better (channels less redundant).

The image is the batch's first. Hooks see the modules of `nets.NB201Net`, whose tree differs from
the released NB201 model's (there each conv op is a module wrapping a Sequential and the cells a
ModuleList; here the op is the Sequential and the cells a Sequential), so a few feature maps count
once more or less than there; a network returning (logits, aux) counts its logits, as the released
model returns logits alone.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from nastransfer.predictors.base import Batch, Predictor, net_dtype
from nastransfer.predictors.registry import register


def min_correlation_eigenvalue(feature: torch.Tensor) -> float:
    """Smallest eigenvalue of the correlation between the rows of `feature` (C, ...) flattened per row,
    non-finite correlations set to 0 (a constant row correlates with nothing)."""
    rows = feature.reshape(feature.shape[0], -1).double()
    if rows.shape[1] < 2:  # one value per row: every correlation undefined, so all set to 0
        return 0.0
    corr = torch.corrcoef(rows).reshape(len(rows), len(rows))
    corr[~torch.isfinite(corr)] = 0.0
    return float(torch.linalg.eigvalsh(corr)[0])


@register("meco")
class MeCo(Predictor):
    """sum over modules of the smallest eigenvalue of their channel correlation on one image."""

    def score(self, net: nn.Module, batch: Batch) -> float:
        terms: list[float] = []

        def record(_module: nn.Module, _inputs: tuple, output: object) -> None:
            first = output[0] if isinstance(output, tuple) else output
            if isinstance(first, torch.Tensor) and first.ndim >= 1 and first.numel() > 0:
                terms.append(min_correlation_eigenvalue(first.detach()[0]))

        handles = [module.register_forward_hook(record) for module in net.modules()]
        try:
            net.train()
            with torch.no_grad():
                net(batch.inputs[:1].to(net_dtype(net)))
        finally:
            for handle in handles:
                handle.remove()
        return float(sum(t for t in terms if math.isfinite(t)))
