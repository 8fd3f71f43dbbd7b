"""The NAS-Bench-201 cell search space: 4 nodes, 6 edges, 5 ops (15,625 cells)."""

from nastransfer.spaces.nb201.arch import EDGES, NODES, OPS, Arch, all_archs, mutate, neighbours, sample

NAME = "nb201"


def parse(text: str) -> Arch:
    """An arch string `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`."""
    return Arch.parse(text)


__all__ = ["EDGES", "NAME", "NODES", "OPS", "Arch", "all_archs", "mutate", "neighbours", "parse", "sample"]
