"""The function the executors ship to workers: run one task, hand back plain data, never raise.

`run_task` reports a failure as `{"ok": False, "error": traceback}`, so a local process and a Ray
task fail the same way. The payload carries its task kind (`study.kinds`), which runs it: a kind
registered only in the driver (a plugin, a test's) travels with it by reference to its class.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from nastransfer.runtime import atomic_write_bytes
from nastransfer.study.driver.run_dir import RunDir


def run_task(payload: dict[str, Any]) -> dict[str, Any]:
    """Run one task here by its kind; the result or the traceback comes back as data, with the worker
    process and the node that ran it."""
    worker, node = f"{socket.gethostname()}:{os.getpid()}", _node()
    try:
        import torch

        if payload.get("threads"):
            torch.set_num_threads(int(payload["threads"]))
        workdir = Path(payload["workdir"])
        workdir.mkdir(parents=True, exist_ok=True)
        attempt = {"node": node, "worker": worker, "started": time.time()}
        atomic_write_bytes(RunDir.attempt_in(workdir), json.dumps(attempt).encode())
        result = payload["task_kind"].run(payload, workdir)
        return {"ok": True, "result": result, "worker": worker, "node": node}
    except Exception:
        return {"ok": False, "error": traceback.format_exc(), "worker": worker, "node": node}


def _node() -> str:
    """The Ray node this runs on (its id) inside a Ray worker; else this machine's host name."""
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        return ray.get_runtime_context().get_node_id()
    return socket.gethostname()

