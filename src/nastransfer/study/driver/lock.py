"""One driver per run directory: an advisory lock that the kernel drops when its process dies.

`fcntl.flock` on `RUN/run.lock` is held for the whole run; a second `nastransfer run` on the same
directory finds it taken and refuses instead of running every task again and marking the first
driver's running tasks pending. A `kill -9` closes the file and so frees the lock: nothing stale is
ever left to clean up by hand.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nastransfer.errors import StoreError
from nastransfer.study.driver.run_dir import RunDir


@contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold the run directory's lock for the block, or raise StoreError if another process holds it."""
    path = RunDir(run_dir).lock
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise StoreError(f"{path}: cannot open the run lock ({err.strerror})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(
                f"{run_dir}: another `nastransfer run` is running in this directory; wait for it or stop it"
            ) from None
        yield
    finally:
        os.close(fd)


def check_unlocked(run_dir: Path) -> None:
    """Raise the StoreError `run_lock` would if another process holds the lock now; creates nothing,
    so a run can refuse a busy directory before it spends time planning."""
    if RunDir(run_dir).lock.exists():
        with run_lock(run_dir):
            pass
