"""What a `[fidelity]` task will cost: the plan's pricing of proxies (see `study.kinds.fidelity_tasks`).

A zero-cost predictor is priced per cell from one timed evaluation of the predictor on the first
TIMED_CELLS cells of a task (per distinct predictor, source, batch and network; cached like the step
timings), times the task's cells. A short training is a training (`plan` prices it as any
evaluation: one representative cell), once per cell; a weight-sharing proxy is an RSWS search whose
final scoring is of the task's cells; another table's ranking costs nothing to look up (its stated
`cost_per_cell_s` is a stand-in the task reports, not device time).
"""

from __future__ import annotations

from typing import Any

from nastransfer.proxies.task import ZERO_COST

TIMED_CELLS = 2


def zero_cost_key(spec: dict[str, Any], images: dict[str, Any] | None) -> dict[str, Any]:
    """What fixes a zero-cost task's cost per cell: predictor, batch, network, and the images' shape
    (`images`: channels, side, classes of the source; None for a data-free one on the target's input),
    so sources of one shape (Fashion-MNIST and MNIST) share one timing."""
    proxy = spec["proxy"]
    return {
        "proxy": ZERO_COST,
        "predictor": proxy["predictor"],
        "images": images if images is not None else spec["target"],
        "batch_size": proxy["batch_size"],
        "net": proxy["net"],
        "space": spec["space"],
    }


def zero_cost_per_cell(spec: dict[str, Any], threads: int) -> dict[str, float]:
    """Device-seconds per cell of the task's predictor, timed on its first TIMED_CELLS cells (the
    cells are a uniform sample of the table, so their mean is an unbiased per-cell cost), with the
    workers' torch threads."""
    from nastransfer.proxies.cells import table_input, target_table
    from nastransfer.proxies.learned import is_learned, parse_learned
    from nastransfer.proxies.zero_cost import ZeroCostSetup, zero_cost_scores
    from nastransfer.spaces import get_space
    from nastransfer.study.cost.step_costs import torch_threads
    from nastransfer.study.driver.tasks import canonical_json
    from nastransfer.study.worker.body import load_data

    proxy = spec["proxy"]
    table = target_table(spec["target"], spec["space"])
    cells = [get_space(table.space).parse(text) for text in spec["cells"][:TIMED_CELLS]]
    source = load_data(canonical_json(proxy["source"])) if proxy.get("source") else None
    setup = ZeroCostSetup(batch_size=proxy["batch_size"], net=dict(proxy["net"]))
    name = proxy["predictor"]
    # A learned proxy's cost is its predictors' on every cell (the fit takes milliseconds).
    timed = parse_learned(name).features if is_learned(name) else (name,)
    seconds = 0.0
    with torch_threads(threads):
        for predictor in timed:
            _, cost = zero_cost_scores(
                predictor, cells, source, setup, target_input=table_input(spec["target"]), seed=0
            )
            seconds += cost.device_s
    return {"per_cell_s": seconds / len(cells)}


def supernet_search_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The weight-sharing proxy as the search `plan` prices: RSWS on the source with the proxy's
    budget, its final scoring of the task's cells as RSWS's scoring of n_samples candidates."""
    from nastransfer.search import published_budget

    proxy = spec["proxy"]
    budget = published_budget("rsws").replace(**proxy["budget"], n_samples=len(spec["cells"]))
    return {
        "searcher": "rsws",
        "params": {},
        "method": "supernet",
        "space": spec["space"],
        "budget": budget.to_dict(),
        "data": proxy["source"],
    }


def training_setting(spec: dict[str, Any]) -> dict[str, Any]:
    """The short training as an evaluation setting `plan` prices (one cell's training)."""
    proxy = spec["proxy"]
    return {
        "space": spec["space"],
        "data": proxy["source"],
        "protocol": proxy["protocol"],
        "overrides": proxy["overrides"],
    }


def labels(spec: dict[str, Any]) -> tuple[str, str, str, str]:
    """(method, source, setting, protocol) columns of the plan's table for a fidelity task."""
    proxy = spec["proxy"]
    return proxy["name"], spec["source"], f"target:{spec['target']}", proxy["kind"]
