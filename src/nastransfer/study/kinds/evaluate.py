"""`evaluate`: train (or look up) one cell in one setting. Its task names the task producing its cell;
once the cell is known, the work is the content key of the training (`tasks.evaluation_key`), so a cell
found twice is trained once per setting and every finding keeps its own row in the frame."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nastransfer.study.driver.tasks import Task, evaluation_key
from nastransfer.study.kinds.base import Cell, Estimator, TaskCost, TaskKind, Work
from nastransfer.study.kinds.registry import get_kind

if TYPE_CHECKING:
    from nastransfer.study.config.resolved import ResolvedStudy
    from nastransfer.study.config.schema import ExecutorConfig
    from nastransfer.study.driver.store import Store

_ROWS = """
SELECT t.spec, t.cell, g.text AS genotype, g.space, r.top1, r.top5, r.params, r.flops,
       ec.wall_s AS eval_wall_s, ec.device_s AS eval_device_s,
       sc.wall_s AS search_wall_s, sc.device_s AS search_device_s
FROM tasks t
JOIN results r ON r.eval_key = t.eval_key
JOIN genotypes g ON g.key = t.cell
LEFT JOIN costs ec ON ec.key = t.eval_key
LEFT JOIN costs sc ON sc.key = t.producer
WHERE t.kind = ? AND t.status = 'done'
ORDER BY t.rowid
"""


class EvaluateKind(TaskKind):
    name = "evaluate"

    def expand(self, study: ResolvedStudy, planned: list[Task]) -> list[Task]:
        """Every produced cell in each of its settings, producers in plan order."""
        tasks = []
        for producer in planned:
            kind = get_kind(producer.kind)
            if not kind.produces_cell:
                continue
            for origin, setting in kind.evaluations(producer, study):
                spec = {"space": study.space, "origin": origin, "setting": setting}
                tasks.append(Task.make(self.name, spec, producer=producer.key))
        return tasks

    def work_key(self, task: Task, cell: Cell | None) -> str:
        from nastransfer.study.worker.body import network_key

        assert cell is not None
        spec = task.spec
        network = network_key(spec["space"], spec["setting"], *cell)
        return evaluation_key(network, spec["space"], spec["setting"])

    def is_recorded(self, store: Store, work_key: str) -> bool:
        return store.has_result(work_key)

    def payload(self, task: Task, cell: Cell | None) -> dict[str, Any]:
        assert cell is not None
        return {"genotype": cell[1]}

    def run(self, payload: dict[str, Any], workdir: Path | None) -> dict[str, Any]:
        """In this process, or (a training of `nproc` > 1) in a child torchrun (`distributed_eval`)."""
        from nastransfer.study.worker.body import evaluate_here
        from nastransfer.study.worker.distributed_eval import run_data_parallel

        assert workdir is not None
        spec, text = payload["spec"], payload.get("genotype")
        nproc, threads = int(payload.get("nproc", 1)), payload.get("threads")
        if nproc > 1 and spec["setting"]["data"]["kind"] != "table":
            return run_data_parallel(spec, text, workdir, nproc, threads)
        return evaluate_here(spec, text, workdir)

    def nproc(self, spec: dict[str, Any], executor: ExecutorConfig) -> int:
        """A training on a target per the nproc settings; a source training or a look-up 1."""
        setting = spec["setting"]
        if setting["role"] != "target" or setting["data"]["kind"] == "table":
            return 1
        return executor.target_nproc(setting["name"])

    def record(
        self, store: Store, task: Task, work: Work, result: dict[str, Any], worker: str, node: str | None
    ) -> None:
        assert work.cell is not None
        store.record_evaluation(work.keys, work.key, work.cell[0], result, worker, node)

    def frame_rows(self, store: Store) -> list[dict[str, Any]]:
        records = []
        for row in store.query(_ROWS, (self.name,)):
            spec = json.loads(row["spec"])
            origin, setting = spec["origin"], spec["setting"]
            records.append(
                {
                    "cell": row["cell"],
                    "genotype": row["genotype"],
                    "space": row["space"],
                    "method": origin["method"],
                    "source": origin["source"],
                    "source_kind": origin["source_kind"],
                    "search_seed": origin["search_seed"],
                    "eval_dataset": setting["name"],
                    "eval_role": setting["role"],
                    "protocol": setting["protocol"],
                    "eval_seed": setting["seed"],
                    "top1": row["top1"],
                    "top5": row["top5"],
                    "params": row["params"],
                    "flops": row["flops"],
                    "search_wall_s": row["search_wall_s"] or 0.0,
                    "search_device_s": row["search_device_s"] or 0.0,
                    "eval_wall_s": row["eval_wall_s"] or 0.0,
                    "eval_device_s": row["eval_device_s"] or 0.0,
                }
            )
        return records

    def price(self, task: Task, estimator: Estimator) -> TaskCost:
        """One representative cell's training in the setting (the searched cell is not known yet)."""
        spec = task.spec
        origin, setting = spec["origin"], spec["setting"]
        labels = (
            origin["method"],
            origin["source"],
            f"{setting['role']}:{setting['name']}",
            setting["protocol"],
        )
        seconds = estimator.training_seconds({"space": spec["space"], **setting, "seed": None})
        nproc = self.nproc(spec, estimator.config.executor)
        return TaskCost(task.key, task.kind, *labels, seconds, nproc, task.producer)
