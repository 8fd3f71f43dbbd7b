"""Local worker processes: a spawn-context ProcessPoolExecutor, each worker pinned to `threads` torch threads.

Workers ignore Ctrl-C (the driver handles it and kills them) and exit on their own when the driver
dies (kill -9), so a rerun never races an orphan writing into the same task directory.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from nastransfer.study.work import run_task


class LocalExecutor:
    """`workers` processes on this machine, `threads` torch threads each (workers x threads <= cores)."""

    def __init__(self, workers: int, threads: int) -> None:
        self.slots = workers
        self.threads = threads
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.slots,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self.threads, os.getpid()),
        )

    def submit(self, payload: dict[str, Any]) -> Future:
        try:
            return self._pool.submit(run_task, {**payload, "threads": self.threads})
        except BrokenProcessPool:
            # A worker died (out of memory, a signal): its task was reported failed; start fresh workers.
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            return self._pool.submit(run_task, {**payload, "threads": self.threads})

    def abort(self) -> None:
        processes = list(getattr(self._pool, "_processes", {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.kill()

    def close(self) -> None:
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
