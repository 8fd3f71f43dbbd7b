"""The NAS-Bench-201 cell: 4 nodes, 6 edges, 5 ops, and its arch string `|op~in|+|op~in|op~in|+|...|`.

Node 0 is the cell input; node j (1..3) sums one op applied to each earlier node; node 3 is the
output. `EDGES` lists the edges as (to, from) pairs in the order the arch string writes them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from nastransfer.errors import GenotypeError

#: The ops in NAS-Bench-201's order; an op's index here is its index in `to_indices()`.
OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: (to, from) node pairs in arch-string order: node 1 from 0; node 2 from 0, 1; node 3 from 0, 1, 2.
EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
NODES = 4
#: How `Arch.canonical_key` writes a zero term.
ZERO = "#"


@dataclass(frozen=True)
class Arch:
    """One NAS-Bench-201 cell: `ops[k]` is the op on edge `EDGES[k]`; immutable and hashable."""

    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        if isinstance(self.ops, str) or not isinstance(self.ops, Sequence):
            raise GenotypeError(f"NB201 ops must be a sequence of {len(EDGES)} op names, got {self.ops!r}")
        ops = tuple(self.ops)
        if len(ops) != len(EDGES):
            raise GenotypeError(f"NB201 arch needs {len(EDGES)} edge ops, got {len(ops)}")
        for position, op in enumerate(ops):
            if op not in OPS:
                to, src = EDGES[position]
                raise GenotypeError(
                    f"unknown op {op!r} on edge {position} (node {to} from {src}); known: {', '.join(OPS)}"
                )
        object.__setattr__(self, "ops", ops)

    def __str__(self) -> str:
        edges = [(to, f"{op}~{src}") for (to, src), op in zip(EDGES, self.ops, strict=True)]
        return "+".join("|" + "|".join(e for t, e in edges if t == to) + "|" for to in range(1, NODES))

    @property
    def key(self) -> str:
        """The arch string: one per cell (tables keep one record per arch string)."""
        return str(self)

    @property
    def canonical_key(self) -> str:
        """Equal for cells that compute the same function: NAS-Bench-201's isomorphism classes
        (`to_unique_str(consider_zero=True)` of its API), 6,466 over the 15,625 cells.

        Each node is written as the sorted sum of its inputs' terms: `(x)@op` for a parametric op or
        pool, `x` itself through a skip-connection, and `#` (zero) through `none` or from a node
        written as a lone `#`. (A node summing only zeros is written `#+#`, not `#`, so a zero
        reached through it still counts as an input: this quirk of the reference is kept, since the
        classes must be the reference's.) The key is the output node's expression.
        """
        written = ["0"]
        for node in range(1, NODES):
            terms = []
            for (to, source), op in zip(EDGES, self.ops, strict=True):
                if to != node:
                    continue
                if op == "none" or written[source] == ZERO:
                    terms.append(ZERO)
                else:
                    terms.append(written[source] if op == "skip_connect" else f"({written[source]})@{op}")
            written.append("+".join(sorted(terms)))
        return written[-1]

    def to_indices(self) -> tuple[int, ...]:
        return tuple(OPS.index(op) for op in self.ops)

    @classmethod
    def from_indices(cls, indices: Sequence[int]) -> Arch:
        for position, index in enumerate(indices):
            is_int = isinstance(index, int | np.integer) and not isinstance(index, bool)
            if not is_int or not 0 <= index < len(OPS):
                raise GenotypeError(f"op index {index!r} at edge {position} is not in 0..{len(OPS) - 1}")
        return cls(tuple(OPS[int(i)] for i in indices))

    @classmethod
    def parse(cls, text: str) -> Arch:
        """Read `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`, naming the group and edge of any problem."""
        stripped = text.strip()
        groups = stripped.split("+")
        if len(groups) != NODES - 1:
            raise GenotypeError(
                f"NB201 arch string needs {NODES - 1} '+'-separated node groups, "
                f"got {len(groups)}: {stripped!r}"
            )
        ops = []
        for to, group in enumerate(groups, start=1):
            if len(group) < 2 or not (group.startswith("|") and group.endswith("|")):
                raise GenotypeError(f"NB201 node {to} group {group!r} must be wrapped in '|'")
            edges = group[1:-1].split("|")
            if len(edges) != to:
                raise GenotypeError(f"NB201 node {to} needs {to} edges, got {len(edges)} in {group!r}")
            for src, edge in enumerate(edges):
                op, tilde, given = edge.partition("~")
                if not tilde:
                    raise GenotypeError(f"NB201 edge {edge!r} of node {to} is not 'op~input'")
                if given != str(src):
                    raise GenotypeError(
                        f"NB201 edge {edge!r} of node {to} must read from ~{src}, not ~{given}"
                    )
                ops.append(op)
        return cls(tuple(ops))


def all_archs() -> Iterator[Arch]:
    """All 5**6 = 15,625 cells, in `to_indices()` lexicographic order."""
    for ops in itertools.product(OPS, repeat=len(EDGES)):
        yield Arch(ops)


def sample(seed: int) -> Arch:
    """A uniform random cell: each edge's op drawn uniformly."""
    rng = np.random.default_rng(seed)
    return Arch.from_indices([int(i) for i in rng.integers(len(OPS), size=len(EDGES))])


def neighbours(arch: Arch) -> list[Arch]:
    """The 24 cells that differ from `arch` on exactly one edge."""
    result = []
    for position, current in enumerate(arch.ops):
        for op in OPS:
            if op != current:
                result.append(Arch(arch.ops[:position] + (op,) + arch.ops[position + 1 :]))
    return result


def mutate(arch: Arch, seed: int) -> Arch:
    """One uniformly chosen edge gets a uniformly chosen different op."""
    rng = np.random.default_rng(seed)
    position = int(rng.integers(len(EDGES)))
    others = [op for op in OPS if op != arch.ops[position]]
    op = others[int(rng.integers(len(others)))]
    return Arch(arch.ops[:position] + (op,) + arch.ops[position + 1 :])
