"""The DARTS cell search space: 8 ops, cells of 4 nodes with 2 inputs each, normal and reduction cells."""

from nastransfer.spaces.darts.genotype import DEFAULT_CONCAT, OPS, STEPS, Genotype
from nastransfer.spaces.darts.published import PUBLISHED
from nastransfer.spaces.darts.sampling import CANDIDATE_OPS, mutate, neighbours, sample
from nastransfer.spaces.darts.space import NAME, SPACE, parse

__all__ = [
    "CANDIDATE_OPS",
    "DEFAULT_CONCAT",
    "NAME",
    "OPS",
    "PUBLISHED",
    "SPACE",
    "STEPS",
    "Genotype",
    "mutate",
    "neighbours",
    "parse",
    "sample",
]
