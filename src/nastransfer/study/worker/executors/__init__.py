"""Where tasks run: local worker processes or Ray tasks, behind one small interface.

An executor has `slots` (how many tasks the driver keeps in flight), `submit(payload) -> Future`,
`check_storage(needs)` (before any task: every machine it runs tasks on sees the run directory and
the data, see `study.config.storage_check`), `abort()` (stop running work now: Ctrl-C) and `close()`.
The driver owns all scheduling decisions and the store; an executor only runs
`study.worker.entry.run_task` somewhere and hands back its dict.
It also asks the task's kind how many processes the task takes (`task_nproc`), adds that to the payload
as `nproc`, and reserves the cores (and GPUs) of all of them.
"""

from __future__ import annotations

import functools
from concurrent.futures import Future
from typing import Any, Protocol

from nastransfer.study.config.schema import ExecutorConfig
from nastransfer.study.config.storage_check import StorageNeeds
from nastransfer.study.worker.executors.processes import cpu_count


class Executor(Protocol):
    slots: int
    threads: int

    def submit(self, payload: dict[str, Any]) -> Future: ...

    def check_storage(self, needs: StorageNeeds) -> None: ...

    def abort(self) -> None: ...

    def close(self) -> None: ...


def task_nproc(config: ExecutorConfig, payload: dict[str, Any]) -> int:
    """Processes of the payload's task, as its kind says (`TaskKind.nproc`)."""
    return payload["task_kind"].nproc(payload["spec"], config)


def make_executor(config: ExecutorConfig) -> Executor:
    """A started executor for `config`; close it when the run ends."""
    nproc_of = functools.partial(task_nproc, config)
    if config.kind == "ray":
        from nastransfer.study.worker.executors.ray_executor import RayExecutor

        return RayExecutor(
            config.address, config.workers, config.threads_per_worker, config.gpus_per_task, nproc_of
        )
    from nastransfer.study.worker.executors.local import LocalExecutor

    workers = config.workers or max(1, cpu_count() // (config.threads_per_worker or 1))
    threads = config.threads_per_worker or max(1, cpu_count() // workers)
    return LocalExecutor(workers, threads, nproc_of)
