"""Searchers by name: built-ins register with `@register`, plugins through the entry-point group
`nastransfer.searchers`, and any class can be named directly as `"package.module:Class"`."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, TypeVar

from nastransfer.errors import ConfigError
from nastransfer.search.base import Searcher

ENTRY_POINT_GROUP = "nastransfer.searchers"
_REGISTRY: dict[str, Callable[..., Searcher]] = {}
S = TypeVar("S")


def register(name: str, **defaults: Any) -> Callable[[S], S]:
    """Class decorator: `get(name, **options)` builds the class with `defaults` updated by `options`."""

    def add(cls: S) -> S:
        if name in _REGISTRY:
            raise ValueError(f"searcher {name!r} is registered twice")

        def make(**options: Any) -> Searcher:
            searcher = cls(**{**defaults, **options})
            searcher.name = name
            return searcher

        _REGISTRY[name] = make
        return cls

    return add


def _plugins() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def names() -> list[str]:
    """Built-in and plugin searcher names."""
    return sorted(set(_REGISTRY) | set(_plugins()))


def get(name: str, **options: Any) -> Searcher:
    """A searcher by registered name, plugin name, or `"module:Class"` path; options go to its constructor."""
    if name in _REGISTRY:
        return _REGISTRY[name](**options)
    plugins = _plugins()
    if name in plugins:
        return _instantiate(plugins[name].load(), name, options)
    if ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            target = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as err:
            raise ConfigError(f"cannot load searcher {name!r}: {err}") from None
        return _instantiate(target, name, options)
    raise ConfigError(f"unknown search method {name!r} (known: {', '.join(names())}, or module:Class)")


def _instantiate(target: Any, name: str, options: dict[str, Any]) -> Searcher:
    searcher = target(**options) if isinstance(target, type) or callable(target) else target
    if not hasattr(searcher, "search"):
        raise ConfigError(f"{name!r} is not a searcher: it has no search() method")
    if not getattr(searcher, "name", ""):
        searcher.name = name
    return searcher
