"""Training-free NAS: cells chosen by a zero-cost predictor (or a rank vote of several) on the source.

- `zc`: NASWOT's search (Mellor et al., ICML 2021, released code `BayesWatch/nas-without-training`,
  `search.py`): draw `n_samples` cells uniformly (with replacement: its `np.random.randint`; N = 100
  published), score each untrained network on one batch of the source's search-train split (its
  `train_loader`, batch 128; every network sees the same batch), return the best score (its
  `np.nanargmax`: NaN never wins; ties go to the first drawn).
- `zc-rea`: regularised evolution (Real et al., AAAI 2019) with the predictor as fitness, as the
  released NB201 REA runs it (`D-X-Y/NATS-Bench` `regularized_ea.py`: population 10, tournament of
  3 drawn with replacement, the best contender's one-edge mutation joins, the oldest dies, 200
  cycles) with a budget of predictor calls (`n_samples`: 10 + 200 published). A vote's fitness,
  and a predictor released as a rank aggregate (az_nas, tenas), is re-ranked over every cell
  scored so far at each cycle, as AZ-NAS's evolutionary search re-ranks its history; the best
  cell of the history by the final fitness is returned. A cell drawn again
  reuses its score (the same network, seed and batch give the same score), so repeats cost nothing.

The networks are the space's evaluation networks built from the search seed at the budget's
`channels` and `layers` (NB201: C=16, N=5, the size NASWOT scores) for the source's channels and
classes, at the budget's `image_size` (default: the source's). Predictors score on the CPU. Both
searches are deterministic for a seed and keep no checkpoint: a rerun redoes the predictor calls
(seconds to a few minutes on a CPU; `nastransfer plan` prices them per call).
"""

from __future__ import annotations

import os
from abc import abstractmethod
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nastransfer import predictors
from nastransfer.data import Augment, BatchLoader, Dataset, Splits
from nastransfer.errors import ConfigError, DatasetError
from nastransfer.runtime import CostMeter
from nastransfer.search.base import Searcher, SearchResult
from nastransfer.search.budget import Budget
from nastransfer.search.params import DEVICE, Param
from nastransfer.search.random_sampling import sample_cells
from nastransfer.search.registry import register
from nastransfer.spaces import get_space

#: NASWOT's published protocol: 100 cells, one batch of 128 images, NB201 networks at C=16, N=5.
NASWOT_BUDGET = Budget(epochs=1, channels=16, layers=5, batch_size=128, n_samples=100)
#: The released NB201 REA: population 10, tournament 3, 200 cycles (one predictor call each).
REA_POPULATION, REA_SAMPLE_SIZE, REA_CYCLES = 10, 3, 200
#: Separates these draws from the study's random baseline (see `random_sampling._METHOD_STREAM`).
_STREAM = 0x5A43


def first_batch(view: Dataset, batch_size: int, seed: int, image_size: int | None = None) -> predictors.Batch:
    """A seeded batch of `view` (all of it when smaller), resized to `image_size` and normalised by its
    statistics, with no other augmentation: what a zero-cost predictor reads."""
    if batch_size < 2:
        raise ConfigError(f"zero-cost batch size must be >= 2, got {batch_size}")
    resize = image_size if image_size and image_size != view.image_size else None
    loader = BatchLoader(
        view, min(batch_size, len(view)), shuffle=True, seed=seed, augment=Augment(resize=resize)
    )
    x, y = next(iter(loader))
    return predictors.Batch(x, y)


def predictor_problem(name: str) -> str | None:
    """What is wrong with `name` as a search's fitness (None: a registered predictor or a vote)."""
    if name.startswith("learned:"):
        return "a learned proxy needs the target's labels; a search sees only its source"
    try:
        predictors.parse_vote(name) if predictors.is_vote(name) else predictors.get(name)
    except ConfigError as err:
        return str(err)
    return None


PREDICTOR = Param(
    "predictor",
    str,
    "the fitness: a zero-cost predictor or a rank vote of several (vote:naswot,synflow)",
    check=predictor_problem,
)
#: Far above the released population (10); a tournament may draw one member several times.
MAX_POPULATION = 100_000


class ZeroCostSearcher(Searcher):
    """What `zc` and `zc-rea` share: the predictor, the source batch and the networks it scores."""

    paper_budget = NASWOT_BUDGET
    params_schema = (PREDICTOR, DEVICE)

    def __init__(self, predictor: str = "naswot", device: str | None = None) -> None:
        """Options as `params_schema` allows them (the registry checks each before this runs)."""
        self.predictor = predictor
        self.device = device  # accepted like every searcher's; predictors score on the CPU

    def check(self, space: str, budget: Budget) -> None:
        if get_space(space).eval_net is None:
            raise ConfigError(f"{self.name}: space {space!r} has no networks to score (tables only)")
        if budget.n_samples < 1:
            raise ConfigError(f"{self.name}: budget n_samples (predictor calls) must be >= 1, got 0")
        if budget.batch_size < 2:
            raise ConfigError(f"{self.name}: budget batch_size must be >= 2 (a predictor's batch)")

    def search(
        self,
        space: str,
        data: Splits,
        budget: Budget,
        seed: int,
        workdir: str | os.PathLike,
        progress: bool | None = None,
    ) -> SearchResult:
        if not isinstance(data, Splits):
            raise DatasetError(
                f"search method {self.name!r} scores networks on images, not a {type(data).__name__}"
            )
        self.check(space, budget)
        with CostMeter(device="cpu") as meter:
            scoring = self.scorer(space, data, budget, seed)
            best, history, extra = self.run(space, budget, seed, scoring)
        extra = {"predictor": self.predictor, **extra}
        return SearchResult(best, history, meter.cost, budget, method=self.name, seed=int(seed), extra=extra)

    def scorer(self, space: str, data: Splits, budget: Budget, seed: int) -> Scoring:
        """How cells are scored: the source batch and the networks' options."""
        view = data.train
        batch = first_batch(view, budget.batch_size, seed, budget.image_size)
        options = {
            "C": budget.channels,
            get_space(space).depth_keyword: budget.layers,
            "num_classes": view.num_classes,
            "in_channels": batch.shape[0],
        }
        return Scoring(batch, options, seed)

    def seconds_per_call(self, space: str, data: Splits, budget: Budget, cells: int = 2) -> float:
        """Device-seconds of one predictor call, the mean over `cells` sampled cells (the plan's price)."""
        scoring = self.scorer(space, data, budget, 0)
        drawn = sample_cells(space, cells, 0)
        with CostMeter(device="cpu") as meter:
            scoring.scores(self.predictor, drawn)
        return meter.cost.device_s / cells

    @abstractmethod
    def run(
        self, space: str, budget: Budget, seed: int, scoring: Scoring
    ) -> tuple[Any, list[dict[str, Any]], dict[str, Any]]:
        """(best cell, history, extra) of the search, scoring cells with `scoring`."""


@dataclass(frozen=True)
class Scoring:
    """One search's source batch and network options: every cell is scored on them from its seed."""

    batch: predictors.Batch
    options: dict[str, Any]
    seed: int

    def scores(self, name: str, cells: Sequence[Any]) -> list[float]:
        """The scores of predictor or vote `name` of `cells`, ranked among them where it ranks."""
        return predictors.score_set(name, cells, self.batch, net_options=self.options, seed=self.seed)[0]

    def rows(self, name: str, cells: Sequence[Any]) -> list[dict[str, float]]:
        """Predictor `name`'s `measure` rows of `cells`, for a later `combine` with other rows."""
        return predictors.measure_cells(name, cells, self.batch, net_options=self.options, seed=self.seed)[0]


def _components(name: str) -> tuple[str, ...]:
    return predictors.parse_vote(name).predictors if predictors.is_vote(name) else (name,)


def best_index(scores: Sequence[float]) -> int:
    """The first index of the highest finite score (NASWOT's nanargmax); 0 when none is finite."""
    values = np.asarray(scores, dtype=np.float64)
    finite = np.isfinite(values)
    return int(np.argmax(np.where(finite, values, -np.inf))) if finite.any() else 0


@register("zc")
class ZeroCostSampling(ZeroCostSearcher):
    """NASWOT: the best-scoring of `n_samples` uniformly drawn cells."""

    def run(self, space, budget, seed, scoring):
        draw = int(np.random.SeedSequence((int(seed), _STREAM)).generate_state(1)[0])
        cells = sample_cells(space, budget.n_samples, draw)
        scores = scoring.scores(self.predictor, cells)
        best = best_index(scores)
        history = [
            {"queries": i + 1, "genotype": str(c), "score": float(s)}
            for i, (c, s) in enumerate(zip(cells, scores, strict=True))
        ]
        return cells[best], history, {"best_score": float(scores[best]), "calls": len(cells)}


@register("zc-rea")
class ZeroCostEvolution(ZeroCostSearcher):
    """Regularised evolution with the predictor (or vote) as fitness and `n_samples` predictor calls."""

    paper_budget = NASWOT_BUDGET.replace(n_samples=REA_POPULATION + REA_CYCLES)
    params_schema = (
        PREDICTOR,
        Param("population", int, "cells alive at once", low=1, high=MAX_POPULATION),
        Param(
            "sample_size", int, "cells drawn (with replacement) per tournament", low=1, high=MAX_POPULATION
        ),
        DEVICE,
    )

    def __init__(
        self,
        predictor: str = "naswot",
        population: int = REA_POPULATION,
        sample_size: int = REA_SAMPLE_SIZE,
        device: str | None = None,
    ) -> None:
        super().__init__(predictor, device)
        self.population, self.sample_size = population, sample_size

    def run(self, space, budget, seed, scoring):
        chosen = get_space(space)
        seeds = np.random.default_rng(np.random.SeedSequence((int(seed), _STREAM)))
        components = _components(self.predictor)
        vote = predictors.parse_vote(self.predictor) if predictors.is_vote(self.predictor) else None
        known: dict[str, dict[str, dict[str, float]]] = {}  # cell key -> component -> measure row
        cells: list[Any] = []

        def evaluate(cell: Any) -> int:
            if cell.key not in known:
                known[cell.key] = {name: scoring.rows(name, [cell])[0] for name in components}
            cells.append(cell)
            return len(cells) - 1

        def fitness() -> np.ndarray:
            """Every scored cell's fitness, a relative predictor's rows combined over all of them."""
            matrix = np.array(
                [predictors.get(n).combine([known[c.key][n] for c in cells]) for n in components],
                dtype=np.float64,
            )
            if vote is not None:
                return vote.aggregate(matrix)
            return np.where(np.isfinite(matrix[0]), matrix[0], -np.inf)  # NaN never wins a tournament

        alive: deque[int] = deque()
        while len(alive) < self.population and len(cells) < budget.n_samples:
            alive.append(evaluate(chosen.sample(int(seeds.integers(2**31)))))
        while len(cells) < budget.n_samples:
            current = fitness()
            contenders = [alive[int(i)] for i in seeds.integers(len(alive), size=self.sample_size)]
            parent = max(contenders, key=lambda i: current[i])  # ties: the first drawn
            alive.append(evaluate(chosen.mutate(cells[parent], int(seeds.integers(2**31)))))
            alive.popleft()
        final = fitness()
        best = best_index(final)
        history = [
            {"queries": i + 1, "genotype": str(c), "fitness": float(f)}
            for i, (c, f) in enumerate(zip(cells, final, strict=True))
        ]
        extra = {"best_fitness": float(final[best]), "calls": len(cells), "distinct": len(known)}
        return cells[best], history, extra
