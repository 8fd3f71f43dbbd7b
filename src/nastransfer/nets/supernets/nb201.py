"""The NAS-Bench-201 supernet: stem, 3 stages of N search cells (6 edges each), residual reductions."""

from __future__ import annotations

import torch
from torch import nn

from nastransfer.errors import ConfigError, GenotypeError
from nastransfer.nets.ops import NB201_OPS, ResNetBasicBlock
from nastransfer.nets.supernets.base import Supernet, run_nodes
from nastransfer.nets.supernets.edge import Plan, SearchEdge, State
from nastransfer.spaces import nb201

#: `nb201.EDGES` are grouped by target node (1, 2, 3), so node j owns a contiguous block of edges.
SLICES = tuple(
    (
        min(k for k, (to, _) in enumerate(nb201.EDGES) if to == node),
        max(k for k, (to, _) in enumerate(nb201.EDGES) if to == node) + 1,
    )
    for node in range(1, nb201.NODES)
)
SOURCES = tuple(source for _, source in nb201.EDGES)


class NB201SearchCell(nn.Module):
    """A search cell: node 0 is the input, node j sums an edge from each earlier node, node 3 is output.

    As NAS-Bench-201's `NAS201SearchCell`: pools carry no BatchNorm, and BatchNorms use batch
    statistics only (`track_running_stats=False`), in train and eval mode.
    """

    def __init__(self, C: int, partial: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList(
            SearchEdge(nb201.OPS, NB201_OPS, C, 1, partial, pool_bn=False, running_stats=False)
            for _ in nb201.EDGES
        )

    def forward(self, x: torch.Tensor, plans: list[Plan | None], betas: torch.Tensor | None) -> torch.Tensor:
        return run_nodes(self.edges, [State(x)], SLICES, SOURCES, plans, betas)[-1].x


class NB201Supernet(Supernet):
    """Search network of the NB201 space: C, 2C, 4C channels in 3 stages of N cells, in one of the `FORMS`.

    The mixed form computes what NAS-Bench-201's `TinyNetworkDarts` computes, the sampled form what
    its `TinyNetworkGDAS` computes (tests/test_supernet_reference.py checks both against `xautodl`).
    """

    cell_types = ("cell",)
    sampled_constant_terms = True

    def __init__(
        self,
        C: int = 16,
        N: int = 5,
        num_classes: int = 10,
        in_channels: int = 3,
        form: str = "mixed",
        k: int = 4,
        channels_last: bool = True,
    ) -> None:
        super().__init__()
        if C < 1 or N < 1 or num_classes < 1 or in_channels < 1:
            raise ConfigError(
                f"bad NB201 supernet size: C={C}, N={N}, classes={num_classes}, in={in_channels}"
            )
        self._setup(form, nb201.OPS, SLICES, k, channels=C)
        self.C, self.N, self.num_classes = C, N, num_classes
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
        blocks: list[nn.Module] = []
        C_prev = C
        for stage, C_curr in enumerate((C, 2 * C, 4 * C)):
            if stage > 0:
                blocks.append(ResNetBasicBlock(C_prev, C_curr, 2))
            blocks += [NB201SearchCell(C_curr, self.partial) for _ in range(N)]
            C_prev = C_curr
        self.blocks = nn.ModuleList(blocks)
        self.lastact = nn.Sequential(nn.BatchNorm2d(C_prev), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(C_prev, num_classes)
        self.use_channels_last(channels_last)

    def _run(self, x: torch.Tensor, plans: dict, betas: dict) -> torch.Tensor:
        x = self.stem(x)
        for block in self.blocks:
            x = block(x, plans["cell"], betas["cell"]) if isinstance(block, NB201SearchCell) else block(x)
        return self.classifier(self.global_pooling(self.lastact(x)).flatten(1))

    def path_plans(self, path: object) -> dict[str, list[Plan | None]]:
        if not isinstance(path, nb201.Arch):
            raise GenotypeError(f"an NB201 supernet runs an NB201 Arch, not a {type(path).__name__}")
        return {"cell": [[(self.op_names.index(op), None)] for op in path.ops]}

    def genotype(self) -> nb201.Arch:
        """The derived cell: each edge's strongest allowed op (`none` included, as NB201's DARTS does)."""
        weights = self.derivation_weights("cell").masked_fill(~self.op_mask("cell").cpu(), -1.0)
        return nb201.Arch(tuple(self.op_names[int(i)] for i in weights.argmax(dim=1)))
