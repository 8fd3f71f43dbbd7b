"""What a worker does with one task in this process: load its data, search or train (or look up).

The task kinds (`study.kinds`) call these for a task; `worker.distributed_eval` calls `evaluate_here`
in each rank of a data-parallel training. A training's result records its `world_size`.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from nastransfer.study.driver.tasks import canonical_json


def make_searcher(name: str, params: dict[str, Any]):
    """The registry's searcher `name` (or `module:Class`), built with the method's params."""
    return searcher_factory(name)(**params)


def searcher_factory(name: str):
    """What builds searcher `name`, checked to be a searcher before anything is called."""
    from nastransfer import search

    return search.resolve(name)


def network_key(space: str, setting: dict[str, Any], cell: str, text: str) -> str:
    """What makes two cells "the same network" in `setting`: a training is shared by cells with one
    canonical key (isomorphic NB201 cells compute the same function), while a table look-up is by
    the cell's own key (tables keep one record per arch string)."""
    if setting["data"]["kind"] == "table":
        return cell
    from nastransfer.spaces import get_space

    chosen = get_space(space)
    return chosen.network_key(chosen.parse(text))


def sample_cell(space: str, seed: int, table: str | None = None) -> tuple[str, str]:
    """(canonical key, text) of the random baseline's cell drawn with `seed` (from the part of the
    space `table` covers, when the planner names one)."""
    from nastransfer.spaces import get_space

    if table is None:
        chosen = get_space(space)
    else:
        from nastransfer.tabular import get_table

        chosen = get_table(table).search_space()
    genotype = chosen.sample(seed)
    return chosen.key(genotype), chosen.format(genotype)


def run_search(spec: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Run one search task's method on its source; the result as plain data with the cell's key."""
    from nastransfer.search import Budget

    data = _search_data(canonical_json(spec["data"]), spec["split_seed"])
    searcher = make_searcher(spec["searcher"], spec["params"])
    result = searcher.search(
        spec["space"], data, Budget.from_dict(spec["budget"]), spec["seed"], workdir, progress=False
    )
    return {**result.to_dict(), "cell": result.genotype.key}


def evaluate_here(spec: dict[str, Any], genotype_text: str | None, workdir: Path) -> dict[str, Any]:
    """Train (or look up) the cell in this process; under torchrun, as one rank of the training."""
    from nastransfer.spaces import get_space

    setting = spec["setting"]
    genotype = get_space(spec["space"]).parse(genotype_text)
    if setting["data"]["kind"] == "table":
        from nastransfer.tabular import TableEvaluator

        result = TableEvaluator(setting["data"]["table"]).evaluate(
            genotype, dataset=None, protocol=None, seed=setting["seed"], workdir=workdir
        )
    else:
        from nastransfer.train import TrainEvaluator, get_protocol

        data_spec, protocol = setting["data"], get_protocol(setting["protocol"], **setting["overrides"])
        if protocol.split == "official":  # the evaluator reads the dataset's own train and test files
            evaluator = TrainEvaluator(data_root=data_spec["root"], data_options=data_spec["options"])
            dataset = data_spec["dataset"]
        else:
            evaluator, dataset = TrainEvaluator(), load_data(canonical_json(data_spec))
        result = evaluator.evaluate(genotype, dataset, protocol, setting["seed"], workdir)
        return {**result.to_dict(), "world_size": _world_size()}
    return result.to_dict()


def _world_size() -> int:
    """Processes the training ran on: torchrun's world, else this one process."""
    import torch.distributed as dist

    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


@functools.lru_cache(maxsize=4)
def load_data(data_json: str):
    """A dataset or proxy view from its data spec (cached: a worker evaluates many cells on one dataset)."""
    import json

    from nastransfer import data

    spec = json.loads(data_json)
    if spec["kind"] == "proxy":
        base = load_data(canonical_json(spec["of"]))
        return data.make_proxy(
            base,
            classes=spec["classes"],
            per_class=spec["per_class"],
            fraction=spec["fraction"],
            resolution=spec["resolution"],
            seed=spec["seed"],
        )
    return data.load_dataset(spec["dataset"], root=spec["root"], **spec["options"])


def _search_data(data_json: str, split_seed: int):
    """What a searcher receives: the 40/40/20 splits of its source, or the table object of a table source."""
    import json

    spec = json.loads(data_json)
    if spec["kind"] == "table":
        from nastransfer.tabular import get_table

        return get_table(spec["table"])
    from nastransfer.data import paper_splits

    return paper_splits(load_data(data_json), seed=split_seed)
