"""Zero-cost proxies of a fidelity measurement: one predictor's score of every cell at initialisation.

Data-dependent predictors see one batch of the source's training split (the paper's 40 % part),
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
from nastransfer.data import Augment, BatchLoader, Dataset, paper_splits
from nastransfer.errors import ConfigError
from nastransfer.runtime import Cost

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
    if batch_size < 2:
        raise ConfigError(f"zero-cost batch size must be >= 2, got {batch_size}")
    train = paper_splits(dataset, seed=0).train
    loader = BatchLoader(train, min(batch_size, len(train)), shuffle=True, seed=seed, augment=Augment())
    x, y = next(iter(loader))
    return predictors.Batch(x, y)


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
    """The predictor's score of each cell on a batch of `source` (None: the target's input shape)."""
    predictor = predictors.get(name)
    if source is not None:
        batch, classes = source_batch(source, setup.batch_size, seed), source.num_classes
    elif predictor.needs_data:
        raise ConfigError(f"zero-cost predictor {name} needs a source dataset (it reads a batch of images)")
    else:
        shape, classes = target_input
        batch = shape_batch(shape, classes, 2, seed)
    options = {**setup.net, "num_classes": classes, "in_channels": batch.shape[0]}
    return predictors.score_cells(
        name, cells, batch, net_options=options, seed=seed, dtype=setup.dtype, on_cell=on_cell
    )
