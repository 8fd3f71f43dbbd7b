"""The DARTS cell search space: 8 ops, cells of 4 nodes with 2 inputs each, normal and reduction cells."""

from nastransfer.spaces.darts.genotype import DEFAULT_CONCAT, OPS, STEPS, Genotype
from nastransfer.spaces.darts.published import PUBLISHED
from nastransfer.spaces.darts.sampling import CANDIDATE_OPS, mutate, neighbours, sample

NAME = "darts"


def parse(text: str) -> Genotype:
    """A published cell's name or `Genotype(...)` text."""
    stripped = text.strip()
    if stripped in PUBLISHED:
        return PUBLISHED[stripped]
    return Genotype.parse(stripped)


__all__ = [
    "CANDIDATE_OPS",
    "DEFAULT_CONCAT",
    "NAME",
    "OPS",
    "PUBLISHED",
    "STEPS",
    "Genotype",
    "mutate",
    "neighbours",
    "parse",
    "sample",
]
