"""Zero-cost predictors: score an untrained network from one batch (or its shape), one module each.

`get(name).score(net, Batch(inputs, targets)) -> float` (higher: better); `names()` lists them;
`register(name)` adds one. Data-free ones (`needs_data` False) ignore the images: `synflow`,
`params`, `flops`, `zen` and the AZ-NAS family. A `relative` predictor (`RankedPredictor`: `az_nas`,
`tenas`) ranks each cell among those scored with it: `score_cells` over the whole set, or
`measure_cells` rows combined once by `get(name).combine`.
`score_set(name, cells, ...)` scores a set of cells by a predictor or by a rank vote of several
(`vote:a,b`, `vote-mean:a,b`; see `predictors.vote`).
"""

from nastransfer.predictors import (  # noqa: F401 (each module registers its predictor)
    az_nas,
    fisher,
    flops,
    grad_norm,
    grasp,
    jacob_cov,
    meco,
    naswot,
    params,
    snip,
    swap,
    synflow,
    tenas,
    zen,
    zico,
)
from nastransfer.predictors.base import Batch, Predictor, RankedPredictor
from nastransfer.predictors.cells import measure_cells, score_cells
from nastransfer.predictors.registry import PREDICTORS, get, names, register
from nastransfer.predictors.vote import Vote, ascending_ranks, is_vote, parse_vote, score_set

__all__ = [
    "PREDICTORS",
    "Batch",
    "Predictor",
    "RankedPredictor",
    "Vote",
    "ascending_ranks",
    "get",
    "is_vote",
    "measure_cells",
    "names",
    "parse_vote",
    "register",
    "score_cells",
    "score_set",
]
