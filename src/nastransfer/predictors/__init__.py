"""Zero-cost predictors: score an untrained network from one batch (or its shape), one module each.

`get(name).score(net, Batch(inputs, targets)) -> float` (higher: better); `names()` lists them;
`register(name)` adds one. `synflow`, `params` and `flops` ignore the images (`needs_data` False).
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

__all__ = ["Batch", "Predictor", "get", "names", "register", "score_cells"]
