"""Downsampled ImageNet (Chrabaszcz, Loshchilov & Hutter 2017): 16/32/64-pixel npz batches.

Each file holds `data` (N x 3*S*S uint8, channel-planar rows) and `labels` (1-based class ids);
the training set is `train_data_batch_1..10.npz`, the validation set `val_data.npz`, either in
the dataset folder itself or in the `Imagenet{S}_train` / `Imagenet{S}_val` folders the archives
extract to. `num_classes=120` keeps classes 1..120, i.e. ImageNet16-120 at `image_size=16`.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np

from nastransfer.data.base import ArrayDataset
from nastransfer.data.registry import DatasetSpec, register_dataset
from nastransfer.errors import DatasetError

SIZES = (16, 32, 64)
ALL_CLASSES = 1000


def read_npz_batch(path: Path, image_size: int, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """One batch's images (N,3,S,S) and 0-based labels, keeping labels below `num_classes`."""
    try:
        with np.load(path, allow_pickle=False) as batch:
            fields = set(batch.files)
            if not {"data", "labels"} <= fields:
                present = ", ".join(sorted(fields)) or "none"
                raise DatasetError(f"{path}: npz batch needs fields 'data' and 'labels', has {present}")
            data, labels = batch["data"], np.asarray(batch["labels"]).reshape(-1)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise DatasetError(f"{path}: not a readable npz batch ({type(err).__name__}: {err})") from err
    width = 3 * image_size * image_size
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != width:
        raise DatasetError(
            f"{path}: 'data' must be N x {width} uint8 for {image_size}px, got {data.dtype} {data.shape}"
        )
    if len(labels) != len(data):
        raise DatasetError(f"{path}: {len(data)} images but {len(labels)} labels")
    in_range = labels.min(initial=1) >= 1 and labels.max(initial=1) <= ALL_CLASSES
    if not np.issubdtype(labels.dtype, np.integer) or not in_range:
        raise DatasetError(f"{path}: labels must be integers in 1..{ALL_CLASSES} (1-based)")
    keep = labels <= num_classes
    return data[keep].reshape(-1, 3, image_size, image_size), labels[keep].astype(np.int64) - 1


def _batch_number(path: Path) -> int:
    return int(re.search(r"(\d+)\.npz$", path.name).group(1))  # type: ignore[union-attr]


def batch_files(spec: DatasetSpec, root, train: bool, image_size: int) -> list[Path]:
    """The npz files of the requested part, from the first place that has them."""
    part = "train" if train else "val"
    pattern = "train_data_batch_*.npz" if train else "val_data.npz"
    for place in spec.places(root):
        for folder in (place, place / f"Imagenet{image_size}_{part}"):
            files = sorted(folder.glob(pattern), key=_batch_number) if train else list(folder.glob(pattern))
            if files:
                return files
    looked = ", ".join(str(p) for p in spec.places(root))
    raise DatasetError(
        f"dataset {spec.name!r} ({part}, {image_size}px) not found: looked in {looked} "
        f"and their Imagenet{image_size}_{part} folders; to get it: {spec.how_to_get}"
    )


@register_dataset(
    "imagenet-downsampled",
    description="ImageNet downsampled to 16/32/64 px (npz batches); num_classes=120 gives ImageNet16-120",
    how_to_get="download Imagenet{16,32,64}_train_npz.zip and Imagenet{16,32,64}_val_npz.zip from "
    "image-net.org/download-images (Downsampled ImageNet) and extract them into a folder looked in",
    markers=(("train_data_batch_1.npz", "val_data.npz"),),
    subdirs=tuple(f"Imagenet{s}_{part}" for s in SIZES for part in ("train", "val")),
)
def _imagenet_downsampled(
    spec: DatasetSpec, root, train: bool, image_size: int = 32, num_classes: int = ALL_CLASSES
) -> ArrayDataset:
    if image_size not in SIZES:
        raise DatasetError(f"{spec.name}: image_size must be one of {SIZES}, got {image_size}")
    if not 1 <= num_classes <= ALL_CLASSES:
        raise DatasetError(f"{spec.name}: num_classes must be in 1..{ALL_CLASSES}, got {num_classes}")
    files = batch_files(spec, root, train, image_size)
    parts = [read_npz_batch(path, image_size, num_classes) for path in files]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    name = spec.name if num_classes == ALL_CLASSES else f"{spec.name}-{num_classes}"
    return ArrayDataset(images, labels, [f"class_{c + 1:04d}" for c in range(num_classes)], name)
