"""ZiCo: the inverse coefficient of variation of each layer's weight gradients over batches.

Li et al., "ZiCo: Zero-shot NAS via inverse coefficient of variation on gradients", ICLR 2023
(released code `SLDGroup/ZiCo`, `ZeroShotProxy/compute_zico.py`; its NB201 form in
`cvlab-yonsei/AZ-NAS`, `NB201/ZeroShotProxy/compute_zico_score.py`). The network in training
mode takes the cross-entropy gradient of two batches, each from zeroed gradients; for each
convolution and linear weight layer, with g_b the flattened weight gradient of batch b,

    zico = sum over layers of log( sum over weights with std > 0 of mean_b |g_b| / std_b g_b )

(std over the batches with divisor B, as numpy's default); a layer whose sum is 0 adds nothing.
Higher is better (large, steady gradients: the network trains fast and generalises).

Here the two batches are the two halves of the given batch (as `HamsterMimi/MeCo`'s copy of ZiCo
splits its one batch); the released search draws two loader batches, so a batch of 2 x 64 images
gives the released sizes.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from nastransfer.errors import ConfigError
from nastransfer.predictors.base import Batch, Predictor, loss_gradients
from nastransfer.predictors.registry import register

SPLITS = 2


def inverse_variation(gradients: np.ndarray) -> float:
    """log(sum(mean|g| / std g)) over the weights whose std over the rows (batches) is not 0; 0 if none."""
    std = gradients.std(axis=0)
    nonzero = std != 0
    total = float(np.sum(np.abs(gradients).mean(axis=0)[nonzero] / std[nonzero]))
    return float(np.log(total)) if total != 0 else 0.0


@register("zico")
class ZiCo(Predictor):
    """sum over conv/linear layers of log(sum(mean |grad| / std grad)) over the batch's two halves."""

    def score(self, net: nn.Module, batch: Batch) -> float:
        n = len(batch.inputs)
        if n < SPLITS:
            raise ConfigError(
                f"zico needs a batch of at least {SPLITS} images (it compares the gradients of its halves)"
            )
        per_split = []
        for part in range(SPLITS):
            rows = slice(part * n // SPLITS, (part + 1) * n // SPLITS)
            _, grads = loss_gradients(net, Batch(batch.inputs[rows], batch.targets[rows]))
            per_split.append([g.detach().flatten().double().cpu().numpy() for g in grads])
        return float(sum(inverse_variation(np.stack(layer)) for layer in zip(*per_split, strict=True)))
