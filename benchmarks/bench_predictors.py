"""CPU time and peak memory per cell of every zero-cost predictor, against synflow run beside them.

Each predictor scores the same few NAS-Bench-201 cells, each network built at the fidelity
measurement's size (C=16, N=5; `proxies.zero_cost.NB201_SIZE`) for Fashion-MNIST (1 channel,
10 classes), on the batch `configs/nb201-proxies.toml` gives the data-dependent predictors: 64
images of the source's training split (`source_batch`). CPU-seconds are the process's (all
threads), from building the network to its `measure` row; peak memory is the rise of the
process's peak resident set (VmHWM, reset before each cell after `malloc_trim` hands freed
heap back) over its size before the cell. A
relative predictor (`az_nas`, `tenas`) is timed by its rows: its `combine` is one ranking.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_predictors.py --cells 3
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import re
import statistics
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from nastransfer import predictors
from nastransfer.data import load_dataset
from nastransfer.nets import build_eval_net
from nastransfer.proxies.zero_cost import BATCH_SIZE, NB201_SIZE, source_batch
from nastransfer.spaces import nb201

BASELINE = "synflow"
STATUS = Path("/proc/self/status")
LIBC = ctypes.CDLL("libc.so.6")


def resident_kib(field: str) -> int:
    """VmRSS or VmHWM of this process, KiB."""
    return int(re.search(rf"{field}:\s+(\d+)", STATUS.read_text()).group(1))


def reset_peak() -> None:
    """Hand freed heap back to the system, then make VmHWM the resident size (Linux: `5` to
    /proc/self/clear_refs), so a cell's peak is not hidden in memory an earlier one left resident."""
    gc.collect()
    LIBC.malloc_trim(0)
    Path("/proc/self/clear_refs").write_text("5")


def time_cell(
    name: str, cell: nb201.Arch, batch: predictors.Batch, options: dict, seed: int
) -> tuple[float, float]:
    """(CPU-seconds, peak MiB above the starting resident size) of building and measuring one cell."""
    reset_peak()
    before = resident_kib("VmRSS")
    start = time.process_time()
    torch.manual_seed(seed)
    predictors.get(name).measure(build_eval_net(cell, **options), batch)
    return time.process_time() - start, (resident_kib("VmHWM") - before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=3, help="NB201 cells per predictor (nb201.sample(0..))")
    parser.add_argument("--predictors", nargs="*", default=None, help="default: every registered one")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    names = args.predictors or predictors.names()
    if BASELINE not in names:
        names = [BASELINE, *names]

    dataset = load_dataset("fashion-mnist")
    batch = source_batch(dataset, BATCH_SIZE, args.seed)
    options = {**NB201_SIZE, "num_classes": dataset.num_classes, "in_channels": batch.shape[0]}
    cells = [nb201.sample(s) for s in range(args.cells)]
    time_cell(BASELINE, cells[0], batch, options, args.seed)  # first-call set-up out of the timings

    rows = {}
    for name in names:
        timings = [time_cell(name, cell, batch, options, args.seed) for cell in cells]
        rows[name] = (statistics.median(t for t, _ in timings), max(m for _, m in timings))
    base = rows[BASELINE][0]

    table = Table(title=f"zero-cost predictors: NB201 C=16 N=5, Fashion-MNIST batch of {len(batch.inputs)}")
    for column in ("predictor", "CPU-s per cell (median)", f"x {BASELINE}", "peak MiB (max)", "needs data"):
        table.add_column(column, justify="left" if column == "predictor" else "right")
    for name, (seconds, mib) in rows.items():
        needs = "yes" if predictors.get(name).needs_data else "no"
        table.add_row(name, f"{seconds:.3f}", f"{seconds / base:.1f}", f"{mib:.0f}", needs)
    Console().print(table)
    print(f"{len(cells)} cells each, {torch.get_num_threads()} torch thread(s)")


if __name__ == "__main__":
    main()
