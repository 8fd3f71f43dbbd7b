"""Search spaces as plain data: genotypes, their text forms, canonical keys, sampling, published cells."""

from nastransfer.spaces import darts, nb201
from nastransfer.spaces.registry import Space, get_space, load_genotype, parse_any, space_names, space_of

__all__ = ["Space", "darts", "get_space", "load_genotype", "nb201", "parse_any", "space_names", "space_of"]
