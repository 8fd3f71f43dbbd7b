"""AZ-NAS: expressivity, progressivity, trainability and complexity, aggregated by log-rank sum.

Lee & Ham, "AZ-NAS: assembling zero-cost proxies for network architecture search", CVPR 2024
(released code `cvlab-yonsei/AZ-NAS`, `NB201/ZeroShotProxy/compute_az_nas_score.py` and the
rank aggregation of `NB201/tss_general.ipynb`). The network, re-initialised with Kaiming's normal
(fan-in, ReLU gain; BatchNorm scale 1, shift 0) in training mode, takes standard normal images of
the batch's size and shape (the released NB201 run uses random inputs for AZ-NAS); its features
F_0 (the stem's output), F_1.. (each cell's and residual block's output) give

- expressivity: sum over l of the entropy -sum p log(p + 1e-8) of p = the eigenvalues of F_l's
  channel covariance (over images and positions, divisor n) divided by their sum;
- progressivity: the smallest increase of that entropy from F_{l-1} to F_l;
- trainability: the mean over blocks of 2 - s - 1/(s + 1e-6), s the largest singular value of
  the block's Jacobian probed by a Rademacher g: M = g_in^T g / (B H W), g_in = g dF_l/dF_{l-1}
  (pixel-unshuffled to F_l's size after a stride); -inf where g_in equals g (an identity block);
- complexity: the FLOPs (here `nets.count_flops` at the batch's shape; released: the NB201 table's).

A NaN component becomes -inf. `az_nas` sums log(rank / n) of the four over the scored cells
(`vote:` of the four; a non-finite value ranks lowest), so a cell's score is relative to them.
Higher is better in all five. Data-free.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nastransfer.errors import ConfigError
from nastransfer.nets import count_flops
from nastransfer.predictors.base import Batch, Predictor, RankedPredictor, component_values
from nastransfer.predictors.flops import Flops
from nastransfer.predictors.registry import register
from nastransfer.predictors.reinit import gaussian_inputs, kaiming_fan_in, reinitialised
from nastransfer.predictors.stages import block_outputs
from nastransfer.predictors.vote import Vote

COMPONENTS = ("az_expressivity", "az_progressivity", "az_trainability", "az_complexity")
EPSILON = 1e-8


def spectrum_entropy(feature: torch.Tensor) -> float:
    """Entropy of the normalised eigenvalues of the channel covariance of a (B, C, H, W) map.

    In float64: a rank-deficient covariance (the stem's 16 channels of a 1-channel image span at
    most 9 dimensions) has zero eigenvalues that float32 rounds below -1e-8 of their sum, where
    log(p + 1e-8) is NaN and the component -inf for every cell.
    """
    rows = feature.permute(0, 2, 3, 1).reshape(-1, feature.shape[1]).double()
    rows = rows - rows.mean(dim=0, keepdim=True)
    eigenvalues = torch.linalg.eigvalsh(rows.T @ rows / rows.shape[0])
    p = eigenvalues / eigenvalues.sum()
    return float((-p * torch.log(p + EPSILON)).sum())


def block_trainability(f_in: torch.Tensor, f_out: torch.Tensor) -> float:
    """2 - s - 1/(s + 1e-6), s the top singular value of the block's Rademacher-probed Jacobian."""
    g_out = (torch.bernoulli(torch.full_like(f_out, 0.5)) - 0.5) * 2
    (g_in,) = torch.autograd.grad(f_out, f_in, g_out, allow_unused=True)
    if g_in is None:
        g_in = torch.zeros_like(f_in)
    if g_in.shape == g_out.shape and torch.equal(g_in, g_out):
        return -math.inf
    (b, c_out, h, w), (h_in, w_in) = g_out.shape, g_in.shape[2:]
    if (h_in, w_in) != (h, w):
        if h_in % h or w_in % w or h_in // h != w_in // w:
            raise ConfigError(
                f"az_trainability: a block maps {h_in}x{w_in} to {h}x{w}, not an integer stride"
            )
        g_in = F.pixel_unshuffle(g_in, h_in // h)
    a = g_in.permute(0, 2, 3, 1).reshape(b * h * w, -1)
    m = a.T @ g_out.permute(0, 2, 3, 1).reshape(b * h * w, c_out) / (b * h * w)
    s = float(torch.linalg.svdvals(m).max())
    return -s - 1 / (s + 1e-6) + 2


def az_components(net: nn.Module, batch: Batch, trainability: bool) -> dict[str, float]:
    """The four components of one cell (trainability only when asked: it needs the backward)."""
    copy = reinitialised(net, kaiming_fan_in)
    copy.train()
    x = gaussian_inputs(copy, batch)
    with torch.set_grad_enabled(trainability):
        features = block_outputs(copy, x, "az_nas")
    entropies = np.array([spectrum_entropy(f.detach()) for f in features])
    values = {
        "az_expressivity": float(entropies.sum()),
        "az_progressivity": float(np.min(np.diff(entropies))),
        "az_complexity": float(count_flops(net, batch.shape)),
    }
    if trainability:
        terms = [block_trainability(features[i - 1], features[i]) for i in reversed(range(1, len(features)))]
        values["az_trainability"] = float(np.mean(terms))
    return {k: -math.inf if math.isnan(v) else v for k, v in values.items()}


class _Component(Predictor):
    needs_data = False

    def score(self, net: nn.Module, batch: Batch) -> float:
        return az_components(net, batch, trainability=self.name == "az_trainability")[self.name]


@register("az_expressivity")
class Expressivity(_Component):
    """Summed entropy of the block features' channel-covariance spectra (higher: more expressive)."""


@register("az_progressivity")
class Progressivity(_Component):
    """Smallest entropy increase from one block's features to the next."""


@register("az_trainability")
class Trainability(_Component):
    """Mean over blocks of 2 - s - 1/s, s the block Jacobian's top singular value (best at s = 1)."""


@register("az_complexity")
class Complexity(Flops):
    """FLOPs, AZ-NAS's complexity component (more is better)."""


@register("az_nas")
class AzNas(RankedPredictor):
    """sum over the four components of log(rank / n) among the scored cells."""

    needs_data = False

    def measure(self, net: nn.Module, batch: Batch) -> dict[str, float]:
        return az_components(net, batch, trainability=True)

    def combine(self, rows: list[dict[str, float]]) -> list[float]:
        return Vote("vote", COMPONENTS).aggregate(component_values(rows, COMPONENTS)).tolist()
