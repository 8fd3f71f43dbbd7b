"""What a study's task kind is: everything the driver, the workers, the store, the frame, the plan and
the executors need to know of it, in one object, so none of them names a kind.

A kind expands the resolved study into keyed tasks, runs one of them in a worker (or in the driver,
when `in_driver`: a draw of microseconds), records its result in the store tables it owns, adds its
rows to the results frame, prices it for the plan and says how many processes it takes. A kind whose
tasks produce a cell (`produces_cell`) says where each cell is evaluated; a kind whose work may be
shared by several tasks (one training of a cell found twice) names that work by `work_key`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from nastransfer.study.driver.tasks import Task

if TYPE_CHECKING:
    import sqlite3

    from nastransfer.study.config.resolved import ResolvedStudy
    from nastransfer.study.config.schema import ExecutorConfig
    from nastransfer.study.driver.store import Store

#: A cell as the driver hands it on: (its key, its text).
Cell = tuple[str, str]


@dataclass(frozen=True)
class TaskCost:
    """One task's estimate in the plan: device-seconds in all, and the processes it takes."""

    key: str
    kind: str
    method: str
    source: str
    setting: str
    protocol: str
    device_s: float
    nproc: int = 1
    producer: str | None = None


class Estimator(Protocol):
    """What a kind prices its tasks with (`cost.plan.Estimator`): the study, this machine's timings
    (measured once per shape, cached) and the plan's notes."""

    config: ResolvedStudy
    measured: bool
    threads: int

    def sizes(self, data: dict[str, Any]) -> Any: ...

    def timing(self, shape: dict[str, Any], measure: Any) -> dict[str, Any]: ...

    def training_seconds(self, setting: dict[str, Any]) -> float: ...

    def search_seconds(self, spec: dict[str, Any]) -> float: ...

    def note(self, text: str) -> None: ...


@dataclass
class Work:
    """One unit a worker runs: the tasks it finishes (more than one when a training is shared), the
    key its results are stored under, and the cell its producer found (None for a task of no cell)."""

    keys: list[str]
    key: str
    cell: Cell | None = None


class TaskKind(ABC):
    """One kind of study task; registered once (`register_kind`), found by its `name`."""

    name: ClassVar[str]
    #: Run at once in the driver (and first), not shipped to a worker.
    in_driver: ClassVar[bool] = False
    #: Its tasks produce a cell that `evaluations` places in settings.
    produces_cell: ClassVar[bool] = False
    #: Its store tables: name -> `CREATE TABLE IF NOT EXISTS` statement(s), made on every store open.
    tables: ClassVar[dict[str, str]] = {}
    #: The frame of its own its results form for the report (e.g. the fidelity kind's scores frame),
    #: read through `own_frame_rows`; None: its rows are results-frame rows only.
    own_frame: ClassVar[str | None] = None

    # -- planner --------------------------------------------------------------------------------------

    @abstractmethod
    def expand(self, study: ResolvedStudy, planned: list[Task]) -> list[Task]:
        """This kind's tasks of `study`; `planned` holds the tasks of the kinds registered before it."""

    def evaluations(self, task: Task, study: ResolvedStudy) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(origin, setting) of every evaluation of the cell `task` produces (`produces_cell` kinds)."""
        return []

    # -- driver ---------------------------------------------------------------------------------------

    def work_key(self, task: Task, cell: Cell | None) -> str:
        """The key of the work `task` stands for (its workdir and stored results); the task's own by
        default. Two tasks with one work key share one run."""
        return task.key

    def is_recorded(self, store: Store, work_key: str) -> bool:
        """Whether shared work (a `work_key` other than the task's) is in the store already."""
        return False

    def payload(self, task: Task, cell: Cell | None) -> dict[str, Any]:
        """What a worker needs besides the spec (e.g. the cell's text)."""
        return {}

    # -- worker ---------------------------------------------------------------------------------------

    @abstractmethod
    def run(self, payload: dict[str, Any], workdir: Path | None) -> dict[str, Any]:
        """Run one task (`payload["spec"]`); plain data back. `workdir` is None for `in_driver` kinds."""

    def nproc(self, spec: dict[str, Any], executor: ExecutorConfig) -> int:
        """Processes the task takes (the executor reserves their cores and GPUs)."""
        return 1

    # -- store and frame ------------------------------------------------------------------------------

    @abstractmethod
    def record(
        self, store: Store, task: Task, work: Work, result: dict[str, Any], worker: str, node: str | None
    ) -> Cell | None:
        """Store a finished task's result and mark `work.keys` done; the cell it produced, if any."""

    def frame_rows(self, store: Store) -> list[dict[str, Any]]:
        """Its rows of the results frame (`results_columns.COLUMNS`), from its finished tasks: what
        `export` writes. A kind with an `own_frame` gives the report that frame instead."""
        return []

    def own_frame_rows(self, store: Store) -> list[dict[str, Any]]:
        """The rows of its `own_frame`, from its finished tasks' own tables."""
        return []

    def adopt(self, db: sqlite3.Connection, where: str) -> None:
        """In the store's schema-4 migration: move what older releases stored elsewhere into its tables
        (`where`, the store's path, starts the StoreError of a damaged record). Nothing by default."""
        return None

    # -- plan -----------------------------------------------------------------------------------------

    @abstractmethod
    def price(self, task: Task, estimator: Estimator) -> TaskCost:
        """The plan's estimate of one task."""
