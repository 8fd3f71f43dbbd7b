"""The tasks of a `[fidelity]` section: each proxy scoring its share of the K sampled cells.

Zero-cost predictors score `chunk` cells per task (a resumed run redoes at most one chunk), short
trainings one cell per task (they run in parallel and resume cell by cell), a supernet or a table
all its cells in one task (the supernet checkpoints each epoch in its work directory), and so do a
vote, a learned proxy and a predictor released as a rank aggregate (a cell's score depends on the
others).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nastransfer.study.config.fidelity import SUPERNET, TABLE, TRAIN, ZERO_COST, FidelityProxyConfig

if TYPE_CHECKING:
    from nastransfer.study.config.resolved import ResolvedStudy


def proxy_specs(proxy: FidelityProxyConfig, source: dict[str, Any] | None) -> list[dict[str, Any]]:
    """What a worker needs to run the proxy (one spec per predictor of a zero-cost proxy)."""
    if proxy.kind == ZERO_COST:
        from nastransfer.proxies.learned import DEFAULT_LABELS, is_learned

        common = {"kind": ZERO_COST, "source": source, "batch_size": proxy.batch_size, "net": proxy.net}
        labels = {"labels": proxy.labels or DEFAULT_LABELS}  # in learned specs alone: others keep their keys
        return [
            {**common, "name": name, "predictor": name, **(labels if is_learned(name) else {})}
            for name in proxy.predictors
        ]
    if proxy.kind == TRAIN:
        name = f"train:{proxy.protocol}"
        return [
            {
                "kind": TRAIN,
                "name": name,
                "source": source,
                "protocol": proxy.protocol,
                "overrides": proxy.overrides,
            }
        ]
    if proxy.kind == SUPERNET:
        return [{"kind": SUPERNET, "name": "supernet", "source": source, "budget": proxy.budget}]
    assert source is not None and source["kind"] == "table"
    return [
        {
            "kind": TABLE,
            "name": source["table"],
            "table": source["table"],
            "cost_per_cell_s": proxy.cost_per_cell_s,
        }
    ]


def fidelity_specs(study: ResolvedStudy) -> list[dict[str, Any]]:
    """The specs of a study's fidelity tasks, in plan order (none without a `[fidelity]` section)."""
    section = study.fidelity
    if section is None:
        return []
    from nastransfer.proxies import choose_cells, target_table

    specs = []
    for target in section.targets:
        table = target_table(target, study.space)
        cells = [str(c) for c in choose_cells(table, section.cells, section.seed)]
        for proxy in section.proxies:
            source = study.source(proxy.source).data if proxy.source else None
            if source is not None and source.get("table") == target:
                continue  # a table is no proxy of itself
            common = {"space": study.space, "target": target, "seed": section.seed, "source": proxy.source}
            specs += _task_specs(proxy, source, cells, section.chunk, common)
    return specs


def _task_specs(
    proxy: FidelityProxyConfig, source: dict[str, Any] | None, cells: list[str], chunk: int, common: dict
) -> list[dict[str, Any]]:
    """The proxy's tasks over its first `cells` of the sample, `chunk` (or 1, or all) cells each."""
    from nastransfer.proxies.zero_cost import is_set_proxy

    chosen = cells[: proxy.cells or len(cells)]
    specs = []
    for spec in proxy_specs(proxy, source):
        size = {ZERO_COST: chunk, TRAIN: 1}.get(proxy.kind, len(chosen))
        if proxy.kind == ZERO_COST and is_set_proxy(spec["predictor"]):
            size = len(chosen)  # its cells are ranked (or fitted) together
        for start in range(0, len(chosen), size):
            specs.append({**common, "cells": chosen[start : start + size], "proxy": spec})
    return specs
