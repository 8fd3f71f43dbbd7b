"""Search networks (supernets) of the DARTS and NB201 spaces in mixed, partial-channel and sampled forms.

One cell/network skeleton serves every method: the form only decides which ops each edge runs
and how they are weighted (see `base.Supernet.plans`).
"""

from nastransfer.nets.supernets.arch import entropy
from nastransfer.nets.supernets.base import FORMS, Supernet
from nastransfer.nets.supernets.darts import DartsSupernet
from nastransfer.nets.supernets.edge import SearchEdge
from nastransfer.nets.supernets.nb201 import NB201Supernet

__all__ = ["FORMS", "DartsSupernet", "NB201Supernet", "SearchEdge", "Supernet", "build_supernet", "entropy"]


def build_supernet(space: str, **kwargs) -> Supernet:
    """`DartsSupernet` for space 'darts' (C, layers, ...), `NB201Supernet` for 'nb201' (C, N, ...)."""
    from nastransfer.errors import ConfigError

    if space == "darts":
        return DartsSupernet(**kwargs)
    if space == "nb201":
        return NB201Supernet(**kwargs)
    raise ConfigError(f"no supernet for search space {space!r} (known: darts, nb201)")
