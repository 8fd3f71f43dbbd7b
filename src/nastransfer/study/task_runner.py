"""The function the executors ship to workers: run one task, hand back plain data, never raise.

`run_task` reports a failure as `{"ok": False, "error": traceback}`, so a local process and a Ray
task fail the same way. A payload's `nproc` (set by the executor) above 1 trains the cell
data-parallel in a child `torchrun` (`study.distributed_eval`), whose ranks run
`work.evaluate_here`; one process runs it here. Keeping this dispatch apart from `work` is what
lets `distributed_eval` use `work` without the two importing each other.
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
from nastransfer.study.distributed_eval import run_data_parallel
from nastransfer.study.tasks import canonical_json
from nastransfer.study.work import evaluate_here, load_data, run_search

ATTEMPT_NAME = "attempt.json"  # in a task's workdir: the node and process that run (or last ran) it


def run_task(payload: dict[str, Any]) -> dict[str, Any]:
    """Run one search, evaluation or proxy scoring here; the result or the traceback comes back as data,
    with the worker process and the node that ran it."""
    worker, node = f"{socket.gethostname()}:{os.getpid()}", _node()
    try:
        import torch

        if payload.get("threads"):
            torch.set_num_threads(int(payload["threads"]))
        workdir = Path(payload["workdir"])
        workdir.mkdir(parents=True, exist_ok=True)
        attempt = {"node": node, "worker": worker, "started": time.time()}
        atomic_write_bytes(workdir / ATTEMPT_NAME, json.dumps(attempt).encode())
        if payload["kind"] == "search":
            result = run_search(payload["spec"], workdir)
        elif payload["kind"] == "fidelity":
            from nastransfer.proxies.task import run_proxy_task

            result = run_proxy_task(payload["spec"], workdir, lambda spec: load_data(canonical_json(spec)))
        else:
            nproc, threads = int(payload.get("nproc", 1)), payload.get("threads")
            result = evaluate(payload["spec"], payload.get("genotype"), workdir, nproc, threads)
        return {"ok": True, "result": result, "worker": worker, "node": node}
    except Exception:
        return {"ok": False, "error": traceback.format_exc(), "worker": worker, "node": node}


def _node() -> str:
    """The Ray node this runs on (its id) inside a Ray worker; else this machine's host name."""
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        return ray.get_runtime_context().get_node_id()
    return socket.gethostname()


def evaluate(
    spec: dict[str, Any], genotype_text: str | None, workdir: Path, nproc: int = 1, threads: int | None = None
) -> dict[str, Any]:
    """One evaluate task: in this process, or (a training of `nproc` > 1) in a child torchrun."""
    if nproc > 1 and spec["setting"]["data"]["kind"] != "table":
        return run_data_parallel(spec, genotype_text, workdir, nproc, threads)
    return evaluate_here(spec, genotype_text, workdir)
