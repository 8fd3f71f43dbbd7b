"""The results frame: one row per evaluation of one cell in one setting, as the analysis reads it.

Columns are exactly those of docs/architecture.md, defined in `nastransfer.results_columns`. Each task
kind adds its rows (`TaskKind.frame_rows`), in registration order: the evaluations (a cell found twice,
by two methods or seeds or as an isomorphic NB201 twin, has one training per setting but one row per
finding, so each method is credited with its own cell), then a `[fidelity]` section's proxy and
target rows: what `export` writes. The report reads `load_frames`: the results frame of the kinds
without a frame of their own, and those frames apart (the fidelity kind's scores frame).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from nastransfer.atomic import atomic_write_text, atomic_writer
from nastransfer.errors import ConfigError
from nastransfer.results_columns import COLUMNS
from nastransfer.study.driver.run_dir import RunDir
from nastransfer.study.driver.store import Store
from nastransfer.study.kinds import kinds


def load(run_dir: str | Path) -> pd.DataFrame:
    """The results frame of a run directory, every kind's rows (finished tasks only; a running study
    can be read): what `export` writes."""
    with _open(run_dir) as store:
        records = [row for kind in kinds() for row in kind.frame_rows(store)]
    return pd.DataFrame.from_records(records, columns=list(COLUMNS))


def load_frames(run_dir: str | Path) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """What the report reads: the results frame of the kinds without a frame of their own, and each
    other kind's own frame by its name (`TaskKind.own_frame`: the fidelity kind's scores frame)."""
    results: list[dict] = []
    own: dict[str, list[dict]] = {}
    with _open(run_dir) as store:
        for kind in kinds():
            if kind.own_frame is None:
                results += kind.frame_rows(store)
            else:
                own.setdefault(kind.own_frame, []).extend(kind.own_frame_rows(store))
    frames = {name: pd.DataFrame.from_records(rows) for name, rows in own.items()}
    return pd.DataFrame.from_records(results, columns=list(COLUMNS)), frames


def _open(run_dir: str | Path) -> Store:
    """The run directory's store, read-only; a folder without one is refused in one line."""
    run_dir = Path(run_dir)
    if not RunDir(run_dir).store.is_file():
        raise ConfigError(f"{run_dir}: not a study run directory (no {RunDir.STORE})")
    return Store.of_run(run_dir, readonly=True)


def export(run_dir: str | Path, destination: str | Path) -> Path:
    """Write the results frame to `.csv` or `.parquet`, whole or not at all."""
    destination = Path(destination)
    if destination.suffix not in (".csv", ".parquet"):
        raise ConfigError(
            f"{destination}: export writes .csv or .parquet, not {destination.suffix or 'no suffix'!r}"
        )
    if destination.is_dir():
        raise ConfigError(f"{destination}: is a folder; name a file to write")
    if not destination.parent.is_dir():
        raise ConfigError(f"{destination.parent}: no such folder to export into")
    frame = load(run_dir)
    if destination.suffix == ".csv":
        atomic_write_text(destination, frame.to_csv(index=False))
    else:
        with atomic_writer(destination) as handle:
            frame.to_parquet(handle, index=False)
    return destination
