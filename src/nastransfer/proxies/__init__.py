"""Cheap proxies of a target's ranking, scored per cell for proxy-fidelity measurements and studies.

`measure_zero_cost(space=, target=, cells=, seed=, proxies=, sources=)` gives the *scores frame*
(one row per cell, proxy and source, with the target's score and the cost share);
`analysis.fidelity` turns it into fidelity statistics and a recommendation.
"""

from nastransfer.proxies.cells import choose_cells, target_scores, target_table
from nastransfer.proxies.measure import SCORE_COLUMNS, measure_zero_cost, scores_frame
from nastransfer.proxies.zero_cost import ZeroCostSetup, zero_cost_scores

__all__ = [
    "SCORE_COLUMNS",
    "ZeroCostSetup",
    "choose_cells",
    "measure_zero_cost",
    "scores_frame",
    "target_scores",
    "target_table",
    "zero_cost_scores",
]
