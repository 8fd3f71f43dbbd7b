"""Search data as a method sees it: the budget's share of `train`/`val`, resized, in seeded batches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from nastransfer.data import Augment, BatchLoader, Splits, Subset
from nastransfer.errors import ConfigError
from nastransfer.search.budget import Budget


@dataclass
class SearchData:
    """Loaders for weights (`train`) and architecture (`val`), and the shape of the problem."""

    train: BatchLoader
    val: BatchLoader
    num_classes: int
    in_channels: int
    image_size: int

    def set_epoch(self, epoch: int) -> None:
        self.train.set_epoch(epoch)
        self.val.set_epoch(epoch)

    def batches(self):
        """Pairs of (train batch, val batch) of one epoch; as many as the shorter side has full batches."""
        return zip(self.train, self.val)  # noqa: B905 (both drop the last partial batch; lengths may differ)

    def steps(self) -> int:
        return min(len(self.train), len(self.val))


def _fraction(view: Subset, fraction: float, seed: int) -> Subset:
    if fraction >= 1.0:
        return view
    keep = max(1, round(len(view) * fraction))
    order = np.random.default_rng([seed, len(view)]).permutation(len(view))[:keep]
    return Subset(view, np.sort(order))


def search_data(data: Splits, budget: Budget, seed: int, device: torch.device) -> SearchData:
    """Loaders of the budget's data share and image size; a ConfigError if a side lacks one full batch."""
    train = _fraction(data.train, budget.data_fraction, seed)
    val = _fraction(data.val, budget.data_fraction, seed + 1)
    for role, view in (("train", train), ("val", val)):
        if len(view) < budget.batch_size:
            raise ConfigError(
                f"source {view.name!r} has {len(view)} search-{role} images (data_fraction "
                f"{budget.data_fraction}), fewer than one batch of {budget.batch_size}"
            )
    size = budget.image_size or train.image_size
    resize = size if size != train.image_size else None
    train_aug = Augment(crop_padding=max(1, size // 8), flip=True, resize=resize)  # DARTS: pad 4 at 32 px
    val_aug = Augment(resize=resize)
    return SearchData(
        train=BatchLoader(
            train, budget.batch_size, seed=seed, augment=train_aug, device=device, drop_last=True
        ),
        val=BatchLoader(
            val, budget.batch_size, seed=seed + 1, augment=val_aug, device=device, drop_last=True
        ),
        num_classes=train.num_classes,
        in_channels=train.in_channels,
        image_size=size,
    )
