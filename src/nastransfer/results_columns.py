"""The columns of the results frame (docs/architecture.md, "study and analysis"), defined once.

`study` writes the frame and `analysis` reads it; both import these names from here, below either package,
so the analysis need not import the study (and with it torch).
"""

CELL_COLUMNS = ("cell", "genotype", "space")
# Where a cell came from: the search (or random draw) that produced it.
ORIGIN_COLUMNS = ("method", "source", "source_kind", "search_seed")
# Where it was evaluated; the training seed is the one key that is averaged over.
SETTING_COLUMNS = ("eval_dataset", "eval_role", "protocol")
EVAL_SEED = "eval_seed"
MEASURE_COLUMNS = ("top1", "top5", "params", "flops")
COST_COLUMNS = ("search_wall_s", "search_device_s", "eval_wall_s", "eval_device_s")

COLUMNS = CELL_COLUMNS + ORIGIN_COLUMNS + SETTING_COLUMNS + (EVAL_SEED,) + MEASURE_COLUMNS + COST_COLUMNS

# Rows of a `[fidelity]` section: a proxy's score of a cell has eval_role PROXY_ROLE (method: the proxy,
# source: its source, source_kind: its kind, top1: the score); the target's score of each of those
# cells is a target row whose method is FIDELITY_METHOD.
PROXY_ROLE = "proxy"
FIDELITY_METHOD = "fidelity"
