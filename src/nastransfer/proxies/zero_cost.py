"""Zero-cost proxies of a fidelity measurement: one predictor's score of every cell at initialisation.

A proxy is a predictor's name, a rank vote of several (`vote:a,b`, `vote-mean:a,b`; see
`predictors.vote`: the cells of one measurement are ranked together) or a learned model of the
target fitted on some labelled cells (`learned:a,b`; see `proxies.learned`: it scores only the
other cells). Data-dependent predictors see one batch of the source's training split (the paper's 40 % part),
normalised by the source's statistics, drawn by the seed (Abdelfattah et al. use one batch of 64
training images); data-free ones (`synflow`, `params`, `flops`) see only its shape, and with no
source the target's own input shape. The networks are the space's evaluation networks at the
target's published size (NB201: C=16, N=5) with the source's channels and classes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from nastransfer import predictors
from nastransfer.data import Dataset, paper_splits
from nastransfer.errors import ConfigError
from nastransfer.proxies.cells import table_input, target_scores, target_table
from nastransfer.proxies.learned import DEFAULT_LABELS, is_learned, learned_scores, parse_learned
from nastransfer.runtime import Cost
from nastransfer.search.zero_cost import first_batch

BATCH_SIZE = 64
NB201_SIZE = {"C": 16, "N": 5}


@dataclass(frozen=True)
class ZeroCostSetup:
    """How the scored networks are built and fed."""

    batch_size: int = BATCH_SIZE
    net: dict[str, int] = field(default_factory=lambda: dict(NB201_SIZE))
    dtype: str = "float32"


def source_batch(dataset: Dataset, batch_size: int, seed: int) -> predictors.Batch:
    """A seeded batch of the dataset's training split (the paper's 40 %), normalised by its statistics."""
    return first_batch(paper_splits(dataset, seed=0).train, batch_size, seed)


def needs_data(name: str) -> bool:
    """Whether proxy `name` reads images; a ConfigError for an unknown predictor or a malformed name."""
    if is_learned(name):
        return parse_learned(name).needs_data
    if predictors.is_vote(name):
        return predictors.parse_vote(name).needs_data
    return predictors.get(name).needs_data


def is_set_proxy(name: str) -> bool:
    """Whether a cell's score depends on the cells scored with it (a vote, a learned model, a
    predictor released as a rank aggregate): such a proxy scores all its cells at once."""
    if is_learned(name) or predictors.is_vote(name):
        return True
    return bool(getattr(predictors.get(name), "relative", False))


def shape_batch(shape: tuple[int, int, int], classes: int, batch_size: int, seed: int) -> predictors.Batch:
    """A stand-in batch for data-free predictors: only its shape (and the class count) matter."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((batch_size, *shape), generator=g)
    return predictors.Batch(x, torch.randint(0, classes, (batch_size,), generator=g))


def zero_cost_scores(
    name: str,
    cells: list[Any],
    source: Dataset | None,
    setup: ZeroCostSetup,
    *,
    target_input: tuple[tuple[int, int, int], int],
    seed: int,
    on_cell: Callable[[], None] | None = None,
) -> tuple[list[float], Cost]:
    """The predictor's (or vote's) score of each cell on a batch of `source` (None: the target's input
    shape)."""
    if source is not None:
        batch, classes = source_batch(source, setup.batch_size, seed), source.num_classes
    elif needs_data(name):
        raise ConfigError(f"zero-cost predictor {name} needs a source dataset (it reads a batch of images)")
    else:
        shape, classes = target_input
        batch = shape_batch(shape, classes, 2, seed)
    options = {**setup.net, "num_classes": classes, "in_channels": batch.shape[0]}
    return predictors.score_set(
        name, cells, batch, net_options=options, seed=seed, dtype=setup.dtype, on_cell=on_cell
    )


def proxy_scores(
    name: str,
    cells: list[Any],
    source: Dataset | None,
    setup: ZeroCostSetup,
    *,
    space: str,
    target: str,
    seed: int,
    labels: int = DEFAULT_LABELS,
    on_cell: Callable[[], None] | None = None,
) -> tuple[list[Any], list[float], Cost]:
    """(the cells scored, their scores, the cost) of zero-cost proxy `name` on cells of `space`
    against target table `target`: every cell, except a learned proxy's `labels` training cells."""

    def score(predictor: str, tick: Callable[[], None] | None = None) -> tuple[list[float], Cost]:
        return zero_cost_scores(
            predictor, cells, source, setup, target_input=table_input(target), seed=seed, on_cell=tick
        )

    if not is_learned(name):
        return cells, *score(name, on_cell)
    table = target_table(target, space)
    truth = target_scores(table, cells).to_numpy()
    scored, scores, cost = learned_scores(name, cells, truth, score, labels=labels, seed=seed)
    for _ in cells if on_cell is not None else ():
        on_cell()
    return scored, scores, cost
