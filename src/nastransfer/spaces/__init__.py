"""Search spaces as plain data: genotypes, their text forms, canonical keys, sampling, published cells.

Each space is one folder that registers itself (`register_space`) when imported here.
"""

from nastransfer.spaces import darts, graph, nb201  # registers the spaces
from nastransfer.spaces.registry import (
    SPACES,
    Diagram,
    Space,
    get_space,
    load_genotype,
    parse_any,
    register_space,
    space_names,
    space_of,
    unregister_space,
)

__all__ = [
    "SPACES",
    "Diagram",
    "Space",
    "darts",
    "get_space",
    "graph",
    "load_genotype",
    "nb201",
    "parse_any",
    "register_space",
    "space_names",
    "space_of",
    "unregister_space",
]
