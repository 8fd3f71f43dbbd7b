"""One training of a study, data-parallel: a child `torchrun` whose ranks run the worker's own evaluation.

`run_data_parallel` (called by `study.kinds.evaluate` for a task of more than one process) writes the
task into its work directory, runs `python -m torch.distributed.run --standalone --nproc_per_node N -m
nastransfer.study.worker.distributed_eval REQUEST OUTPUT` (this interpreter's torchrun), waits, and returns
what rank 0 wrote: the same result dict as one process, plus `world_size`.

Why not `nastransfer train` under torchrun: that command takes a dataset name only, so a target read
with reader options (an `imagefolder` of ImageNet-22K) or a proxy view could not reach it. Here every
rank calls `body.evaluate_here` with the task's own spec, so data root, reader options, proxies,
overrides and device are those of the one-process path, and the ranks train in the same work
directory (checkpoints/, log.jsonl, result.json): an interrupted training resumes from its
checkpoints whatever the number of processes. The backend is the train package's choice (NCCL on
GPUs, gloo on the CPU); the launcher's and ranks' output goes to `torchrun.log` in the work directory.

Nothing outlives the worker: the launcher runs in its own session (a Ctrl-C at the terminal reaches
the driver only) and gets SIGTERM when the worker that started it dies (Linux), which it passes to
its ranks; a rank whose launcher is gone exits by itself.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from nastransfer.atomic import atomic_write_bytes

REQUEST_NAME = "ddp-request.json"
OUTPUT_NAME = "ddp-result.json"
LOG_NAME = "torchrun.log"
_PR_SET_PDEATHSIG = 1


def run_data_parallel(
    spec: dict[str, Any], genotype_text: str | None, workdir: Path, nproc: int, threads: int | None
) -> dict[str, Any]:
    """Train the task's cell in `nproc` processes of `threads` threads each; rank 0's result."""
    request, output, log_path = workdir / REQUEST_NAME, workdir / OUTPUT_NAME, workdir / LOG_NAME
    body = {"spec": spec, "genotype": genotype_text, "workdir": str(workdir)}
    atomic_write_bytes(request, (json.dumps(body, indent=2, sort_keys=True) + "\n").encode())
    output.unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
        "-m", __name__, str(request), str(output),
    ]  # fmt: skip
    per_rank = str(threads or 1)
    env = {**os.environ, "OMP_NUM_THREADS": per_rank, "MKL_NUM_THREADS": per_rank}
    with log_path.open("a") as log:
        log.write(f"{_now()} start nproc={nproc} threads={per_rank}: {' '.join(command)}\n")
        log.flush()
        done = subprocess.run(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent(),
        )
        log.write(f"{_now()} end exit={done.returncode}\n")
    if done.returncode != 0 or not output.is_file():
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-40:])
        raise RuntimeError(
            f"torchrun of {nproc} processes exited with {done.returncode}; end of {log_path}:\n{tail}"
        )
    return json.loads(output.read_text())


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S") + f".{int(time.time() * 1000) % 1000:03d}"


def _die_with_parent():
    """A pre-exec hook asking Linux to SIGTERM the child when this process dies (None elsewhere)."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: the hook runs between fork and exec
    return lambda: prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _exit_with_launcher() -> None:
    """Rank side: leave at once if the torchrun launcher that started this rank disappears."""
    launcher = os.getppid()

    def watch() -> None:
        while os.getppid() == launcher:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    """Rank entry point: join the process group, run the one-process evaluation, rank 0 writes OUTPUT."""
    request_path, output_path = argv if argv is not None else sys.argv[1:]
    _exit_with_launcher()
    import torch

    from nastransfer.study.worker.body import evaluate_here
    from nastransfer.train import init_distributed, shutdown_distributed

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    request = json.loads(Path(request_path).read_text())
    context = init_distributed()
    try:
        result = evaluate_here(request["spec"], request["genotype"], Path(request["workdir"]))
    finally:
        shutdown_distributed(context)
    if context.is_main:
        atomic_write_bytes(Path(output_path), (json.dumps(result, indent=2) + "\n").encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
