"""NAS methods behind one `Searcher` interface, each with its published budget, and their registry.

`get(name, **options)` builds a searcher: the built-ins `darts` (first order; `darts2` or
`order=2` for the unrolled second order), `pcdarts`, `gdas`, `pdarts`, `rsws` (random search
with weight sharing), `random` (the sampling baseline), `zc` and `zc-rea` (training-free: a
zero-cost predictor's best of sampled cells, or regularised evolution with it as fitness), plugins
of the entry-point group `nastransfer.searchers`, or a `"module:Class"` path.
"""

from nastransfer.search import (  # noqa: F401 (each module registers its searchers)
    darts,
    gdas,
    pcdarts,
    pdarts,
    random_sampling,
    rsws,
    zero_cost,
)
from nastransfer.search.base import Searcher, SearchResult
from nastransfer.search.budget import Budget
from nastransfer.search.gradient import GradientSearcher, Hyper, Stage
from nastransfer.search.random_sampling import sample_cells
from nastransfer.search.registry import (
    ENTRY_POINT_GROUP,
    SEARCHERS,
    get,
    method_budget,
    names,
    published_budget,
    register,
    resolve,
    searcher_class,
)
from nastransfer.search.unrolled import exact_hvp, finite_difference_hvp, unrolled_arch_gradients

__all__ = [
    "ENTRY_POINT_GROUP",
    "SEARCHERS",
    "Budget",
    "GradientSearcher",
    "Hyper",
    "SearchResult",
    "Searcher",
    "Stage",
    "exact_hvp",
    "finite_difference_hvp",
    "get",
    "method_budget",
    "names",
    "published_budget",
    "register",
    "resolve",
    "sample_cells",
    "searcher_class",
    "unrolled_arch_gradients",
]
