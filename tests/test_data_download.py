"""Checksum-verified downloads, served from file:// URLs of small files in the exact published formats."""

import gzip
import hashlib
import io
import pickle
import struct
import tarfile
from dataclasses import replace

import numpy as np
import pytest

from nastransfer.cli.main import main
from nastransfer.data import DATASETS, Source, dataset_status, download_dataset, load_dataset
from nastransfer.errors import DatasetError


@pytest.fixture
def downloads_from():
    """`downloads_from(name, sources)`: dataset `name` downloads from `sources` until the test ends."""
    swapped = []

    def swap(name: str, sources: tuple[Source, ...]) -> None:
        spec = DATASETS.get(name)
        DATASETS.remove(name)
        DATASETS.add(name, replace(spec, downloads=sources))
        swapped.append(spec)

    yield swap
    for spec in swapped:
        DATASETS.remove(spec.name)
        DATASETS.add(spec.name, spec)


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def serve(folder, name: str, data: bytes, archive_folder=None) -> Source:
    """Write `data` as `folder/name` and describe it as a published source."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return Source((folder / name).as_uri(), md5(data), archive_folder)


def idx_bytes(array: np.ndarray) -> bytes:
    return bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def mnist_sources(folder) -> tuple[Source, ...]:
    rng = np.random.default_rng(0)
    sources = []
    for part, count in (("train", 20), ("t10k", 8)):
        images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        labels = (np.arange(count) % 10).astype(np.uint8)
        for stem, array in ((f"{part}-images-idx3-ubyte", images), (f"{part}-labels-idx1-ubyte", labels)):
            sources.append(serve(folder, stem + ".gz", gzip.compress(idx_bytes(array))))
    return tuple(sources)


def tar_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


def cifar10_archive() -> bytes:
    """A CIFAR-10 python archive: five training batches of 4 images, a test batch of 3, batches.meta."""
    rng = np.random.default_rng(1)

    def batch(count: int) -> bytes:
        data = rng.integers(0, 256, (count, 3072), dtype=np.uint8)
        return pickle.dumps({b"data": data, b"labels": list(range(count)), b"batch_label": b"x"}, protocol=2)

    members = {f"cifar-10-batches-py/data_batch_{i}": batch(4) for i in range(1, 6)}
    members["cifar-10-batches-py/test_batch"] = batch(3)
    names = [n.encode() for n in ("airplane", "automobile", "bird", "cat", "deer")]
    names += [n.encode() for n in ("dog", "frog", "horse", "ship", "truck")]
    members["cifar-10-batches-py/batches.meta"] = pickle.dumps({b"label_names": names}, protocol=2)
    return tar_bytes(members)


def test_idx_download_then_load_and_skip(tmp_path, downloads_from):
    downloads_from("mnist", mnist_sources(tmp_path / "server"))
    folder = download_dataset("mnist", root=tmp_path / "data")
    assert folder == tmp_path / "data"
    train, test = load_dataset("mnist", root=folder), load_dataset("mnist", root=folder, train=False)
    assert train.images.shape == (20, 1, 28, 28) and len(test) == 8 and train.labels[:3].tolist() == [0, 1, 2]
    assert not list(folder.glob(".*"))  # no temporary files left
    stamps = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert download_dataset("mnist", root=folder) == folder
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == stamps


def test_cifar10_archive_download_extract_load(tmp_path, monkeypatch, downloads_from):
    source = serve(tmp_path / "server", "cifar-10-python.tar.gz", cifar10_archive(), "cifar-10-batches-py")
    downloads_from("cifar10", (source,))
    monkeypatch.setenv("NASTRANSFER_DATA", str(tmp_path / "data"))
    folder = download_dataset("cifar10")
    assert folder == tmp_path / "data" / "cifar10" / "cifar-10-batches-py"
    assert sorted(p.name for p in folder.parent.iterdir()) == ["cifar-10-batches-py"]  # archive removed
    train, test = load_dataset("cifar10"), load_dataset("cifar10", train=False)
    assert train.images.shape == (20, 3, 32, 32) and len(test) == 3 and train.classes[9] == "truck"
    stamp = (folder / "data_batch_1").stat().st_mtime_ns
    download_dataset("cifar10")
    assert (folder / "data_batch_1").stat().st_mtime_ns == stamp


def test_checksum_mismatch_leaves_nothing(tmp_path, downloads_from):
    good = mnist_sources(tmp_path / "server")
    bad = Source(good[0].url, "0" * 32)
    downloads_from("mnist", (bad, *good[1:]))
    expected = f"train-images-idx3-ubyte.gz .*expected 0{{32}}, got {good[0].md5}"
    with pytest.raises(DatasetError, match=expected):
        download_dataset("mnist", root=tmp_path / "data")
    assert list((tmp_path / "data").iterdir()) == []


@pytest.mark.parametrize("member", ["cifar-10-batches-py/../evil", "/tmp/evil", "elsewhere/data_batch_1"])
def test_unsafe_archive_member_refused(tmp_path, member, downloads_from):
    archive = tar_bytes({"cifar-10-batches-py/batches.meta": b"x", member: b"evil"})
    source = serve(tmp_path / "server", "cifar-10-python.tar.gz", archive, "cifar-10-batches-py")
    downloads_from("cifar10", (source,))
    with pytest.raises(DatasetError, match="refusing unsafe member|outside cifar-10-batches-py"):
        download_dataset("cifar10", root=tmp_path / "data")
    assert not (tmp_path / "evil").exists() and not (tmp_path / "data" / "cifar-10-batches-py").exists()
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["cifar-10-python.tar.gz"]  # verified, kept


def test_network_error_and_unknown_name(tmp_path, downloads_from):
    missing = (tmp_path / "nowhere.gz").as_uri()
    downloads_from("mnist", (Source(missing, "0" * 32),))
    with pytest.raises(DatasetError, match=f"cannot download {missing}: ") as caught:
        download_dataset("mnist", root=tmp_path / "data")
    assert "\n" not in str(caught.value) and list((tmp_path / "data").iterdir()) == []
    with pytest.raises(DatasetError, match="'digits' cannot be downloaded; downloadable: cifar10, cifar100"):
        download_dataset("digits")


def test_cli_download_and_hint(tmp_path, capsys, downloads_from):
    downloads_from("mnist", mnist_sources(tmp_path / "server"))
    assert main(["datasets", "--download", "mnist", "--root", str(tmp_path / "data")]) == 0
    assert f"mnist: files in {tmp_path / 'data'}" in capsys.readouterr().out
    assert main(["datasets", "--download", "imagefolder"]) == 2
    assert "cannot be downloaded" in capsys.readouterr().err
    assert main(["datasets", "mnist", "--root", str(tmp_path)]) == 2
    for name in ("mnist", "fashion-mnist", "cifar10", "cifar100"):
        assert f"nastransfer datasets --download {name}" in dataset_status(name).how_to_get
    assert "--download" not in dataset_status("digits").how_to_get
