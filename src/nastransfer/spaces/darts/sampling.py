"""Random cells and one-edge moves in the DARTS space: the random-sampling baseline and local search."""

from __future__ import annotations

import numpy as np

from nastransfer.spaces.darts.genotype import CELL_FIELDS, DEFAULT_CONCAT, OPS, STEPS, Cell, Genotype

#: Ops a derived cell may use: every op but `none`, as DARTS-family derivations exclude it.
CANDIDATE_OPS: tuple[str, ...] = tuple(op for op in OPS if op != "none")


def _sample_cell(rng: np.random.Generator, ops: tuple[str, ...]) -> Cell:
    edges = []
    for node in range(STEPS):
        inputs = sorted(int(i) for i in rng.choice(node + 2, size=2, replace=False))
        drawn = rng.integers(len(ops), size=2)
        edges += [(ops[int(op)], index) for op, index in zip(drawn, inputs, strict=True)]
    return tuple(edges)


def sample(seed: int, ops: tuple[str, ...] = CANDIDATE_OPS) -> Genotype:
    """A uniform random cell pair: each node takes 2 distinct earlier states, each via an op drawn
    from `ops` (by default every op but `none`; weight-sharing random search draws from all)."""
    rng = np.random.default_rng(seed)
    normal = _sample_cell(rng, ops)
    reduce = _sample_cell(rng, ops)
    return Genotype(normal=normal, normal_concat=DEFAULT_CONCAT, reduce=reduce, reduce_concat=DEFAULT_CONCAT)


def _replace_edge(genotype: Genotype, field: str, position: int, edge: tuple[str, int]) -> Genotype:
    cell = list(getattr(genotype, field))
    cell[position] = edge
    fields = genotype.to_dict()
    fields[field] = cell
    return Genotype.from_dict(fields)


def _edge_moves(genotype: Genotype, field: str, position: int) -> list[tuple[str, int]]:
    """Every other (op, input) this edge could take: a different op, or a different free input."""
    cell = getattr(genotype, field)
    op, index = cell[position]
    node = position // 2
    partner = cell[position ^ 1][1]
    moves = [(other, index) for other in CANDIDATE_OPS if other != op]
    moves += [(op, other) for other in range(node + 2) if other not in (index, partner)]
    return moves


def neighbours(genotype: Genotype) -> list[Genotype]:
    """All cells one edge away: one edge's op or one edge's input changed (NASLib's `get_nbhd`)."""
    return [
        _replace_edge(genotype, field, position, move)
        for field in CELL_FIELDS
        for position in range(2 * STEPS)
        for move in _edge_moves(genotype, field, position)
    ]


def mutate(genotype: Genotype, seed: int) -> Genotype:
    """One random edge of one random cell gets a new op or a new input."""
    rng = np.random.default_rng(seed)
    field = CELL_FIELDS[int(rng.integers(len(CELL_FIELDS)))]
    position = int(rng.integers(2 * STEPS))
    moves = _edge_moves(genotype, field, position)
    return _replace_edge(genotype, field, position, moves[int(rng.integers(len(moves)))])
