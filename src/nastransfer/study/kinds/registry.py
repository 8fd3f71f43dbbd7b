"""The registry of task kinds (`KINDS`, a `nastransfer.registry.Registry` like every extension point's),
kept in registration order: the planner expands the kinds in this order (a kind sees the tasks of those
before it) and `status` lists them so."""

from __future__ import annotations

from nastransfer.errors import ConfigError
from nastransfer.registry import Registry
from nastransfer.study.kinds.base import TaskKind

KINDS: Registry[TaskKind] = Registry("task kind", ConfigError)


def register_kind(kind: TaskKind) -> TaskKind:
    """Add `kind` under its `name`; a taken name is refused (`KINDS.remove(name)` is a test's teardown)."""
    return KINDS.add(kind.name, kind)


def get_kind(name: str) -> TaskKind:
    return KINDS.get(name)


def kinds() -> list[TaskKind]:
    """The registered kinds in registration order (the plan's order)."""
    return KINDS.loaded()


def kind_names() -> list[str]:
    return [kind.name for kind in KINDS.loaded()]
