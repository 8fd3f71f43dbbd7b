"""Task identity: a task is a frozen spec; its key is the sha256 of its canonical JSON and a format version.

A task has a kind (`study.kinds`: what plans, runs, records and prices it) and may name the task that
produces its cell; once the cell is known, `evaluation_key` gives the content-based identity of a
training itself, so a cell found twice is trained once per setting.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

#: Bump when the meaning of a spec changes: every key changes with it, so old results are not reused.
FORMAT_VERSION = 1


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: equal specs give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def content_key(namespace: str, spec: dict[str, Any]) -> str:
    """sha256 over the format version, a namespace and the canonical JSON of `spec`."""
    return _digest(namespace, canonical_json(spec))


def _digest(namespace: str, canonical: str) -> str:
    return hashlib.sha256(f"nastransfer/{namespace}/v{FORMAT_VERSION}\n{canonical}".encode()).hexdigest()


@dataclass(frozen=True)
class Task:
    """One node of the plan; `spec_json` is canonical, so equal tasks have equal keys."""

    kind: str
    spec_json: str
    producer: str | None = None

    @classmethod
    def make(cls, kind: str, spec: dict[str, Any], producer: str | None = None) -> Task:
        body = {**spec, "kind": kind, "producer": producer}
        return cls(kind, canonical_json(body), producer)

    @property
    def spec(self) -> dict[str, Any]:
        return json.loads(self.spec_json)

    @property
    def key(self) -> str:
        return _digest("task", self.spec_json)


def evaluation_key(cell: str, space: str, setting: dict[str, Any]) -> str:
    """Identity of one training (or look-up) of one cell in one setting, whoever found the cell."""
    return content_key("evaluation", {"cell": cell, "space": space, "setting": setting})
