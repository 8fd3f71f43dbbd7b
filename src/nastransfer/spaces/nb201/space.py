"""The NAS-Bench-201 space's registry record: text form, sampling, diagram and its nets (built lazily)."""

from __future__ import annotations

import operator

from nastransfer.spaces.nb201.arch import EDGES, OPS, Arch, mutate, neighbours, sample
from nastransfer.spaces.registry import Diagram, Space, register_space

NAME = "nb201"


def parse(text: str) -> Arch:
    """An arch string `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`."""
    return Arch.parse(text)


def _diagrams(arch: Arch) -> list[Diagram]:
    edges = tuple((str(src), str(to), op) for (to, src), op in zip(EDGES, arch.ops, strict=True))
    return [Diagram("cell (node 0 is the input, node 3 the output)", ("0",), edges)]


def _layout(layers: int) -> dict[str, int]:
    """NB201's N for a protocol of `layers` cells: its net has 3 stages of N cells plus 2 reduction blocks."""
    return {"N": max(1, (layers - 2) // 3)}


SPACE = register_space(
    Space(
        name=NAME,
        genotype_type=Arch,
        ops=OPS,
        parse=parse,
        sample=sample,
        mutate=mutate,
        neighbours=neighbours,
        recognises=lambda text: text.startswith("|"),
        text_help="an NB201 arch string",
        canonical_key=operator.attrgetter("canonical_key"),
        diagrams=_diagrams,
        eval_net="nastransfer.nets.nb201_net:NB201Net",
        supernet="nastransfer.nets.supernets.nb201:NB201Supernet",
        depth_keyword="N",
        layout_for_depth=_layout,
        net_defaults=(("C", 16), ("N", 5)),
        supernet_depth_period=(1, 1),  # N equal cells in each of its three stages
    )
)
