"""The stored proxy scores of a study's fidelity tasks, their results-frame rows and their own frame.

Each scored cell is a row of the store's `proxy_scores` table (task, position, cell, text, score,
target score; NaN is stored as NULL). A proxy row of the frame has `eval_role` "proxy", `method` the
proxy's name (predictor, `train:<protocol>`, `supernet` or the proxy table), `source`/`source_kind`
its source and kind, `top1` the score and the cell's share of the task's cost; a target row has
`method` "fidelity", the target table as `eval_dataset` and the table's metric as `top1` (once per
cell). The report reads the kind's own frame instead, the scores frame (`score_records`: cell,
genotype, proxy, source, score, target, cost_s, target_name). Stores of schema 3 and older kept a
task's scores as JSON in `searches`; `legacy_rows` decodes that once, when the store migrates.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from nastransfer.errors import NastransferError, StoreError
from nastransfer.results_columns import FIDELITY_METHOD, PROXY_ROLE

if TYPE_CHECKING:
    import sqlite3

    from nastransfer.study.driver.store import Store

TABLE = "proxy_scores"
#: The fidelity kind's own frame (`TaskKind.own_frame`): its scores, one row per scored cell.
SCORES_FRAME = "proxy_scores"
SCORES_COLUMNS = ("cell", "genotype", "proxy", "source", "score", "target", "cost_s", "target_name")
DDL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    task_key TEXT NOT NULL, position INTEGER NOT NULL, cell TEXT NOT NULL, genotype TEXT NOT NULL,
    score REAL, target REAL, PRIMARY KEY (task_key, position)
)
"""

_ROWS = f"""
SELECT t.key, t.spec, p.cell, p.genotype, p.score, p.target, c.wall_s, c.device_s,
       (SELECT COUNT(*) FROM {TABLE} q WHERE q.task_key = t.key) AS n
FROM tasks t JOIN {TABLE} p ON p.task_key = t.key LEFT JOIN costs c ON c.key = t.key
WHERE t.kind = ? AND t.status = 'done' ORDER BY t.rowid, p.position
"""


def score_rows(key: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    """The `proxy_scores` rows of a fidelity task's result (`proxies.task.run_proxy_task`)."""
    return [
        {"task_key": key, "position": i, "cell": cell, "genotype": text, "score": score, "target": target}
        for i, (cell, text, score, target) in enumerate(
            zip(result["cells"], result["genotypes"], result["scores"], result["targets"], strict=True)
        )
    ]


class _StoredScores(BaseModel):
    """What a fidelity task stored as JSON before schema 4: per cell its key, text, score and target
    score (NaN where a table lacks the cell), and the task's cost."""

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


def legacy_rows(where: str, key: str, spec_text: str, result_text: str) -> list[dict[str, Any]]:
    """A schema-3 task's JSON scores as `proxy_scores` rows, checked; damage is one StoreError."""
    try:
        result = _StoredScores.model_validate(json.loads(result_text)).model_dump()
        rows = score_rows(key, result)
        _check_texts(json.loads(spec_text)["space"], rows)
    except (ValidationError, ValueError, KeyError, TypeError, NastransferError) as err:
        raise _damaged(where, key, err) from None
    return rows


def _check_texts(space_name: str, rows: list[dict[str, Any]]) -> None:
    """Each stored cell text parses to its cell key."""
    from nastransfer.spaces import get_space

    space = get_space(space_name)
    for row in rows:
        if space.key(space.parse(row["genotype"])) != row["cell"]:
            raise ValueError(f"cell text {row['genotype'][:40]!r} is not cell {row['cell'][:12]}")


def _damaged(where: str, key: str, err: Exception) -> StoreError:
    problem = err.errors()[0]["msg"] if isinstance(err, ValidationError) else str(err)
    return StoreError(
        f"{where}: the stored scores of fidelity task {key[:12]} are damaged ({problem}); "
        "it is left as it is: restore it from a copy or use another run directory"
    )


def _row(cell: str, text: str, space: str, **fields: Any) -> dict[str, Any]:
    base = {"cell": cell, "genotype": text, "space": space, "top5": math.nan, "params": 0, "flops": 0}
    return {**base, "search_wall_s": 0.0, "search_device_s": 0.0, **fields}


def _number(value: float | None) -> float:
    return math.nan if value is None else value


def _stored(store: Store, kind: str) -> Iterator[tuple[dict[str, Any], sqlite3.Row, dict[str, float]]]:
    """(spec, stored row, the cell's share of its task's cost) of every score of every finished task
    of `kind`, in task then cell order; a stored cell whose text is not that cell is one StoreError
    naming the store and the task."""
    specs: dict[str, dict[str, Any]] = {}
    for row in store.query(_ROWS, (kind,)):
        key = row["key"]
        if key not in specs:
            specs[key] = json.loads(row["spec"])
        spec = specs[key]
        try:
            _check_texts(spec["space"], [dict(row)])
        except (ValueError, NastransferError) as err:
            raise _damaged(str(store.path), key, err) from None
        n = max(row["n"], 1)
        share = {"eval_wall_s": (row["wall_s"] or 0.0) / n, "eval_device_s": (row["device_s"] or 0.0) / n}
        yield spec, row, share


def fidelity_records(store: Store, kind: str) -> list[dict[str, Any]]:
    """Results-frame rows (what `export` writes): proxy rows of every finished task of `kind`, then one
    target row per scored cell."""
    proxy_rows, target_rows = [], {}
    for spec, row, share in _stored(store, kind):
        cell, text, proxy = row["cell"], row["genotype"], spec["proxy"]
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
                top1=_number(row["score"]),
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
                top1=_number(row["target"]),
                eval_wall_s=0.0,
                eval_device_s=0.0,
                **common,
            ),
        )
    return proxy_rows + list(target_rows.values())


def score_records(store: Store, kind: str) -> list[dict[str, Any]]:
    """The scores frame (`SCORES_COLUMNS`, what the report's "Proxy fidelity" section reads): one row
    per stored score with the target's score of the cell (the first stored for that cell and target,
    as in the results frame's target rows) and the cell's share of its task's device-seconds."""
    rows, targets = [], {}
    for spec, row, share in _stored(store, kind):
        target = targets.setdefault((row["cell"], spec["target"]), _number(row["target"]))
        rows.append(
            {
                "cell": row["cell"],
                "genotype": row["genotype"],
                "proxy": spec["proxy"]["name"],
                "source": spec["source"],
                "score": float(_number(row["score"])),
                "target": float(target),
                "cost_s": float(share["eval_device_s"]),
                "target_name": spec["target"],
            }
        )
    return rows
