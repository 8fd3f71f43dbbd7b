"""NAS-Bench-Graph's space in the registry: sampling and moves over a set of its ops.

The registered space covers all nine ops; a table trained on fewer (ogbn-proteins) searches the
space restricted to its ops (`Space.restricted`), which this module builds as another `GraphSpace`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

import numpy as np

from nastransfer.errors import GenotypeError
from nastransfer.spaces.graph.arch import LINKS, NAME, OPS, POSITIONS, GraphArch, encode_hash
from nastransfer.spaces.registry import Diagram, Space, register_space


class GraphSpace:
    """Sampling and moves over the architectures whose ops are all in `ops` (a table's op set)."""

    name = NAME

    def __init__(self, ops: Sequence[str] = OPS) -> None:
        unknown = [op for op in ops if op not in OPS]
        if unknown or "skip" not in ops or len(ops) < 2:
            raise GenotypeError(f"graph space ops must include skip and a layer from {', '.join(OPS)}")
        self.ops = tuple(ops)

    def parse(self, text: str) -> GraphArch:
        return GraphArch.parse(text)

    def contains(self, arch: GraphArch) -> bool:
        return all(op in self.ops for op in arch.ops)

    def sample(self, seed: int) -> GraphArch:
        """Uniform inputs and ops (redrawn when all four are skip)."""
        rng = np.random.default_rng(seed)
        while True:
            inputs = tuple(int(rng.integers(k + 1)) for k in range(POSITIONS))
            ops = tuple(self.ops[int(i)] for i in rng.integers(len(self.ops), size=POSITIONS))
            if any(op != "skip" for op in ops):
                return GraphArch(inputs, ops)

    def neighbours(self, arch: GraphArch) -> list[GraphArch]:
        """Distinct networks one op or one input away, one encoding each, in a fixed order."""
        seen, result = {arch.key}, []
        for inputs, ops in self._moves(arch):
            candidate = GraphArch(inputs, ops)
            key = candidate.key
            if key not in seen:
                seen.add(key)
                result.append(candidate)
        return result

    def mutate(self, arch: GraphArch, seed: int) -> GraphArch:
        """A uniformly chosen single move that yields a different network."""
        moves = list(self._moves(arch))
        own = arch.key
        for index in np.random.default_rng(seed).permutation(len(moves)):
            candidate = GraphArch(*moves[int(index)])
            if candidate.key != own:
                return candidate
        raise GenotypeError(f"{arch} has no single-move neighbour in ops {', '.join(self.ops)}")

    def all_archs(self) -> Iterator[GraphArch]:
        """One canonical encoding per distinct network (26,206 for the full op set)."""
        seen: set[int] = set()
        for link, ops in itertools.product(LINKS, itertools.product(self.ops, repeat=POSITIONS)):
            if all(op == "skip" for op in ops):
                continue
            canonical = GraphArch(link, ops).canonical()
            value = encode_hash(canonical.inputs, canonical.ops)
            if value not in seen:
                seen.add(value)
                yield canonical

    def _moves(self, arch: GraphArch) -> Iterator[tuple[tuple[int, ...], tuple[str, ...]]]:
        """(inputs, ops) of every single-op or single-input change, valid but not deduplicated."""
        for k in range(POSITIONS):
            for op in self.ops:
                ops = arch.ops[:k] + (op,) + arch.ops[k + 1 :]
                if op != arch.ops[k] and any(o != "skip" for o in ops):
                    yield arch.inputs, ops
            for source in range(k + 1):
                if source != arch.inputs[k]:
                    yield arch.inputs[:k] + (source,) + arch.inputs[k + 1 :], arch.ops


def _diagrams(arch: GraphArch) -> list[Diagram]:
    """Node 0 is the input features, node k+1 the output of op k."""
    edges = tuple(
        (str(s), str(k + 1), op) for k, (s, op) in enumerate(zip(arch.inputs, arch.ops, strict=True))
    )
    return [Diagram("GNN (node 0 is the input features, node k the output of op k)", ("0",), edges)]


def _record(ops: tuple[str, ...]) -> Space:
    """The registry's view of the architectures whose ops are all in `ops`."""
    space = GraphSpace(ops)
    return Space(
        name=NAME,
        genotype_type=GraphArch,
        ops=space.ops,
        parse=space.parse,
        sample=space.sample,
        mutate=space.mutate,
        neighbours=space.neighbours,
        recognises=lambda text: text.startswith("gnn("),
        text_help="NAS-Bench-Graph gnn(in:op,...) text",
        diagrams=_diagrams,
        subspace=_record,
    )


SPACE = register_space(_record(OPS))
