"""Ray: every task is a `ray.remote` task with its CPU (and GPU) needs, on a running cluster
(`address="auto"` or "host:port") or on a local one started for the run and shut down after.

A training of N processes (a child torchrun on the node Ray picks, see `study.worker.distributed_eval`)
asks for N x `threads` CPUs and, when tasks use GPUs (`gpus_per_task` > 0), N whole GPUs: Ray sets
CUDA_VISIBLE_DEVICES to those, and rank i takes the i-th. One training stays on one node.

Connecting waits at most CONNECT_TIMEOUT_S for the address to answer and fails in one line naming
it; Ray's own log lines and error events go to its log files, not to the user's terminal. Ray retries nothing
(`max_retries=0`): a task lost with its node comes back as a failure, and the driver retries it
within the study's `retries`. Results come back by value through Ray to the driver's store.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

from nastransfer.errors import ConfigError
from nastransfer.study.config.storage_check import StorageNeeds, look, node_name
from nastransfer.study.worker.entry import run_task
from nastransfer.study.worker.executors.processes import cpu_count, one_process

#: Seconds to wait for a cluster's address to accept a connection, then for Ray's handshake after.
CONNECT_TIMEOUT_S = 10.0
HANDSHAKE_TIMEOUT_S = 60.0
#: Seconds each node has to answer the storage check (it reads one file and finds the datasets).
PROBE_TIMEOUT_S = 60.0


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
                _connect(ray, address)
            else:
                local_threads = threads or 1
                ray.init(
                    num_cpus=(workers or max(1, cpu_count() // local_threads)) * local_threads,
                    include_dashboard=False,
                    log_to_driver=False,
                    logging_level=logging.ERROR,
                )
                self._started_here = True
        cluster_cpus = int(ray.cluster_resources().get("CPU", 1))
        self.threads = threads or 1
        self.slots = workers or max(1, cluster_cpus // self.threads)
        self._gpus = gpus
        self._nproc_of = nproc_of
        self._remote = ray.remote(num_cpus=self.threads, num_gpus=gpus, max_retries=0)(run_task)
        self._in_flight: dict[Future, Any] = {}

    def check_storage(self, needs: StorageNeeds) -> None:
        """One probe on every live node (pinned to it, no CPU held): a node that does not see the run
        directory or a dataset is a ConfigError naming the node and the path; no task has run."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        probe = self._ray.remote(num_cpus=0, max_retries=0)(look)
        nodes = [node for node in self._ray.nodes() if node["Alive"]]
        refs = [
            probe.options(
                scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)
            ).remote(needs)
            for node in nodes
        ]
        ready, _ = self._ray.wait(refs, num_returns=len(refs), timeout=PROBE_TIMEOUT_S)
        for node, ref in zip(nodes, refs, strict=True):
            if ref not in ready:
                raise ConfigError(
                    f"{node_name(node)}: did not answer the storage check in {PROBE_TIMEOUT_S:g} s"
                )
            problem = self._ray.get(ref)
            if problem:
                raise ConfigError(f"{node_name(node)}: {problem}")

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


@contextmanager
def _stderr_silenced() -> Iterator[None]:
    """File descriptor 2 to /dev/null for the block: Ray's C++ core writes its start-up warnings
    there before its logging is set up (the driver's later lines go to the session's log files)."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _connect(ray: Any, address: str) -> None:
    """Join the cluster at `address` within CONNECT_TIMEOUT_S, or one ConfigError naming it.

    A closed port would otherwise make Ray retry for minutes: the address is tried with a plain
    connection first; Ray's handshake then has HANDSHAKE_TIMEOUT_S (a wrong token is refused after
    about 20 s of Ray's own retries).
    """
    where = f"--address {address}"
    if address != "auto":
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"{where}: expected host:port or auto")
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S).close()
        except OSError as err:
            reason = "no answer" if isinstance(err, TimeoutError) else (err.strerror or type(err).__name__)
            raise ConfigError(
                f"{where}: no Ray cluster answers there ({reason}, waited up to {CONNECT_TIMEOUT_S:g} s); "
                "start one with `ray start --head` or fix the address"
            ) from None
    joined: Future = Future()
    with _stderr_silenced():
        threading.Thread(target=_init, args=(ray, address, joined), daemon=True).start()
        try:
            joined.result(timeout=HANDSHAKE_TIMEOUT_S)
        except TimeoutError:
            raise ConfigError(
                f"{where}: something answers there, but no Ray cluster joined in {HANDSHAKE_TIMEOUT_S:g} s; "
                "give the head's GCS port (6379 unless `ray start --port` said otherwise)"
            ) from None
        except Exception as err:  # Ray raises ConnectionError, RuntimeError or its own errors here
            raise ConfigError(f"{where}: {_join_problem(err)}") from None
    _stop_error_printer()


def _stop_error_printer() -> None:
    """Stop the driver thread by which Ray prints the cluster's error events (a node marked dead, a
    worker killed) on the terminal, whatever `log_to_driver` says; the driver counts those tasks'
    failures and retries itself. Ray has no setting for it, so this stops the thread as Ray's own
    disconnect does; a Ray without these attributes keeps printing."""
    from ray._private import worker as ray_worker

    driver = ray_worker.global_worker
    with contextlib.suppress(AttributeError):
        driver.threads_stopped.set()  # read by this thread only (and the log printer, which is off)
        driver.gcs_error_subscriber.close()
        driver.listener_thread.join(timeout=CONNECT_TIMEOUT_S)
        driver.threads_stopped.clear()


def _init(ray: Any, address: str, joined: Future) -> None:
    """`ray.init` in a thread of its own: Ray's handshake has no limit of its own on an address that
    accepts connections but is no Ray cluster."""
    try:
        ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
    except Exception as err:
        joined.set_exception(err)
    else:
        joined.set_result(None)


def _join_problem(err: BaseException) -> str:
    """What a failed `ray.init` says, in a few words."""
    cause = err.__cause__ or err
    if "auth" in f"{type(cause).__name__} {cause}".lower():
        return (
            "the cluster refused this driver's token; run with RAY_AUTH_MODE=token and the "
            "cluster's token (RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token)"
        )
    return f"cannot join the Ray cluster there ({type(cause).__name__})"
