"""Architecture parameters and the pure functions on them: op weights, Gumbel samples, derivation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from nastransfer.nets.compiling import eager

#: Node slices: node i of a cell owns edges `range(*slices[i])` (edges are listed node by node).
NodeSlices = Sequence[tuple[int, int]]


class ArchParams(nn.Module):
    """Per cell type: alphas (edges x ops), optional edge betas (PC-DARTS), and a candidate-op mask.

    The mask (a buffer, so it is checkpointed) switches ops off: P-DARTS prunes ops with it
    between stages. A masked op gets weight 0, is never run, and can never be derived.
    """

    def __init__(self, cell_types: Sequence[str], n_edges: int, n_ops: int, with_betas: bool) -> None:
        super().__init__()
        self.cell_types = tuple(cell_types)
        self.alphas = nn.ParameterDict(
            {t: nn.Parameter(1e-3 * torch.randn(n_edges, n_ops)) for t in self.cell_types}
        )
        self.betas = nn.ParameterDict(
            {t: nn.Parameter(1e-3 * torch.randn(n_edges)) for t in self.cell_types} if with_betas else {}
        )
        for t in self.cell_types:
            self.register_buffer(f"mask_{t}", torch.ones(n_edges, n_ops, dtype=torch.bool))

    def mask(self, cell_type: str) -> torch.Tensor:
        return getattr(self, f"mask_{cell_type}")

    def masked_logits(self, cell_type: str) -> torch.Tensor:
        return self.alphas[cell_type].masked_fill(~self.mask(cell_type), float("-inf"))


def op_probabilities(logits: torch.Tensor) -> torch.Tensor:
    """Softmax over each edge's ops (masked logits are -inf and get 0)."""
    return logits.softmax(dim=-1)


def node_normalised(betas: torch.Tensor, slices: NodeSlices) -> torch.Tensor:
    """PC-DARTS edge normalisation: a softmax over the incoming edges of each node."""
    return torch.cat([betas[start:stop].softmax(dim=0) for start, stop in slices])


@eager
def gumbel_hard(logits: torch.Tensor, tau: float) -> tuple[torch.Tensor, list[int]]:
    """GDAS sample: one op per edge; values one-hot, gradients those of the tau-softmax (straight-through).

    Always eager: its redraw loop and `.tolist()` cannot be traced, and eager draws keep a compiled
    search on the same Gumbel samples as an eager one (inductor has its own random generator)."""
    log_probs = logits.log_softmax(dim=-1)
    while True:  # a Gumbel draw of exactly 0 or 1 gives inf; draw again, as GDAS does
        gumbels = -torch.empty_like(log_probs).exponential_().log()
        soft = ((log_probs + gumbels) / tau).softmax(dim=-1)
        if torch.isfinite(soft).all():
            break
    index = soft.argmax(dim=-1)
    one_hot = torch.zeros_like(soft).scatter_(-1, index[:, None], 1.0)
    return one_hot - soft.detach() + soft, index.tolist()


def entropy(probs: torch.Tensor) -> float:
    """Mean over edges of the entropy (nats) of the op distribution."""
    logs = torch.where(probs > 0, probs.log(), torch.zeros_like(probs))
    return float(-(probs * logs).sum(dim=-1).mean())


def derive_darts_cell(
    weights: np.ndarray, op_names: Sequence[str], slices: NodeSlices, allowed: np.ndarray
) -> list[tuple[str, int]]:
    """The DARTS rule: each node keeps its 2 incoming edges whose best non-none op is strongest,
    each with that op (listed strongest first, as DARTS writes them)."""
    scores = np.where(allowed, weights, -np.inf)
    if "none" in op_names:
        scores[:, op_names.index("none")] = -np.inf
    cell = []
    for start, stop in slices:
        block = scores[start:stop]
        strength = block.max(axis=1)
        for source in sorted(range(stop - start), key=lambda j: -strength[j])[:2]:
            cell.append((op_names[int(block[source].argmax())], source))
    return cell


def derive_gdas_cell(
    weights: np.ndarray, op_names: Sequence[str], slices: NodeSlices, allowed: np.ndarray
) -> list[tuple[str, int]]:
    """The released GDAS rule: each node keeps its 2 strongest (op, input) pairs over all of its
    incoming edges and non-none ops, strongest first, so one input may be taken twice."""
    cell = []
    for start, stop in slices:
        pairs = [
            (float(weights[start + source, k]), op, source)
            for source in range(stop - start)
            for k, op in enumerate(op_names)
            if op != "none" and allowed[start + source, k]
        ]
        # stable sort: ties keep input-then-op order, as the released code lists them
        cell += [(op, source) for _, op, source in sorted(pairs, key=lambda p: -p[0])[:2]]
    return cell


def derive_with_skip_limit(
    weights: np.ndarray, op_names: Sequence[str], slices: NodeSlices, allowed: np.ndarray, max_skip: int
) -> list[tuple[str, int]]:
    """P-DARTS: while the cell has more than `max_skip` skip-connections, forbid the weakest one."""
    allowed = allowed.copy()
    skip = op_names.index("skip_connect")
    while True:
        cell = derive_darts_cell(weights, op_names, slices, allowed)
        edges = [
            slices[pos // 2][0] + source for pos, (op, source) in enumerate(cell) if op == "skip_connect"
        ]
        if len(edges) <= max_skip:
            return cell
        allowed[min(edges, key=lambda e: weights[e, skip]), skip] = False
