"""The registry of task kinds, in registration order: the planner expands them in this order (a kind
sees the tasks of those before it) and `status` lists them so."""

from __future__ import annotations

from nastransfer.study.kinds.base import TaskKind

_KINDS: dict[str, TaskKind] = {}


def register_kind(kind: TaskKind) -> TaskKind:
    """Add `kind`; a name already taken is a ValueError."""
    if kind.name in _KINDS:
        raise ValueError(f"task kind {kind.name!r} is already registered")
    _KINDS[kind.name] = kind
    return kind


def unregister_kind(name: str) -> None:
    _KINDS.pop(name, None)


def get_kind(name: str) -> TaskKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise ValueError(f"unknown task kind {name!r} (registered: {', '.join(_KINDS)})") from None


def kinds() -> list[TaskKind]:
    return list(_KINDS.values())


def kind_names() -> list[str]:
    return list(_KINDS)
