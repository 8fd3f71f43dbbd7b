"""The evaluation network of NAS-Bench-201: three stages of one repeated cell, residual blocks between.

Layout (NAS-Bench-201's TinyNetwork): 3x3 conv + BN stem to C channels; N cells at C, a residual
reduction block to 2C, N cells, a block to 4C, N cells; BN, ReLU, global average pooling, linear.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nastransfer.errors import GenotypeError
from nastransfer.nets.ops import NB201_OPS, ResNetBasicBlock
from nastransfer.spaces.nb201 import EDGES, NODES, Arch


class NB201Cell(nn.Module):
    """One fixed cell: node j sums each edge op applied to its source node; node 3 is the output."""

    def __init__(self, arch: Arch, C: int, affine: bool = True) -> None:
        super().__init__()
        self.edges = EDGES
        self.ops = nn.ModuleList(NB201_OPS[name](C, 1, affine) for name in arch.ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for to in range(1, NODES):
            nodes.append(
                sum(op(nodes[src]) for (t, src), op in zip(self.edges, self.ops, strict=True) if t == to)
            )
        return nodes[-1]


class NB201Net(nn.Module):
    """A NAS-Bench-201 network for training; `forward(x) -> (logits, None)` (no auxiliary head)."""

    def __init__(
        self, arch: Arch, C: int = 16, N: int = 5, *, num_classes: int, in_channels: int = 3
    ) -> None:
        super().__init__()
        if not isinstance(arch, Arch):
            raise GenotypeError(f"NB201Net needs an NB201 Arch, got {type(arch).__name__}")
        self.arch = arch
        self.drop_path_prob = 0.0  # accepted for the training loop's sake; NAS-Bench-201 trains without it
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
        blocks: list[nn.Module] = []
        C_prev = C
        for stage, C_stage in enumerate((C, 2 * C, 4 * C)):
            if stage > 0:
                blocks.append(ResNetBasicBlock(C_prev, C_stage, stride=2))
            blocks += [NB201Cell(arch, C_stage) for _ in range(N)]
            C_prev = C_stage
        self.cells = nn.Sequential(*blocks)
        self.lastact = nn.Sequential(nn.BatchNorm2d(C_prev), nn.ReLU(inplace=True))
        self.classifier = nn.Linear(C_prev, num_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        features = self.lastact(self.cells(self.stem(x)))
        return self.classifier(F.adaptive_avg_pool2d(features, 1).flatten(1)), None
