"""`TableEvaluator`: a study's evaluator that looks a cell's accuracy up instead of training it."""

from __future__ import annotations

import math
import os
from typing import Any

from nastransfer.evaluation import EvalResult
from nastransfer.runtime import CostMeter
from nastransfer.tabular.tables import Table, get_table

#: The protocol name a looked-up result is stored under.
PROTOCOL = "table"


class TableEvaluator:
    """Evaluates cells of one table; a cell the table lacks is a GenotypeError naming the table."""

    def __init__(self, table: str | Table) -> None:
        self.table = table if isinstance(table, Table) else get_table(table)

    def evaluate(
        self,
        genotype: Any,
        dataset: object = None,
        protocol: object = None,
        seed: int = 0,
        workdir: str | os.PathLike | None = None,
    ) -> EvalResult:
        """Look `genotype` up (`top5` NaN, `flops` 0 where the table lacks them; every metric of the table
        in `metrics`); `dataset`, `protocol`, `seed` and `workdir` are accepted and unused."""
        with CostMeter(device="cpu", sample_interval_s=1.0) as meter:
            metrics = self.table.query(genotype)
        return EvalResult(
            top1=metrics["accuracy"],
            top5=metrics.get("top5", math.nan),
            params=int(round(metrics.get("params", 0))),
            flops=int(round(metrics.get("flops", 0))),
            cost=meter.cost,
            metrics=metrics,
        )
