"""NAS-Bench-Graph's macro space of GNNs (Qin et al. 2022): four ops, each reading an earlier one."""

from nastransfer.spaces.graph.arch import (
    NAME,
    OPS,
    POSITIONS,
    PROTEINS_OPS,
    GraphArch,
    decode_hash,
    encode_hash,
)
from nastransfer.spaces.graph.space import SPACE, GraphSpace

__all__ = [
    "NAME",
    "OPS",
    "POSITIONS",
    "PROTEINS_OPS",
    "SPACE",
    "GraphArch",
    "GraphSpace",
    "decode_hash",
    "encode_hash",
]
