"""What a worker does with one task: load its data, search or train (or look up), return plain data.

`run_task` is the only function the executors ship to workers; it never raises, so a local
process and a Ray task report failures the same way: `{"ok": False, "error": traceback}`.
A payload's `nproc` (set by the executor) above 1 trains the cell data-parallel in a child
`torchrun` (see `study.distributed_eval`); a training's result records its `world_size`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import traceback
from pathlib import Path
from typing import Any

from nastransfer.study.tasks import canonical_json


def run_task(payload: dict[str, Any]) -> dict[str, Any]:
    """Run one search, evaluation or proxy scoring here; the result or the traceback comes back as data."""
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        import torch

        if payload.get("threads"):
            torch.set_num_threads(int(payload["threads"]))
        workdir = Path(payload["workdir"])
        workdir.mkdir(parents=True, exist_ok=True)
        if payload["kind"] == "search":
            result = _search(payload["spec"], workdir)
        elif payload["kind"] == "fidelity":
            from nastransfer.proxies.task import run_proxy_task

            result = run_proxy_task(payload["spec"], workdir, lambda spec: load_data(canonical_json(spec)))
        else:
            nproc, threads = int(payload.get("nproc", 1)), payload.get("threads")
            result = evaluate(payload["spec"], payload.get("genotype"), workdir, nproc, threads)
        return {"ok": True, "result": result, "worker": worker}
    except Exception:
        return {"ok": False, "error": traceback.format_exc(), "worker": worker}


def make_searcher(name: str, params: dict[str, Any]):
    """The registry's searcher `name` (or `module:Class`), built with the method's params.

    The black-box searchers of benchmark tables register when `nastransfer.tabular` is imported.
    """
    from nastransfer import search

    if name not in search.names():
        with contextlib.suppress(ImportError):
            import nastransfer.tabular  # noqa: F401
    return search.get(name, **params)


def cell_space(space: str, table: str | None = None):
    """The space by name; a space that exists only through a table (NAS-Bench-Graph's) via that table."""
    from nastransfer import spaces

    if table is None or space in spaces.space_names():
        return spaces.get_space(space)
    from nastransfer.tabular import get_table

    return get_table(table).cell_space


def sample_cell(space: str, seed: int, table: str | None = None) -> tuple[str, str]:
    """(canonical key, text) of the random baseline's cell drawn with `seed`."""
    genotype = cell_space(space, table).sample(seed)
    return genotype.key, str(genotype)


def _search(spec: dict[str, Any], workdir: Path) -> dict[str, Any]:
    from nastransfer.search import Budget

    data = _search_data(canonical_json(spec["data"]), spec["split_seed"])
    searcher = make_searcher(spec["searcher"], spec["params"])
    result = searcher.search(
        spec["space"], data, Budget.from_dict(spec["budget"]), spec["seed"], workdir, progress=False
    )
    return {**result.to_dict(), "cell": result.genotype.key}


def evaluate(
    spec: dict[str, Any], genotype_text: str | None, workdir: Path, nproc: int = 1, threads: int | None = None
) -> dict[str, Any]:
    """One evaluate task: in this process, or (a training of `nproc` > 1) in a child torchrun."""
    if nproc > 1 and spec["setting"]["data"]["kind"] != "table":
        from nastransfer.study.distributed_eval import run_data_parallel

        return run_data_parallel(spec, genotype_text, workdir, nproc, threads)
    return evaluate_here(spec, genotype_text, workdir)


def evaluate_here(spec: dict[str, Any], genotype_text: str | None, workdir: Path) -> dict[str, Any]:
    """Train (or look up) the cell in this process; under torchrun, as one rank of the training."""
    setting = spec["setting"]
    genotype = cell_space(spec["space"], setting["data"].get("table")).parse(genotype_text)
    if setting["data"]["kind"] == "table":
        from nastransfer.tabular import TableEvaluator

        result = TableEvaluator(setting["data"]["table"]).evaluate(
            genotype, dataset=None, protocol=None, seed=setting["seed"], workdir=workdir
        )
    else:
        from nastransfer.train import TrainEvaluator, get_protocol

        data_spec, protocol = setting["data"], get_protocol(setting["protocol"], **setting["overrides"])
        if protocol.split == "official":  # the evaluator reads the dataset's own train and test files
            evaluator, dataset = TrainEvaluator(data_root=data_spec["root"]), data_spec["dataset"]
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
