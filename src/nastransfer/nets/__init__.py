"""Torch modules of the search spaces: ops, cells, evaluation networks; parameter and FLOP counts."""

from typing import Any

from torch import nn

from nastransfer.errors import GenotypeError
from nastransfer.nets.compiling import compile_net
from nastransfer.nets.counting import count_flops, count_params, meta_footprint
from nastransfer.nets.darts_net import EvalCell, EvalNet
from nastransfer.nets.nb201_net import NB201Cell, NB201Net
from nastransfer.nets.ops import NB201_OPS, OPS
from nastransfer.nets.supernets import DartsSupernet, NB201Supernet, build_supernet  # noqa: F401 (search nets)
from nastransfer.spaces import space_of


def build_eval_net(genotype: Any, **kwargs: Any) -> nn.Module:
    """The evaluation network of the genotype's space (`EvalNet` for DARTS, `NB201Net` for NB201).

    Keywords the chosen network does not take (e.g. `auxiliary` for NB201) raise TypeError, so a
    protocol never silently loses a setting.
    """
    try:
        space = space_of(genotype)
    except GenotypeError:
        raise GenotypeError(f"no evaluation network for a {type(genotype).__name__}") from None
    return space.build_eval_net(genotype, **kwargs)


__all__ = [
    "NB201_OPS",
    "OPS",
    "EvalCell",
    "EvalNet",
    "NB201Cell",
    "NB201Net",
    "build_eval_net",
    "compile_net",
    "count_flops",
    "count_params",
    "meta_footprint",
]
