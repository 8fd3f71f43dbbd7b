"""The files a run directory holds beside its store, checked where they are read.

`study.resolved.json` (the study, read by `runner` on a resume and here for its `[fidelity]`
settings), `plan.json` (the cost plan a run started from) and `cost.json` (its estimates against the measured
costs, which the report reads) are written by `run`. A folder or other non-file where one should
be, or a `cost.json` that is not what `run` wrote, is one `StoreError` naming the file and how to
recover; nothing is rewritten over it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nastransfer.errors import StoreError

RESOLVED_NAME = "study.resolved.json"  # the study as it was resolved, checked on every resume
PLAN_NAME = "plan.json"  # the cost plan the run started from (`nastransfer plan --json`)
COST_NAME = "cost.json"  # estimated vs measured device-seconds per task kind, read by the report


def check_written_files(run_dir: Path) -> None:
    """`run` can write its plan and cost files: none is a folder or other non-file."""
    for name in (PLAN_NAME, COST_NAME):
        path = run_dir / name
        if path.exists() and not path.is_file():
            raise StoreError(f"{path}: is not a file; it is left as it is: move it away or use another --dir")


class _KindCost(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    tasks: int = Field(ge=0)
    estimated_device_s: float = Field(ge=0)
    measured_device_s: float = Field(ge=0)


class _CostSummary(BaseModel):
    """What `runner.cost_summary` writes."""

    model_config = ConfigDict(extra="forbid", strict=True)

    device: str
    estimated_from: str
    kinds: dict[str, _KindCost]
    planned_device_s: float = Field(ge=0)
    planned_total: str
    measured_device_s: float = Field(ge=0)
    measured_total: str


def read_cost(run_dir: Path) -> dict[str, Any] | None:
    """The run's cost summary (None if the run wrote none), checked to be what `run` writes."""
    path = run_dir / COST_NAME
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


def fidelity_n_boot(run_dir: Path) -> int | None:
    """The bootstrap resamples the study's `[fidelity]` section asks for; None without the section.

    The resolved config is read (and a damaged one named) by `runner.study_name` before this."""
    path = run_dir / RESOLVED_NAME
    if not path.is_file():
        return None
    try:
        section = json.loads(path.read_bytes())["config"].get("fidelity")
        n_boot = None if section is None else section["n_boot"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise StoreError(f"{path}: {_problem(err)}; it is left as it is: restore it from a copy") from None
    if n_boot is not None and (isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1):
        raise StoreError(f"{path}: config.fidelity.n_boot is {n_boot!r}, not a count of resamples")
    return n_boot


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
