"""`graph:<dataset>`: NAS-Bench-Graph (Qin et al. 2022, Apache-2.0), 26,206 GNNs on 9 graph datasets.

The package `nas-bench-graph` ships one pickle per dataset in `nas_bench_graph/light/`:
{architecture hash: {"perf": test metric, "valid_perf": validation metric, "para": parameters in
millions, "latency": seconds per inference}}, metrics in 0..1 (accuracy; ROC-AUC for ogbn-proteins,
whose table covers only the 2,021 networks built from its five ops). We report percent, and keep
the stored test value as `perf` for rank correlations.
"""

from __future__ import annotations

import functools
import importlib.util
import pickle
from pathlib import Path

from nastransfer.errors import DatasetError
from nastransfer.safe_pickle import load_plain_data
from nastransfer.spaces.graph import NAME, PROTEINS_OPS, GraphArch, decode_hash
from nastransfer.tabular.tables import Table, register_family

PACKAGE = "nas_bench_graph"
#: Datasets in the package, in the order its paper lists them.
DATASETS: tuple[str, ...] = (
    "cora", "citeseer", "pubmed", "cs", "physics", "photo", "computers", "arxiv", "proteins",
)  # fmt: skip


def bench_file(dataset: str) -> Path:
    """The package's light pickle for `dataset`."""
    if dataset not in DATASETS:
        known = ", ".join(DATASETS)
        raise DatasetError(f"table graph:{dataset}: unknown NAS-Bench-Graph dataset (known: {known})")
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise DatasetError(f"table graph:{dataset} needs the package nas-bench-graph (pip install it)")
    path = Path(next(iter(spec.submodule_search_locations))) / "light" / f"{dataset}.bench"
    if not path.is_file():
        raise DatasetError(f"nas-bench-graph is installed but {path} is missing")
    return path


def read_raw(path: Path) -> dict[int, dict[str, float]]:
    """{architecture hash: metrics} as stored (plain dicts and floats; numpy scalars allowed)."""
    try:
        with path.open("rb") as handle:
            raw = load_plain_data(handle)
    except (OSError, pickle.UnpicklingError, EOFError) as err:
        raise DatasetError(f"cannot read NAS-Bench-Graph file {path}: {err}") from None
    if not isinstance(raw, dict):
        raise DatasetError(f"NAS-Bench-Graph file {path} does not hold a dict")
    return raw


def _names() -> list[str]:
    return [f"graph:{d}" for d in DATASETS] if importlib.util.find_spec(PACKAGE) is not None else []


@functools.cache
def _cell(value: int) -> tuple[GraphArch, str]:
    """The arch a hash stands for and its text, decoded once per process for all nine tables."""
    arch = decode_hash(value)
    return arch, str(arch)


@register_family("graph", _names)
def load_graph(dataset: str) -> Table:
    records = {}
    for value, fields in read_raw(bench_file(dataset)).items():
        arch, text = _cell(int(value))
        metrics = {
            "accuracy": 100.0 * float(fields["perf"]),
            "valid_accuracy": 100.0 * float(fields["valid_perf"]),
            "params": 1e6 * float(fields["para"]),
            "latency_s": float(fields["latency"]),
            "perf": float(fields["perf"]),
        }
        records[text] = (arch, metrics)
    metric = "ROC-AUC" if dataset == "proteins" else "accuracy"
    return Table(
        name=f"graph:{dataset}",
        space=NAME,
        ops=PROTEINS_OPS if dataset == "proteins" else None,
        records=records,
        search_metric="valid_accuracy",
        rank_metric="perf",
        description=f"NAS-Bench-Graph {dataset}: test {metric} (percent) of each GNN",
    )
