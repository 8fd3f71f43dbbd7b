"""Ray: every task is a `ray.remote` task with its CPU (and GPU) needs, on a running cluster
(`address="auto"` or "host:port") or on a local one started for the run and shut down after.

A training of N processes (a child torchrun on the node Ray picks, see `study.distributed_eval`)
asks for N x `threads` CPUs and, when tasks use GPUs (`gpus_per_task` > 0), N whole GPUs: Ray sets
CUDA_VISIBLE_DEVICES to those, and rank i takes the i-th. One training stays on one node.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from nastransfer.errors import ConfigError
from nastransfer.study.executors import cpu_count, one_process
from nastransfer.study.task_runner import run_task


class RayExecutor:
    """Tasks as Ray tasks of `threads` CPUs (and `gpus` GPUs) each; `slots` tasks are kept in flight."""

    def __init__(
        self,
        address: str | None,
        workers: int | None,
        threads: int | None,
        gpus: float,
        nproc_of: Callable[[dict[str, Any]], int] = one_process,
    ) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError("executor 'ray' needs Ray: pip install 'nastransfer[ray]'") from None
        self._ray = ray
        self._started_here = False
        if not ray.is_initialized():
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                local_threads = threads or 1
                ray.init(
                    num_cpus=(workers or max(1, cpu_count() // local_threads)) * local_threads,
                    include_dashboard=False,
                    log_to_driver=False,
                )
                self._started_here = True
        cluster_cpus = int(ray.cluster_resources().get("CPU", 1))
        self.threads = threads or 1
        self.slots = workers or max(1, cluster_cpus // self.threads)
        self._gpus = gpus
        self._nproc_of = nproc_of
        self._remote = ray.remote(num_cpus=self.threads, num_gpus=gpus, max_retries=0)(run_task)
        self._in_flight: dict[Future, Any] = {}

    def submit(self, payload: dict[str, Any]) -> Future:
        nproc = self._nproc_of(payload)
        remote = self._remote
        if nproc > 1:
            remote = remote.options(num_cpus=nproc * self.threads, num_gpus=nproc if self._gpus > 0 else 0)
        ref = remote.remote({**payload, "threads": self.threads, "nproc": nproc})
        future = ref.future()
        self._in_flight = {f: r for f, r in self._in_flight.items() if not f.done()}
        self._in_flight[future] = ref
        return future

    def abort(self) -> None:
        for future, ref in self._in_flight.items():
            if not future.done():
                self._ray.cancel(ref, force=True)
        self.close()

    def close(self) -> None:
        if self._started_here and self._ray.is_initialized():
            self._ray.shutdown()
            self._started_here = False
