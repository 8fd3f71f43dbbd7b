"""The evaluation network of the DARTS space: a stack of one genotype's cells, as DARTS trains them.

Layout (DARTS's NetworkCIFAR / NetworkImageNet): a stem, `layers` cells with reduction cells at
`layers // 3` and `2 * layers // 3` (channels double there), an optional auxiliary head after
cell `2 * layers // 3`, global average pooling and a linear classifier.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nastransfer.errors import ConfigError, GenotypeError
from nastransfer.nets.ops import OPS, FactorizedReduce, ReLUConvBN, drop_path
from nastransfer.spaces.darts import Genotype

STEM_MULTIPLIER = 3


class EvalCell(nn.Module):
    """One fixed cell: preprocess both inputs to C channels, sum two ops per node, concatenate nodes."""

    def __init__(
        self, genotype: Genotype, C_prev_prev: int, C_prev: int, C: int, reduction: bool, reduction_prev: bool
    ) -> None:
        super().__init__()
        self.reduction = reduction
        self.preprocess0 = (
            FactorizedReduce(C_prev_prev, C) if reduction_prev else ReLUConvBN(C_prev_prev, C, 1, 1, 0)
        )
        self.preprocess1 = ReLUConvBN(C_prev, C, 1, 1, 0)
        edges = genotype.reduce if reduction else genotype.normal
        self.concat = genotype.reduce_concat if reduction else genotype.normal_concat
        self.multiplier = len(self.concat)
        self.inputs = tuple(index for _, index in edges)
        self.ops = nn.ModuleList(
            OPS[name](C, 2 if reduction and index < 2 else 1, True) for name, index in edges
        )
        self.steps = len(edges) // 2

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, drop_prob: float = 0.0) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for node in range(self.steps):
            total = 0
            for edge in (2 * node, 2 * node + 1):
                h = self.ops[edge](states[self.inputs[edge]])
                if self.training and drop_prob > 0 and not isinstance(self.ops[edge], nn.Identity):
                    h = drop_path(h, drop_prob)
                total = total + h
            states.append(total)
        return torch.cat([states[i] for i in self.concat], dim=1)


class AuxiliaryHead(nn.Module):
    """Classifier on an intermediate feature map, trained alongside the main one (DARTS's aux head).

    The published heads pool an 8x8 (CIFAR: 5x5 window, stride 3) or 7x7 (ImageNet: stride 2) map
    down to 2x2; here any size is then brought to 2x2 by adaptive pooling, so other resolutions work
    with the same weights.
    """

    def __init__(self, C: int, num_classes: int, imagenet: bool) -> None:
        super().__init__()
        self.pool_stride = 2 if imagenet else 3
        self.features = nn.Sequential(
            nn.Conv2d(C, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=False),
            nn.Conv2d(128, 768, 2, bias=False),
            # DARTS's ImageNet head has no BatchNorm here; its CIFAR head has one.
            nn.Identity() if imagenet else nn.BatchNorm2d(768),
            nn.ReLU(inplace=False),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(x)
        if min(x.shape[-2:]) >= 5:
            x = F.avg_pool2d(x, 5, stride=self.pool_stride, padding=0, count_include_pad=False)
        x = F.adaptive_avg_pool2d(x, 2)
        return self.classifier(self.features(x).flatten(1))


class EvalNet(nn.Module):
    """A DARTS-space network for final training; `forward(x) -> (logits, aux_logits or None)`.

    `drop_path_prob` is read on each forward; the training loop sets it per epoch.
    """

    def __init__(
        self,
        genotype: Genotype,
        C: int,
        layers: int,
        num_classes: int,
        in_channels: int = 3,
        stem: str = "cifar",
        auxiliary: bool = False,
        drop_path: float = 0.0,
    ) -> None:
        super().__init__()
        if not isinstance(genotype, Genotype):
            raise GenotypeError(f"EvalNet needs a DARTS Genotype, got {type(genotype).__name__}")
        if stem not in ("cifar", "imagenet"):
            raise ConfigError(f"EvalNet stem must be 'cifar' or 'imagenet', got {stem!r}")
        self.genotype = genotype
        self.stem_kind = stem
        self.drop_path_prob = drop_path
        self._aux_position = 2 * layers // 3
        if stem == "cifar":
            C_stem = STEM_MULTIPLIER * C
            self.stem = nn.Sequential(
                nn.Conv2d(in_channels, C_stem, 3, padding=1, bias=False), nn.BatchNorm2d(C_stem)
            )
            C_prev_prev, C_prev, reduction_prev = C_stem, C_stem, False
        else:
            self.stem0 = nn.Sequential(
                nn.Conv2d(in_channels, C // 2, 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(C // 2),
                nn.ReLU(inplace=True),
                nn.Conv2d(C // 2, C, 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(C),
            )
            self.stem1 = nn.Sequential(
                nn.ReLU(inplace=True), nn.Conv2d(C, C, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(C)
            )
            C_prev_prev, C_prev, reduction_prev = C, C, True
        C_curr = C
        self.cells = nn.ModuleList()
        C_aux = C_prev
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3)
            if reduction:
                C_curr *= 2
            cell = EvalCell(genotype, C_prev_prev, C_prev, C_curr, reduction, reduction_prev)
            self.cells.append(cell)
            reduction_prev = reduction
            C_prev_prev, C_prev = C_prev, cell.multiplier * C_curr
            if i == self._aux_position:
                C_aux = C_prev
        self.auxiliary_head = AuxiliaryHead(C_aux, num_classes, stem == "imagenet") if auxiliary else None
        self.classifier = nn.Linear(C_prev, num_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.stem_kind == "cifar":
            s0 = s1 = self.stem(x)
        else:
            s0 = self.stem0(x)
            s1 = self.stem1(s0)
        aux_logits = None
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            if i == self._aux_position and self.auxiliary_head is not None and self.training:
                aux_logits = self.auxiliary_head(s1)
        logits = self.classifier(F.adaptive_avg_pool2d(s1, 1).flatten(1))
        return logits, aux_logits
