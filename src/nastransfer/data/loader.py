"""`BatchLoader`: shuffled, sharded, augmented batches on the training device.

In-memory datasets (and views of them) are batched with one fancy-indexing gather per batch;
lazily decoded ones (image folders) decode in `torch.utils.data` workers. Order and augmentation
are fixed by (seed, epoch, rank), so a resumed run sees the same batches.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader

from nastransfer.data.augment import Augment, to_unit_float
from nastransfer.data.base import Dataset
from nastransfer.errors import DatasetError


class BatchLoader:
    """Iterates `(float32 NCHW batch, int64 labels)`: 0..1 images, then augmented and normalised.

    With `world_size > 1`, every rank takes a disjoint, equally long shard of the same epoch
    permutation (the permutation is cut to a multiple of `world_size`, so up to `world_size - 1`
    items, different ones each epoch, sit out an epoch). Call `set_epoch` before each epoch.
    `num_workers` (default: up to 8, one per core) only matters for lazily decoded datasets.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        augment: Augment | None = None,
        device: str | torch.device = "cpu",
        drop_last: bool = False,
        rank: int = 0,
        world_size: int = 1,
        num_workers: int | None = None,
    ):
        if batch_size < 1:
            raise DatasetError(f"batch_size must be >= 1, got {batch_size}")
        if not 0 <= rank < world_size:
            raise DatasetError(f"rank {rank} is outside 0..{world_size - 1}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        if augment is not None and augment.normalize:
            augment = augment.with_stats(dataset.mean, dataset.std)
        self.augment = augment
        self.device = torch.device(device)
        self.drop_last = drop_last
        self.rank = rank
        self.world_size = world_size
        self.num_workers = min(8, os.cpu_count() or 1) if num_workers is None else num_workers
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose order and augmentation the next iteration uses."""
        self.epoch = int(epoch)

    def _shard_size(self) -> int:
        n = len(self.dataset)
        return n // self.world_size if self.world_size > 1 else n

    def __len__(self) -> int:
        size = self._shard_size()
        return size // self.batch_size if self.drop_last else -(-size // self.batch_size)

    def indices(self) -> np.ndarray:
        """This rank's item indices for the current epoch, in iteration order."""
        n = len(self.dataset)
        order = (
            np.random.default_rng([self.seed, self.epoch]).permutation(n) if self.shuffle else np.arange(n)
        )
        if self.world_size > 1:
            order = order[: self._shard_size() * self.world_size][self.rank :: self.world_size]
        if self.drop_last:
            order = order[: len(self) * self.batch_size]
        return order

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        generator = torch.Generator().manual_seed(
            int(np.random.default_rng([self.seed, self.epoch, self.rank, 1]).integers(2**62))
        )
        order = self.indices()
        for images, labels in self._uint8_batches(order):
            yield self._finish(images, labels, generator)

    def _uint8_batches(self, order: np.ndarray) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        if self.dataset.batchable:
            for start in range(0, len(order), self.batch_size):
                yield self.dataset.get_batch(order[start : start + self.batch_size])
            return
        loader = DataLoader(
            self.dataset,
            batch_size=self.batch_size,
            sampler=order.tolist(),
            num_workers=self.num_workers,
            pin_memory=self.device.type == "cuda",
            persistent_workers=False,
        )
        try:
            yield from loader
        except DatasetError as err:  # a worker's error arrives wrapped in its traceback text
            last_line = str(err).strip().splitlines()[-1]
            raise DatasetError(last_line.removeprefix(f"{DatasetError.__module__}.DatasetError: ")) from None

    def _finish(
        self, images: torch.Tensor, labels: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if self.device.type == "cuda":  # pinned host memory lets the copy overlap with compute
            images, labels = (t if t.is_pinned() else t.pin_memory() for t in (images, labels))
            images = images.to(self.device, non_blocking=True)
            labels = labels.to(self.device, non_blocking=True)
        else:
            images, labels = images.to(self.device), labels.to(self.device)
        batch = to_unit_float(images) if self.augment is None else self.augment(images, generator)
        return batch, labels.long()
