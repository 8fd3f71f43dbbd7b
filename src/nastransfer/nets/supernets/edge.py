"""One edge of a search cell: its candidate ops, and how a plan of (op ids, coefficients) runs them.

Three savings over the original DARTS `MixedOp`, none of which changes the function computed:
`none` is never built or run (it only adds zeros); ops that start with a ReLU (ReLU-Conv-BN,
separable and dilated convolutions) share one ReLU of their input state, computed once per state
for all edges leaving it; and the weighted sum is accumulated in place of a Python `sum` over
products. The partial-channel form of PC-DARTS wraps the same ops, built for `C // k` channels.
The DARTS space wraps pools in a parameter-free BatchNorm, as DARTS's search model does; the
NAS-Bench-201 space does not, and its BatchNorms use batch statistics only, as its reference
search cell does.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from nastransfer.nets.ops import OpFactory, batch_statistics_only

NONE = "none"
SKIP = "skip_connect"
#: Op index of a plan term that adds its coefficient alone: the straight-through term by which
#: NAS-Bench-201's GDAS gives every unsampled op a gradient (its value is exactly 0).
CONSTANT = -1

#: What an edge computes: (op index, coefficient) terms; a None coefficient adds the op unscaled.
Plan = Sequence[tuple[int, "torch.Tensor | None"]]


class State:
    """A node's output and, made on first use, its ReLU (shared by every op that starts with one).

    The ReLU is memoised by hand, not by `functools.cached_property`: that takes an `RLock` on
    Python 3.11, which torch.compile cannot trace (a graph break per state)."""

    def __init__(self, x: torch.Tensor) -> None:
        self.x = x
        self._relu: torch.Tensor | None = None
        self._heads: dict[int, State] = {}

    @property
    def relu(self) -> torch.Tensor:
        if self._relu is None:
            self._relu = F.relu(self.x)
        return self._relu

    def head(self, channels: int) -> State:
        """The first `channels` channels (partial-channel edges); one shared view per width."""
        if channels not in self._heads:
            self._heads[channels] = State(self.x[:, :channels])
        return self._heads[channels]


def _relu_tail(op: nn.Module) -> tuple[nn.Module, ...] | None:
    """The layers after a leading ReLU (looking into a leading sub-block), or None if it has none."""
    if not isinstance(op, nn.Sequential) or len(op) == 0:
        return None
    first = op[0]
    if isinstance(first, nn.ReLU):
        return tuple(op)[1:]
    inner = _relu_tail(first)
    if inner is None:
        return None
    return (_Chain(inner), *tuple(op)[1:])


class _Chain:
    """Plain callable running modules in order; kept out of the module tree (no duplicate parameters)."""

    def __init__(self, layers: Sequence[nn.Module]) -> None:
        self.layers = tuple(layers)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


def _tail_chain(op: nn.Module) -> _Chain | None:
    tail = _relu_tail(op)
    return None if tail is None else _Chain(tail)


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Interleave the channels of `groups` groups (PC-DARTS mixes bypassed and processed channels)."""
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class SearchEdge(nn.Module):
    """The candidate ops of one edge; `partial=k > 1` sends only `C // k` channels through them.

    `pool_bn` wraps pools in a parameter-free BatchNorm (DARTS); `running_stats=False` makes every
    BatchNorm use batch statistics only (NAS-Bench-201).
    """

    def __init__(
        self,
        op_names: Sequence[str],
        table: dict[str, OpFactory],
        C: int,
        stride: int,
        partial: int = 1,
        pool_bn: bool = True,
        running_stats: bool = True,
    ) -> None:
        super().__init__()
        self.op_names = tuple(op_names)
        self.stride = stride
        self.partial = partial
        self.pool_bn = pool_bn
        self.running_stats = running_stats
        self.skip_dropout = 0.0
        width = C // partial
        self.ops = nn.ModuleDict({name: self._build(name, table, width) for name in op_names if name != NONE})
        self._tails = {name: _tail_chain(op) for name, op in self.ops.items()}
        if partial > 1 and stride == 2:
            self.bypass_pool = nn.MaxPool2d(2, 2, ceil_mode=True)

    def _build(self, name: str, table: dict[str, OpFactory], width: int) -> nn.Module:
        op = table[name](width, self.stride, False)
        if self.pool_bn and "pool" in name:
            op = nn.Sequential(op, nn.BatchNorm2d(width, affine=False))
        return op if self.running_stats else batch_statistics_only(op)

    def run_op(self, index: int, state: State) -> torch.Tensor:
        """Op `index` (not `none`) on `state`."""
        name = self.op_names[index]
        tail = self._tails[name]
        out = self.ops[name](state.x) if tail is None else tail(state.relu)
        if name == SKIP and self.stride == 1 and self.skip_dropout > 0.0:
            out = F.dropout(out, self.skip_dropout, self.training)
        return out

    def mix(self, state: State, terms: Plan) -> torch.Tensor:
        """Sum of coefficient x op output over the terms; `none` terms are skipped (they add zeros),
        `CONSTANT` terms add their coefficient."""
        total: torch.Tensor | None = None
        none_coef: torch.Tensor | None = None
        constant: torch.Tensor | None = None
        for index, coef in terms:
            if index == CONSTANT:
                constant = coef if constant is None else constant + coef
                continue
            if self.op_names[index] == NONE:
                none_coef = coef
                continue
            out = self.run_op(index, state)
            if coef is None:
                total = out if total is None else total + out
            elif total is None:
                total = out * coef
            else:
                total = torch.addcmul(total, out, coef)
        if total is None:  # only `none` was asked for: zeros, kept in the graph of its coefficient
            s = self.stride
            zeros = torch.zeros_like(state.x[:, :, ::s, ::s])
            total = zeros if none_coef is None else zeros * none_coef
        return total if constant is None else total + constant

    def forward(self, state: State, terms: Plan) -> torch.Tensor:
        if self.partial == 1:
            return self.mix(state, terms)
        width = state.x.shape[1] // self.partial
        mixed = self.mix(state.head(width), terms)
        rest = state.x[:, width:]
        if self.stride == 2:
            rest = self.bypass_pool(rest)
        return channel_shuffle(torch.cat([mixed, rest], dim=1), self.partial)
