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
    return resolve(name)(**options)


def resolve(name: str) -> Callable[..., Searcher]:
    """What `get` calls to build searcher `name`, found without calling anything a config names.

    A plugin or `module:Class` must be a `Searcher` subclass: a study file can name any attribute of
    any module (`os:system`), so nothing is called before that check holds.
    """
    if name in _REGISTRY:
        return _REGISTRY[name]
    plugins = _plugins()
    if name in plugins:
        try:
            target = plugins[name].load()
        except (ImportError, AttributeError) as err:
            raise ConfigError(f"cannot load searcher plugin {name!r}: {err}") from None
        return _searcher_class(target, name)
    if ":" in name:
        module_name, _, attr = name.partition(":")
        if not all(part.isidentifier() for part in [*module_name.split("."), attr]):
            raise ConfigError(f"{name!r} is not a module:Class path")
        try:
            target = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as err:
            raise ConfigError(f"cannot load searcher {name!r}: {err}") from None
        return _searcher_class(target, name)
    raise ConfigError(f"unknown search method {name!r} (known: {', '.join(names())}, or module:Class)")


def _searcher_class(target: Any, name: str) -> Callable[..., Searcher]:
    if not (isinstance(target, type) and issubclass(target, Searcher)):
        raise ConfigError(f"{name!r} is not a searcher: expected a subclass of nastransfer.search.Searcher")

    def make(**options: Any) -> Searcher:
        searcher = target(**options)
        if not getattr(searcher, "name", ""):
            searcher.name = name
        return searcher

    return make
