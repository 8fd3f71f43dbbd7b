"""`nb201-official:<path>:<dataset>`: the NAS-Bench-201 and NATS-Bench topology files as distributed.

Three layouts are read, all holding the same 15,625 cells (facts from the benchmarks' own API code):

- NAS-Bench-201 file `NAS-Bench-201-v1_0-e61699.pth` / `NAS-Bench-201-v1_1-096897.pth`: a
  `torch.save`d dict `{"meta_archs": [arch string of index i], "arch2infos": {i: {"less": R, "full":
  R}}, "evaluated_indexes": [...]}`; `full` is the 200-epoch schedule, `less` the 12-epoch one.
- NATS-Bench topology folder `NATS-tss-v1_0-3ffb9-simple/`: `meta.pickle.pbz2`, a bz2-compressed
  pickle of `{"meta_archs": [...], ...}`, and one `<i:06d>.pickle.pbz2` per cell holding `{"12": R,
  "200": R}` (keyed by the number of training epochs).
- NATS-Bench topology file `NATS-tss-v1_0-3ffb9.pickle.pbz2`: the folder's content in one bz2 pickle,
  `{"meta_archs": [...], "arch2infos": {i: {"12": R, "200": R}}, "evaluated_indexes": [...]}`.

`R`, one cell under one schedule, is `{"arch_str", "dataset_seed": {dataset: [seeds]}, "all_results":
{(dataset, seed): trial}, ...}`; a trial is `{"epochs", "eval_acc1es": {"<set>@<epoch>": top-1 %},
"params": millions, "flop": millions, "latency": [seconds] or None, ...}`.

A table holds, per cell, the last epoch of the 200-epoch trainings averaged over seeds, as the
NAS-Bench-201 paper reports them: `accuracy` is `ori-test` of `cifar10` (trained on train+valid) or
`x-test` of `cifar100` / `ImageNet16-120`; `valid_accuracy` (what searches maximise) is `x-valid` of
`cifar10-valid` (trained on train only) or of the dataset itself; `params` (an integer) and `flops`
are counts, as each benchmark's own API reports them: the seeds' mean, except that where a NATS-Bench
file's seeds disagree (to 5 decimals, in millions) the `nats_bench` API (1.6 and later) reports seed
888's value, and so do we; `latency_s` is the mean of the measured latencies (left out where none
was measured).

The files are pickles, so they are read without running any of their code: the `.pth` through
`torch.load(weights_only=True)`, the bz2 pickles through an unpickler; both admit plain containers
and, as the only globals, `collections.OrderedDict`, numpy scalars and dtypes (the parameter counts
are numpy floats) and latin-1 bytes. Any other global (a class, a function) is refused with a
DatasetError naming it. A source is read once per process and serves all three datasets; the
NAS-Bench-201 `.pth` (4-5 GB) needs tens of GB of memory to unpickle, the NATS folder one cell at a time.

Sources named as distributed in `$NASTRANSFER_TABLES` are also served as `nb201:<dataset>`
(`nb201_files.user_files` says which wins).
"""

from __future__ import annotations

import bz2
import functools
import pickle
import re
from pathlib import Path
from typing import Any

import numpy as np

from nastransfer.errors import DatasetError, GenotypeError
from nastransfer.runtime import progress
from nastransfer.safe_pickle import load_plain_data, scalar
from nastransfer.spaces import nb201
from nastransfer.tabular.tables import Table, finite_number, register_family

#: Lower-case dataset name (as in `nb201:<dataset>`) -> the benchmark's dataset key.
DATASETS: dict[str, str] = {"cifar10": "cifar10", "cifar100": "cifar100", "imagenet16-120": "ImageNet16-120"}
#: Per dataset: (dataset key, eval set) of the test accuracy and of the validation accuracy.
SPLITS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "cifar10": (("cifar10", "ori-test"), ("cifar10-valid", "x-valid")),
    "cifar100": (("cifar100", "x-test"), ("cifar100", "x-valid")),
    "ImageNet16-120": (("ImageNet16-120", "x-test"), ("ImageNet16-120", "x-valid")),
}
PICKLE_SUFFIX = ".pickle.pbz2"
META_FILE = "meta" + PICKLE_SUFFIX
#: The seed whose parameter/FLOP counts the `nats_bench` API reports where the seeds' counts disagree.
COST_SEED = 888
#: Distributed names, in the order `preferred_source` tries them (newest version first in each).
SOURCE_PATTERNS = ("NATS-tss-v*-simple", f"NATS-tss-v*{PICKLE_SUFFIX}", "NAS-Bench-201-v*.pth")

Record = tuple[nb201.Arch, dict[str, float]]


def _refusal(path: Path, err: BaseException) -> DatasetError:
    """One line for a file that would not unpickle, naming a refused global when that was the cause."""
    text = str(err)
    refused = re.search(r"(?:GLOBAL|pickled global) ([\w.]+)", text)
    if refused:
        return DatasetError(f"{path}: refuses the pickled global {refused.group(1)} (reads plain data only)")
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(err).__name__)
    return DatasetError(f"{path}: not a readable benchmark pickle ({first[:200]})")


def read_bz2_pickle(path: Path) -> Any:
    """The plain data in a NATS-Bench `.pickle.pbz2` file."""
    try:
        with bz2.open(path, "rb") as handle:
            return load_plain_data(handle)
    except (OSError, EOFError, ValueError, TypeError, AttributeError, pickle.UnpicklingError) as err:
        raise _refusal(path, err) from None


def read_torch_file(path: Path) -> Any:
    """The plain data in a NAS-Bench-201 `.pth` file, via `torch.load(weights_only=True)`."""
    import torch

    numeric_dtypes = {type(np.dtype(code)) for code in "?bhilqBHILQefdg"}
    # files written with numpy 1 name `numpy.core`; weights_only loading matches globals by name
    allowed = [(scalar, "numpy.core.multiarray.scalar"), scalar, np.dtype, *numeric_dtypes]
    try:
        with torch.serialization.safe_globals(allowed):
            return torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, EOFError, RuntimeError, ValueError, pickle.UnpicklingError) as err:
        raise _refusal(path, err) from None


def _field(mapping: Any, key: Any, where: str) -> Any:
    if not isinstance(mapping, dict):
        raise DatasetError(f"{where}: expected a dict, found {type(mapping).__name__}")
    if key not in mapping:
        raise DatasetError(f"{where}: missing {key!r}")
    return mapping[key]


def _last_epoch_accuracy(trial: Any, eval_set: str, where: str) -> float:
    epochs = _field(trial, "epochs", where)
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 1:
        raise DatasetError(f"{where}: 'epochs' is {epochs!r}")
    key = f"{eval_set}@{int(epochs) - 1}"
    accuracies = _field(trial, "eval_acc1es", where)
    return finite_number(_field(accuracies, key, f"{where} eval_acc1es"), f"{where} {key}")


def _seeds(results: Any, dataset: str, where: str) -> list[Any]:
    """The seeds `results` holds for `dataset`, in the file's order; [] when it has none."""
    seeds_of = _field(results, "dataset_seed", where)
    seeds = seeds_of.get(dataset, []) if isinstance(seeds_of, dict) else None
    if not isinstance(seeds, list | tuple):
        raise DatasetError(f"{where}: 'dataset_seed' must map each dataset to a list of seeds")
    return list(seeds)


def _trials(results: Any, dataset: str, where: str) -> list[tuple[Any, str]]:
    """(trial, where) of every seed `results` holds for `dataset`; [] when it has none."""
    runs = _field(results, "all_results", where)
    return [
        (_field(runs, (dataset, seed), where), f"{where} {dataset} seed {seed}")
        for seed in _seeds(results, dataset, where)
    ]


def _cost(results: Any, dataset: str, name: str, where: str, seed_rule: bool) -> float:
    """A cost field (millions) of `dataset`'s trials: their mean or, with `seed_rule` where the seeds'
    values differ at 5 decimals, `COST_SEED`'s value (the `nats_bench` API's legacy fix)."""
    trials = _trials(results, dataset, where)
    values = [finite_number(_field(t, name, w), w) for t, w in trials]
    if seed_rule and len({f"{v:.5f}" for v in values}) > 1:
        seeds = _seeds(results, dataset, where)
        if COST_SEED not in seeds:
            raise DatasetError(f"{where}: {dataset} '{name}' differs between seeds and none is {COST_SEED}")
        return values[seeds.index(COST_SEED)]
    return float(np.mean(values))


def _mean_accuracy(trials: list[tuple[Any, str]], eval_set: str) -> float:
    return float(np.mean([_last_epoch_accuracy(trial, eval_set, where) for trial, where in trials]))


def cell_metrics(results: Any, dataset: str, where: str, seed_rule: bool = False) -> dict[str, float] | None:
    """The table metrics of one cell's 200-epoch `results` on `dataset` (None: no trial on it);
    `seed_rule`: costs as the `nats_bench` API reports them (see `_cost`)."""
    (test_data, test_set), (valid_data, valid_set) = SPLITS[dataset]
    tested = _trials(results, test_data, where)
    if not tested:
        return None
    metrics = {"accuracy": _mean_accuracy(tested, test_set)}
    validated = _trials(results, valid_data, where)
    if validated:
        metrics["valid_accuracy"] = _mean_accuracy(validated, valid_set)
    metrics["params"] = round(1e6 * _cost(results, test_data, "params", where, seed_rule))
    metrics["flops"] = 1e6 * _cost(results, test_data, "flop", where, seed_rule)
    latencies = [finite_number(s, w) for t, w in tested for s in (_field(t, "latency", w) or [])]
    if any(s > 0 for s in latencies):
        metrics["latency_s"] = float(np.mean([s for s in latencies if s > 0]))
    return metrics


def _meta_archs(data: Any, where: str) -> list[nb201.Arch]:
    texts = _field(data, "meta_archs", where)
    if not isinstance(texts, list | tuple):
        raise DatasetError(f"{where}: 'meta_archs' is a {type(texts).__name__}, not a list")
    archs = []
    for index, text in enumerate(texts):
        try:
            archs.append(nb201.Arch.parse(str(text)))
        except GenotypeError as err:
            raise DatasetError(f"{where} meta_archs[{index}]: {err}") from None
    if not archs:
        raise DatasetError(f"{where}: 'meta_archs' is empty")
    return archs


class _Collector:
    """Gathers each dataset's records, remembering the first cell that lacks a dataset; `nats`: the
    source is a NATS-Bench file, whose API reports costs by its seed rule."""

    def __init__(self, nats: bool) -> None:
        self.nats = nats
        self.records: dict[str, dict[str, Record]] = {d: {} for d in SPLITS}
        self.missing: dict[str, str] = {}

    def add(self, arch: nb201.Arch, results: Any, where: str) -> None:
        for dataset in SPLITS:
            metrics = cell_metrics(results, dataset, where, seed_rule=self.nats)
            if metrics is None:
                self.missing.setdefault(dataset, where)
            elif arch.key in self.records[dataset]:
                raise DatasetError(f"{where}: {arch} appears twice")
            else:
                self.records[dataset][arch.key] = (arch, metrics)


def _read_single_file(path: Path, collector: _Collector) -> None:
    is_torch = path.suffix == ".pth"
    data = read_torch_file(path) if is_torch else read_bz2_pickle(path)
    schedule = "full" if is_torch else "200"
    archs = _meta_archs(data, str(path))
    arch2infos = _field(data, "arch2infos", str(path))
    if not isinstance(arch2infos, dict):
        raise DatasetError(f"{path}: 'arch2infos' is a {type(arch2infos).__name__}, not a dict")
    for index, arch in enumerate(archs):
        where = f"{path} arch {index}"
        collector.add(arch, _field(_field(arch2infos, index, f"{path} arch2infos"), schedule, where), where)


def _read_folder(folder: Path, collector: _Collector) -> None:
    archs = _meta_archs(read_bz2_pickle(folder / META_FILE), str(folder / META_FILE))
    with progress(len(archs), f"reading {folder.name}") as update:
        for index, arch in enumerate(archs):
            path = folder / f"{index:06d}{PICKLE_SUFFIX}"
            if not path.is_file():
                raise DatasetError(f"{folder}: missing {path.name}, the file of arch {index} ({arch})")
            collector.add(arch, _field(read_bz2_pickle(path), "200", str(path)), str(path))
            update()


def is_official_source(path: Path) -> bool:
    """Whether `path` has the layout of one of the three distributed forms (by name, not content)."""
    if path.is_dir():
        return (path / META_FILE).is_file()
    return path.is_file() and (path.name.endswith(PICKLE_SUFFIX) or path.suffix == ".pth")


@functools.lru_cache(maxsize=2)
def _read_source(path: Path, stamp: tuple[int, int]) -> _Collector:
    """Every dataset's records of one source (re-read when its mtime or size changes)."""
    collector = _Collector(nats=path.suffix != ".pth")
    if path.is_dir():
        _read_folder(path, collector)
    else:
        _read_single_file(path, collector)
    return collector


def read_official(path: Path, dataset: str) -> dict[str, Record]:
    """{canonical key: (arch, metrics)} of `dataset` (a key of `DATASETS`, any case) in a source."""
    key = DATASETS.get(dataset.lower())
    if key is None:
        raise DatasetError(f"{path}: unknown dataset {dataset!r} (known: {', '.join(DATASETS.values())})")
    if not is_official_source(path):
        raise DatasetError(f"{path}: not a NAS-Bench-201 .pth, NATS .pickle.pbz2 or NATS -simple folder")
    status = path.stat()
    collector = _read_source(path.resolve(), (status.st_mtime_ns, status.st_size))
    if key in collector.missing:
        raise DatasetError(f"{collector.missing[key]}: no 200-epoch results on {key}")
    return collector.records[key]


def preferred_source(folder: Path) -> Path | None:
    """The distributed source `nb201:<dataset>` reads from `folder`: NATS before NB201, newest first."""
    for pattern in SOURCE_PATTERNS:
        found = sorted((p for p in folder.glob(pattern) if is_official_source(p)), reverse=True)
        if found:
            return found[0]
    return None


def _no_fixed_names() -> list[str]:
    return []


@register_family("nb201-official", _no_fixed_names)
def load_official(argument: str, name: str | None = None) -> Table:
    """`<path>:<dataset>` -> that dataset's table; `name` replaces `nb201-official:<argument>`."""
    path_text, colon, dataset = argument.rpartition(":")
    if not colon or not path_text:
        known = ", ".join(DATASETS)
        raise DatasetError(f"table nb201-official:{argument} must read <path>:<dataset> (datasets: {known})")
    path = Path(path_text).expanduser()
    if not path.exists():
        raise DatasetError(f"table nb201-official:{argument}: no such file or folder {path}")
    records = read_official(path, dataset)
    has_valid = all("valid_accuracy" in metrics for _, metrics in records.values())
    return Table(
        name=name or f"nb201-official:{argument}",
        space=nb201.NAME,
        records=dict(records),
        search_metric="valid_accuracy" if has_valid else "accuracy",
        description=f"NAS-Bench-201 {DATASETS[dataset.lower()]} test accuracy, 200 epochs, mean over seeds "
        f"({path.name})",
    )
