"""The one registry every extension point uses: searchers, spaces, predictors, datasets, tables and
protocols each keep a `Registry` of their own, with the same rules.

A name is taken once: a second entry under a taken name is refused (silently replacing one would
change what a study file already means). An unknown name is one line listing the known ones, raised
as the error type of the registry's package, so the CLI reports it and exits 2. A registry may
also admit installed plugins (an entry-point group): they are listed by name without importing
them and loaded on the first lookup of their name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Generic, TypeVar

from nastransfer.errors import NastransferError

T = TypeVar("T")
E = TypeVar("E")


class Registry(Generic[T]):
    """Entries of one kind by name.

    `kind` names an entry in messages ("search space"); `error` is the error type raised for a
    taken or unknown name; `plugins` is the entry-point group whose entries join on first lookup,
    each turned into an entry (and checked) by `admit(name, loaded object)`; `hint` ends the known
    names of an unknown-name error (another form a name may take).
    """

    def __init__(
        self,
        kind: str,
        error: type[NastransferError],
        *,
        plugins: str | None = None,
        admit: Callable[[str, Any], T] | None = None,
        hint: str = "",
    ) -> None:
        if (plugins is None) != (admit is None):
            raise TypeError("a registry with plugins needs an `admit` to turn each into an entry")
        self.kind, self.error, self.plugins, self.hint = kind, error, plugins, hint
        self._admit = admit
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> T:
        """Register `entry` as `name`; a taken name is refused."""
        if name in self._entries:
            raise self.error(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def register(self, name: str) -> Callable[[E], E]:
        """Decorator: register the decorated object itself as `name`."""

        def add(entry: E) -> E:
            self.add(name, entry)  # type: ignore[arg-type]
            return entry

        return add

    def remove(self, name: str) -> None:
        """Forget `name` (a test's teardown; an installed plugin of that name loads again on lookup)."""
        self._entries.pop(name, None)

    def get(self, name: str) -> T:
        """The entry called `name`, a plugin's loaded on first lookup; else one line listing the known."""
        if isinstance(name, str) and name in self._entries:
            return self._entries[name]
        point = self._plugin_points().get(name) if isinstance(name, str) else None
        if point is None:
            raise self.unknown(name)
        try:
            loaded = point.load()
        except (ImportError, AttributeError) as err:
            raise self.error(f"cannot load {self.kind} plugin {name!r}: {err}") from None
        assert self._admit is not None  # a registry with plugin points has one (constructor)
        return self.add(name, self._admit(name, loaded))

    def unknown(self, name: object) -> NastransferError:
        """The error for a name nothing is registered under."""
        known = ", ".join(self.names()) or "none"
        return self.error(f"unknown {self.kind} {name!r} (known: {known}{self.hint})")

    def names(self) -> list[str]:
        """Every registered name and installed plugin's, sorted."""
        return sorted(set(self._entries) | set(self._plugin_points()))

    def loaded(self) -> list[T]:
        """The entries registered so far, in registration order, without loading any plugin."""
        return list(self._entries.values())

    def load_plugins(self) -> bool:
        """Load every installed plugin not loaded yet; True if there was one."""
        waiting = [name for name in self._plugin_points() if name not in self._entries]
        for name in waiting:
            self.get(name)
        return bool(waiting)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._entries or name in self._plugin_points())

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def _plugin_points(self) -> dict[str, EntryPoint]:
        if self.plugins is None:
            return {}
        return {point.name: point for point in entry_points(group=self.plugins)}
