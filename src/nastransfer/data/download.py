"""Opt-in downloads of the datasets published as plain files, each verified against its md5 checksum.

Nothing calls `download_dataset` implicitly: readers only read. A file is streamed to a temporary
name in its destination folder while its md5 is computed, and renamed into place only when the
checksum matches, so a broken or tampered download never looks like a dataset. Tar archives are
checked member by member (no absolute paths, no `..`, no links or devices) before extraction.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path, PurePosixPath

from nastransfer.atomic import atomic_writer
from nastransfer.data import cifar, idx  # noqa: F401  (the readers must be registered first)
from nastransfer.data.registry import dataset_names, dataset_spec
from nastransfer.errors import DatasetError

CHUNK = 1 << 20
TIMEOUT_S = 60


def default_destination(name: str) -> Path:
    """`$NASTRANSFER_DATA/<name>`, else `~/.cache/nastransfer/<name>`: the first places readers look."""
    base = os.environ.get("NASTRANSFER_DATA") or "~/.cache/nastransfer"
    return Path(base).expanduser() / name


def download_dataset(name: str, root: str | os.PathLike | None = None) -> Path:
    """Fetch a dataset's published files into `root` (default: `default_destination`); return their folder.

    Files (or unpacked archive folders) already present are left alone.
    """
    sources = dataset_spec(name).downloads
    if not sources:
        known = ", ".join(n for n in dataset_names() if dataset_spec(n).downloads)
        raise DatasetError(f"dataset {name!r} cannot be downloaded; downloadable: {known}")
    destination = Path(root).expanduser() if root is not None else default_destination(name)
    try:
        destination.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DatasetError(f"cannot create download folder {destination}: {err.strerror or err}") from err
    for source in sources:
        if source.archive_folder is None:
            target = destination / source.filename
            if not target.exists():
                fetch_verified(source.url, source.md5, target)
        elif not (destination / source.archive_folder).exists():
            archive = destination / source.filename
            if not archive.exists():
                fetch_verified(source.url, source.md5, archive)
            else:
                check_md5(archive, source.md5)
            extract_tar(archive, destination, source.archive_folder)
            archive.unlink()
    return dataset_spec(name).locate(destination)


def fetch_verified(url: str, md5: str, target: Path) -> None:
    """Stream `url` to a temporary file beside `target`; rename it into place only if its md5 matches."""
    try:
        digest = hashlib.md5(usedforsecurity=False)
        with (
            atomic_writer(target, suffix=".part") as out,
            urllib.request.urlopen(url, timeout=TIMEOUT_S) as response,
        ):
            while chunk := response.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
            got = digest.hexdigest()
            if got != md5:
                raise DatasetError(f"{target.name} from {url}: md5 mismatch, expected {md5}, got {got}")
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as err:
        reason = getattr(err, "reason", None) or getattr(err, "strerror", None) or err
        raise DatasetError(f"cannot download {url}: {reason}") from err


def check_md5(path: Path, md5: str) -> None:
    """A one-line DatasetError unless the file at `path` has md5 `md5`."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != md5:
        raise DatasetError(f"{path}: md5 mismatch, expected {md5}, got {digest.hexdigest()}")


def extract_tar(archive: Path, destination: Path, folder: str) -> None:
    """Unpack `archive`, whose members must all lie in `folder`, then rename `folder` into `destination`."""
    staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=destination))
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar.getmembers():
                _check_member(archive, member, folder)
            tar.extractall(staging, filter="data")
        os.replace(staging / folder, destination / folder)
    except (tarfile.TarError, OSError) as err:
        raise DatasetError(f"{archive}: cannot extract ({err})") from err
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _check_member(archive: Path, member: tarfile.TarInfo, folder: str) -> None:
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts:
        raise DatasetError(f"{archive}: refusing unsafe member {member.name!r} (absolute or '..' path)")
    if not (member.isfile() or member.isdir()):
        raise DatasetError(f"{archive}: refusing member {member.name!r} (not a plain file or folder)")
    if path.parts[:1] != (folder,):
        raise DatasetError(f"{archive}: member {member.name!r} lies outside {folder}/")
