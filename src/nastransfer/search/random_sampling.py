"""The random-sampling baseline: cells drawn uniformly from the space, nothing searched or trained."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from nastransfer.data import Splits
from nastransfer.runtime import CostMeter
from nastransfer.search.base import Searcher, SearchResult
from nastransfer.search.budget import Budget
from nastransfer.search.params import DEVICE
from nastransfer.search.registry import register
from nastransfer.spaces import get_space


def sample_cells(space: str, n: int, seed: int, sample: Callable[[int], Any] | None = None) -> list:
    """`n` uniformly sampled cells of `space` (drawn by `sample(seed)`, by default the space's own
    sampler), fixed by `seed` (each from its own child seed)."""
    sample = sample or get_space(space).sample
    return [sample(int(s)) for s in np.random.SeedSequence(seed).generate_state(n)]


#: Separates the method's draws from the study's random baseline, which samples `space.sample(k)`
#: for k = seed, seed + 1, ...: without it, `random` with seeds 0..n-1 would return the baseline's
#: own cells and its improvement over random would be 0 by construction.
_METHOD_STREAM = 0x52414E44


@register("random")
class RandomSampling(Searcher):
    """Returns a uniform cell fixed by the seed (drawn apart from the baseline's); data and budget
    are not used.

    There is no architecture distribution to sharpen: the history holds one record whose
    entropy is that of the uniform distribution over each edge's ops.
    """

    #: One cell drawn, nothing trained.
    paper_budget = Budget.queries(1)
    params_schema = (DEVICE,)

    def __init__(self, device: str | None = None) -> None:
        self.device = device  # accepted like every searcher's; nothing runs on a device

    def search(
        self,
        space: str,
        data: Splits,
        budget: Budget,
        seed: int,
        workdir: str | os.PathLike,
        progress: bool | None = None,
    ) -> SearchResult:
        chosen = get_space(space)
        with CostMeter() as meter:
            draw = np.random.SeedSequence((int(seed), _METHOD_STREAM)).generate_state(1)[0]
            genotype = chosen.sample(int(draw))
        record = {"epoch": 0, "genotype": str(genotype), "entropy": float(np.log(len(chosen.ops)))}
        return SearchResult(genotype, [record], meter.cost, budget, method=self.name, seed=int(seed))
