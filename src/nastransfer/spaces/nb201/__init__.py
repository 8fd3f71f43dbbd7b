"""The NAS-Bench-201 cell search space: 4 nodes, 6 edges, 5 ops (15,625 cells)."""

from nastransfer.spaces.nb201.arch import EDGES, NODES, OPS, Arch, all_archs, mutate, neighbours, sample
from nastransfer.spaces.nb201.space import NAME, SPACE, parse

__all__ = [
    "EDGES", "NAME", "NODES", "OPS", "SPACE", "Arch", "all_archs", "mutate", "neighbours", "parse", "sample",
]  # fmt: skip
