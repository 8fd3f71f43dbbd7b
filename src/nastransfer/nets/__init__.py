"""Torch modules of the search spaces: ops, cells, evaluation networks; parameter and FLOP counts."""

from torch import nn

from nastransfer.errors import GenotypeError
from nastransfer.nets.counting import count_flops, count_params
from nastransfer.nets.darts_net import EvalCell, EvalNet
from nastransfer.nets.nb201_net import NB201Cell, NB201Net
from nastransfer.nets.ops import NB201_OPS, OPS
from nastransfer.nets.supernets import DartsSupernet, NB201Supernet, build_supernet  # noqa: F401 (search nets)
from nastransfer.spaces import darts, nb201


def build_eval_net(genotype: darts.Genotype | nb201.Arch, **kwargs) -> nn.Module:
    """An `EvalNet` for a DARTS `Genotype`, an `NB201Net` for an NB201 `Arch`.

    Keywords the chosen network does not take (e.g. `auxiliary` for NB201) raise TypeError, so a
    protocol never silently loses a setting.
    """
    if isinstance(genotype, darts.Genotype):
        return EvalNet(genotype, **kwargs)
    if isinstance(genotype, nb201.Arch):
        return NB201Net(genotype, **kwargs)
    raise GenotypeError(f"no evaluation network for a {type(genotype).__name__}")


__all__ = [
    "NB201_OPS",
    "OPS",
    "EvalCell",
    "EvalNet",
    "NB201Cell",
    "NB201Net",
    "build_eval_net",
    "count_flops",
    "count_params",
]
