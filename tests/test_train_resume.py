"""A training SIGKILLed after its first checkpoint and rerun ends exactly like an unbroken one."""

import json
import os
import signal
import subprocess
import sys
import time

from nastransfer.train import TrainEvaluator, get_protocol

SETTINGS = {"epochs": 3, "data_fraction": 0.5, "batch_size": 32, "channels": 6, "layers": 3, "lr": 0.1,
            "drop_path": 0.2, "crop_padding": 1, "eval_batch_size": 256, "channels_last": False}

CHILD = """
import sys, torch
torch.set_num_threads(1)
from nastransfer.train import TrainEvaluator, get_protocol
protocol = get_protocol("cpu-mini", **{settings})
TrainEvaluator(show_progress=False).evaluate("DARTS_V2", "digits", protocol, 3, sys.argv[1])
"""


def run(workdir):
    protocol = get_protocol("cpu-mini", **SETTINGS)
    return TrainEvaluator(show_progress=False).evaluate("DARTS_V2", "digits", protocol, 3, workdir)


def without_time(curve):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in curve]


def test_killed_run_resumes_to_the_same_metrics(tmp_path):
    workdir = tmp_path / "killed"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(settings=SETTINGS), str(workdir)], env=env)
    first = workdir / "checkpoints" / "epoch-000001.pt"
    deadline = time.monotonic() + 240
    while not first.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL, "the child ended before it could be killed"
    assert not (workdir / "result.json").exists()
    logged = (workdir / "log.jsonl").read_text().splitlines()
    assert len(logged) < SETTINGS["epochs"]  # the kill may land between checkpoint and log line

    resumed = run(workdir)
    unbroken = run(tmp_path / "unbroken")
    assert without_time(resumed.curve) == without_time(unbroken.curve)
    assert (resumed.top1, resumed.top5) == (unbroken.top1, unbroken.top5)
    lines = [json.loads(line) for line in (workdir / "log.jsonl").read_text().splitlines()]
    assert [row["epoch"] for row in lines] == [1, 2, 3]
