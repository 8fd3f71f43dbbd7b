"""The `Table` a benchmark file becomes, and the registry that opens tables by name.

A table maps every cell it holds (by canonical key) to its published metrics. `accuracy` is the
test accuracy in percent; `search_metric` names the metric a black-box search should maximise (a
validation accuracy where the benchmark has one, else the test accuracy); `rank_metric` is the test
metric exactly as the file stores it, so rank correlations see the file's ties and no rounding of
a unit conversion. Names are
`family:argument`: `nb201:cifar10`, `graph:cora`, `nb201-file:/path/to/export.json`,
`nb201-official:/path/to/NAS-Bench-201-v1_1-096897.pth:cifar100`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from nastransfer.errors import DatasetError, GenotypeError
from nastransfer.registry import Registry
from nastransfer.spaces import Space, get_space


@dataclass(frozen=True)
class Table:
    """Published results of one benchmark on one dataset: cell key -> (cell, metrics).

    `space` names a registered search space; `ops` is the subset of its ops the table's cells use
    when the benchmark trained only those (None: all of them).
    """

    name: str
    space: str
    records: dict[str, tuple[Any, dict[str, float]]] = field(repr=False)
    search_metric: str = "accuracy"
    rank_metric: str = "accuracy"
    description: str = ""
    ops: tuple[str, ...] | None = None

    def search_space(self) -> Space:
        """The registered space over this table's ops: what a black-box search samples and moves in."""
        return get_space(self.space).restricted(self.ops)

    def __len__(self) -> int:
        return len(self.records)

    def __contains__(self, genotype: object) -> bool:
        return self._key(genotype) in self.records

    def query(self, genotype: Any) -> dict[str, float]:
        """The cell's metrics; a cell the table lacks is a GenotypeError naming the table."""
        key = self._key(genotype)
        try:
            return dict(self.records[key][1])
        except KeyError:
            raise GenotypeError(f"table {self.name} has no entry for cell {genotype}") from None

    def fitness(self, genotype: Any) -> float:
        """What a black-box search maximises: `search_metric` of the cell."""
        return self.query(genotype)[self.search_metric]

    def items(self) -> Iterator[tuple[Any, dict[str, float]]]:
        """Every (cell, metrics) pair, in the table's file order."""
        yield from self.records.values()

    def accuracies(self) -> dict[str, float]:
        """Canonical key -> test accuracy of every cell."""
        return {key: metrics["accuracy"] for key, (_, metrics) in self.records.items()}

    def best(self, metric: str = "accuracy") -> tuple[Any, dict[str, float]]:
        """The cell with the highest `metric` (ties: the first in file order)."""
        return max(self.records.values(), key=lambda record: record[1][metric])

    def _key(self, genotype: Any) -> str:
        try:
            return genotype.key
        except AttributeError:
            raise GenotypeError(f"table {self.name} holds {self.space} cells, not {genotype!r}") from None
        except GenotypeError as err:
            raise GenotypeError(f"table {self.name}: {err}") from None


def finite_number(value: Any, where: str) -> float:
    """`value` as a float, or a DatasetError naming `where` when a file holds no finite number there."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DatasetError(f"{where}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise DatasetError(f"{where}: {number} is not a finite number")
    return number


TableLoader = Callable[[str], Table]


@dataclass(frozen=True)
class TableFamily:
    """How tables `prefix:argument` open: `load(argument)`, and `list_names()` the fixed names
    (those that open without naming a file, where the family's package is installed)."""

    load: TableLoader
    list_names: Callable[[], list[str]]


TABLE_FAMILIES: Registry[TableFamily] = Registry("table family", DatasetError)


def register_family(prefix: str, list_names: Callable[[], list[str]]) -> Callable[[TableLoader], TableLoader]:
    """Decorator: `loader(argument)` opens `prefix:argument`; `list_names()` gives the fixed names."""

    def add(loader: TableLoader) -> TableLoader:
        TABLE_FAMILIES.add(prefix, TableFamily(loader, list_names))
        return loader

    return add


def table_names() -> list[str]:
    """The tables that can be opened without naming a file (those whose package is installed)."""
    return [name for family in TABLE_FAMILIES.loaded() for name in family.list_names()]


def get_table(name: str | None) -> Table:
    """Open (once per process) the table `family:argument`; an unknown name is a DatasetError."""
    if not isinstance(name, str) or ":" not in name:
        raise DatasetError(f"table name must read family:argument (e.g. nb201:cifar10), got {name!r}")
    prefix, _, argument = name.partition(":")
    if prefix not in TABLE_FAMILIES:
        raise DatasetError(f"{TABLE_FAMILIES.unknown(prefix)} in {name!r}")
    return _open(TABLE_FAMILIES.get(prefix), argument)


@functools.lru_cache(maxsize=16)
def _open(family: TableFamily, argument: str) -> Table:
    return family.load(argument)
