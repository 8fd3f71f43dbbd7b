"""Local worker processes: a spawn-context ProcessPoolExecutor, each worker pinned to `threads` torch threads.

Workers ignore Ctrl-C (the driver handles it and kills them) and exit on their own when the driver
dies (kill -9), so a rerun never races an orphan writing into the same task directory.

A task whose training runs in N processes (a child torchrun, see `study.worker.distributed_eval`) holds N
of the `workers` slots while it runs (all of them if N is larger), so N x `threads` cores are
reserved for it and the machine is never oversubscribed. Tasks start in the order submitted: a
wide task waits at the head of the queue until enough slots are free. On a GPU machine every
data-parallel training takes GPUs 0..N-1, so run one at a time there (or use the Ray executor,
which hands each task its own GPUs).
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from nastransfer.study.config.storage_check import StorageNeeds
from nastransfer.study.worker.entry import run_task
from nastransfer.study.worker.executors.processes import one_process


class LocalExecutor:
    """`workers` processes on this machine, `threads` torch threads each (workers x threads <= cores)."""

    def __init__(
        self, workers: int, threads: int, nproc_of: Callable[[dict[str, Any]], int] = one_process
    ) -> None:
        self.slots = workers
        self.threads = threads
        self._nproc_of = nproc_of
        self._pool = self._new_pool()
        self._free = workers
        self._queue: deque[tuple[int, dict[str, Any], Future]] = deque()
        self._changed = threading.Condition()
        self._closed = False
        threading.Thread(target=self._start_queued, name="local-executor", daemon=True).start()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.slots,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self.threads, os.getpid()),
        )

    def submit(self, payload: dict[str, Any]) -> Future:
        nproc = self._nproc_of(payload)
        future: Future = Future()
        shipped = {**payload, "threads": self.threads, "nproc": nproc}
        with self._changed:
            self._queue.append((min(nproc, self.slots), shipped, future))
            self._changed.notify_all()
        return future

    def check_storage(self, needs: StorageNeeds) -> None:
        """Nothing to check: the workers run on the driver's machine, whose data `check_data` read."""

    def _start_queued(self) -> None:
        """Hand queued tasks to the pool, in order, as their slots come free (a thread of its own)."""
        while True:
            with self._changed:
                self._changed.wait_for(self._can_start)
                if self._closed:
                    return
                held, payload, future = self._queue.popleft()
                self._free -= held
            try:
                running = self._run(payload)
            except RuntimeError as err:  # the pool was shut down meanwhile (abort, close)
                running = Future()
                running.set_exception(err)
            running.add_done_callback(functools.partial(self._finished, held, future))

    def _can_start(self) -> bool:
        return self._closed or bool(self._queue and self._queue[0][0] <= self._free)

    def _run(self, payload: dict[str, Any]) -> Future:
        try:
            return self._pool.submit(run_task, payload)
        except BrokenProcessPool:
            # A worker died (out of memory, a signal): its task was reported failed; start fresh workers,
            # unless abort() broke the pool: fresh workers would then outlive the driver's Ctrl-C.
            with self._changed:
                if self._closed:
                    raise RuntimeError("the executor was aborted") from None
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
            return self._pool.submit(run_task, payload)

    def _finished(self, held: int, future: Future, running: Future) -> None:
        with self._changed:
            self._free += held
            self._changed.notify_all()
        if future.done():  # cancelled by abort or close
            return
        if running.cancelled():
            future.cancel()
        elif running.exception() is not None:
            future.set_exception(running.exception())
        else:
            future.set_result(running.result())

    def _stop_queue(self) -> None:
        with self._changed:
            self._closed = True
            queued = [future for _, _, future in self._queue]
            self._queue.clear()
            self._changed.notify_all()
        for future in queued:
            future.cancel()

    def abort(self) -> None:
        self._stop_queue()
        processes = list(getattr(self._pool, "_processes", {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.kill()  # a child torchrun gets SIGTERM from the kernel when its worker dies

    def close(self) -> None:
        self._stop_queue()
        self._pool.shutdown(wait=True, cancel_futures=True)


def _init_worker(threads: int, driver_pid: int) -> None:
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ["MKL_NUM_THREADS"] = str(threads)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import torch

    torch.set_num_threads(threads)
    threading.Thread(target=_exit_with_driver, args=(driver_pid,), daemon=True).start()


def _exit_with_driver(driver_pid: int) -> None:
    while True:
        if os.getppid() != driver_pid:
            os._exit(1)
        time.sleep(0.5)
