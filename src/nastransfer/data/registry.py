"""Dataset readers by name, and where their files are looked for.

A reader is registered with the file names that mark its directory. Without an explicit `root`,
a dataset `<name>` is looked for in `$NASTRANSFER_DATA/<name>`, `~/.cache/nastransfer/<name>`
and the reader's extra places (Debian's Fashion-MNIST package); an explicit `root` is the only
place looked, so a wrong path is never silently replaced by another copy.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from nastransfer.data.base import Dataset
from nastransfer.errors import DatasetError
from nastransfer.registry import Registry

Reader = Callable[..., Dataset]


@dataclass(frozen=True)
class Source:
    """One published file; `archive_folder` names the folder a tar archive unpacks to (None: keep file)."""

    url: str
    md5: str
    archive_folder: str | None = None

    @property
    def filename(self) -> str:
        return PurePosixPath(self.url).name


@dataclass(frozen=True)
class PublishedSize:
    """A dataset's size as published, for planning a study on a machine without its files."""

    train: int
    test: int
    classes: int
    channels: int
    side: int


@dataclass(frozen=True)
class DatasetSpec:
    """A registered reader and how to find and get its files."""

    name: str
    reader: Reader
    description: str
    how_to_get: str
    #: file names whose presence (any one of each tuple) marks the dataset's directory; empty for
    #: datasets that ship inside a Python package.
    markers: tuple[tuple[str, ...], ...] = ()
    #: sub-folders of a candidate directory that may hold the files (e.g. `cifar-10-batches-py`).
    subdirs: tuple[str, ...] = ()
    extra_places: tuple[str, ...] = ()
    #: for package datasets: the module that must import.
    package: str | None = None
    #: datasets whose `root` option names a folder of the user's (image folders).
    needs_root: bool = field(default=False)
    #: the published files `nastransfer datasets --download` fetches, checked by md5 (none: not
    #: downloadable).
    downloads: tuple[Source, ...] = ()
    #: published sizes by the name the data goes by: the dataset's own, or for an image folder the
    #: collections it is usually pointed at (its `name` option).
    published_sizes: tuple[tuple[str, PublishedSize], ...] = ()

    def places(self, root: str | os.PathLike | None) -> list[Path]:
        """Candidate directories, in the order they are looked in."""
        if root is not None:
            return [Path(root).expanduser()]
        places = []
        if os.environ.get("NASTRANSFER_DATA"):
            places.append(Path(os.environ["NASTRANSFER_DATA"]).expanduser() / self.name)
        places.append(Path("~/.cache/nastransfer").expanduser() / self.name)
        places.extend(Path(p) for p in self.extra_places)
        return places

    def _holds_files(self, folder: Path) -> bool:
        return all(any((folder / name).is_file() for name in group) for group in self.markers)

    def find(self, root: str | os.PathLike | None = None) -> Path | None:
        """The directory holding this dataset's files, or None."""
        for place in self.places(root):
            for folder in (place, *(place / sub for sub in self.subdirs)):
                if self.needs_root and folder.is_dir() and any(p.is_dir() for p in folder.iterdir()):
                    return folder
                if self.markers and folder.is_dir() and self._holds_files(folder):
                    return folder
        return None

    def locate(self, root: str | os.PathLike | None = None) -> Path:
        """Like `find`, but a missing dataset is a one-line DatasetError naming every place looked."""
        found = self.find(root)
        if found is None:
            looked = ", ".join(str(p) for p in self.places(root))
            raise DatasetError(
                f"dataset {self.name!r} not found: looked in {looked}; to get it: {self.how_to_get}"
            )
        return found


DATASETS: Registry[DatasetSpec] = Registry("dataset", DatasetError)


def register_dataset(
    name: str,
    *,
    description: str,
    how_to_get: str,
    markers: Sequence[Sequence[str]] = (),
    subdirs: Sequence[str] = (),
    extra_places: Sequence[str] = (),
    package: str | None = None,
    needs_root: bool = False,
    downloads: Sequence[Source] = (),
    published_size: PublishedSize | None = None,
    published_sizes: dict[str, PublishedSize] | None = None,
) -> Callable[[Reader], Reader]:
    """Decorator: register `reader(spec, root, train, **options) -> Dataset` under `name`.

    `published_size` is the dataset's own; `published_sizes` those of the collections a reader
    with a `name` option is pointed at. A dataset with `downloads` says in its how-to-get text
    that `nastransfer datasets --download` fetches it.
    """
    sizes = {**({name: published_size} if published_size else {}), **(published_sizes or {})}
    if downloads:
        how_to_get = f"run `nastransfer datasets --download {name}`, or {how_to_get}"

    def add(reader: Reader) -> Reader:
        DATASETS.add(
            name,
            DatasetSpec(
                name=name,
                reader=reader,
                description=description,
                how_to_get=how_to_get,
                markers=tuple(tuple(group) for group in markers),
                subdirs=tuple(subdirs),
                extra_places=tuple(extra_places),
                package=package,
                needs_root=needs_root,
                downloads=tuple(downloads),
                published_sizes=tuple(sizes.items()),
            ),
        )
        return reader

    return add


def dataset_names() -> list[str]:
    """Names `load_dataset` accepts."""
    return DATASETS.names()


def dataset_spec(name: str) -> DatasetSpec:
    return DATASETS.get(name)


def published_size(name: str, options: dict | None = None) -> PublishedSize | None:
    """The published size of dataset `name` read with `options` (an image folder's by its `name`
    option), or None where none is registered."""
    spec = dataset_spec(name)
    return dict(spec.published_sizes).get((options or {}).get("name") or name)


def load_dataset(
    name: str, /, root: str | os.PathLike | None = None, train: bool = True, **options
) -> Dataset:
    """Read a dataset by name: its training part (`train=True`) or its test part.

    `name` is positional-only so that a reader's own `name` option (an image folder's display name)
    passes through `options`.
    """
    spec = dataset_spec(name)
    accepted = list(inspect.signature(spec.reader).parameters)[3:]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise DatasetError(
            f"dataset {name!r} takes no option {unknown[0]!r}; its options: {', '.join(accepted) or 'none'}"
        )
    return spec.reader(spec, root, train, **options)


@dataclass(frozen=True)
class DatasetStatus:
    """Whether a dataset can be loaded here, from where, and how to get it if not."""

    name: str
    found: bool
    location: str
    description: str
    how_to_get: str


def dataset_status(name: str) -> DatasetStatus:
    """Look for one dataset's files (or package) without reading them."""
    spec = dataset_spec(name)
    if spec.package is not None:
        found = importlib.util.find_spec(spec.package) is not None
        location = f"Python package {spec.package}" if found else ""
    else:
        folder = spec.find()
        found, location = folder is not None, str(folder or "")
    if not found:
        location = "looked in " + ", ".join(str(p) for p in spec.places(None)) if spec.package is None else ""
    return DatasetStatus(name, found, location, spec.description, spec.how_to_get)
