"""The DARTS-space supernet: CIFAR stem, `layers` search cells (reductions at 1/3 and 2/3), 14 edges each."""

from __future__ import annotations

import torch
from torch import nn

from nastransfer.errors import ConfigError, GenotypeError
from nastransfer.nets.ops import OPS, FactorizedReduce, ReLUConvBN
from nastransfer.nets.supernets.arch import derive_darts_cell, derive_gdas_cell, derive_with_skip_limit
from nastransfer.nets.supernets.base import Supernet, run_nodes
from nastransfer.nets.supernets.edge import Plan, SearchEdge, State
from nastransfer.spaces import darts

STEPS = darts.STEPS
#: Node i of a cell reads states 0..i+1, so its edges are a contiguous block of i + 2.
SLICES = tuple((sum(range(2, i + 2)), sum(range(2, i + 3))) for i in range(STEPS))
SOURCES = tuple(j for i in range(STEPS) for j in range(i + 2))


class DartsSearchCell(nn.Module):
    """A search cell: preprocessed inputs, 4 nodes over 14 `SearchEdge`s, output the nodes' concat."""

    def __init__(
        self, C_pp: int, C_p: int, C: int, reduction: bool, reduction_prev: bool, partial: int
    ) -> None:
        super().__init__()
        self.reduction = reduction
        self.preprocess0 = (
            FactorizedReduce(C_pp, C, affine=False)
            if reduction_prev
            else ReLUConvBN(C_pp, C, 1, 1, 0, affine=False)
        )
        self.preprocess1 = ReLUConvBN(C_p, C, 1, 1, 0, affine=False)
        self.edges = nn.ModuleList(
            SearchEdge(darts.OPS, OPS, C, 2 if reduction and source < 2 else 1, partial) for source in SOURCES
        )

    def forward(
        self, s0: torch.Tensor, s1: torch.Tensor, plans: list[Plan | None], betas: torch.Tensor | None
    ) -> torch.Tensor:
        states = [State(self.preprocess0(s0)), State(self.preprocess1(s1))]
        states = run_nodes(self.edges, states, SLICES, SOURCES, plans, betas)
        return torch.cat([s.x for s in states[2:]], dim=1)


class DartsSupernet(Supernet):
    """Search network of the DARTS cell space in one of the `FORMS` (`partial` uses k channel groups)."""

    cell_types = ("normal", "reduce")

    def __init__(
        self,
        C: int,
        layers: int,
        num_classes: int,
        in_channels: int = 3,
        form: str = "mixed",
        k: int = 4,
        stem_multiplier: int = 3,
        channels_last: bool = True,
    ) -> None:
        super().__init__()
        if layers < 3:
            raise ConfigError(
                f"a DARTS supernet needs layers >= 3 (two reduction cells and a normal one), got {layers}"
            )
        if C < 1 or num_classes < 1 or in_channels < 1:
            raise ConfigError(
                f"bad supernet size: C={C}, num_classes={num_classes}, in_channels={in_channels}"
            )
        self._setup(form, darts.OPS, SLICES, k, channels=C)
        self.C, self.layers, self.num_classes = C, layers, num_classes
        C_curr = stem_multiplier * C
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, C_curr, 3, padding=1, bias=False), nn.BatchNorm2d(C_curr)
        )
        C_pp, C_p, C_curr = C_curr, C_curr, C
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3)
            if reduction:
                C_curr *= 2
            self.cells.append(DartsSearchCell(C_pp, C_p, C_curr, reduction, reduction_prev, self.partial))
            reduction_prev = reduction
            C_pp, C_p = C_p, STEPS * C_curr
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(C_p, num_classes)
        self.use_channels_last(channels_last)

    def _run(self, x: torch.Tensor, plans: dict, betas: dict) -> torch.Tensor:
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            kind = "reduce" if cell.reduction else "normal"
            s0, s1 = s1, cell(s0, s1, plans[kind], betas[kind])
        return self.classifier(self.global_pooling(s1).flatten(1))

    def path_plans(self, path: object) -> dict[str, list[Plan | None]]:
        if not isinstance(path, darts.Genotype):
            raise GenotypeError(f"a DARTS supernet runs a DARTS Genotype, not a {type(path).__name__}")
        plans: dict[str, list[Plan | None]] = {}
        for kind in self.cell_types:
            cell_plans: list[Plan | None] = [None] * self.n_edges
            for position, (op, source) in enumerate(getattr(path, kind)):
                edge = edge_index(position, source)
                cell_plans[edge] = [*(cell_plans[edge] or []), (self.op_names.index(op), None)]
            plans[kind] = cell_plans
        return plans

    def genotype(self, max_skip: int | None = None, rule: str = "darts") -> darts.Genotype:
        """The derived cells by the DARTS rule (or, `rule="gdas"`, the released GDAS rule: see
        `derive_gdas_cell`); `max_skip` caps skip-connections in the normal cell (P-DARTS)."""
        if rule not in ("darts", "gdas"):
            raise ConfigError(f"unknown derivation rule {rule!r} (known: darts, gdas)")
        cells = {}
        for kind in self.cell_types:
            weights = self.derivation_weights(kind).numpy()
            allowed = self.op_mask(kind).cpu().numpy()
            if rule == "gdas":
                cells[kind] = derive_gdas_cell(weights, self.op_names, SLICES, allowed)
            elif max_skip is not None and kind == "normal":
                cells[kind] = derive_with_skip_limit(weights, self.op_names, SLICES, allowed, max_skip)
            else:
                cells[kind] = derive_darts_cell(weights, self.op_names, SLICES, allowed)
        concat = tuple(range(2, 2 + STEPS))
        return darts.Genotype(
            normal=cells["normal"], normal_concat=concat, reduce=cells["reduce"], reduce_concat=concat
        )


def edge_index(position: int, source: int) -> int:
    """The supernet edge of a genotype entry (`position` in the cell list, reading state `source`)."""
    return SLICES[position // 2][0] + source


__all__ = ["SLICES", "SOURCES", "DartsSearchCell", "DartsSupernet", "edge_index"]
