"""Score many cells with one predictor: each cell's evaluation network built fresh from one seed.

Every cell is initialised from the same seed, so two runs agree score for score and the scores of
two cells differ by their architecture (and the draw that architecture makes of the generator),
not by a seed chosen per cell. A predictor's random draws (its own initialisation, Gaussian inputs)
come from the same seeded generator after the net is built. `measure_cells` keeps each cell's
`measure` row, so a relative predictor's rows from several chunks can reach one `combine`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from nastransfer.nets import build_eval_net
from nastransfer.predictors.base import Batch
from nastransfer.predictors.registry import get
from nastransfer.runtime import Cost, CostMeter

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def score_cells(
    name: str,
    cells: Sequence[Any],
    batch: Batch,
    *,
    net_options: dict[str, Any],
    seed: int = 0,
    dtype: str = "float32",
    on_cell: Callable[[], None] | None = None,
) -> tuple[list[float], Cost]:
    """The predictor's score of each cell and the cost of all of them (net building included).

    `net_options` go to `nets.build_eval_net` (e.g. `C`, `N`, `num_classes`, `in_channels`);
    `on_cell` is called after each cell (a progress bar's update). A relative predictor's scores
    rank the cells among these `cells`.
    """
    rows, cost = measure_cells(
        name, cells, batch, net_options=net_options, seed=seed, dtype=dtype, on_cell=on_cell
    )
    return get(name).combine(rows), cost


def measure_cells(
    name: str,
    cells: Sequence[Any],
    batch: Batch,
    *,
    net_options: dict[str, Any],
    seed: int = 0,
    dtype: str = "float32",
    on_cell: Callable[[], None] | None = None,
) -> tuple[list[dict[str, float]], Cost]:
    """Each cell's `measure` row (as `score_cells`, before `combine`) and the cost of all of them."""
    predictor = get(name)
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    batch = Batch(batch.inputs.to(DTYPES[dtype]), batch.targets)
    rows = []
    with CostMeter() as meter:
        for cell in cells:
            torch.manual_seed(seed)
            net = build_eval_net(cell, **net_options).to(DTYPES[dtype])
            rows.append(predictor.measure(net, batch))
            if on_cell is not None:
                on_cell()
    return rows, meter.cost
