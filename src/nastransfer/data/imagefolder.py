"""Image folders (`root/<class>/<image>`: ImageNet-1K/22K, MIT67, Flowers102), decoded lazily by Pillow.

Items are decoded one by one (in loader workers): each image is converted to RGB, its shorter side
resized to `image_size` and the centre square cut. If `root` holds `train/` and `val/` (or `test/`)
folders, `train` picks between them; otherwise `root` is the whole dataset and has no test part.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from nastransfer.data.base import Dataset, check_labels
from nastransfer.data.registry import DatasetSpec, PublishedSize, register_dataset
from nastransfer.errors import DatasetError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".ppm", ".tif", ".tiff"}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def decode_image(path: Path, size: int) -> np.ndarray:
    """RGB uint8 H,W,3 of side `size`: shorter side resized, centre cut; DatasetError naming the file."""
    try:
        with Image.open(path) as image:
            image.draft("RGB", (size, size))  # JPEG: let the decoder downscale first
            image = image.convert("RGB")
            scale = size / min(image.size)
            width, height = max(size, round(image.width * scale)), max(size, round(image.height * scale))
            image = image.resize((width, height), Image.Resampling.BILINEAR)
            left, top = (width - size) // 2, (height - size) // 2
            return np.array(image.crop((left, top, left + size, top + size)), dtype=np.uint8)
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as err:
        raise DatasetError(f"{path}: cannot decode image ({type(err).__name__}: {err})") from err


class ImageFolderDataset(Dataset):
    """Images listed at construction, decoded on access; `mean`/`std` default to ImageNet's."""

    def __init__(
        self,
        folder: Path,
        name: str,
        image_size: int = 224,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
    ):
        class_dirs = sorted(p for p in folder.iterdir() if p.is_dir())
        if not class_dirs:
            raise DatasetError(f"{folder}: no class folders (expected {folder}/<class>/<image>)")
        paths, labels = [], []
        for label, class_dir in enumerate(class_dirs):
            files = sorted(p for p in class_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            paths.extend(files)
            labels.extend([label] * len(files))
        if not paths:
            suffixes = ", ".join(sorted(IMAGE_SUFFIXES))
            raise DatasetError(f"{folder}: class folders hold no images ({suffixes})")
        self.name = name
        self.folder = folder
        self.paths = paths
        self.classes = [d.name for d in class_dirs]
        self._labels = check_labels(np.asarray(labels), len(self.classes), str(folder))
        self.in_channels = 3
        self.image_size = int(image_size)
        self._mean, self._std = tuple(mean), tuple(std)

    @property
    def labels(self) -> np.ndarray:
        return self._labels

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        pixels = decode_image(self.paths[index], self.image_size)
        return torch.from_numpy(pixels).permute(2, 0, 1).contiguous(), int(self._labels[index])

    @property
    def mean(self) -> tuple[float, ...]:
        return self._mean

    @property
    def std(self) -> tuple[float, ...]:
        return self._std


def _split_folder(folder: Path, train: bool) -> Path:
    if (folder / "train").is_dir() and ((folder / "val").is_dir() or (folder / "test").is_dir()):
        if train:
            return folder / "train"
        return folder / "val" if (folder / "val").is_dir() else folder / "test"
    if not train:
        raise DatasetError(f"{folder}: no train/ and val/ (or test/) folders; no test part, use paper_splits")
    return folder


@register_dataset(
    "imagefolder",
    description="a folder of images, one sub-folder per class (ImageNet-1K/22K, MIT67, Flowers102)",
    how_to_get="pass root=<folder> laid out as <folder>/<class>/<image> (or with train/ and val/ inside)",
    needs_root=True,
    # ImageNet-22K: the fall 2011 release, 14,197,122 images.
    published_sizes={
        "imagenet": PublishedSize(train=1_281_167, test=50_000, classes=1000, channels=3, side=224),
        "imagenet22k": PublishedSize(train=14_197_122, test=0, classes=21_841, channels=3, side=224),
    },
)
def _imagefolder(
    spec: DatasetSpec,
    root,
    train: bool,
    image_size: int = 224,
    name: str | None = None,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> ImageFolderDataset:
    folder = _split_folder(spec.locate(root), train)
    dataset_name = name or (Path(root).name if root is not None else spec.name)
    return ImageFolderDataset(folder, dataset_name, image_size=image_size, mean=mean, std=std)
