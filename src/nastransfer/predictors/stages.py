"""The feature maps that AZ-NAS and Zen-NAS read from a NAS-Bench-201 network, by its parts.

Their released NB201 networks (`TinyNetwork` with `extract_cell_features` and `forward_pre_GAP`)
expose the stem's output, each cell's and residual block's output, and the last BatchNorm-ReLU's
output before global pooling. `nets.NB201Net` has the same parts (`stem`, the blocks in `cells`,
`lastact`), so these read them the same way; a network without them is refused.
"""

from __future__ import annotations

import torch
from torch import nn

from nastransfer.errors import ConfigError


def _parts(net: nn.Module, who: str) -> tuple[nn.Module, nn.Sequential, nn.Module]:
    stem, cells, lastact = (getattr(net, part, None) for part in ("stem", "cells", "lastact"))
    if not (
        isinstance(stem, nn.Module) and isinstance(cells, nn.Sequential) and isinstance(lastact, nn.Module)
    ):
        raise ConfigError(
            f"{who} reads the stem, block and pre-pooling features of a NAS-Bench-201 network; "
            f"a {type(net).__name__} has no stem/cells/lastact"
        )
    return stem, cells, lastact


def block_outputs(net: nn.Module, x: torch.Tensor, who: str) -> list[torch.Tensor]:
    """The stem's output and then each cell's and reduction block's output, in order."""
    stem, cells, _ = _parts(net, who)
    features = [stem(x)]
    for block in cells:
        features.append(block(features[-1]))
    return features


def pre_pooling(net: nn.Module, x: torch.Tensor, who: str) -> torch.Tensor:
    """The last BatchNorm-ReLU's output, the map global pooling averages (`forward_pre_GAP`)."""
    stem, cells, lastact = _parts(net, who)
    return lastact(cells(stem(x)))
