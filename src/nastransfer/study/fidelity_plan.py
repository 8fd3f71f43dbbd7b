"""The tasks of a `[fidelity]` section: each proxy scoring its share of the K sampled cells.

Zero-cost predictors score `chunk` cells per task (a resumed run redoes at most one chunk), short
trainings one cell per task (they run in parallel and resume cell by cell), a supernet or a table
all its cells in one task (the supernet checkpoints each epoch in its work directory).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nastransfer.study.fidelity_config import SUPERNET, TABLE, TRAIN, ZERO_COST, FidelityProxyConfig
from nastransfer.study.tasks import Task

if TYPE_CHECKING:
    from nastransfer.study.resolved import ResolvedStudy

KIND = "fidelity"


def proxy_specs(proxy: FidelityProxyConfig, source: dict[str, Any] | None) -> list[dict[str, Any]]:
    """What a worker needs to run the proxy (one spec per predictor of a zero-cost proxy)."""
    if proxy.kind == ZERO_COST:
        common = {"kind": ZERO_COST, "source": source, "batch_size": proxy.batch_size, "net": proxy.net}
        return [{**common, "name": name, "predictor": name} for name in proxy.predictors]
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


def plan_fidelity(study: ResolvedStudy) -> list[Task]:
    """The fidelity tasks of a study (none without a `[fidelity]` section)."""
    section = study.fidelity
    if section is None:
        return []
    from nastransfer.proxies import choose_cells, target_table

    tasks = []
    for target in section.targets:
        table = target_table(target, study.space)
        cells = [str(c) for c in choose_cells(table, section.cells, section.seed)]
        for proxy in section.proxies:
            source = study.source(proxy.source).data if proxy.source else None
            if source is not None and source.get("table") == target:
                continue  # a table is no proxy of itself
            common = {"space": study.space, "target": target, "seed": section.seed, "source": proxy.source}
            tasks += _proxy_tasks(proxy, source, cells, section.chunk, common)
    return tasks


def _proxy_tasks(
    proxy: FidelityProxyConfig, source: dict[str, Any] | None, cells: list[str], chunk: int, common: dict
) -> list[Task]:
    """The proxy's tasks over its first `cells` of the sample, `chunk` (or 1, or all) cells each."""
    chosen = cells[: proxy.cells or len(cells)]
    size = {ZERO_COST: chunk, TRAIN: 1}.get(proxy.kind, len(chosen))
    tasks = []
    for spec in proxy_specs(proxy, source):
        for start in range(0, len(chosen), size):
            tasks.append(Task.make(KIND, {**common, "cells": chosen[start : start + size], "proxy": spec}))
    return tasks
