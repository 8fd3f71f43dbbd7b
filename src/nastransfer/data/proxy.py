"""Proxy sets: fewer classes, fewer images per class, lower resolution — as manifests, never copies.

A `ProxyManifest` records the indices into the underlying (root) dataset, the root classes kept
(in new-label order), the resolution and the seed, with a sha256 over them; `apply` rebuilds the
same view from a freshly loaded dataset. A proxy of a proxy (or of a split) composes down to
indices of the root, so its manifest stands on its own.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from nastransfer.atomic import atomic_write_text
from nastransfer.data.base import Dataset, Subset
from nastransfer.errors import DatasetError

MANIFEST_VERSION = 1


def labels_digest(labels: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(labels, dtype="<i8").tobytes()).hexdigest()


@dataclass(frozen=True)
class ProxyManifest:
    """What a proxy view holds, in terms of its root dataset."""

    source: str
    source_size: int
    #: sha256 of the root's labels, so a manifest is not applied to another dataset of the same size.
    source_labels: str
    indices: tuple[int, ...]
    class_ids: tuple[int, ...]
    class_names: tuple[str, ...]
    resolution: int | None
    seed: int
    request: dict

    @property
    def hash(self) -> str:
        """sha256 of the content that defines the view (not of the request that produced it)."""
        content = {
            "source": self.source,
            "source_size": self.source_size,
            "source_labels": self.source_labels,
            "indices": list(self.indices),
            "class_ids": list(self.class_ids),
            "resolution": self.resolution,
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()

    def to_json(self) -> str:
        body = asdict(self)
        body.update(version=MANIFEST_VERSION, hash=self.hash, indices=list(self.indices))
        return json.dumps(body, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, where: str = "proxy manifest") -> ProxyManifest:
        try:
            body = json.loads(text)
            stored_hash = body.pop("hash")
            body.pop("version")
            manifest = cls(
                source=str(body["source"]),
                source_size=int(body["source_size"]),
                source_labels=str(body["source_labels"]),
                indices=tuple(int(i) for i in body["indices"]),
                class_ids=tuple(int(c) for c in body["class_ids"]),
                class_names=tuple(str(c) for c in body["class_names"]),
                resolution=None if body["resolution"] is None else int(body["resolution"]),
                seed=int(body["seed"]),
                request=dict(body["request"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise DatasetError(f"{where}: not a proxy manifest ({type(err).__name__}: {err})") from err
        if manifest.hash != stored_hash:
            raise DatasetError(f"{where}: manifest hash does not match its content (edited or corrupt)")
        return manifest

    def save(self, path: str | os.PathLike) -> None:
        """Write atomically: a crash leaves the old manifest or the new one."""
        atomic_write_text(path, self.to_json())

    @classmethod
    def load(cls, path: str | os.PathLike) -> ProxyManifest:
        try:
            text = Path(path).read_text()
        except OSError as err:
            raise DatasetError(f"{path}: cannot read proxy manifest ({err.strerror})") from err
        return cls.from_json(text, where=str(path))

    def apply(self, dataset: Dataset) -> ProxyView:
        """The proxy view over `dataset`, which must be the same root dataset the manifest was cut from."""
        same = (
            not isinstance(dataset, Subset)
            and dataset.name == self.source
            and len(dataset) == self.source_size
            and labels_digest(dataset.labels) == self.source_labels
        )
        if not same:
            kind = "a view" if isinstance(dataset, Subset) else "a dataset"
            raise DatasetError(
                f"proxy manifest {self.hash[:12]} was cut from {self.source!r} ({self.source_size} items), "
                f"not from {kind} {dataset.name!r} of {len(dataset)} items (or its labels differ)"
            )
        return ProxyView(dataset, self)


class ProxyView(Subset):
    """A `Subset` of a root dataset built from a `ProxyManifest`, which it carries as `.manifest`."""

    def __init__(self, root: Dataset, manifest: ProxyManifest):
        super().__init__(
            root, np.asarray(manifest.indices, dtype=np.int64),
            class_ids=manifest.class_ids, resolution=manifest.resolution,
        )
        self.manifest = manifest


def _as_view(dataset: Dataset) -> Subset:
    return dataset if isinstance(dataset, Subset) else Subset(dataset, np.arange(len(dataset)))


def _choose_classes(view: Subset, classes: int | Sequence[str] | None, rng: np.random.Generator) -> list[int]:
    """Labels of `view` to keep, in new-label order."""
    if classes is None:
        return list(range(view.num_classes))
    if isinstance(classes, (int, np.integer)):
        k = int(classes)
        if not 1 <= k <= view.num_classes:
            raise DatasetError(f"{view.name}: cannot keep {k} classes, it has {view.num_classes}")
        return sorted(int(c) for c in rng.choice(view.num_classes, size=k, replace=False))
    names = [str(c) for c in classes]
    unknown = [c for c in names if c not in view.classes]
    if unknown:
        known = ", ".join(view.classes)
        raise DatasetError(f"{view.name}: unknown class {unknown[0]!r}; classes are {known}")
    if len(set(names)) != len(names):
        raise DatasetError(f"{view.name}: class list repeats a name")
    return [view.classes.index(c) for c in names]


def _request_classes(classes: int | Sequence[str] | None) -> int | list[str] | None:
    if classes is None or isinstance(classes, (int, np.integer)):
        return None if classes is None else int(classes)
    return [str(c) for c in classes]


def make_proxy(
    dataset: Dataset,
    classes: int | Sequence[str] | None = None,
    per_class: int | None = None,
    fraction: float | None = None,
    resolution: int | None = None,
    seed: int = 0,
) -> ProxyView:
    """A proxy view: `classes` (k random, or names), then `per_class` images or a `fraction` of each
    kept class (random, fixed by seed), at `resolution` pixels; labels become 0..k-1."""
    if per_class is not None and fraction is not None:
        raise DatasetError(f"{dataset.name}: give per_class or fraction, not both")
    if fraction is not None and not 0.0 < fraction <= 1.0:
        raise DatasetError(f"{dataset.name}: proxy fraction must be in (0, 1], got {fraction}")
    if per_class is not None and per_class < 1:
        raise DatasetError(f"{dataset.name}: proxy per_class must be >= 1, got {per_class}")
    if resolution is not None and resolution < 1:
        raise DatasetError(f"{dataset.name}: proxy resolution must be >= 1, got {resolution}")
    view = _as_view(dataset)
    rng = np.random.default_rng(seed)
    kept = _choose_classes(view, classes, rng)
    labels = view.labels
    local: list[np.ndarray] = []
    for cls in kept:
        members = np.flatnonzero(labels == cls)
        if per_class is not None:
            if per_class > len(members):
                name = view.classes[cls]
                raise DatasetError(
                    f"{view.name}: per_class={per_class} but class {name!r} has only {len(members)} images"
                )
            members = rng.choice(members, size=per_class, replace=False)
        elif fraction is not None:
            take = max(1, int(round(fraction * len(members))))
            members = rng.choice(members, size=take, replace=False)
        local.append(members)
    chosen = np.sort(np.concatenate(local)) if local else np.empty(0, dtype=np.int64)
    root_ids = [view.class_ids[c] for c in kept]
    root = view.dataset
    manifest = ProxyManifest(
        source=root.name,
        source_size=len(root),
        source_labels=labels_digest(root.labels),
        indices=tuple(int(i) for i in view.indices[chosen]),
        class_ids=tuple(root_ids),
        class_names=tuple(root.classes[c] for c in root_ids),
        resolution=resolution if resolution is not None else view.resolution,
        seed=seed,
        request={
            "classes": _request_classes(classes),
            "per_class": per_class,
            "fraction": fraction,
            "resolution": resolution,
            "parent": getattr(dataset, "manifest", None) and dataset.manifest.hash,
        },
    )
    return ProxyView(root, manifest)
