"""The predictor registry (timm-style): `@register(name)` on a class, `get(name)`, `names()`."""

from __future__ import annotations

from collections.abc import Callable

from nastransfer.errors import ConfigError
from nastransfer.predictors.base import Predictor
from nastransfer.registry import Registry

PREDICTORS: Registry[type[Predictor]] = Registry("zero-cost predictor", ConfigError)


def register(name: str) -> Callable[[type[Predictor]], type[Predictor]]:
    """Class decorator: make the predictor available as `get(name)` (its `name` set to it)."""

    def add(cls: type[Predictor]) -> type[Predictor]:
        PREDICTORS.add(name, cls)
        cls.name = name
        return cls

    return add


def get(name: str) -> Predictor:
    """A new predictor by name; an unknown name is a ConfigError listing the known ones."""
    return PREDICTORS.get(name)()


def names() -> list[str]:
    """The registered predictors, sorted."""
    return PREDICTORS.names()
