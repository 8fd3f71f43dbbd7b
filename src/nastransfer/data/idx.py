"""MNIST and Fashion-MNIST from their IDX files (gzipped or plain), as distributed by LeCun and Zalando."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from nastransfer.data.base import ArrayDataset
from nastransfer.data.registry import DatasetSpec, PublishedSize, Source, register_dataset
from nastransfer.errors import DatasetError

UBYTE = 0x08
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
DIGIT_CLASSES = tuple(str(d) for d in range(10))


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """An IDX file of unsigned bytes with `ndim` dimensions (magic 0x0000 08 <ndim>, big-endian sizes)."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise DatasetError(f"{path}: cannot read IDX file ({err})") from err
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DatasetError(f"{path}: not an IDX file (bad magic {raw[:4].hex() or 'empty'})")
    if raw[2] != UBYTE:
        raise DatasetError(f"{path}: IDX element type 0x{raw[2]:02x} is not unsigned byte (0x08)")
    if raw[3] != ndim:
        raise DatasetError(f"{path}: IDX file has {raw[3]} dimensions, expected {ndim}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{path}: truncated IDX header")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(dims))
    if len(raw) - header != expected:
        raise DatasetError(
            f"{path}: IDX body has {len(raw) - header} bytes, dimensions {dims} need {expected} (truncated?)"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _idx_file(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise DatasetError(f"{folder}: missing {stem} (or {stem}.gz)")


def read_idx_pair(folder: Path, train: bool, name: str, classes: tuple[str, ...]) -> ArrayDataset:
    prefix = "train" if train else "t10k"
    images_path = _idx_file(folder, f"{prefix}-images-idx3-ubyte")
    labels_path = _idx_file(folder, f"{prefix}-labels-idx1-ubyte")
    images = read_idx(images_path, 3)
    labels = read_idx(labels_path, 1)
    if len(images) != len(labels):
        raise DatasetError(f"{folder}: {len(images)} images in {images_path.name} but {len(labels)} labels")
    if images.shape[1] != images.shape[2]:
        raise DatasetError(f"{images_path}: images are {images.shape[1]}x{images.shape[2]}, not square")
    return ArrayDataset(images[:, None], labels, classes, name)


def _markers(prefix: str) -> tuple[tuple[str, ...], ...]:
    return tuple(
        (f"{prefix}-{kind}-idx{d}-ubyte", f"{prefix}-{kind}-idx{d}-ubyte.gz")
        for kind, d in (("images", 3), ("labels", 1))
    )


_FASHION = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_MNIST = "https://ossci-datasets.s3.amazonaws.com/mnist/"
#: The four IDX files (training images and labels, then test), in the order of the md5 values below.
_IDX_STEMS = tuple(
    f"{part}-{kind}-ubyte" for part in ("train", "t10k") for kind in ("images-idx3", "labels-idx1")
)
_SIZE = PublishedSize(train=60_000, test=10_000, classes=10, channels=1, side=28)


def _idx_sources(url: str, md5s: tuple[str, str, str, str]) -> tuple[Source, ...]:
    """The four gzipped IDX files under `url`, with their md5 values (torchvision's)."""
    return tuple(Source(f"{url}{stem}.gz", md5) for stem, md5 in zip(_IDX_STEMS, md5s, strict=True))


@register_dataset(
    "fashion-mnist",
    description="Zalando Fashion-MNIST, 60,000 + 10,000 grey 28x28 images, 10 classes (IDX files)",
    how_to_get="apt-get install dataset-fashion-mnist, or put train-images-idx3-ubyte.gz, "
    "train-labels-idx1-ubyte.gz, t10k-*.gz from github.com/zalandoresearch/fashion-mnist "
    "into a folder looked in",
    markers=_markers("train"),
    subdirs=("raw",),
    extra_places=("/usr/share/datasets/fashion-mnist",),
    downloads=_idx_sources(
        _FASHION,
        (
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "25c81989df183df01b3e8a0aad5dffbe",
            "bef4ecab320f06d8554ea6380940ec79",
            "bb300cfdad3c16e7a12a480ee83cd310",
        ),
    ),
    published_size=_SIZE,
)
def _fashion_mnist(spec: DatasetSpec, root, train: bool) -> ArrayDataset:
    return read_idx_pair(spec.locate(root), train, spec.name, FASHION_CLASSES)


@register_dataset(
    "mnist",
    description="MNIST handwritten digits, 60,000 + 10,000 grey 28x28 images (IDX files)",
    how_to_get="put train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-*.gz "
    "(yann.lecun.com/exdb/mnist or a mirror) into a folder looked in",
    markers=_markers("train"),
    subdirs=("raw",),
    downloads=_idx_sources(
        _MNIST,
        (
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "d53e105ee54ea40749a09fcbcd1e9432",
            "9fb629c4189551a2d022fa330f9573f3",
            "ec29112dd5afa0611ce80d1b7f02629c",
        ),
    ),
    published_size=_SIZE,
)
def _mnist(spec: DatasetSpec, root, train: bool) -> ArrayDataset:
    return read_idx_pair(spec.locate(root), train, spec.name, DIGIT_CLASSES)
