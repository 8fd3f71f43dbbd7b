"""Black-box NAS on a benchmark table: random search, regularised evolution, local search.

Each method spends a budget of table queries (`queries`, else the budget's `n_samples`; each
publishes `Budget.queries(1000)`) and maximises the table's `search_metric`; every query counts,
repeats included. The same seed gives the same queries. The history holds the best-so-far after
every `report_every` queries. Queries take microseconds, so a search runs in well under a second
and keeps no checkpoints. `rs`, `re` and `ls` join the search registry as installed plugins
(pyproject.toml's entry points), so naming one needs no import of this package first.
"""

from __future__ import annotations

import os
from abc import abstractmethod
from collections import deque
from collections.abc import Iterator
from typing import Any

import numpy as np

from nastransfer.errors import ConfigError, DatasetError
from nastransfer.runtime import CostMeter
from nastransfer.search import Budget, Searcher, SearchResult, get, names, searcher_class
from nastransfer.search.params import Param
from nastransfer.tabular.tables import Table

#: The cap on query counts: far above any table's size (NAS-Bench-Graph holds 26,206 cells).
MAX_QUERIES = 10**8
_TABLE_PARAMS = (
    Param(
        "queries",
        int,
        "table queries to spend; default: the budget's n_samples",
        low=1,
        high=MAX_QUERIES,
        optional=True,
    ),
    Param("report_every", int, "queries between history records", low=1, high=MAX_QUERIES),
)


class _Tracker:
    """Counts queries against the budget and keeps the best-so-far and its history."""

    def __init__(self, table: Table, queries: int, report_every: int) -> None:
        self.table, self.limit, self.report_every = table, queries, report_every
        self.used = 0
        self.best: Any = None
        self.best_fitness = -np.inf
        self.history: list[dict[str, Any]] = []

    @property
    def exhausted(self) -> bool:
        return self.used >= self.limit

    def query(self, genotype: Any) -> float:
        fitness = self.table.fitness(genotype)
        self.used += 1
        if fitness > self.best_fitness:
            self.best, self.best_fitness = genotype, fitness
        if self.used % self.report_every == 0 or self.used == self.limit:
            self.history.append(
                {
                    "queries": self.used,
                    "best_fitness": self.best_fitness,
                    "best_accuracy": self.table.query(self.best)["accuracy"],
                    "best": str(self.best),
                }
            )
        return fitness


class TableSearcher(Searcher):
    """A query-budgeted search over a `Table` handed in as `data`."""

    #: 1000 table queries, whatever the method.
    paper_budget = Budget.queries(1000)
    params_schema = _TABLE_PARAMS

    def __init__(self, queries: int | None = None, report_every: int = 10) -> None:
        """Options as `params_schema` allows them (the registry checks each before this runs)."""
        self.queries, self.report_every = queries, report_every

    def check(self, space: str, budget: Budget) -> None:
        if self.queries is None and budget.n_samples < 1:
            raise ConfigError(f"{self.name}: no query budget: give queries or budget n_samples >= 1")

    def search(
        self,
        space: str,
        data: Table,
        budget: Budget,
        seed: int,
        workdir: str | os.PathLike,
        progress: bool | None = None,
    ) -> SearchResult:
        """Run on the table `data` (whose cells must belong to `space`)."""
        if not isinstance(data, Table):
            given = type(data).__name__
            raise DatasetError(f"search method {self.name!r} runs on a benchmark table, not {given}")
        if data.space != space:
            raise ConfigError(f"table {data.name} holds {data.space} cells, but the study space is {space!r}")
        self.check(space, budget)
        queries = self.queries or budget.n_samples
        tracker = _Tracker(data, queries, self.report_every)
        seeds = _seed_stream(seed)
        with CostMeter(device="cpu") as meter:
            self.run(data, tracker, seeds)
        return SearchResult(
            genotype=tracker.best,
            history=tracker.history,
            cost=meter.cost,
            budget=budget,
            method=self.name,
            seed=seed,
            extra={"queries": tracker.used, "table": data.name, "best_fitness": tracker.best_fitness},
        )

    @abstractmethod
    def run(self, table: Table, tracker: _Tracker, seeds: Iterator[int]) -> None:
        """Query cells through `tracker` until it is exhausted; `seeds` feeds the space's sampling."""


def _seed_stream(seed: int) -> Iterator[int]:
    rng = np.random.default_rng(seed)
    while True:
        yield int(rng.integers(2**31))


class RandomSearch(TableSearcher):
    """Query uniformly sampled cells; keep the best."""

    def run(self, table: Table, tracker: _Tracker, seeds: Iterator[int]) -> None:
        space = table.search_space()
        while not tracker.exhausted:
            tracker.query(space.sample(next(seeds)))


class RegularizedEvolution(TableSearcher):
    """Real et al. 2019: tournament selection of a parent, one mutation, and the oldest member dies."""

    params_schema = (
        *_TABLE_PARAMS,
        Param("population", int, "cells alive at once", low=2, high=MAX_QUERIES),
        Param("sample_size", int, "cells per tournament (at most the population)", low=2, high=MAX_QUERIES),
    )

    def __init__(
        self, queries: int | None = None, population: int = 20, sample_size: int = 5, report_every: int = 10
    ) -> None:
        super().__init__(queries, report_every)
        if sample_size > population:
            raise ConfigError(
                f"{self.name} needs 2 <= sample_size <= population, got {sample_size} and {population}"
            )
        self.population, self.sample_size = population, sample_size

    def run(self, table: Table, tracker: _Tracker, seeds: Iterator[int]) -> None:
        space = table.search_space()
        members: deque[tuple[Any, float]] = deque()
        while len(members) < self.population and not tracker.exhausted:
            cell = space.sample(next(seeds))
            members.append((cell, tracker.query(cell)))
        rng = np.random.default_rng(next(seeds))
        while not tracker.exhausted:
            contenders = rng.choice(len(members), size=self.sample_size, replace=False)
            parent = max((members[int(i)] for i in contenders), key=lambda member: member[1])[0]
            child = space.mutate(parent, next(seeds))
            members.append((child, tracker.query(child)))
            members.popleft()


class LocalSearch(TableSearcher):
    """First-improvement hill climbing over single-edit neighbours, restarting at a random cell."""

    def run(self, table: Table, tracker: _Tracker, seeds: Iterator[int]) -> None:
        space = table.search_space()
        while not tracker.exhausted:
            current = space.sample(next(seeds))
            current_fitness = tracker.query(current)
            improved = True
            while improved and not tracker.exhausted:
                improved = False
                neighbours = space.neighbours(current)
                order = np.random.default_rng(next(seeds)).permutation(len(neighbours))
                for index in order:
                    if tracker.exhausted:
                        break
                    candidate = neighbours[int(index)]
                    fitness = tracker.query(candidate)
                    if fitness > current_fitness:
                        current, current_fitness, improved = candidate, fitness, True
                        break


def table_methods() -> list[str]:
    """The registered searchers that run on a table: `rs`, `re`, `ls` and any plugin subclassing ours."""
    return [n for n in names() if _is_table_searcher(searcher_class(n))]


def _is_table_searcher(target: Any) -> bool:
    return isinstance(target, type) and issubclass(target, TableSearcher)


def table_searcher(name: str, **options: Any) -> TableSearcher:
    """The black-box method called `name`, built by the search registry with `options`."""
    known = table_methods()
    if name not in known:
        raise ConfigError(f"unknown table search method {name!r} (known: {', '.join(known)})")
    return get(name, **options)
