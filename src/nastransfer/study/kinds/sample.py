"""`sample`: one random cell of the baseline, drawn in the driver (microseconds), evaluated on the
targets and, for the first `random.source_cells` cells, on every source."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from nastransfer.study.driver.tasks import Task
from nastransfer.study.kinds.base import Cell, Estimator, TaskCost, TaskKind, Work
from nastransfer.study.kinds.settings import all_source_settings, target_settings

if TYPE_CHECKING:
    from nastransfer.study.config.resolved import ResolvedStudy
    from nastransfer.study.driver.store import Store

RANDOM_METHOD = "random"


class SampleKind(TaskKind):
    name = "sample"
    in_driver = True
    produces_cell = True

    def expand(self, study: ResolvedStudy, planned: list[Task]) -> list[Task]:
        random = study.config.random
        tasks = []
        for seed in range(random.seed, random.seed + random.n):
            drawn = {"space": study.space, "seed": seed}
            tasks.append(
                Task.make(self.name, {**drawn, "table": study.random_table} if study.random_table else drawn)
            )
        return tasks

    def evaluations(self, task: Task, study: ResolvedStudy) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        seed = task.spec["seed"]
        origin = {"method": RANDOM_METHOD, "source": "", "source_kind": "", "search_seed": seed}
        random = study.config.random
        on_sources = all_source_settings(study) if seed - random.seed < random.on_source else []
        return [(origin, setting) for setting in on_sources + target_settings(study)]

    def run(self, payload: dict[str, Any], workdir: Path | None) -> dict[str, Any]:
        from nastransfer.study.worker.body import sample_cell

        spec = payload["spec"]
        cell, text = sample_cell(spec["space"], spec["seed"], spec.get("table"))
        return {"cell": cell, "genotype": text}

    def record(
        self, store: Store, task: Task, work: Work, result: dict[str, Any], worker: str, node: str | None
    ) -> Cell:
        cell, text = result["cell"], result["genotype"]
        store.record_genotype(task.key, task.spec["space"], cell, text)
        return cell, text

    def price(self, task: Task, estimator: Estimator) -> TaskCost:
        return TaskCost(task.key, task.kind, RANDOM_METHOD, "", "", "", 0.0)
