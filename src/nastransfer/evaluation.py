"""What every evaluator returns (docs/architecture.md, "train"): one result type, whether the cell was
trained (`train.TrainEvaluator`) or looked up in a benchmark table (`tabular.TableEvaluator`).

It lives here, just above `runtime` (for `Cost`), so the table evaluator shares it without importing
the training stack.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from nastransfer.runtime import Cost


@dataclass(frozen=True)
class EvalResult:
    """Test top-1/top-5 (percent) of a cell, its params and FLOPs, curve and cost; `metrics` holds any
    further measures of the source (a table's validation accuracy, latency), empty for a training."""

    top1: float
    top5: float
    params: int
    flops: int
    curve: list[dict[str, float]] = field(default_factory=list)
    cost: Cost | None = None
    metrics: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the cost as its own dict)."""
        data = asdict(self)
        data["cost"] = None if self.cost is None else self.cost.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalResult:
        """Inverse of :meth:`to_dict`."""
        cost = data.get("cost")
        return cls(
            top1=float(data["top1"]),
            top5=float(data["top5"]),
            params=int(data["params"]),
            flops=int(data["flops"]),
            curve=[dict(row) for row in data.get("curve", [])],
            cost=None if cost is None else Cost(**cost),
            metrics={name: float(value) for name, value in data.get("metrics", {}).items()},
        )
