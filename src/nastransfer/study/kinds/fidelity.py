"""`fidelity`: one proxy of a `[fidelity]` section scoring its share of the sampled cells
(`study.kinds.fidelity_tasks`), run by `proxies.task.run_proxy_task`, its scores kept one row per cell in
the store's `proxy_scores` table (`study.kinds.fidelity_scores`) and priced by `study.cost.fidelity`."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nastransfer.study.cost import fidelity as fidelity_cost
from nastransfer.study.driver.tasks import Task
from nastransfer.study.kinds.base import Estimator, TaskCost, TaskKind, Work
from nastransfer.study.kinds.fidelity_scores import (
    DDL,
    SCORES_FRAME,
    TABLE,
    fidelity_records,
    legacy_rows,
    score_records,
    score_rows,
)
from nastransfer.study.kinds.fidelity_tasks import fidelity_specs

if TYPE_CHECKING:
    from nastransfer.study.config.resolved import ResolvedStudy
    from nastransfer.study.driver.store import Store


class FidelityKind(TaskKind):
    name = "fidelity"
    tables = {TABLE: DDL}
    own_frame = SCORES_FRAME

    def expand(self, study: ResolvedStudy, planned: list[Task]) -> list[Task]:
        return [Task.make(self.name, spec) for spec in fidelity_specs(study)]

    def run(self, payload: dict[str, Any], workdir: Path | None) -> dict[str, Any]:
        from nastransfer.proxies.task import run_proxy_task
        from nastransfer.study.driver.tasks import canonical_json
        from nastransfer.study.worker.body import load_data

        assert workdir is not None
        return run_proxy_task(payload["spec"], workdir, lambda spec: load_data(canonical_json(spec)))

    def record(
        self, store: Store, task: Task, work: Work, result: dict[str, Any], worker: str, node: str | None
    ) -> None:
        store.record_rows(task.key, TABLE, score_rows(task.key, result), result.get("cost"), worker, node)

    def frame_rows(self, store: Store) -> list[dict[str, Any]]:
        return fidelity_records(store, self.name)

    def own_frame_rows(self, store: Store) -> list[dict[str, Any]]:
        return score_records(store, self.name)

    def adopt(self, db: sqlite3.Connection, where: str) -> None:
        """Schema 3 kept each task's scores as JSON in `searches` under the task's key, with no cell."""
        legacy = db.execute(
            "SELECT t.key, t.spec, s.json FROM tasks t JOIN searches s ON s.task_key = t.key "
            "WHERE t.kind = ?",
            (self.name,),
        ).fetchall()
        for key, spec, text in legacy:
            rows = legacy_rows(where, key, spec, text)
            db.executemany(
                f"INSERT OR IGNORE INTO {TABLE} (task_key, position, cell, genotype, score, target) "
                "VALUES (:task_key, :position, :cell, :genotype, :score, :target)",
                rows,
            )
            db.execute("DELETE FROM searches WHERE task_key = ?", (key,))

    def price(self, task: Task, estimator: Estimator) -> TaskCost:
        spec = task.spec
        return TaskCost(task.key, task.kind, *fidelity_cost.labels(spec), self._seconds(spec, estimator))

    @staticmethod
    def _seconds(spec: dict[str, Any], estimator: Estimator) -> float:
        """Predictor timings, trainings (one per cell) or a supernet search; a table look-up is free."""
        from nastransfer.proxies.task import SUPERNET, TRAIN, ZERO_COST
        from nastransfer.study.cost.step_costs import Measurement

        kind, cells = spec["proxy"]["kind"], len(spec["cells"])
        if kind == TRAIN:
            return cells * estimator.training_seconds(fidelity_cost.training_setting(spec))
        if kind == SUPERNET:
            return estimator.search_seconds(fidelity_cost.supernet_search_spec(spec))
        if kind != ZERO_COST:
            return 0.0  # another table's ranking: a look-up
        if not estimator.measured:
            estimator.note("zero-cost predictors: not timed for an absent GPU; costed as 0")
            return 0.0
        source = spec["proxy"]["source"]
        images = None if source is None else asdict(estimator.sizes(source).shape) | {"images": None}
        key = fidelity_cost.zero_cost_key(spec, images)
        measure = Measurement(
            fidelity_cost.zero_cost_per_cell, (spec, estimator.threads), {"per_cell_s": 0.0}
        )
        return cells * estimator.timing(key, measure)["per_cell_s"]
