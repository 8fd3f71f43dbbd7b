"""One fidelity task of a study: one proxy scoring a list of cells, returned as plain data.

A task spec holds `space`, `target` (a table), `seed`, `cells` (genotype texts) and `proxy`:
`{"kind": "zero-cost", "predictor", "source", "batch_size", "net"}` (a predictor, a vote, or a
learned proxy with its `labels`: it returns only the cells it did not fit on), `{"kind": "train",
"source", "protocol", "overrides"}`, `{"kind": "supernet", "source", "budget"}` or `{"kind":
"table", "table", "cost_per_cell_s"}` (another table's ranking; its cost is a stated stand-in).
`source` is a study data spec (resolved by the caller's `load_data`) or None (data-free).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from nastransfer.data import Dataset, paper_splits
from nastransfer.errors import ConfigError
from nastransfer.proxies.cells import target_scores, target_table
from nastransfer.proxies.learned import DEFAULT_LABELS
from nastransfer.proxies.short_train import short_training_scores
from nastransfer.proxies.weight_sharing import weight_sharing_scores
from nastransfer.proxies.zero_cost import ZeroCostSetup, proxy_scores
from nastransfer.runtime import Cost, CostMeter
from nastransfer.spaces import get_space

#: The proxy kinds: a study's `[[fidelity.proxies]]` kinds (`study.config.fidelity`) are these.
ZERO_COST, TRAIN, SUPERNET, TABLE = "zero-cost", "train", "supernet", "table"
KINDS = (ZERO_COST, TRAIN, SUPERNET, TABLE)
SPLIT_SEED = 0


def run_proxy_task(
    spec: dict[str, Any], workdir: Path, load_data: Callable[[dict], Dataset]
) -> dict[str, Any]:
    """Score the spec's cells with its proxy: {cells, genotypes, scores, targets, cost}."""
    table = target_table(spec["target"], spec["space"])
    cells = [get_space(table.space).parse(text) for text in spec["cells"]]
    cells, scores, cost = _scores(spec, cells, workdir, load_data)
    truth = target_scores(table, cells)
    return {
        "cells": [c.key for c in cells],
        "genotypes": [str(c) for c in cells],
        "scores": scores,
        "targets": truth.tolist(),
        "cost": cost.to_dict(),
    }


def _scores(
    spec: dict[str, Any], cells: list[Any], workdir: Path, load_data: Callable[[dict], Dataset]
) -> tuple[list[Any], list[float], Cost]:
    """(the cells scored: all but a learned proxy's labelled ones, their scores, the cost)."""
    proxy = spec["proxy"]
    if proxy["kind"] == ZERO_COST:
        source = load_data(proxy["source"]) if proxy.get("source") else None
        setup = ZeroCostSetup(batch_size=proxy["batch_size"], net=dict(proxy["net"]))
        labels = proxy.get("labels", DEFAULT_LABELS)
        return proxy_scores(
            proxy["predictor"],
            cells,
            source,
            setup,
            space=spec["space"],
            target=spec["target"],
            seed=int(spec["seed"]),
            labels=labels,
        )
    return (cells, *_other_scores(spec, cells, workdir, load_data))


def _other_scores(
    spec: dict[str, Any], cells: list[Any], workdir: Path, load_data: Callable[[dict], Dataset]
) -> tuple[list[float], Cost]:
    proxy, seed = spec["proxy"], int(spec["seed"])
    kind = proxy["kind"]
    if kind == TRAIN:
        source = load_data(proxy["source"])
        return short_training_scores(
            cells, source, proxy["protocol"], proxy["overrides"], seed=seed, workdir=workdir
        )
    if kind == SUPERNET:
        splits = paper_splits(load_data(proxy["source"]), seed=SPLIT_SEED)
        budget = proxy["budget"]
        return weight_sharing_scores(cells, spec["space"], splits, budget, seed=seed, workdir=workdir)
    if kind == TABLE:
        other = target_table(proxy["table"], spec["space"])
        with CostMeter() as meter:  # a cell the proxy table lacks (NB-Graph's proteins) scores NaN
            scores = [other.query(c)[other.rank_metric] if c in other else float("nan") for c in cells]
        stated = float(proxy["cost_per_cell_s"]) * len(cells)
        return scores, Cost(meter.cost.wall_s, stated, 0.0, "stated stand-in")
    raise ConfigError(f"unknown proxy kind {kind!r} (known: {', '.join(KINDS)})")
