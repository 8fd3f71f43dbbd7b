"""bf16 autocast vs fp32 per network on this CPU: whether asking for `amp = "bf16"` pays here.

Each row times SGD steps of one network on random data (best of a few, process CPU-seconds; wall
time is unreliable on a shared machine), first in fp32 then under bf16 autocast, both channels-last,
in one process on one thread. `amp = "auto"` trains in fp32 on every CPU, so that a timing never
changes the numbers; bf16 is a protocol's explicit choice.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_amp.py [--channels 16 --cells 8 --batch 128]
"""

from __future__ import annotations

import argparse
import time

import torch
from rich.console import Console
from rich.table import Table

from nastransfer.nets import EvalNet
from nastransfer.nets.supernets import DartsSupernet, NB201Supernet
from nastransfer.runtime import speed_cache
from nastransfer.spaces import parse_any
from nastransfer.train import speed

CPU = torch.device("cpu")


def cpu_seconds_per_step(net: torch.nn.Module, shape: tuple[int, ...], dtype: torch.dtype | None) -> float:
    start = time.process_time()
    speed.seconds_per_step(net, CPU, shape, dtype)
    return (time.process_time() - start) / (speed_cache.WARMUP_STEPS + speed_cache.TIMED_STEPS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--cells", type=int, default=8, help="cells of the evaluation network")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=32)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    nets = {
        f"DARTS_V2 network (C={args.channels}, {args.cells} cells)": EvalNet(
            parse_any("DARTS_V2"), C=args.channels, layers=args.cells, num_classes=10
        ),
        "DARTS supernet (C=8, 5 cells)": DartsSupernet(8, 5, 10),
        "NB201 supernet (C=8, N=2)": NB201Supernet(8, 2, 10),
    }
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    native = bool(check()) if check is not None else False
    table = Table(title=f"bf16 autocast vs fp32, batch {args.batch}, {args.size} px, 1 thread "
                        f"(CPU-seconds per step; native bf16: {native})")
    for column in ("network", "fp32", "bf16", "bf16 speed-up"):
        table.add_column(column, justify="right")
    shape = (args.batch, 3, args.size, args.size)
    for name, net in nets.items():
        net = net.to(memory_format=torch.channels_last)
        fp32 = cpu_seconds_per_step(net, shape, None)
        bf16 = cpu_seconds_per_step(net, shape, torch.bfloat16)
        table.add_row(name, f"{fp32:.3f}", f"{bf16:.3f}", f"{fp32 / bf16:.2f}x")
    Console().print(table)


if __name__ == "__main__":
    main()
