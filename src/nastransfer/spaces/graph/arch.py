"""NAS-Bench-Graph's macro space of GNNs: four ops, each reading the graph input or an earlier op.

An architecture is `inputs` (op k reads `inputs[k]`: 0 is the input features, j the output of op
j, so `inputs[k] <= k`) and `ops` (one of nine GNN layers or `skip`; not all four `skip`). Its
text is `gnn(0:gcn,0:gat,1:sage,2:fc)`, one `input:op` per op. Many encodings compute the same
network; NAS-Bench-Graph trained one of each such class (26,206) and files it under an integer
hash. `canonical()` and `bench_hash()` use the benchmark package's own normalisation (imported
when first needed), so our keys agree with its files exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from nastransfer.errors import GenotypeError

NAME = "graph"
#: NAS-Bench-Graph's op order (its hash digits index this list).
OPS: tuple[str, ...] = ("gat", "gcn", "gin", "cheb", "sage", "arma", "graph", "fc", "skip")
#: The ops the ogbn-proteins table was trained with.
PROTEINS_OPS: tuple[str, ...] = ("gcn", "sage", "arma", "fc", "skip")
POSITIONS = 4
#: The canonical wirings, in the order of the hash's leading digit.
LINKS: tuple[tuple[int, ...], ...] = (
    (0, 0, 0, 0), (0, 0, 0, 1), (0, 0, 1, 1), (0, 0, 1, 2), (0, 0, 1, 3),
    (0, 1, 1, 1), (0, 1, 1, 2), (0, 1, 2, 2), (0, 1, 2, 3),
)  # fmt: skip
_TEXT = re.compile(r"^gnn\((.*)\)$")


@dataclass(frozen=True)
class GraphArch:
    """One NAS-Bench-Graph architecture; immutable and hashable (equal encodings, not equal networks)."""

    inputs: tuple[int, ...]
    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        inputs, ops = tuple(self.inputs), tuple(self.ops)
        if len(inputs) != POSITIONS or len(ops) != POSITIONS:
            raise GenotypeError(f"a graph arch needs {POSITIONS} inputs and {POSITIONS} ops, got {self}")
        for k, (source, op) in enumerate(zip(inputs, ops, strict=True)):
            if isinstance(source, bool) or not isinstance(source, int | np.integer) or not 0 <= source <= k:
                raise GenotypeError(f"graph arch op {k} reads {source!r}; it may read 0..{k}")
            if op not in OPS:
                raise GenotypeError(f"unknown GNN op {op!r} at position {k}; known: {', '.join(OPS)}")
        if all(op == "skip" for op in ops):
            raise GenotypeError("a graph arch of four skip ops has no layer; NAS-Bench-Graph excludes it")
        object.__setattr__(self, "inputs", tuple(int(s) for s in inputs))
        object.__setattr__(self, "ops", ops)

    def __str__(self) -> str:
        return "gnn(" + ",".join(f"{s}:{op}" for s, op in zip(self.inputs, self.ops, strict=True)) + ")"

    @classmethod
    def parse(cls, text: str) -> GraphArch:
        """Read `gnn(0:gcn,0:gat,1:sage,2:fc)`."""
        match = _TEXT.match(text.strip())
        if match is None:
            raise GenotypeError(f"graph arch text must read gnn(in:op,in:op,in:op,in:op): {text.strip()!r}")
        inputs, ops = [], []
        for k, part in enumerate(match.group(1).split(",")):
            source, colon, op = part.strip().partition(":")
            if not colon or not source.strip().isdigit():
                raise GenotypeError(f"graph arch entry {k} {part.strip()!r} is not 'input:op'")
            inputs.append(int(source))
            ops.append(op.strip())
        return cls(tuple(inputs), tuple(ops))

    def canonical(self) -> GraphArch:
        """The representative NAS-Bench-Graph trained for this network's class of encodings."""
        link, ops = _normalised(self)
        return GraphArch(tuple(link), tuple(ops))

    @property
    def key(self) -> str:
        """Text of the canonical form: equal for every encoding of the same network."""
        return str(self.canonical())

    def bench_hash(self) -> int:
        """The integer NAS-Bench-Graph files this network's results under."""
        link, ops = _normalised(self)
        return encode_hash(tuple(link), tuple(ops))


def _normalised(arch: GraphArch) -> tuple[list[int], list[str]]:
    from nas_bench_graph.architecture import Arch as BenchArch

    bench = BenchArch(list(arch.inputs), list(arch.ops)).regularize()
    bench.move_skip_op()
    bench.equalpart_sort()
    return bench.link, bench.ops


def encode_hash(link: tuple[int, ...], ops: tuple[str, ...]) -> int:
    """NAS-Bench-Graph's key of a canonical arch: the wiring's index, then one base-10 digit per op."""
    value = LINKS.index(link)
    for op in ops:
        value = value * (len(OPS) + 1) + OPS.index(op)
    return value


def decode_hash(value: int) -> GraphArch:
    """The canonical arch a NAS-Bench-Graph key stands for (the inverse of `encode_hash`)."""
    digits = []
    for _ in range(POSITIONS):
        value, digit = divmod(value, len(OPS) + 1)
        digits.append(digit)
    if not 0 <= value < len(LINKS) or any(d >= len(OPS) for d in digits):
        raise GenotypeError(f"{value} is not a NAS-Bench-Graph architecture key")
    return GraphArch(LINKS[value], tuple(OPS[d] for d in reversed(digits)))
