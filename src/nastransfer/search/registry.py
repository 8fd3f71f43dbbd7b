"""Searchers by name: built-ins register with `@register`, plugins through the entry-point group
`nastransfer.searchers`, and any class can be named directly as `"package.module:Class"`.

A searcher class carries its own published budget (`Searcher.paper_budget`), so naming a method
is all the registry needs to answer both "build it" and "what does the paper spend".
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, TypeVar

from nastransfer.errors import ConfigError
from nastransfer.search.base import Searcher
from nastransfer.search.budget import REQUIRED_FIELDS, Budget

ENTRY_POINT_GROUP = "nastransfer.searchers"
_REGISTRY: dict[str, tuple[type[Searcher], dict[str, Any]]] = {}
S = TypeVar("S", bound=type)


def register(name: str, **defaults: Any) -> Callable[[S], S]:
    """Class decorator: `get(name, **options)` builds the class with `defaults` updated by `options`."""

    def add(cls: S) -> S:
        if name in _REGISTRY:
            raise ValueError(f"searcher {name!r} is registered twice")
        _REGISTRY[name] = (cls, defaults)
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
        cls, defaults = _REGISTRY[name]
        return _build(cls, name, {**defaults, **options}, keep_own_name=False)
    target = _load(name)
    if isinstance(target, type) and not issubclass(target, Searcher):
        raise _not_a_searcher(name)
    searcher = _build(target, name, options, keep_own_name=True)
    if not isinstance(searcher, Searcher):
        raise _not_a_searcher(name)
    return searcher


def _not_a_searcher(name: str) -> ConfigError:
    return ConfigError(f"{name!r} is not a searcher: it does not subclass nastransfer.search.Searcher")


def method_budget(name: str, changes: dict[str, Any]) -> Budget:
    """The budget searcher `name` runs with: the one its class publishes (`Searcher.paper_budget`)
    with `changes` applied.

    A method that publishes none (a plugin may not) runs with `changes` alone, which must then
    give every required field.
    """
    published = getattr(searcher_class(name), "paper_budget", None)
    if isinstance(published, Budget):
        return published.replace(**changes)
    missing = [f for f in REQUIRED_FIELDS if f not in changes]
    if missing:
        raise ConfigError(f"search method {name!r} publishes no budget: give {', '.join(missing)}")
    return Budget.from_dict(changes)


def searcher_class(name: str) -> Any:
    """The class (or, for a plugin, possibly a factory) that `get(name)` builds."""
    return _REGISTRY[name][0] if name in _REGISTRY else _load(name)


def _load(name: str) -> Any:
    """The class (or factory) behind a plugin name or a `module:Class` path."""
    plugins = _plugins()
    if name in plugins:
        return plugins[name].load()
    if ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            return getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as err:
            raise ConfigError(f"cannot load searcher {name!r}: {err}") from None
    raise ConfigError(f"unknown search method {name!r} (known: {', '.join(names())}, or module:Class)")


def _build(target: Any, name: str, options: dict[str, Any], keep_own_name: bool) -> Searcher:
    """Construct `target` with its name already set, so the constructor's own errors can name it.

    A registered class takes the name it was registered under (`darts` and `darts2` share one
    class); a plugin or `module:Class` keeps a name its class gives itself.
    """
    if isinstance(target, type):
        searcher = target.__new__(target)
        if not (keep_own_name and getattr(target, "name", "")):
            searcher.name = name
        searcher.__init__(**options)
        return searcher
    searcher = target(**options) if callable(target) else target
    if not getattr(searcher, "name", ""):
        searcher.name = name
    return searcher
