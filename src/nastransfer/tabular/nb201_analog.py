"""`nb201:cifar10`: NAS-Bench-201 CIFAR-10 accuracies of all 15,625 cells, from `analog-nasbench`.

The package (AnalogNAS-Bench, Benmeziane et al. 2025) retrained every NB201 cell on CIFAR-10 for
200 epochs; `baseline_accuracy` is the full-precision test accuracy (percent), the others are the
same networks quantised or on simulated analog hardware. These are its own trainings, close to but
not NB201's published numbers (best cell 94.07 here, 94.37 in NB201; its example training script
averages 25 passes over the test set with the training crop and flip applied). Its `data.anb` is a pickle of
{op-index tuple: Architecture}; the package's own reader imports `pkg_resources`, so we unpickle
the file ourselves, turning its two classes into plain attribute holders (no code of theirs runs).

Its tuples are NASLib's `op_indices`: ops indexed (skip_connect, none, nor_conv_3x3, nor_conv_1x1,
avg_pool_3x3) on the edges 0->1, 0->2, 0->3, 1->2, 1->3, 2->3. The mapping is checked by the
tests against facts: exactly the cells with no path from input to output score 10%, and the best
cells are mostly nor_conv_3x3.
"""

from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path

from nastransfer.errors import DatasetError
from nastransfer.safe_pickle import load_plain_data
from nastransfer.spaces import nb201
from nastransfer.tabular.nb201_files import load_nb201_file, user_files
from nastransfer.tabular.tables import Table, register_family

#: The package's op index -> our op name.
ANALOG_OPS: tuple[str, ...] = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
#: The package's edge order as our (to, from) pairs.
ANALOG_EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (3, 0), (2, 1), (3, 1), (3, 2))
#: Scalar metrics copied from each record (all percent).
METRICS: tuple[str, ...] = ("ptq_accuracy", "qat_accuracy", "noisy_accuracy", "analog_accuracy")
PACKAGE = "analognasbench"


def arch_from_analog(indices: tuple[int, ...]) -> nb201.Arch:
    """Our `Arch` for one of the package's op-index tuples."""
    by_edge = dict(zip(ANALOG_EDGES, (ANALOG_OPS[i] for i in indices), strict=True))
    return nb201.Arch(tuple(by_edge[edge] for edge in nb201.EDGES))


def analog_from_arch(arch: nb201.Arch) -> tuple[int, ...]:
    """The package's op-index tuple of `arch`."""
    by_edge = dict(zip(nb201.EDGES, arch.ops, strict=True))
    return tuple(ANALOG_OPS.index(by_edge[edge]) for edge in ANALOG_EDGES)


def data_file() -> Path:
    """Where the installed package keeps `data.anb`."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise DatasetError("table nb201:cifar10 needs the package analog-nasbench (pip install it)")
    path = Path(next(iter(spec.submodule_search_locations))) / "data.anb"
    if not path.is_file():
        raise DatasetError(f"analog-nasbench is installed but {path} is missing")
    return path


#: The classes the package file stores its records as; read as plain attribute holders.
RECORD_CLASSES = ((f"{PACKAGE}.data", "Architecture"), (f"{PACKAGE}.data", "DriftMeasurement"))


def read_raw(path: Path) -> dict[tuple[int, ...], dict]:
    """{op-index tuple: record attributes} as stored in the package file."""
    try:
        with path.open("rb") as handle:
            raw = load_plain_data(handle, records=RECORD_CLASSES)
    except (OSError, pickle.UnpicklingError, EOFError) as err:
        raise DatasetError(f"cannot read analog-nasbench data {path}: {err}") from None
    return {tuple(key): vars(record) for key, record in raw.items()}


def _names() -> list[str]:
    bundled = ["cifar10"] if importlib.util.find_spec(PACKAGE) is not None else []
    return [f"nb201:{d}" for d in sorted(set(bundled) | set(user_files()))]


@register_family("nb201", _names)
def load_nb201(dataset: str) -> Table:
    """A user's export in `$NASTRANSFER_TABLES` if there is one, else the bundled CIFAR-10 table."""
    exported = user_files().get(dataset)
    if exported is not None:
        return load_nb201_file(str(exported), name=f"nb201:{dataset}")
    if dataset != "cifar10":
        raise DatasetError(
            f"table nb201:{dataset}: analog-nasbench holds only cifar10 "
            f"(export other datasets to $NASTRANSFER_TABLES/nb201-{dataset}.json)"
        )
    records = {}
    for indices, fields in read_raw(data_file()).items():
        arch = arch_from_analog(indices)
        metrics = {"accuracy": float(fields["baseline_accuracy"])}
        metrics.update({name: float(fields[name]) for name in METRICS})
        records[arch.key] = (arch, metrics)
    return Table(
        name="nb201:cifar10",
        space=nb201.NAME,
        records=records,
        description="NAS-Bench-201 CIFAR-10 test accuracy, 200 epochs (AnalogNAS-Bench baseline_accuracy)",
    )
