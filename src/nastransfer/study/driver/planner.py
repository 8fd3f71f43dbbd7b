"""Expand a resolved study into its tasks: every registered task kind in turn (`study.kinds`), each
seeing the tasks of the kinds before it, so producers come before the evaluations that depend on them.

With the built-in kinds: `search` (source x method x seed), `sample` (the random baseline's n cells,
seeds `seed .. seed+n-1`), `evaluate` (each produced cell in its settings; its cell, and so the content
key of the training, is known only once its producer has run) and `fidelity` (a `[fidelity]`
section's proxies scoring its cells).
"""

from __future__ import annotations

from nastransfer.study.config.resolved import ResolvedStudy
from nastransfer.study.driver.tasks import Task
from nastransfer.study.kinds import kinds


def plan_study(study: ResolvedStudy) -> list[Task]:
    """All tasks of the study, in registration order of their kinds."""
    tasks: list[Task] = []
    for kind in kinds():
        tasks += kind.expand(study, tasks)
    return tasks
