"""Seconds per epoch and peak memory of every registered image search method at one tiny budget, one table.

Budget: C=8, 5 cells (DARTS space), batch 32, 16 px, 2 epochs (P-DARTS: 1 per stage, 3 stages),
on a 400-image Fashion-MNIST proxy (160 train / 160 val: 5 steps per epoch). Each method runs
in a fresh process, so its memory figure is its own. Times are the searches' own `Cost` (wall
and process-CPU seconds; RSWS's includes scoring 10 cells); peak memory is the largest
per-epoch `Cost.peak_mem_mb` (sampled RSS rise over the epoch's start on the CPU, allocator peak
on CUDA).

    OMP_NUM_THREADS=1 python benchmarks/bench_search.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

import torch

from nastransfer import search
from nastransfer.data import load_dataset, make_proxy, paper_splits


def image_methods() -> list[str]:
    """Every registered method that searches images (not a table), darts first: the baseline."""
    from nastransfer.tabular.blackbox import table_methods

    return ["darts", *sorted(set(search.names()) - set(table_methods()) - {"darts"})]


def run_one(method: str) -> dict:
    """Search with `method` at the fixed budget; seconds per epoch and peak memory."""
    torch.set_num_threads(1)
    splits = paper_splits(make_proxy(load_dataset("fashion-mnist"), per_class=40, seed=0))
    sizes = {"channels": 8, "layers": 5, "batch_size": 32, "image_size": 16, "warmup_epochs": 0}
    epochs = 1 if method == "pdarts" else 2
    paper = search.published_budget(method)
    budget = paper.replace(**sizes, epochs=epochs, n_samples=min(paper.n_samples, 10))
    with tempfile.TemporaryDirectory() as workdir:
        result = search.get(method).search("darts", splits, budget, seed=0, workdir=workdir, progress=False)
    n = len(result.history)
    return {
        "method": method,
        "epochs": n,
        "wall": result.cost.wall_s / n,
        "cpu": result.cost.device_s / n,
        "peak": result.cost.peak_mem_mb,
        "device": result.cost.device,
    }


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(run_one(sys.argv[2])))
        return
    rows = []
    for method in image_methods():
        done = subprocess.run(
            [sys.executable, __file__, "--one", method], capture_output=True, text=True, check=True
        )
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    base = rows[0]
    print(f"\nSearch methods, DARTS space, C=8, 5 cells, batch 32, 16 px, {base['device']}\n")
    header = ("method", "epochs", "wall s / epoch", "CPU s / epoch", "x darts (CPU)", "peak MB")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print(
            f"| {r['method']} | {r['epochs']} | {r['wall']:.2f} | {r['cpu']:.2f} | "
            f"{r['cpu'] / base['cpu']:.2f} | {r['peak']:.0f} |"
        )


if __name__ == "__main__":
    main()
