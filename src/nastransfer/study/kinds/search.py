"""`search`: a method on a source with a seed; it produces the cell that is evaluated on its own
source's settings and on every target's."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from nastransfer.study.driver.tasks import Task
from nastransfer.study.kinds.base import Cell, Estimator, TaskCost, TaskKind, Work
from nastransfer.study.kinds.settings import source_settings, target_settings

if TYPE_CHECKING:
    from nastransfer.study.config.resolved import ResolvedStudy
    from nastransfer.study.driver.store import Store


class SearchKind(TaskKind):
    name = "search"
    produces_cell = True

    def expand(self, study: ResolvedStudy, planned: list[Task]) -> list[Task]:
        return [
            Task.make(
                self.name,
                {
                    "space": study.space,
                    "source": source.name,
                    "data": source.data,
                    "method": method.method,
                    "searcher": method.searcher,
                    "params": method.params,
                    "budget": method.budget,
                    "seed": seed,
                    "split_seed": study.split_seed,
                },
            )
            for source in study.sources
            for method in study.methods
            for seed in study.seeds
        ]

    def evaluations(self, task: Task, study: ResolvedStudy) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        spec = task.spec
        source = study.source(spec["source"])
        origin = {
            "method": spec["method"],
            "source": source.name,
            "source_kind": source.kind,
            "search_seed": spec["seed"],
        }
        return [(origin, setting) for setting in source_settings(study, source) + target_settings(study)]

    def run(self, payload: dict[str, Any], workdir: Path | None) -> dict[str, Any]:
        from nastransfer.study.worker.body import run_search

        assert workdir is not None
        return run_search(payload["spec"], workdir)

    def record(
        self, store: Store, task: Task, work: Work, result: dict[str, Any], worker: str, node: str | None
    ) -> Cell:
        cell, text = result["cell"], result["genotype"]
        store.record_genotype(
            task.key, task.spec["space"], cell, text, search=result, worker=worker, node=node
        )
        return cell, text

    def price(self, task: Task, estimator: Estimator) -> TaskCost:
        spec = task.spec
        body = {k: v for k, v in spec.items() if k not in ("seed", "kind", "producer")}
        seconds = estimator.search_seconds(body)
        return TaskCost(task.key, task.kind, spec["method"], spec["source"], "", "", seconds)
