"""A run directory and the one place its files are named (`RunDir`), each checked where it is read.

`study.sqlite` (the store), `study.resolved.json` (the study as resolved, checked on every resume and
read for its `[fidelity]` settings), `plan.json` (the cost plan a run started from), `cost.json` (its
estimates against the measured costs, which the report reads), `run.lock` (held while a run drives it),
the storage check's token, `report.error.txt` (a failed report's traceback) and `tasks/<work key>/` (a
task's work directory: its `task.json` spec, the worker's `attempt.json`, the checkpoints). A folder or
other non-file where one of these files should be, or a file that is not what `run` wrote, is one
`StoreError` naming the file and how to recover; nothing is rewritten over it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nastransfer.atomic import atomic_write_bytes
from nastransfer.errors import StoreError


@dataclass(frozen=True)
class RunDir:
    """The files of the run directory at `path`, by name."""

    path: Path  # a str is taken too

    STORE: ClassVar[str] = "study.sqlite"
    RESOLVED: ClassVar[str] = "study.resolved.json"
    PLAN: ClassVar[str] = "plan.json"
    COST: ClassVar[str] = "cost.json"
    LOCK: ClassVar[str] = "run.lock"
    TOKEN: ClassVar[str] = ".storage-check"
    REPORT_ERROR: ClassVar[str] = "report.error.txt"
    TASKS: ClassVar[str] = "tasks"
    TASK_SPEC: ClassVar[str] = "task.json"
    ATTEMPT: ClassVar[str] = "attempt.json"  # in a task's directory: the node and process running it

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    @property
    def store(self) -> Path:
        return self.path / self.STORE

    @property
    def resolved(self) -> Path:
        return self.path / self.RESOLVED

    @property
    def plan(self) -> Path:
        return self.path / self.PLAN

    @property
    def cost(self) -> Path:
        return self.path / self.COST

    @property
    def lock(self) -> Path:
        return self.path / self.LOCK

    @property
    def token(self) -> Path:
        return self.path / self.TOKEN

    @property
    def report_error(self) -> Path:
        return self.path / self.REPORT_ERROR

    def task_dir(self, work_key: str) -> Path:
        """Where the work `work_key` (a task's, or a training shared by several) keeps its files."""
        return self.path / self.TASKS / work_key

    def task_spec(self, work_key: str) -> Path:
        return self.task_dir(work_key) / self.TASK_SPEC

    @classmethod
    def attempt_in(cls, task_dir: str | Path) -> Path:
        """The attempt record in a task's directory (what a worker is handed)."""
        return Path(task_dir) / cls.ATTEMPT

    def attempts(self) -> list[Path]:
        """Every task's attempt record, sorted."""
        return sorted((self.path / self.TASKS).glob(f"*/{self.ATTEMPT}"))

    def write_json(self, path: Path, value: dict[str, Any]) -> None:
        """One of this directory's JSON files, written atomically, keys sorted (a rerun writes the same
        bytes)."""
        atomic_write_bytes(path, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode())

    def check_writable(self) -> None:
        """`run` can write its plan and cost files: none is a folder or other non-file."""
        for path in (self.plan, self.cost):
            if path.exists() and not path.is_file():
                raise StoreError(
                    f"{path}: is not a file; it is left as it is: move it away or use another --dir"
                )

    def read_resolved(self) -> dict[str, Any]:
        """The resolved config this directory holds; a damaged one is refused, never overwritten."""
        path = self.resolved
        try:
            resolved = json.loads(path.read_bytes())
            if isinstance(resolved, dict) and isinstance(resolved.get("config"), dict):
                return resolved
            problem = "not a resolved study"
        except (OSError, ValueError) as err:
            problem = f"unreadable ({type(err).__name__})"
        raise StoreError(
            f"{path}: {problem}; it is left as it is: restore it, or delete it to resume with the study file"
        )

    def read_cost(self) -> dict[str, Any] | None:
        """The run's cost summary (None if the run wrote none), checked to be what `run` writes."""
        path = self.cost
        if not path.exists():
            return None
        if not path.is_file():
            problem = "is not a file"
        else:
            try:
                return _CostSummary.model_validate(json.loads(path.read_bytes())).model_dump()
            except (OSError, ValueError) as err:  # ValidationError is a ValueError
                problem = _problem(err)
        raise StoreError(
            f"{path}: {problem}; it is left as it is: rerun the study to write it again, "
            "or move it away to report without the cost"
        )

    def fidelity_n_boot(self) -> int | None:
        """The bootstrap resamples the study's `[fidelity]` section asks for; None without the section.

        The resolved config is read (and a damaged one named) by `driver.study_name` before this."""
        path = self.resolved
        if not path.is_file():
            return None
        try:
            section = json.loads(path.read_bytes())["config"].get("fidelity")
            n_boot = None if section is None else section["n_boot"]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            problem = _problem(err)
            raise StoreError(f"{path}: {problem}; it is left as it is: restore it from a copy") from None
        if n_boot is not None and (isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1):
            raise StoreError(f"{path}: config.fidelity.n_boot is {n_boot!r}, not a count of resamples")
        return n_boot


class _KindCost(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    tasks: int = Field(ge=0)
    estimated_device_s: float = Field(ge=0)
    measured_device_s: float = Field(ge=0)


class _CostSummary(BaseModel):
    """What `driver.cost_summary` writes."""

    model_config = ConfigDict(extra="forbid", strict=True)

    device: str
    estimated_from: str
    kinds: dict[str, _KindCost]
    planned_device_s: float = Field(ge=0)
    planned_total: str
    measured_device_s: float = Field(ge=0)
    measured_total: str


def _problem(err: Exception) -> str:
    if isinstance(err, ValidationError):
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        return f"not a cost summary ({where}: {first['msg']})"
    if isinstance(err, OSError):
        return f"unreadable ({err.strerror})"
    if isinstance(err, (KeyError, TypeError, AttributeError)):
        return "not a resolved study"
    return f"not valid JSON ({err})"
