"""Ray: every task is a `ray.remote` task with its CPU (and GPU) needs, on a running cluster
(`address="auto"` or "host:port") or on a local one started for the run and shut down after."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from nastransfer.errors import ConfigError
from nastransfer.study.executors import cpu_count
from nastransfer.study.work import run_task


class RayExecutor:
    """Tasks as Ray tasks of `threads` CPUs (and `gpus` GPUs) each; `slots` tasks are kept in flight."""

    def __init__(self, address: str | None, workers: int | None, threads: int | None, gpus: float) -> None:
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
        self._remote = ray.remote(num_cpus=self.threads, num_gpus=gpus, max_retries=0)(run_task)
        self._in_flight: dict[Future, Any] = {}

    def submit(self, payload: dict[str, Any]) -> Future:
        ref = self._remote.remote({**payload, "threads": self.threads})
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
