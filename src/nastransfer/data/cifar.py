"""CIFAR-10 and CIFAR-100 from the python-pickle batches exactly as distributed by Krizhevsky.

The batches were pickled by Python 2: they load with `encoding="latin1"` and carry `str` keys then,
`bytes` keys when re-pickled from Python 3; both are accepted.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from nastransfer.data.base import ArrayDataset
from nastransfer.data.registry import DatasetSpec, PublishedSize, Source, register_dataset
from nastransfer.errors import DatasetError
from nastransfer.safe_pickle import PlainDataError, load_plain_data

CIFAR10_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
_KRIZ = "https://www.cs.toronto.edu/~kriz/"


def read_pickle(path: Path) -> dict[str, object]:
    """A pickled dict with its keys as `str`."""
    if not path.is_file():
        raise DatasetError(f"{path}: missing CIFAR batch file")
    try:
        with path.open("rb") as f:
            body = load_plain_data(f, encoding="latin1")
    except PlainDataError as err:
        raise DatasetError(f"{path}: {err}") from err
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError) as err:
        raise DatasetError(f"{path}: not a CIFAR pickle ({type(err).__name__}: {err})") from err
    if not isinstance(body, dict):
        raise DatasetError(f"{path}: not a CIFAR pickle (holds {type(body).__name__}, not a dict)")
    return {_text(key): value for key, value in body.items()}


def _text(value: object) -> str:
    return value.decode("latin1") if isinstance(value, bytes) else str(value)


def _field(body: dict[str, object], key: str, path: Path) -> object:
    if key not in body:
        raise DatasetError(f"{path}: missing key {key!r} (has {', '.join(sorted(body)) or 'none'})")
    return body[key]


def read_batch(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N,3,32,32 uint8; rows are 1024 red, 1024 green, 1024 blue values) and labels of one batch."""
    body = read_pickle(path)
    data = np.asarray(_field(body, "data", path))
    labels = np.asarray(_field(body, label_key, path))
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DatasetError(f"{path}: 'data' must be N x 3072 uint8, got {data.dtype} {data.shape}")
    if len(labels) != len(data):
        raise DatasetError(f"{path}: {len(data)} images but {len(labels)} labels")
    return data.reshape(-1, 3, 32, 32), labels


def _names(path: Path, key: str) -> list[str]:
    names = _field(read_pickle(path), key, path)
    return [_text(n) for n in names]  # type: ignore[union-attr]


def read_cifar(
    folder: Path, files: tuple[str, ...], label_key: str, names: list[str], name: str
) -> ArrayDataset:
    parts = [read_batch(folder / f, label_key) for f in files]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    return ArrayDataset(images, labels, names, name)


@register_dataset(
    "cifar10",
    description="CIFAR-10, 50,000 + 10,000 colour 32x32 images, 10 classes (python pickle batches)",
    how_to_get="download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz and extract it "
    "into a folder looked in",
    markers=(("batches.meta",), ("data_batch_1",)),
    subdirs=("cifar-10-batches-py",),
    downloads=(
        Source(f"{_KRIZ}cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a", "cifar-10-batches-py"),
    ),
    published_size=PublishedSize(train=50_000, test=10_000, classes=10, channels=3, side=32),
)
def _cifar10(spec: DatasetSpec, root, train: bool) -> ArrayDataset:
    folder = spec.locate(root)
    names = _names(folder / "batches.meta", "label_names")
    return read_cifar(folder, CIFAR10_TRAIN if train else ("test_batch",), "labels", names, spec.name)


@register_dataset(
    "cifar100",
    description="CIFAR-100, 50,000 + 10,000 colour 32x32 images, 100 fine classes (python pickles)",
    how_to_get="download https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz and extract it "
    "into a folder looked in",
    markers=(("meta",), ("train",)),
    subdirs=("cifar-100-python",),
    downloads=(
        Source(f"{_KRIZ}cifar-100-python.tar.gz", "eb9058c3a382ffc7106e4002c42a8d85", "cifar-100-python"),
    ),
    published_size=PublishedSize(train=50_000, test=10_000, classes=100, channels=3, side=32),
)
def _cifar100(spec: DatasetSpec, root, train: bool) -> ArrayDataset:
    folder = spec.locate(root)
    names = _names(folder / "meta", "fine_label_names")
    return read_cifar(folder, ("train",) if train else ("test",), "fine_labels", names, spec.name)
