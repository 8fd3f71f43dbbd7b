"""Jacobian covariance: how uncorrelated the input-Jacobians of different images are at initialisation.

Mellor et al., "Neural architecture search without training" (arXiv v1, 2020), as a zero-cost
proxy in Abdelfattah et al. (ICLR 2021, `SamsungLabs/zero-cost-nas`, measure `jacob_cov`): J_n is
the gradient of the summed outputs with respect to image n, flattened; C the correlation matrix of
the J_n over the batch, with eigenvalues v; the score is -sum(log(v + k) + 1/(v + k)), k = 1e-5,
highest when the images' Jacobians are uncorrelated (C near the identity). BatchNorm in training
mode. NaN when an image's Jacobian is constant (its correlation is undefined).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from nastransfer.errors import ConfigError
from nastransfer.predictors.base import Batch, Predictor, logits, net_dtype
from nastransfer.predictors.registry import register

EPSILON = 1e-5


def correlation_score(jacobians: np.ndarray) -> float:
    """-sum(log(v + k) + 1/(v + k)) over the eigenvalues v of the rows' correlation matrix."""
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(jacobians)
    if not np.isfinite(corr).all():
        return float("nan")
    v = np.linalg.eigvalsh(corr)
    return float(-np.sum(np.log(v + EPSILON) + 1.0 / (v + EPSILON)))


@register("jacob_cov")
class JacobCov(Predictor):
    """-sum(log(v+k) + 1/(v+k)), v the eigenvalues of the correlation of per-image input Jacobians."""

    def score(self, net: nn.Module, batch: Batch) -> float:
        if len(batch.inputs) < 2:
            raise ConfigError("jacob_cov needs a batch of at least 2 images (it correlates their Jacobians)")
        net.train()
        x = batch.inputs.to(net_dtype(net)).detach().requires_grad_(True)
        (jac,) = torch.autograd.grad(logits(net, x).sum(), x)
        return correlation_score(jac.flatten(1).double().cpu().numpy())
