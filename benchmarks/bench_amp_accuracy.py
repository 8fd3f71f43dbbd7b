"""Does bf16 autocast keep a network's accuracy? The same training in fp32 and under bf16 autocast.

Each precision is one `nastransfer train` of the same cell, dataset, protocol and seed (default:
DARTS_V2 under `cpu-mini` on Fashion-MNIST, seed 0), in its own process on `--threads` threads; both
run at once. The table shows test top-1/top-5 and the CPU-seconds each took. Autocast rounds the
same values to bf16 whether or not the CPU has native bf16 kernels, so the accuracy check runs
anywhere; the time column only says what bf16 costs on *this* CPU (`amp="auto"` decides on speed).

    .venv/bin/python benchmarks/bench_amp_accuracy.py [--genotype DARTS_V2 --dataset fashion-mnist]

On a CPU without native bf16 (the 2-core AMD EPYC here) add `--set channels_last=false`: its
emulated bf16 kernels are 11x slower than fp32 in channels-last and 2.2x in the contiguous format
(the same function either way). The measured figures are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

PRECISIONS = {"fp32": "off", "bf16": "bf16"}


def start(args: argparse.Namespace, amp: str, folder: Path) -> subprocess.Popen:
    """One `nastransfer train` with autocast `amp`, writing its result JSON into `folder`."""
    command = [
        sys.executable, "-m", "nastransfer.cli.main", "train",
        "--genotype", args.genotype, "--dataset", args.dataset, "--protocol", args.protocol,
        "--seed", str(args.seed), "--set", f"amp={amp}", "--no-progress",
        "--workdir", str(folder / amp), "--output", str(folder / f"{amp}.json"),
        *[arg for change in args.set for arg in ("--set", change)],
    ]  # fmt: skip
    threads = str(args.threads)
    env = {**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
    return subprocess.Popen(command, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genotype", default="DARTS_V2")
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--protocol", default="cpu-mini")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads of each training")
    parser.add_argument("--set", action="append", default=[], help="another protocol override, field=value")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        jobs = {name: start(args, amp, folder) for name, amp in PRECISIONS.items()}
        if any(job.wait() != 0 for job in jobs.values()):
            raise SystemExit("a training failed (its error is above)")
        wall = time.perf_counter() - started
        results = {name: json.loads((folder / f"{amp}.json").read_text()) for name, amp in PRECISIONS.items()}
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    table = Table(
        title=f"{args.genotype} / {args.protocol} / {args.dataset} / seed {args.seed}: fp32 vs bf16 autocast "
        f"({wall / 60:.0f} min wall, {children.ru_utime + children.ru_stime:,.0f} CPU-s in all)"
    )
    for column in ("precision", "top-1 %", "top-5 %", "CPU-s", "top-1 vs fp32"):
        table.add_column(column, justify="right")
    for name, result in results.items():
        delta = result["top1"] - results["fp32"]["top1"]
        cost = (result.get("cost") or {}).get("device_s", float("nan"))
        table.add_row(name, f"{result['top1']:.2f}", f"{result['top5']:.2f}", f"{cost:,.0f}", f"{delta:+.2f}")
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
