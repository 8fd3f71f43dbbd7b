"""Searchers by name: built-ins register with `@register`, plugins through the entry-point group
`nastransfer.searchers` (the table searchers `rs`, `re`, `ls` of `nastransfer.tabular` come in this
way, as any package's methods do), and any class can be named directly as `"package.module:Class"`.

A searcher class carries its own published budget (`Searcher.paper_budget`), so naming a method
is all the registry needs to answer both "build it" and "what does the paper spend".
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from nastransfer.errors import ConfigError
from nastransfer.registry import Registry
from nastransfer.search.base import Searcher
from nastransfer.search.budget import REQUIRED_FIELDS, Budget
from nastransfer.search.params import check_params

ENTRY_POINT_GROUP = "nastransfer.searchers"
S = TypeVar("S", bound=type)


@dataclass(frozen=True)
class SearcherEntry:
    """A registered searcher: its class, the options its name builds it with (`darts2`: order 2),
    and whether a name its class gives itself wins over the registered one (a plugin's may)."""

    cls: type[Searcher]
    defaults: dict[str, Any] = field(default_factory=dict)
    own_name: bool = False


def _admit(name: str, loaded: Any) -> SearcherEntry:
    return SearcherEntry(_checked_class(name, loaded), own_name=True)


SEARCHERS: Registry[SearcherEntry] = Registry(
    "search method", ConfigError, plugins=ENTRY_POINT_GROUP, admit=_admit, hint=", or module:Class"
)


def register(name: str, **defaults: Any) -> Callable[[S], S]:
    """Class decorator: `get(name, **options)` builds the class with `defaults` updated by `options`."""

    def add(cls: S) -> S:
        SEARCHERS.add(name, SearcherEntry(cls, defaults))
        return cls

    return add


def names() -> list[str]:
    """Built-in and plugin searcher names."""
    return SEARCHERS.names()


def get(name: str, **options: Any) -> Searcher:
    """A searcher by registered name, plugin name, or `"module:Class"` path; options go to its constructor."""
    entry = _entry(name)
    return _build(entry.cls, name, {**entry.defaults, **options}, keep_own_name=entry.own_name)


def resolve(name: str) -> Callable[..., Searcher]:
    """What builds searcher `name` (`get` with the name bound), its class found and checked first."""
    searcher_class(name)
    return functools.partial(get, name)


def published_budget(name: str) -> Budget:
    """The budget searcher `name`'s class publishes (`Searcher.paper_budget`); a ConfigError for
    an unknown method or one that publishes none."""
    return method_budget(name, {})


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


def searcher_class(name: str) -> type[Searcher]:
    """The class `get(name)` builds, found without calling anything a config names.

    A plugin or `module:Class` must be a `Searcher` subclass: a study file can name any attribute of
    any module (`os:system`), so nothing is called before that check holds.
    """
    return _entry(name).cls


def _entry(name: str) -> SearcherEntry:
    if isinstance(name, str) and ":" in name and name not in SEARCHERS:
        return SearcherEntry(_checked_class(name, _import(name)), own_name=True)
    return SEARCHERS.get(name)


def _checked_class(name: str, target: Any) -> type[Searcher]:
    if not (isinstance(target, type) and issubclass(target, Searcher)):
        raise ConfigError(f"{name!r} is not a searcher: expected a subclass of nastransfer.search.Searcher")
    return target


def _import(name: str) -> Any:
    """The attribute behind a `module:Class` path, imported but not called."""
    module_name, _, attr = name.partition(":")
    if not all(part.isidentifier() for part in [*module_name.split("."), attr]):
        raise ConfigError(f"{name!r} is not a module:Class path")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise ConfigError(f"cannot load searcher {name!r}: {err}") from None


def _build(cls: type[Searcher], name: str, options: dict[str, Any], keep_own_name: bool) -> Searcher:
    """Construct `cls` with its name already set, so the constructor's own errors can name it.

    A registered class takes the name it was registered under (`darts` and `darts2` share one
    class); a plugin or `module:Class` keeps a name its class gives itself.
    """
    searcher = cls.__new__(cls)
    if not (keep_own_name and getattr(cls, "name", "")):
        searcher.name = name
    schema = getattr(cls, "params_schema", None)
    if schema is not None:
        check_params(schema, options, name)
    else:
        _check_options(cls, name, options)
    searcher.__init__(**options)
    return searcher


def _check_options(cls: type[Searcher], name: str, options: dict[str, Any]) -> None:
    """A ConfigError naming the options `cls`'s constructor does not take (a CLI flag or a study's
    params given to a searcher without it), before anything is built: what a searcher without a
    `params_schema` gets."""
    signature = inspect.signature(cls.__init__)
    try:
        signature.bind(None, **options)
    except TypeError as err:
        params = list(signature.parameters.values())[1:]  # after self
        known = [p.name for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD]
        raise ConfigError(
            f"searcher {name!r} rejects its options ({err}; it takes: {', '.join(known) or 'none'})"
        ) from None
