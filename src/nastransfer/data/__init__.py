"""Datasets, the paper's 40/40/20 splits, proxy sets, batched augmentation and the batch loader.

Readers register themselves by name on import (`load_dataset`, `dataset_names`); everything a
training or search loop needs is re-exported here.
"""

from nastransfer.data import bundled, cifar, downsampled, idx, imagefolder  # noqa: F401  (register readers)
from nastransfer.data.augment import Augment
from nastransfer.data.base import ArrayDataset, Dataset, Subset
from nastransfer.data.download import download_dataset
from nastransfer.data.imagefolder import ImageFolderDataset
from nastransfer.data.loader import BatchLoader
from nastransfer.data.proxy import ProxyManifest, ProxyView, make_proxy
from nastransfer.data.registry import (
    DATASETS,
    DatasetSpec,
    DatasetStatus,
    PublishedSize,
    Source,
    dataset_names,
    dataset_spec,
    dataset_status,
    load_dataset,
    published_size,
    register_dataset,
)
from nastransfer.data.splits import Splits, paper_splits, three_way_split

__all__ = [
    "DATASETS",
    "ArrayDataset",
    "Augment",
    "BatchLoader",
    "Dataset",
    "ProxyManifest",
    "ProxyView",
    "PublishedSize",
    "DatasetSpec",
    "DatasetStatus",
    "ImageFolderDataset",
    "Source",
    "Splits",
    "Subset",
    "dataset_names",
    "dataset_spec",
    "dataset_status",
    "download_dataset",
    "load_dataset",
    "make_proxy",
    "paper_splits",
    "published_size",
    "register_dataset",
    "three_way_split",
]
