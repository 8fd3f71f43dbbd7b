"""The predictor registry (timm-style): `@register(name)` on a class, `get(name)`, `names()`."""

from __future__ import annotations

from collections.abc import Callable

from nastransfer.errors import ConfigError
from nastransfer.predictors.base import Predictor

_REGISTRY: dict[str, type[Predictor]] = {}


def register(name: str) -> Callable[[type[Predictor]], type[Predictor]]:
    """Class decorator: make the predictor available as `get(name)`."""

    def add(cls: type[Predictor]) -> type[Predictor]:
        if name in _REGISTRY:
            raise ValueError(f"predictor {name!r} is registered twice")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return add


def get(name: str) -> Predictor:
    """A new predictor by name; an unknown name is a ConfigError listing the known ones."""
    if name not in _REGISTRY:
        raise ConfigError(f"unknown zero-cost predictor {name!r} (known: {', '.join(names())})")
    return _REGISTRY[name]()


def names() -> list[str]:
    """The registered predictors, sorted."""
    return sorted(_REGISTRY)
