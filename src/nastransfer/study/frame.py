"""The results frame: one row per evaluation of one cell in one setting, as the analysis reads it.

Columns are exactly those of docs/architecture.md, defined in `nastransfer.results_columns`. A cell found
twice (two methods, two seeds; or an isomorphic NB201 twin) has one training per setting but one row
per finding, so each method is credited with its own cell. A `[fidelity]` section adds its proxy and
target rows (`study.fidelity_frame`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from nastransfer.atomic import atomic_write_text, atomic_writer
from nastransfer.errors import ConfigError
from nastransfer.results_columns import COLUMNS
from nastransfer.study.fidelity_frame import fidelity_records
from nastransfer.study.store import STORE_NAME, Store

_QUERY = """
SELECT t.spec, t.cell, g.text AS genotype, g.space, r.top1, r.top5, r.params, r.flops,
       ec.wall_s AS eval_wall_s, ec.device_s AS eval_device_s,
       sc.wall_s AS search_wall_s, sc.device_s AS search_device_s
FROM tasks t
JOIN results r ON r.eval_key = t.eval_key
JOIN genotypes g ON g.key = t.cell
LEFT JOIN costs ec ON ec.key = t.eval_key
LEFT JOIN costs sc ON sc.key = t.producer
WHERE t.kind = 'evaluate' AND t.status = 'done'
ORDER BY t.rowid
"""


def load(run_dir: str | Path) -> pd.DataFrame:
    """The results frame of a run directory (finished evaluations only; a running study can be read)."""
    run_dir = Path(run_dir)
    if not (run_dir / STORE_NAME).is_file():
        raise ConfigError(f"{run_dir}: not a study run directory (no {STORE_NAME})")
    with Store.of_run(run_dir, readonly=True) as store:
        rows = store.query(_QUERY)
        proxy_records = fidelity_records(store)
    records = []
    for row in rows:
        spec = json.loads(row["spec"])
        origin, setting = spec["origin"], spec["setting"]
        records.append(
            {
                "cell": row["cell"],
                "genotype": row["genotype"],
                "space": row["space"],
                "method": origin["method"],
                "source": origin["source"],
                "source_kind": origin["source_kind"],
                "search_seed": origin["search_seed"],
                "eval_dataset": setting["name"],
                "eval_role": setting["role"],
                "protocol": setting["protocol"],
                "eval_seed": setting["seed"],
                "top1": row["top1"],
                "top5": row["top5"],
                "params": row["params"],
                "flops": row["flops"],
                "search_wall_s": row["search_wall_s"] or 0.0,
                "search_device_s": row["search_device_s"] or 0.0,
                "eval_wall_s": row["eval_wall_s"] or 0.0,
                "eval_device_s": row["eval_device_s"] or 0.0,
            }
        )
    return pd.DataFrame.from_records(records + proxy_records, columns=list(COLUMNS))


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
