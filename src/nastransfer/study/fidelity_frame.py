"""The results-frame rows of a study's fidelity tasks: each proxy score, and each cell's target score.

A proxy row has `eval_role` "proxy", `method` the proxy's name (predictor, `train:<protocol>`,
`supernet` or the proxy table), `source`/`source_kind` its source and kind, `top1` the score and
the cell's share of the task's cost; a target row has `method` "fidelity", the target table as
`eval_dataset` and the table's metric as `top1` (once per cell).
"""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from nastransfer.errors import NastransferError, StoreError
from nastransfer.results_columns import FIDELITY_METHOD, PROXY_ROLE
from nastransfer.study.fidelity_plan import KIND
from nastransfer.study.store import Store

_QUERY = """
SELECT t.key, t.spec, s.json FROM tasks t JOIN searches s ON s.task_key = t.key
WHERE t.kind = ? AND t.status = 'done' ORDER BY t.rowid
"""


def _row(cell: str, text: str, space: str, **fields: Any) -> dict[str, Any]:
    base = {"cell": cell, "genotype": text, "space": space, "top5": math.nan, "params": 0, "flops": 0}
    return {**base, "search_wall_s": 0.0, "search_device_s": 0.0, **fields}


class _StoredScores(BaseModel):
    """What a fidelity task stores (`proxies.task.run_proxy_task`): per cell its key, text, score
    and target score (NaN where a table lacks the cell), and the task's cost."""

    model_config = ConfigDict(extra="forbid", strict=True)

    cells: list[str]
    genotypes: list[str]
    scores: list[float]
    targets: list[float]
    cost: dict[str, float | str | None] | None = None

    @model_validator(mode="after")
    def _one_of_each_per_cell(self) -> _StoredScores:
        lengths = {len(self.cells), len(self.genotypes), len(self.scores), len(self.targets)}
        if len(lengths) > 1:
            raise ValueError("cells, genotypes, scores and targets differ in length")
        return self


def _stored(store: Store, key: str, spec_text: str, result_text: str) -> tuple[dict[str, Any], dict]:
    """A fidelity task's spec and stored scores, checked: each cell text parses to its cell key."""
    from nastransfer.spaces import get_space

    try:
        spec = json.loads(spec_text)
        result = _StoredScores.model_validate(json.loads(result_text)).model_dump()
        space = get_space(spec["space"])
        for cell, text in zip(result["cells"], result["genotypes"], strict=True):
            if space.key(space.parse(text)) != cell:
                raise ValueError(f"cell text {text[:40]!r} is not cell {cell[:12]}")
    except (ValidationError, ValueError, KeyError, TypeError, NastransferError) as err:
        problem = err.errors()[0]["msg"] if isinstance(err, ValidationError) else str(err)
        raise StoreError(
            f"{store.path}: the stored scores of fidelity task {key[:12]} are damaged ({problem}); "
            "it is left as it is: restore it from a copy or use another run directory"
        ) from None
    return spec, result


def fidelity_records(store: Store) -> list[dict[str, Any]]:
    """Proxy rows of every finished fidelity task, then one target row per scored cell; damaged
    stored scores are one StoreError naming the store and the task."""
    proxy_rows, target_rows = [], {}
    for row in store.query(_QUERY, (KIND,)):
        spec, result = _stored(store, row["key"], row["spec"], row["json"])
        n = max(len(result["cells"]), 1)
        cost = result.get("cost") or {}
        share = {"eval_wall_s": cost.get("wall_s", 0.0) / n, "eval_device_s": cost.get("device_s", 0.0) / n}
        proxy = spec["proxy"]
        for cell, text, score, target in zip(
            result["cells"], result["genotypes"], result["scores"], result["targets"], strict=True
        ):
            common = {"search_seed": spec["seed"], "eval_seed": spec["seed"], "eval_dataset": spec["target"]}
            proxy_rows.append(
                _row(
                    cell,
                    text,
                    spec["space"],
                    method=proxy["name"],
                    source=spec["source"],
                    source_kind=proxy["kind"],
                    eval_role=PROXY_ROLE,
                    protocol=proxy["kind"],
                    top1=score,
                    **common,
                    **share,
                )
            )
            target_rows.setdefault(
                (cell, spec["target"]),
                _row(
                    cell,
                    text,
                    spec["space"],
                    method=FIDELITY_METHOD,
                    source="",
                    source_kind="",
                    eval_role="target",
                    protocol="table",
                    top1=target,
                    eval_wall_s=0.0,
                    eval_device_s=0.0,
                    **common,
                ),
            )
    return proxy_rows + list(target_rows.values())
