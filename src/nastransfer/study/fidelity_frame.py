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

from nastransfer.results_columns import FIDELITY_METHOD, PROXY_ROLE
from nastransfer.study.fidelity_plan import KIND
from nastransfer.study.store import Store

_QUERY = """
SELECT t.spec, s.json FROM tasks t JOIN searches s ON s.task_key = t.key
WHERE t.kind = ? AND t.status = 'done' ORDER BY t.rowid
"""


def _row(cell: str, text: str, space: str, **fields: Any) -> dict[str, Any]:
    base = {"cell": cell, "genotype": text, "space": space, "top5": math.nan, "params": 0, "flops": 0}
    return {**base, "search_wall_s": 0.0, "search_device_s": 0.0, **fields}


def fidelity_records(store: Store) -> list[dict[str, Any]]:
    """Proxy rows of every finished fidelity task, then one target row per scored cell."""
    proxy_rows, target_rows = [], {}
    for row in store.query(_QUERY, (KIND,)):
        spec, result = json.loads(row["spec"]), json.loads(row["json"])
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
