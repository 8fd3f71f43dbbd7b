"""Zero-cost predictors: score an untrained network from one batch (or its shape), one module each.

`get(name).score(net, Batch(inputs, targets)) -> float` (higher: better); `names()` lists them;
`register(name)` adds one. `synflow`, `params` and `flops` ignore the images (`needs_data` False).
`score_set(name, cells, ...)` scores a set of cells by a predictor or by a rank vote of several
(`vote:a,b`, `vote-mean:a,b`; see `predictors.vote`).
"""

from nastransfer.predictors import (  # noqa: F401 (each module registers its predictor)
    fisher,
    flops,
    grad_norm,
    grasp,
    jacob_cov,
    naswot,
    params,
    snip,
    synflow,
)
from nastransfer.predictors.base import Batch, Predictor
from nastransfer.predictors.cells import score_cells
from nastransfer.predictors.registry import get, names, register
from nastransfer.predictors.vote import Vote, ascending_ranks, is_vote, parse_vote, score_set

__all__ = [
    "Batch",
    "Predictor",
    "Vote",
    "ascending_ranks",
    "get",
    "is_vote",
    "names",
    "parse_vote",
    "register",
    "score_cells",
    "score_set",
]
