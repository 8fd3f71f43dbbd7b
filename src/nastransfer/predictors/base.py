"""What every zero-cost predictor shares: the interface, the checked input batch, and the layers scored.

A predictor scores a freshly initialised network from one batch (or only its shape) without
training it; a higher score should mean a better architecture. Following the released code of
Abdelfattah et al. (ICLR 2021, `SamsungLabs/zero-cost-nas`), per-weight scores are taken over the
weights of convolutions and linear layers (biases and BatchNorm excluded) and summed, and the
network runs in training mode (BatchNorm uses batch statistics).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from nastransfer.errors import ConfigError


@dataclass(frozen=True)
class Batch:
    """Inputs (N, C, H, W floats) and integer class labels (N,), checked once for every predictor."""

    inputs: torch.Tensor
    targets: torch.Tensor

    def __post_init__(self) -> None:
        x, y = self.inputs, self.targets
        if not isinstance(x, torch.Tensor) or x.ndim != 4 or not x.is_floating_point() or len(x) == 0:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ConfigError(f"predictor batch: inputs must be non-empty float (N, C, H, W), not {shape}")
        if not isinstance(y, torch.Tensor) or y.shape != (len(x),) or y.is_floating_point():
            shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
            raise ConfigError(f"predictor batch: targets must be {len(x)} integer labels, got {shape}")
        if not torch.isfinite(x).all():
            raise ConfigError("predictor batch: inputs hold NaN or infinite values")

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one input."""
        return tuple(int(s) for s in self.inputs.shape[1:])


class Predictor(ABC):
    """Scores an untrained network; `needs_data` is False when only the input shape matters.

    Every predictor scores a set of cells as `combine([measure(net, batch) for each cell])`
    (`cells.score_cells` does so): for most, `measure` is `{name: score}` and `combine` reads it
    back. A `relative` predictor (`RankedPredictor`) is released as a rank aggregate, so a cell's
    score depends on the cells scored with it: a caller compares only scores of one `combine`.
    """

    name: str = ""
    needs_data: bool = True
    relative: bool = False

    @abstractmethod
    def score(self, net: nn.Module, batch: Batch) -> float:
        """The score of `net` (its BatchNorm running statistics may change; its weights do not)."""

    def measure(self, net: nn.Module, batch: Batch) -> dict[str, float]:
        """What one cell contributes to `combine`: its score."""
        return {self.name: self.score(net, batch)}

    def combine(self, rows: list[dict[str, float]]) -> list[float]:
        """The scores of the cells whose `measure` rows these are, in order."""
        return [row[self.name] for row in rows]


class RankedPredictor(Predictor):
    """A predictor released as a rank aggregate of per-cell components (AZ-NAS, TE-NAS).

    `measure` gives one cell's component values (each also a predictor of its own), `combine` ranks
    each component over all the rows and aggregates the ranks. So the rows of every cell to be
    compared must reach one `combine`: a chunked measurement keeps the rows and combines once.
    """

    relative = True

    def score(self, net: nn.Module, batch: Batch) -> float:
        raise ConfigError(
            f"{self.name} ranks each cell among the cells scored with it: score the set together "
            "(predictors.score_cells) or combine the measure rows of all of them"
        )

    @abstractmethod
    def measure(self, net: nn.Module, batch: Batch) -> dict[str, float]:
        """One cell's component values, keyed by the component predictors' names."""

    @abstractmethod
    def combine(self, rows: list[dict[str, float]]) -> list[float]:
        """Each cell's aggregate of its components' ranks over `rows` (higher: better)."""


def component_values(rows: list[dict[str, float]], components: tuple[str, ...]) -> np.ndarray:
    """(components, cells) array of the rows' component values, for a rank aggregation."""
    if not rows:
        raise ConfigError("a rank aggregate needs at least one scored cell")
    return np.array([[row[c] for row in rows] for c in components], dtype=np.float64)


def logits(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The network's class scores: evaluation networks return `(logits, aux_logits)`."""
    out = net(x)
    return out[0] if isinstance(out, tuple) else out


def scored_layers(net: nn.Module) -> list[nn.Module]:
    """The convolutions and linear layers whose weights the per-weight predictors score."""
    layers = [m for m in net.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    if not layers:
        raise ConfigError(f"a {type(net).__name__} has no convolution or linear layer to score")
    return layers


def check_labels(out: torch.Tensor, batch: Batch) -> None:
    """Labels must index the network's classes (else cross-entropy fails with an obscure message)."""
    classes = out.shape[1]
    low, high = int(batch.targets.min()), int(batch.targets.max())
    if low < 0 or high >= classes:
        raise ConfigError(f"predictor batch: labels span {low}..{high} but the network has {classes} classes")


def loss_gradients(
    net: nn.Module, batch: Batch, create_graph: bool = False
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """(weights, dL/dweights) of the scored layers for the cross-entropy loss L of the batch."""
    net.train()
    out = logits(net, batch.inputs.to(net_dtype(net)))
    check_labels(out, batch)
    loss = nn.functional.cross_entropy(out, batch.targets)
    weights = [layer.weight for layer in scored_layers(net)]
    grads = torch.autograd.grad(loss, weights, create_graph=create_graph, allow_unused=True)
    grads = [torch.zeros_like(w) if g is None else g for w, g in zip(weights, grads, strict=True)]
    return weights, grads


def net_dtype(net: nn.Module) -> torch.dtype:
    parameter = next(net.parameters(), None)
    return parameter.dtype if parameter is not None else torch.get_default_dtype()


def sum_products(weights: list[torch.Tensor], grads: list[torch.Tensor | None], absolute: bool) -> float:
    """sum over layers of sum(w * g) (of |w * g| when `absolute`); layers without a gradient add 0."""
    total = 0.0
    for w, g in zip(weights, grads, strict=True):
        if g is not None:
            product = w.detach() * g.detach()
            total += float((product.abs() if absolute else product).sum())
    return total
