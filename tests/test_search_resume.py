"""Kill-and-resume: a search killed (SIGKILL) mid-epoch after its first checkpoint and rerun on the
same workdir returns exactly what an uninterrupted run returns (same seed, CPU)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = """
import json, sys
import torch
torch.set_num_threads(1)
from nastransfer import search
from nastransfer.data import load_dataset, make_proxy, paper_splits
method, workdir, out = sys.argv[1:4]
splits = paper_splits(make_proxy(load_dataset("fashion-mnist"), per_class=12, seed=0))
budget = search.Budget(epochs=4, channels=4, layers=3, batch_size=16, image_size=8)
result = search.get(method, arch_lr=0.05).search("darts", splits, budget, seed=7, workdir=workdir)
open(out, "w").write(json.dumps(result.to_dict()))
"""


def _start(method: str, workdir: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", SCRIPT, method, str(workdir), str(out)], env=env)


@pytest.mark.parametrize("method", ["gdas"])  # darts resumes the same way (optimizer states only)
def test_killed_search_resumes_to_the_uninterrupted_result(method, tmp_path):
    straight = _start(method, tmp_path / "straight", tmp_path / "straight.json")
    assert straight.wait(timeout=300) == 0

    work = tmp_path / "killed"
    victim = _start(method, work, tmp_path / "killed.json")
    deadline = time.monotonic() + 300
    while not (work / "epoch-000000.pt").exists():
        assert victim.poll() is None, "search ended before its first checkpoint"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.3)  # into the second epoch
    victim.send_signal(signal.SIGKILL)
    assert victim.wait(timeout=60) == -signal.SIGKILL
    assert not (tmp_path / "killed.json").exists()
    assert not (work / "epoch-000003.pt").exists()

    resumed = _start(method, work, tmp_path / "killed.json")
    assert resumed.wait(timeout=300) == 0
    a = json.loads((tmp_path / "straight.json").read_text())
    b = json.loads((tmp_path / "killed.json").read_text())
    assert a["genotype"] == b["genotype"]
    assert [r["arch_distribution"] for r in a["history"]] == [r["arch_distribution"] for r in b["history"]]
    assert [r["train_loss"] for r in a["history"]] == [r["train_loss"] for r in b["history"]]
