"""Throughput of `BatchLoader` (batched augmentation) vs a per-sample `torch.utils.data.DataLoader`.

Both feed the same Fashion-MNIST images through the same augmentation (zero-padded random crop 4,
horizontal flip, normalisation, cutout) into float batches; the baseline does it image by image in
`Dataset.__getitem__`, the way torchvision-style pipelines do. Both run in this process on one
thread, measured in the same run.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_data.py --images 20000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from rich.console import Console
from rich.table import Table
from torch.utils.data import DataLoader

from nastransfer.data import Augment, BatchLoader, load_dataset, make_proxy

PADDING, CUTOUT = 4, 16


class PerSampleAugmented(torch.utils.data.Dataset):
    """The baseline: each item cropped, flipped, normalised and cut out on its own."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, mean: float, std: float, seed: int):
        self.images, self.labels = images, labels
        self.mean, self.std = mean, std
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = torch.from_numpy(self.images[index]).float().div_(255.0)
        _, h, w = image.shape
        padded = torch.nn.functional.pad(image, (PADDING,) * 4)
        top, left = self.rng.integers(0, 2 * PADDING + 1, size=2)
        image = padded[:, top : top + h, left : left + w]
        if self.rng.random() < 0.5:
            image = image.flip(2)
        image = (image - self.mean) / self.std
        y, x = self.rng.integers(0, h), self.rng.integers(0, w)
        half = CUTOUT // 2
        image = image.clone()
        image[:, max(0, y - half) : y + half, max(0, x - half) : x + half] = 0.0
        return image, int(self.labels[index])


def rate(batches, count: int, repeats: int) -> float:
    """Images per second, best of `repeats` full passes."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        seen = sum(len(x) for x, _ in batches())
        best = min(best, time.perf_counter() - start)
        assert seen == count
    return count / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20_000, help="Fashion-MNIST training images used")
    parser.add_argument("--batch-size", type=int, default=96)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)

    full = load_dataset("fashion-mnist")
    data = make_proxy(full, fraction=min(1.0, args.images / len(full)), seed=0)
    images, labels = data.images, data.labels
    count = len(data)
    augment = Augment(crop_padding=PADDING, flip=True, cutout=CUTOUT)
    batched = BatchLoader(data, args.batch_size, seed=0, augment=augment)
    plain = BatchLoader(data, args.batch_size, seed=0)
    baseline = DataLoader(
        PerSampleAugmented(images, labels, full.mean[0], full.std[0], seed=0),
        batch_size=args.batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )

    rows = [
        ("DataLoader, per-sample augmentation (baseline)", rate(lambda: baseline, count, args.repeats)),
        ("BatchLoader, batched augmentation", rate(lambda: batched, count, args.repeats)),
        ("BatchLoader, no augmentation (gather + to float)", rate(lambda: plain, count, args.repeats)),
    ]
    base = rows[0][1]
    table = Table(
        title=f"Fashion-MNIST, {count} images 28x28, batch {args.batch_size}, crop {PADDING} + flip + "
        f"cutout {CUTOUT}, 1 thread"
    )
    for column in ("loader", "images/s", "vs baseline"):
        table.add_column(column, justify="right" if column != "loader" else "left")
    for name, value in rows:
        table.add_row(name, f"{value:,.0f}", f"{value / base:.1f}x")
    Console().print(table)


if __name__ == "__main__":
    main()
