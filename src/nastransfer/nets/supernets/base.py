"""What the DARTS and NB201 supernets share: forms, architecture parameters, per-edge plans, node sums.

A subclass builds its cells (whose edges are `SearchEdge`s listed node by node) and says how a
cell of each type runs; this class turns the architecture parameters (or a fixed cell) into one
plan per edge per forward, so the mixed, partial-channel and sampled forms share every module.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from nastransfer.errors import ConfigError
from nastransfer.nets.compiling import eager
from nastransfer.nets.supernets import arch as arch_functions
from nastransfer.nets.supernets.arch import (
    ArchParams,
    NodeSlices,
    entropy,
    node_normalised,
    op_probabilities,
)
from nastransfer.nets.supernets.edge import CONSTANT, NONE, Plan, SearchEdge, State

#: mixed: softmax-weighted sum of all ops (DARTS); partial: the same on 1/k of the channels with
#: edge betas (PC-DARTS); sampled: one op per edge by hard Gumbel-softmax (GDAS).
FORMS = ("mixed", "partial", "sampled")


class Supernet(nn.Module):
    """Base of the search networks; subclasses call `_setup` and implement `_run(x, plans, betas)`."""

    cell_types: tuple[str, ...] = ()
    #: Sampled form: also add each unsampled op's hard weight (value 0) to its edge, so all of an
    #: edge's architecture parameters get straight-through gradients (NAS-Bench-201's GDAS does).
    sampled_constant_terms = False

    def _setup(
        self, form: str, op_names: Sequence[str], slices: NodeSlices, partial: int, channels: int
    ) -> None:
        """Check the form (and, for `partial`, that the `channels` of the first stage split into `partial`
        groups: later stages double them), then create the architecture parameters."""
        if form not in FORMS:
            raise ConfigError(f"unknown supernet form {form!r} (known: {', '.join(FORMS)})")
        if form == "partial" and partial < 2:
            raise ConfigError(f"the partial-channel form needs k >= 2 channel groups, got k={partial}")
        if form == "partial" and channels % partial:
            raise ConfigError(
                f"partial-channel supernet: channels {channels} are not divisible by k={partial}"
            )
        self.form = form
        self.op_names = tuple(op_names)
        self.slices = tuple(slices)
        self.n_edges = self.slices[-1][1]
        self.partial = partial if form == "partial" else 1
        self.tau = 1.0
        self.channels_last = False
        self._active_cache: dict[str, tuple] = {}
        self.arch = ArchParams(
            self.cell_types, self.n_edges, len(self.op_names), with_betas=form == "partial"
        )
        self._refresh_active_ops()
        self.register_load_state_dict_post_hook(_masks_loaded)

    # --- parameters -----------------------------------------------------------------------------
    def weights(self) -> list[nn.Parameter]:
        """Network weights (everything but the architecture parameters)."""
        return [p for name, p in self.named_parameters() if not name.startswith("arch.")]

    def arch_parameters(self) -> list[nn.Parameter]:
        return list(self.arch.parameters())

    def search_edges(self) -> list[SearchEdge]:
        return [m for m in self.modules() if isinstance(m, SearchEdge)]

    # --- architecture state ---------------------------------------------------------------------
    def set_tau(self, tau: float) -> None:
        """Gumbel-softmax temperature of the sampled form."""
        if tau <= 0:
            raise ConfigError(f"Gumbel-softmax temperature must be > 0, got {tau}")
        self.tau = float(tau)

    def set_skip_dropout(self, p: float) -> None:
        """Dropout on the outputs of stride-1 skip-connections (P-DARTS), while training."""
        for edge in self.search_edges():
            edge.skip_dropout = float(p)

    def op_mask(self, cell_type: str) -> torch.Tensor:
        """Candidate-op mask (edges x ops, bool) of a cell type."""
        return self.arch.mask(cell_type)

    def set_op_mask(self, cell_type: str, mask: torch.Tensor) -> None:
        """Switch candidate ops on/off per edge; every edge keeps at least one op that is not `none`."""
        mask = torch.as_tensor(mask, dtype=torch.bool)
        if mask.shape != self.op_mask(cell_type).shape:
            raise ConfigError(f"op mask of {cell_type} cells must be {tuple(self.op_mask(cell_type).shape)}")
        real = [i for i, name in enumerate(self.op_names) if name != NONE]
        if not mask[:, real].any(dim=1).all():
            raise ConfigError(f"op mask of {cell_type} cells leaves an edge without an op other than none")
        self.op_mask(cell_type).copy_(mask)
        self._refresh_active_ops()

    def op_weights(self, cell_type: str) -> torch.Tensor:
        """Softmax op weights per edge (masked ops 0), differentiable."""
        return op_probabilities(self.arch.masked_logits(cell_type))

    def edge_weights(self, cell_type: str) -> torch.Tensor | None:
        """Edge betas normalised over each node's inputs (partial form), else None."""
        if self.form != "partial":
            return None
        return node_normalised(self.arch.betas[cell_type], self.slices)

    def arch_distribution(self) -> dict[str, torch.Tensor]:
        """Per cell type, the op distribution of every edge (edges x ops), detached."""
        with torch.no_grad():
            return {t: self.op_weights(t).detach().cpu() for t in self.cell_types}

    def entropy(self) -> float:
        """Mean entropy of the edges' op distributions: it falls as the search makes up its mind."""
        dist = self.arch_distribution()
        return sum(entropy(p) for p in dist.values()) / len(dist)

    def derivation_weights(self, cell_type: str) -> torch.Tensor:
        """Op weights the genotype is derived from (x normalised edge betas in the partial form)."""
        with torch.no_grad():
            weights = self.op_weights(cell_type)
            betas = self.edge_weights(cell_type)
            return (weights if betas is None else weights * betas[:, None]).cpu()

    # --- forward --------------------------------------------------------------------------------
    def plans(self, cell_type: str) -> list[Plan]:
        """What each edge computes in this forward (a fresh Gumbel sample in the sampled form)."""
        if self.form == "sampled":
            # looked up at call time: `compile_net` swaps in its eager form
            hard, index = arch_functions.gumbel_hard(self.arch.masked_logits(cell_type), self.tau)
            plans = [[(i, hard[e, i])] for e, i in enumerate(index)]
            if self.sampled_constant_terms:
                picked = torch.as_tensor(index, device=hard.device)[:, None]
                unsampled = torch.ones_like(hard).scatter_(-1, picked, 0.0)
                rest = (hard * unsampled).sum(dim=-1)  # exactly 0: unsampled hard weights are 0
                plans = [[*plan, (CONSTANT, rest[e])] for e, plan in enumerate(plans)]
            return plans
        return self._active_plans(cell_type, self.op_weights(cell_type))

    def _active_plans(self, cell_type: str, weights: torch.Tensor) -> list[Plan]:
        """Per edge, every active op weighted by its entry of `weights` (edges x ops)."""
        plans = []
        for ids, row in zip(self._active_ops(cell_type), weights.unbind(0), strict=True):
            coefs = row.unbind(0)
            plans.append([(i, coefs[i]) for i in ids])
        return plans

    def _active_ops(self, cell_type: str) -> list[list[int]]:
        """Per edge, the unmasked ops other than `none`. An eager forward re-reads a mask changed in
        place; a compiled one uses the lists as `set_op_mask` or `load_state_dict` left them (the
        mask's `.tolist()` would break its graph)."""
        if not torch.compiler.is_compiling():
            self._refresh_active_ops()
        return self._active_cache[cell_type][1]

    def _refresh_active_ops(self) -> None:
        """Recompute the active-op lists of each cell type whose mask changed since the last time."""
        real = [i for i, name in enumerate(self.op_names) if name != NONE]
        for cell_type in self.cell_types:
            mask = self.op_mask(cell_type)
            version = (mask._version, mask.data_ptr())
            cached = self._active_cache.get(cell_type)
            if cached is None or cached[0] != version:
                rows = mask.cpu().tolist()
                self._active_cache[cell_type] = (version, [[i for i in real if row[i]] for row in rows])

    def use_channels_last(self, enabled: bool = True) -> Supernet:
        """Channels-last memory format: the same function, 3-5x faster depthwise convolutions on CPU."""
        self.channels_last = enabled
        return self.to(memory_format=torch.channels_last if enabled else torch.contiguous_format)

    def forward(self, x: torch.Tensor, path: object | None = None, every_op: bool = False) -> torch.Tensor:
        """Logits; with `path` (a cell of this space) only that cell's ops run, unweighted; with
        `every_op` too, every op runs, weighted 1 on the path and 0 off it (the same logits, but every
        weight gets a gradient, zero off the path, and every BatchNorm sees its input)."""
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        if path is not None:
            if every_op:
                weights = self._path_weights(path, x)
                plans = {t: self._active_plans(t, weights[t]) for t in self.cell_types}
            else:
                plans = self.path_plans(path)
            return self._run(x, plans, {t: None for t in self.cell_types})
        plans = {t: self.plans(t) for t in self.cell_types}
        return self._run(x, plans, {t: self.edge_weights(t) for t in self.cell_types})

    def path_plans(self, path: object) -> dict[str, list[Plan | None]]:
        """Per cell type, the plan of every edge for a fixed cell (None: the edge is not used)."""
        raise NotImplementedError

    @eager
    def _path_weights(self, path: object, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per cell type, 1 for each op of `path` and 0 elsewhere (edges x ops). Run eagerly: under
        torch.compile the plans built from these weights do not depend on the path, so one graph
        serves every path (plans built from the path itself would recompile for each)."""
        weights = {}
        for kind, cell_plans in self.path_plans(path).items():
            w = torch.zeros(self.n_edges, len(self.op_names), dtype=x.dtype, device=x.device)
            for e, plan in enumerate(cell_plans):
                for index, _ in plan or []:
                    w[e, index] = 1.0
            weights[kind] = w
        return weights

    def _run(
        self, x: torch.Tensor, plans: dict[str, list], betas: dict[str, torch.Tensor | None]
    ) -> torch.Tensor:
        raise NotImplementedError


def _masks_loaded(net: Supernet, incompatible_keys: object) -> None:
    """`load_state_dict` post-hook: the loaded op masks take effect in compiled forwards too."""
    net._refresh_active_ops()


def run_nodes(
    edges: nn.ModuleList,
    states: list[State],
    slices: NodeSlices,
    sources: Sequence[int],
    plans: Sequence[Plan | None],
    betas: torch.Tensor | None,
) -> list[State]:
    """Compute the intermediate nodes: node i sums its edges `range(*slices[i])`, edge e reading
    state `sources[e]`; edges with no plan are skipped, betas (if any) weight the edges."""
    for start, stop in slices:
        total: torch.Tensor | None = None
        for e in range(start, stop):
            if plans[e] is None:
                continue
            out = edges[e](states[sources[e]], plans[e])
            if betas is not None:
                total = out * betas[e] if total is None else torch.addcmul(total, out, betas[e])
            else:
                total = out if total is None else total + out
        if total is None:
            raise ValueError(f"node with edges {start}..{stop - 1} has no edge to compute")
        states.append(State(total))
    return states
