"""Data-parallel training on the CPU (gloo): two ranks match one process on the same global batch.

Equality needs a network whose gradient on a global batch is the average of its gradients on
the ranks' halves. Batch norm breaks that on purpose (each rank normalises by its own half's
statistics, and SyncBatchNorm runs on GPUs only), so the weight comparison trains a small
BN-free conv net through the real loop: sharding, DDP's gradient all-reduce, metric reduction
and rank-0-only writing are all exercised. The real DARTS network (with BN) is then trained under
`torchrun` through the CLI, checking the multi-process path end to end.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
import torch.multiprocessing as mp
from torch import nn

from nastransfer.data import Subset
from nastransfer.train import (
    DistContext,
    get_protocol,
    init_distributed,
    prepare_data,
    shutdown_distributed,
    train_model,
)

PROTOCOL = get_protocol("cpu-mini", epochs=2, batch_size=32, lr=0.1, crop_padding=0, flip=False,
                        channels_last=False, eval_batch_size=64)


class PlainNet(nn.Module):
    """Conv, conv, pool, linear: no batch statistics, so data parallelism is exact."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU()
        )
        self.classifier = nn.Linear(16, 10)

    def forward(self, x):
        return self.classifier(self.features(x).mean(dim=(2, 3))), None


def data():
    train, test = prepare_data("digits", PROTOCOL)
    return Subset(train, np.arange(320)), Subset(test, np.arange(100))


def train_plain(workdir: Path, context: DistContext) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    model = PlainNet()
    train, test = data()
    train_model(model, train, test, PROTOCOL, seed=0, workdir=workdir, device=torch.device("cpu"),
                context=context, show_progress=False)
    return model.state_dict()


def _rank_main(rank: int, port: int, workdir: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE="2",
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    context = init_distributed()
    state = train_plain(Path(workdir), context)
    torch.save(state, Path(workdir) / f"weights-rank{rank}.pt")
    shutdown_distributed(context)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_gloo_ranks_train_the_same_weights_as_one_process(tmp_path):
    mp.spawn(_rank_main, args=(free_port(), str(tmp_path / "ddp")), nprocs=2, join=True)
    single = train_plain(tmp_path / "single", DistContext())
    ranks = [torch.load(tmp_path / "ddp" / f"weights-rank{r}.pt", weights_only=True) for r in (0, 1)]
    for name, value in single.items():
        torch.testing.assert_close(ranks[0][name], ranks[1][name], atol=0, rtol=0)
        torch.testing.assert_close(ranks[0][name], value, atol=1e-5, rtol=1e-4)
    logged = (tmp_path / "ddp" / "log.jsonl").read_text().splitlines()
    single_logged = (tmp_path / "single" / "log.jsonl").read_text().splitlines()
    assert len(logged) == PROTOCOL.epochs  # rank 1 wrote nothing
    for ddp_row, one_row in zip(map(json.loads, logged), map(json.loads, single_logged), strict=True):
        assert abs(ddp_row["train_loss"] - one_row["train_loss"]) < 1e-4  # metrics all-reduced over ranks
        assert abs(ddp_row["test_top1"] - one_row["test_top1"]) < 1e-9


def test_the_train_command_runs_data_parallel_under_torchrun(tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    command = [
        str(torchrun), "--standalone", "--nproc_per_node", "2", "-m", "nastransfer.cli.main", "train",
        "--genotype", "DARTS_V2", "--dataset", "digits", "--seed", "1", "--no-progress",
        "--workdir", str(tmp_path / "run"), "-o", str(tmp_path / "result.json"),
        *[arg for setting in ("epochs=1", "batch_size=32", "channels=4", "layers=3", "data_fraction=0.3",
                              "channels_last=false") for arg in ("--set", setting)],
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("top-1") == 1  # only rank 0 reports
    result = json.loads((tmp_path / "result.json").read_text())
    assert 0.0 <= result["top1"] <= 100.0 and result["params"] > 0
    assert result["cost"]["device"].endswith("x2"), "the cost covers both ranks"
    assert result["cost"]["device_s"] > 0
    assert len((tmp_path / "run" / "log.jsonl").read_text().splitlines()) == 1
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == ["epoch-000001.pt"]
