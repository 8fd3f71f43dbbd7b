"""One fidelity measurement: K cells of a table, each (proxy, source) scoring every cell, as one frame.

The frame (the *scores frame*) has one row per (cell, proxy, source): `cell` (canonical key),
`genotype`, `proxy`, `source` (\"\" for a data-free proxy on the target's input shape), `score`,
`target` (the table's metric of the cell), `cost_s` (the cell's share of the proxy's measured
device-seconds) and `target_name` (the target table). `analysis.fidelity` reads it; studies store
and export it.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from nastransfer.data import load_dataset
from nastransfer.proxies.cells import choose_cells, target_scores, target_table
from nastransfer.proxies.learned import DEFAULT_LABELS, check_labels, is_learned
from nastransfer.proxies.zero_cost import ZeroCostSetup, needs_data, proxy_scores
from nastransfer.runtime import progress

SCORE_COLUMNS = ("cell", "genotype", "proxy", "source", "score", "target", "cost_s", "target_name")


def scores_frame(
    cells: list,
    target: pd.Series,
    proxy: str,
    source: str,
    scores: Sequence[float],
    cost_s: float,
    target_name: str,
) -> pd.DataFrame:
    """The rows of one (proxy, source): each cell's score, its target score and its share of the cost."""
    keys = [c.key for c in cells]
    return pd.DataFrame(
        {
            "cell": keys,
            "genotype": [str(c) for c in cells],
            "proxy": proxy,
            "source": source,
            "score": [float(s) for s in scores],
            "target": target.loc[keys].to_numpy(),
            "cost_s": cost_s / max(len(cells), 1),
            "target_name": target_name,
        },
        columns=list(SCORE_COLUMNS),
    )


def measure_zero_cost(
    *,
    space: str,
    target: str,
    cells: int,
    seed: int,
    proxies: Sequence[str],
    sources: Sequence[str] = ("",),
    setup: ZeroCostSetup | None = None,
    labels: int = DEFAULT_LABELS,
    show_progress: bool | None = None,
) -> pd.DataFrame:
    """The scores frame of each zero-cost proxy in `proxies` (a predictor, a vote, a learned model
    fitted on `labels` of the cells) on each source (\"\": data-free)."""
    table = target_table(target, space)
    chosen = choose_cells(table, cells, seed)
    truth = target_scores(table, chosen)
    setup = setup or ZeroCostSetup()
    for proxy in proxies:  # a bad name or label count fails before any data is read
        needs_data(proxy)
        if is_learned(proxy):
            check_labels(labels, len(chosen))
    parts = []
    total = len(sources) * len(proxies) * len(chosen)
    with progress(total, "zero-cost proxies", enabled=show_progress) as update:
        for source in sources:
            dataset = load_dataset(source) if source else None
            for proxy in proxies:
                scored, scores, cost = proxy_scores(
                    proxy,
                    chosen,
                    dataset,
                    setup,
                    space=space,
                    target=target,
                    seed=seed,
                    labels=labels,
                    on_cell=update,
                )
                parts.append(scores_frame(scored, truth, proxy, source, scores, cost.device_s, target))
    return pd.concat(parts, ignore_index=True)
