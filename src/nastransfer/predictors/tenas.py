"""TE-NAS: the NTK's condition number and the number of linear regions, rank-summed.

Chen et al., "Neural architecture search on ImageNet in four GPU hours: a theoretically inspired
perspective", ICLR 2021 (released code `VITA-Group/TENAS`, `lib/procedures/ntk.py` and
`linear_region_counter.py`); as a per-network score on NB201 in `cvlab-yonsei/AZ-NAS`
(`NB201/ZeroShotProxy/compute_te_nas_score.py` and `tss_general.ipynb`, the form used here):

- `tenas_ntk`: the network (default initialisation) in training mode takes the batch's images;
  row n of J is the gradient of image n's summed logits with respect to every parameter named
  `weight` (convolutions, BatchNorm scales, the classifier), one backward per image; the NTK is
  J J^T and the score is minus its condition number lambda_max / lambda_min (a NaN condition
  counts as 100,000). Higher is better (a well-conditioned NTK trains fast).
- `tenas_lr`: standard normal images of the batch's size and shape through the same network in
  training mode; each image's pattern is the sign of every ReLU unit (of 4-D maps), and the score
  is the number of distinct patterns, i.e. of linear regions the images fall in. Higher is better.
- `tenas`: the sum of the two ranks over the scored cells (`relative`; a non-finite value ranks
  lowest). Higher is better.

On a full NB201 network every one of 64 normal images falls in a region of its own (some 10^5
ReLU units), so `tenas_lr` is the batch size for every cell and `tenas` ranks by the NTK; TE-NAS's
own pruning search counts regions on a one-channel, one-cell copy of its supernet with 3,000
3x3 crops instead, which per-cell scoring has no counterpart of.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from nastransfer.errors import ConfigError
from nastransfer.predictors.base import (
    Batch,
    Predictor,
    RankedPredictor,
    check_labels,
    component_values,
    logits,
    net_dtype,
)
from nastransfer.predictors.registry import register
from nastransfer.predictors.reinit import gaussian_inputs
from nastransfer.predictors.swap import distinct_columns, relu_codes
from nastransfer.predictors.vote import Vote

COMPONENTS = ("tenas_ntk", "tenas_lr")
NAN_CONDITION = 100000.0


def ntk_gram(net: nn.Module, batch: Batch) -> torch.Tensor:
    """J J^T, J's row n the gradient of image n's summed logits over the parameters named `weight`."""
    weights = [p for name, p in net.named_parameters() if "weight" in name.split(".")[-1] and p.requires_grad]
    if not weights:
        raise ConfigError(f"tenas_ntk differentiates weights; a {type(net).__name__} has none")
    net.train()
    out = logits(net, batch.inputs.to(net_dtype(net)))
    check_labels(out, batch)
    rows = []
    for n in range(len(out)):
        grads = torch.autograd.grad(out[n].sum(), weights, retain_graph=n < len(out) - 1, allow_unused=True)
        rows.append(torch.cat([g.flatten() for g in grads if g is not None]))
    jacobian = torch.stack(rows)
    return jacobian @ jacobian.T


def condition_number(gram: torch.Tensor) -> float:
    """lambda_max / lambda_min of a symmetric matrix; a NaN ratio counts as 100,000 (as released)."""
    eigenvalues = torch.linalg.eigvalsh(gram)
    ratio = float(eigenvalues[-1] / eigenvalues[0])
    return NAN_CONDITION if math.isnan(ratio) else ratio


@register("tenas_ntk")
class NtkCondition(Predictor):
    """Minus the condition number of the empirical NTK on the batch."""

    def score(self, net: nn.Module, batch: Batch) -> float:
        if len(batch.inputs) < 2:
            raise ConfigError(
                "tenas_ntk needs a batch of at least 2 images (the NTK of one image has one eigenvalue)"
            )
        return -condition_number(ntk_gram(net, batch))


@register("tenas_lr")
class LinearRegions(Predictor):
    """The number of distinct ReLU patterns of standard normal images of the batch's size and shape.

    It reads no image, but as many as the batch holds: a source's batch, not a 2-image stand-in.
    """

    def score(self, net: nn.Module, batch: Batch) -> float:
        codes = relu_codes(net, gaussian_inputs(net, batch), self.name)
        return float(distinct_columns(codes.T))


@register("tenas")
class Tenas(RankedPredictor):
    """rank(-NTK condition) + rank(linear regions) among the scored cells."""

    def measure(self, net: nn.Module, batch: Batch) -> dict[str, float]:
        return {
            name: predictor.score(net, batch)
            for name, predictor in zip(COMPONENTS, (NtkCondition(), LinearRegions()), strict=True)
        }

    def combine(self, rows: list[dict[str, float]]) -> list[float]:
        mean_rank = Vote("vote-mean", COMPONENTS).aggregate(component_values(rows, COMPONENTS))
        return (mean_rank * len(COMPONENTS)).tolist()
