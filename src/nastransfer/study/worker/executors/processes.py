"""What every executor asks of this machine and of a task before it starts processes: the cores it
may use, and the processes a task takes when the executor has no nproc settings."""

from __future__ import annotations

import os
from typing import Any


def cpu_count() -> int:
    """Cores this process may use (the affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def one_process(payload: dict[str, Any]) -> int:
    """`nproc_of` of an executor built without nproc settings."""
    return 1
