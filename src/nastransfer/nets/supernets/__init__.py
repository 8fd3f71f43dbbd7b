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
    """The registered space's supernet (`DartsSupernet` for 'darts' (C, layers, ...), `NB201Supernet`
    for 'nb201' (C, N, ...)); a space without one is a ConfigError."""
    from nastransfer.errors import ConfigError, GenotypeError
    from nastransfer.spaces import get_space, space_names

    try:
        chosen = get_space(space)
    except GenotypeError:
        chosen = None
    if chosen is None or chosen.supernet is None:
        known = ", ".join(name for name in space_names() if get_space(name).supernet is not None)
        raise ConfigError(f"no supernet for search space {space!r} (known: {known})")
    return chosen.build_supernet(**kwargs)
