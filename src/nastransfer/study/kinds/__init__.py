"""A study's task kinds: one module each, one registry (`registry`), the `TaskKind` interface (`base`).

The built-in kinds register here, in plan order: `search` and `sample` produce cells, `evaluate`
trains or looks up each produced cell in its settings, `fidelity` scores a `[fidelity]` section's
cells with its proxies. Adding a kind is one module with a `TaskKind` subclass and
`register_kind` (into `KINDS`).
"""

from nastransfer.study.driver.store import set_table_owners
from nastransfer.study.kinds.base import Cell, Estimator, TaskCost, TaskKind, Work
from nastransfer.study.kinds.evaluate import EvaluateKind
from nastransfer.study.kinds.fidelity import FidelityKind
from nastransfer.study.kinds.registry import KINDS, get_kind, kind_names, kinds, register_kind
from nastransfer.study.kinds.sample import SampleKind
from nastransfer.study.kinds.search import SearchKind

for _kind in (SearchKind(), SampleKind(), EvaluateKind(), FidelityKind()):
    register_kind(_kind)
set_table_owners(kinds)  # the store makes and migrates the registered kinds' tables

__all__ = [
    "KINDS",
    "Cell",
    "Estimator",
    "TaskCost",
    "TaskKind",
    "Work",
    "get_kind",
    "kind_names",
    "kinds",
    "register_kind",
]
