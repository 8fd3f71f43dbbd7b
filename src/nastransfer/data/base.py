"""The dataset contract, in-memory datasets, and index views over any dataset.

Every dataset yields `(uint8 CHW tensor, int)` per item. Datasets whose images sit in one uint8
array (`ArrayDataset`, and views of one) also answer `get_batch(indices)` with one fancy-indexing
copy, which is what lets `BatchLoader` skip per-sample Python work.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import numpy as np
import torch
import torch.nn.functional as F

from nastransfer.errors import DatasetError


class Dataset:
    """Base of every dataset: labelled uint8 images of one square size."""

    name: str
    classes: list[str]
    in_channels: int
    image_size: int
    #: True when `get_batch` gathers a whole batch at once (no per-sample decoding).
    batchable: bool = False

    @property
    def labels(self) -> np.ndarray:
        raise NotImplementedError

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        raise NotImplementedError

    def get_batch(self, indices: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """A uint8 NCHW batch and its int64 labels; per-sample fallback for lazy datasets."""
        items = [self[int(i)] for i in indices]
        images = torch.stack([image for image, _ in items]) if items else self._empty_batch()
        return images, torch.as_tensor([label for _, label in items], dtype=torch.int64)

    def _empty_batch(self) -> torch.Tensor:
        return torch.empty((0, self.in_channels, self.image_size, self.image_size), dtype=torch.uint8)

    @property
    def mean(self) -> tuple[float, ...]:
        raise NotImplementedError

    @property
    def std(self) -> tuple[float, ...]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, n={len(self)}, classes={self.num_classes}, "
            f"shape={self.in_channels}x{self.image_size}x{self.image_size})"
        )


def check_labels(labels: np.ndarray, num_classes: int, where: str) -> np.ndarray:
    """Labels as int64, or a DatasetError naming the first one outside 0..num_classes-1."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DatasetError(f"{where}: labels must be a 1-D integer array, got {labels.dtype} {labels.shape}")
    bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
    if bad.size:
        i = int(bad[0])
        raise DatasetError(
            f"{where}: label {int(labels[i])} at index {i} is outside 0..{num_classes - 1} "
            f"({bad.size} such labels)"
        )
    return labels.astype(np.int64, copy=False)


def channel_stats(images: np.ndarray, chunk: int = 8192) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std of uint8 N,C,H,W images on the 0..1 scale, in chunks to bound memory."""
    channels = images.shape[1]
    total = np.zeros(channels)
    squares = np.zeros(channels)
    count = 0
    for start in range(0, len(images), chunk):
        block = images[start : start + chunk].astype(np.float64) / 255.0
        total += block.sum(axis=(0, 2, 3))
        squares += np.square(block).sum(axis=(0, 2, 3))
        count += block.shape[0] * block.shape[2] * block.shape[3]
    if count == 0:
        raise DatasetError("cannot compute mean/std of an empty dataset")
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean**2, 0.0))
    return tuple(float(m) for m in mean), tuple(float(s) for s in std)


class ArrayDataset(Dataset):
    """Images held in memory as one uint8 N,C,H,W array (MNIST-like, CIFAR, downsampled ImageNet)."""

    batchable = True

    def __init__(self, images: np.ndarray, labels: np.ndarray, classes: Sequence[str], name: str):
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[2] != images.shape[3]:
            raise DatasetError(
                f"{name}: images must be uint8 N,C,H,W with H == W, got {images.dtype} {images.shape}"
            )
        labels = np.asarray(labels)
        if len(labels) != len(images):
            raise DatasetError(f"{name}: {len(images)} images but {len(labels)} labels")
        self.name = name
        self.classes = [str(c) for c in classes]
        self.images = images
        self._labels = check_labels(labels, len(self.classes), name)
        self.in_channels = int(images.shape[1])
        self.image_size = int(images.shape[2])

    @property
    def labels(self) -> np.ndarray:
        return self._labels

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return torch.from_numpy(self.images[index].copy()), int(self._labels[index])  # never alias

    def get_batch(self, indices: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        indices = np.asarray(indices, dtype=np.int64)
        return torch.from_numpy(self.images[indices]), torch.from_numpy(self._labels[indices])

    @cached_property
    def _stats(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        return channel_stats(self.images)

    @property
    def mean(self) -> tuple[float, ...]:
        return self._stats[0]

    @property
    def std(self) -> tuple[float, ...]:
        return self._stats[1]


def resize_batch(images: torch.Tensor, size: int) -> torch.Tensor:
    """Resize a uint8 NCHW batch to size x size (antialiased bilinear), staying uint8."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    resized = F.interpolate(
        images.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False
    )
    return resized.round_().clamp_(0, 255).to(torch.uint8)


class Subset(Dataset):
    """A view of some items of a dataset, optionally with classes remapped and a new resolution.

    Views never copy images. A view of a view is flattened: `dataset` is always the underlying
    (root) dataset and `indices` index into it, so batches come from one gather on the root.
    `label_map[root_label]` is the view's label (-1 for classes the view dropped); `resolution`
    is the side images are resized to on access (None: the root's); `mean`/`std` are the root's.
    """

    def __init__(
        self,
        dataset: Dataset,
        indices: Sequence[int] | np.ndarray,
        *,
        class_ids: Sequence[int] | None = None,
        resolution: int | None = None,
    ):
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        if isinstance(dataset, Subset):
            root, root_indices = dataset.dataset, dataset.indices
            if indices.size and (indices.min() < 0 or indices.max() >= len(root_indices)):
                raise DatasetError(f"{dataset.name}: subset index out of range 0..{len(root_indices) - 1}")
            indices = root_indices[indices]
            parent_ids = dataset.class_ids
            class_ids = parent_ids if class_ids is None else [parent_ids[c] for c in class_ids]
            resolution = resolution if resolution is not None else dataset.resolution
        else:
            root = dataset
            if indices.size and (indices.min() < 0 or indices.max() >= len(root)):
                raise DatasetError(f"{root.name}: subset index out of range 0..{len(root) - 1}")
            class_ids = list(range(root.num_classes)) if class_ids is None else list(class_ids)
        self.dataset = root
        self.indices = indices
        self.class_ids = [int(c) for c in class_ids]
        self.resolution = resolution
        self.label_map = np.full(root.num_classes, -1, dtype=np.int64)
        self.label_map[self.class_ids] = np.arange(len(self.class_ids))
        self.name = root.name
        self.classes = [root.classes[c] for c in self.class_ids]
        self.in_channels = root.in_channels
        self.image_size = resolution if resolution is not None else root.image_size
        self.batchable = root.batchable

    @cached_property
    def labels(self) -> np.ndarray:
        labels = self.label_map[self.dataset.labels[self.indices]]
        if (labels < 0).any():
            raise DatasetError(f"{self.name}: view holds items of classes it does not keep")
        return labels

    @property
    def images(self) -> np.ndarray:
        """The view's images as uint8 N,C,H,W (one gather; resized when the view has a resolution)."""
        return self.get_batch(np.arange(len(self)))[0].numpy()

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image, label = self.dataset[int(self.indices[index])]
        if self.resolution is not None:
            image = resize_batch(image[None], self.resolution)[0]
        return image, int(self.label_map[label])

    def get_batch(self, indices: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        indices = np.asarray(indices, dtype=np.int64)
        images, labels = self.dataset.get_batch(self.indices[indices])
        if self.resolution is not None:
            images = resize_batch(images, self.resolution)
        return images, torch.from_numpy(self.label_map[labels.numpy()])

    def concat(self, other: Subset) -> Subset:
        """The union of two views of the same dataset with the same classes and resolution."""
        if (
            other.dataset is not self.dataset
            or other.class_ids != self.class_ids
            or other.resolution != self.resolution
        ):
            raise DatasetError(f"{self.name}: cannot join views of different datasets, classes or sizes")
        return Subset(
            self.dataset,
            np.concatenate([self.indices, other.indices]),
            class_ids=self.class_ids,
            resolution=self.resolution,
        )

    @property
    def mean(self) -> tuple[float, ...]:
        return self.dataset.mean

    @property
    def std(self) -> tuple[float, ...]:
        return self.dataset.std
