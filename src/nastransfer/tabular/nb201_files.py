"""`nb201-file:<path>`: NAS-Bench-201 results a user exported to a plain JSON or CSV file.

The official NAS-Bench-201 / NATS-Bench files are read by `nb201_official`
(`nb201-official:<path>:<dataset>`); smaller subsets can be exported into one of these formats:

- JSON: `{"dataset": "cifar100", "cells": [{"arch": "|nor_conv_3x3~0|+|...|", "accuracy": 73.5,
  ...}, ...]}`; `dataset` optional.
- CSV: a header row with `arch` and `accuracy`, then one row per cell.

`accuracy` is the test accuracy in percent; optional numeric fields `valid_accuracy`, `params`,
`flops`, `latency_s` are kept (a search maximises `valid_accuracy` where every cell has one).
Any other field is ignored. `export_table` writes the JSON form.

The folder `$NASTRANSFER_TABLES` also serves tables as `nb201:<dataset>`. Precedence, first wins:
an export named `nb201-<dataset>.json` (or `.csv`); then an official source named as distributed
(`NATS-tss-v*-simple/`, then `NATS-tss-v*.pickle.pbz2`, then `NAS-Bench-201-v*.pth`, newest version
first) for cifar10, cifar100 and imagenet16-120; then the bundled analog-nasbench CIFAR-10 table.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

from nastransfer.atomic import atomic_write_bytes
from nastransfer.errors import DatasetError, GenotypeError
from nastransfer.spaces import nb201
from nastransfer.tabular.nb201_official import DATASETS, is_official_source, load_official, preferred_source
from nastransfer.tabular.tables import Table, finite_number, register_family

FIELDS: tuple[str, ...] = ("accuracy", "valid_accuracy", "params", "flops", "latency_s")
TABLES_ENV = "NASTRANSFER_TABLES"


def user_files() -> dict[str, str]:
    """Dataset -> the `nb201-file` argument serving `nb201:<dataset>` from `$NASTRANSFER_TABLES`."""
    folder = os.environ.get(TABLES_ENV)
    if not folder or not Path(folder).is_dir():
        return {}
    official = preferred_source(Path(folder))
    found = {dataset: f"{official}:{dataset}" for dataset in DATASETS} if official else {}
    for path in sorted(Path(folder).iterdir()):
        if path.name.startswith("nb201-") and path.suffix.lower() in (".json", ".csv") and path.is_file():
            found[path.stem.removeprefix("nb201-")] = str(path)
    return found


def _no_fixed_names() -> list[str]:
    return []


@register_family("nb201-file", _no_fixed_names)
def load_nb201_file(path_text: str, name: str | None = None) -> Table:
    """The table in a user's export (or, for `<path>:<dataset>`, an official source); `name` replaces
    `nb201-file:<path>` (for `$NASTRANSFER_TABLES`)."""
    path = Path(path_text).expanduser()
    source, colon, _ = path_text.rpartition(":")
    if not path.exists() and colon and is_official_source(Path(source).expanduser()):
        return load_official(path_text, name=name or f"nb201-file:{path_text}")
    if is_official_source(path) and path.suffix.lower() not in (".json", ".csv"):
        raise DatasetError(
            f"table nb201-file:{path_text} is an official benchmark file: "
            f"open it as nb201-official:{path_text}:<dataset> ({', '.join(DATASETS)})"
        )
    if not path.is_file():
        raise DatasetError(f"table nb201-file:{path_text}: no such file")
    rows = _read_csv(path) if path.suffix.lower() == ".csv" else _read_json(path)
    records: dict[str, tuple[nb201.Arch, dict[str, float]]] = {}
    for index, row in enumerate(rows):
        where = f"{path} cell {index}"
        try:
            arch = nb201.Arch.parse(str(row["arch"]))
        except KeyError:
            raise DatasetError(f"{where}: missing 'arch'") from None
        except GenotypeError as err:
            raise DatasetError(f"{where}: {err}") from None
        if arch.key in records:
            raise DatasetError(f"{where}: {arch} appears twice")
        records[arch.key] = (arch, _metrics(row, where))
    if not records:
        raise DatasetError(f"{path}: holds no cells")
    has_valid = all("valid_accuracy" in metrics for _, metrics in records.values())
    return Table(
        name=name or f"nb201-file:{path_text}",
        space=nb201.NAME,
        records=records,
        search_metric="valid_accuracy" if has_valid else "accuracy",
        description=f"NAS-Bench-201 results exported to {path.name}",
    )


def _metrics(row: dict[str, Any], where: str) -> dict[str, float]:
    metrics = {}
    for name in FIELDS:
        value = row.get(name)
        if value is None or value == "":
            if name == "accuracy":
                raise DatasetError(f"{where}: missing 'accuracy'")
            continue
        metrics[name] = finite_number(value, f"{where} {name}")
    return metrics


def _read_json(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DatasetError(f"{path}: not a readable JSON table ({err})") from None
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        raise DatasetError(f"{path}: a JSON table needs a 'cells' list of objects")
    return cells


def _read_csv(path: Path) -> list[dict[str, Any]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not {"arch", "accuracy"} <= set(reader.fieldnames):
                raise DatasetError(f"{path}: a CSV table needs 'arch' and 'accuracy' columns")
            return list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise DatasetError(f"{path}: not a readable CSV table ({err})") from None


def export_table(table: Table, path: str | Path, dataset: str = "") -> None:
    """Write an NB201 table in the JSON form `nb201-file:` reads."""
    if table.space != nb201.NAME:
        raise DatasetError(f"only NAS-Bench-201 tables can be exported, not {table.name} ({table.space})")
    cells = [
        {"arch": str(arch), **{k: v for k, v in metrics.items() if k in FIELDS}}
        for arch, metrics in table.items()
    ]
    text = json.dumps({"dataset": dataset, "source": table.name, "cells": cells}, indent=1)
    atomic_write_bytes(Path(path), (text + "\n").encode())
