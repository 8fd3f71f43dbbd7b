"""Every reader: on the real offline data where it exists, on small files written here in the exact
on-disk formats otherwise, and on each kind of bad file."""

import gzip
import pickle
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from nastransfer.data import BatchLoader, dataset_names, load_dataset, paper_splits
from nastransfer.errors import DatasetError

# ---------------------------------------------------------------- real data shipped with the machine


@pytest.fixture(scope="module")
def fashion():
    return load_dataset("fashion-mnist"), load_dataset("fashion-mnist", train=False)


def test_fashion_mnist_real_files(fashion):
    train, test = fashion
    assert (len(train), len(test)) == (60_000, 10_000)
    assert train.images.shape == (60_000, 1, 28, 28) and train.images.dtype == np.uint8
    assert np.bincount(train.labels).tolist() == [6000] * 10
    assert np.bincount(test.labels).tolist() == [1000] * 10
    assert train.classes[0] == "T-shirt/top" and train.num_classes == 10 and train.in_channels == 1
    image, label = train[0]
    assert image.shape == (1, 28, 28) and image.dtype == torch.uint8 and label == int(train.labels[0])
    assert 0.27 < train.mean[0] < 0.30 and 0.34 < train.std[0] < 0.37  # the published 0.286 / 0.353
    splits = paper_splits(train)
    assert [len(s) for s in splits] == [24_000, 24_000, 12_000]


def test_digits_and_mnist5k_bundled():
    digits = load_dataset("digits")
    assert len(digits) == 1797 and digits.images.shape == (1797, 1, 8, 8) and digits.image_size == 8
    assert digits.images.max() == 255 and digits.images.min() == 0
    mnist5k = load_dataset("mnist5k")
    assert len(mnist5k) == 5000 and mnist5k.images.shape[1:] == (1, 28, 28) and mnist5k.num_classes == 10
    assert np.bincount(mnist5k.labels).min() > 400
    for name in ("digits", "mnist5k"):
        with pytest.raises(DatasetError, match="has no test part"):
            load_dataset(name, train=False)


def test_registry_names():
    expected = {"fashion-mnist", "mnist", "mnist5k", "digits", "cifar10", "cifar100", "imagefolder"}
    assert set(dataset_names()) == expected | {"imagenet-downsampled"}
    with pytest.raises(DatasetError, match="unknown dataset 'svhn'"):
        load_dataset("svhn")
    with pytest.raises(DatasetError, match="'cifar10' takes no option 'image_size'; its options: none"):
        load_dataset("cifar10", image_size=16)
    with pytest.raises(DatasetError, match="its options: image_size, num_classes"):
        load_dataset("imagenet-downsampled", classes=3)


# ---------------------------------------------------------------- IDX


def idx_bytes(array: np.ndarray) -> bytes:
    return bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write_idx(folder, prefix, images, labels, gz):
    folder.mkdir(parents=True, exist_ok=True)
    for kind, array, d in (("images", images, 3), ("labels", labels, 1)):
        name = f"{prefix}-{kind}-idx{d}-ubyte"
        body = idx_bytes(array)
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(body))
        else:
            (folder / name).write_bytes(body)


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_idx_gzipped_and_plain(tmp_path, gz):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (50, 28, 28), dtype=np.uint8)
    labels = (np.arange(50) % 10).astype(np.uint8)
    write_idx(tmp_path, "train", images, labels, gz)
    write_idx(tmp_path, "t10k", images[:20], labels[:20], gz)
    train = load_dataset("mnist", root=tmp_path)
    test = load_dataset("mnist", root=tmp_path, train=False)
    assert np.array_equal(train.images[:, 0], images) and np.array_equal(train.labels, labels)
    assert len(test) == 20 and train.classes == [str(d) for d in range(10)]


@pytest.mark.parametrize(
    ("corrupt", "match"),
    [
        (lambda b: b"\x01\x02" + b[2:], "bad magic"),
        (lambda b: b[:2] + b"\x0d" + b[3:], "not unsigned byte"),
        (lambda b: b[:3] + b"\x02" + b[4:], "2 dimensions, expected 3"),
        (lambda b: b[:-100], "truncated"),
        (lambda b: b"", "bad magic empty"),
    ],
)
def test_bad_idx_files(tmp_path, corrupt, match):
    images = np.zeros((10, 28, 28), dtype=np.uint8)
    write_idx(tmp_path, "train", images, np.zeros(10, dtype=np.uint8), gz=False)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(corrupt(path.read_bytes()))
    with pytest.raises(DatasetError, match=match) as err:
        load_dataset("mnist", root=tmp_path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_idx_count_mismatch_label_range_and_bad_gzip(tmp_path):
    write_idx(tmp_path, "train", np.zeros((10, 28, 28), np.uint8), np.zeros(9, np.uint8), gz=False)
    with pytest.raises(DatasetError, match="10 images in train-images-idx3-ubyte but 9 labels"):
        load_dataset("mnist", root=tmp_path)
    write_idx(tmp_path, "train", np.zeros((10, 28, 28), np.uint8), np.full(10, 12, np.uint8), gz=False)
    with pytest.raises(DatasetError, match="label 12 at index 0 is outside 0..9"):
        load_dataset("mnist", root=tmp_path)
    broken = tmp_path / "gz"
    write_idx(broken, "train", np.zeros((10, 28, 28), np.uint8), np.zeros(10, np.uint8), gz=True)
    (broken / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(DatasetError, match="cannot read IDX file"):
        load_dataset("mnist", root=broken)


def test_missing_dataset_names_every_place(tmp_path, monkeypatch):
    monkeypatch.setenv("NASTRANSFER_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(DatasetError) as err:
        load_dataset("cifar10")
    message = str(err.value)
    assert str(tmp_path / "data" / "cifar10") in message
    assert str(tmp_path / "home/.cache/nastransfer/cifar10") in message
    assert "cifar-10-python.tar.gz" in message and "\n" not in message
    with pytest.raises(DatasetError, match=f"looked in {tmp_path / 'empty'};"):
        load_dataset("fashion-mnist", root=tmp_path / "empty")


# ---------------------------------------------------------------- CIFAR pickles


def py2_pickle(path, body):
    """Pickle the way the distributed batches read back under Python 3: bytes keys and names."""
    path.write_bytes(pickle.dumps(body, protocol=2))


def cifar_images(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 3072), dtype=np.uint8)


def write_cifar10(folder, per_batch=6):
    folder.mkdir(parents=True)
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer"]
    names += [b"dog", b"frog", b"horse", b"ship", b"truck"]
    py2_pickle(folder / "batches.meta", {b"label_names": names, b"num_cases_per_batch": per_batch})
    for i in range(1, 6):
        body = {b"data": cifar_images(per_batch, i), b"labels": [(i + j) % 10 for j in range(per_batch)]}
        py2_pickle(folder / f"data_batch_{i}", body)
    py2_pickle(folder / "test_batch", {"data": cifar_images(4, 9), "labels": [1, 2, 3, 4]})  # str keys too


def test_cifar10_pickles(tmp_path):
    write_cifar10(tmp_path / "cifar-10-batches-py")
    train = load_dataset("cifar10", root=tmp_path)
    test = load_dataset("cifar10", root=tmp_path, train=False)
    assert len(train) == 30 and len(test) == 4 and train.classes[1] == "automobile"
    first = cifar_images(6, 1)[0]
    assert np.array_equal(train.images[0, 0].reshape(-1), first[:1024])  # channel-planar rows
    assert np.array_equal(train.images[0, 2].reshape(-1), first[2048:])
    assert train.labels[:3].tolist() == [1, 2, 3] and test.labels.tolist() == [1, 2, 3, 4]


def test_cifar100_pickles_and_missing_keys(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    fine = [f"class{i}".encode() for i in range(100)]
    py2_pickle(folder / "meta", {b"fine_label_names": fine, b"coarse_label_names": [b"x"] * 20})
    body = {b"data": cifar_images(8), b"fine_labels": list(range(90, 98)), b"coarse_labels": [0] * 8}
    py2_pickle(folder / "train", body)
    py2_pickle(folder / "test", {b"data": cifar_images(2), b"labels": [0, 1]})
    train = load_dataset("cifar100", root=tmp_path)
    assert len(train) == 8 and train.num_classes == 100 and train.labels.tolist() == list(range(90, 98))
    with pytest.raises(DatasetError, match="missing key 'fine_labels'"):
        load_dataset("cifar100", root=tmp_path, train=False)
    py2_pickle(folder / "train", {b"data": cifar_images(8)[:, :100], b"fine_labels": [0] * 8})
    with pytest.raises(DatasetError, match="must be N x 3072 uint8"):
        load_dataset("cifar100", root=tmp_path)
    py2_pickle(folder / "train", {b"data": cifar_images(8), b"fine_labels": [0] * 7})
    with pytest.raises(DatasetError, match="8 images but 7 labels"):
        load_dataset("cifar100", root=tmp_path)
    py2_pickle(folder / "train", {b"data": cifar_images(2), b"fine_labels": [0, 100]})
    with pytest.raises(DatasetError, match="label 100 at index 1 is outside 0..99"):
        load_dataset("cifar100", root=tmp_path)
    (folder / "train").write_bytes(b"garbage")
    with pytest.raises(DatasetError, match="not a CIFAR pickle"):
        load_dataset("cifar100", root=tmp_path)


# ---------------------------------------------------------------- downsampled ImageNet


def write_npz(path, n, size, labels, seed=0, **extra):
    data = np.random.default_rng(seed).integers(0, 256, (n, 3 * size * size), dtype=np.uint8)
    np.savez(path, data=data, labels=np.asarray(labels), **extra)
    return data


def test_imagenet_downsampled_npz_batches(tmp_path):
    train_dir, val_dir = tmp_path / "Imagenet16_train", tmp_path / "Imagenet16_val"
    train_dir.mkdir()
    val_dir.mkdir()
    datas = [
        write_npz(train_dir / f"train_data_batch_{i}.npz", 5, 16, [1, 2, 120, 121, 1000], seed=i,
                  mean=np.zeros(768))
        for i in (1, 2, 10)
    ]
    write_npz(val_dir / "val_data.npz", 3, 16, [5, 500, 119])
    full = load_dataset("imagenet-downsampled", root=tmp_path, image_size=16)
    assert len(full) == 15 and full.num_classes == 1000 and full.image_size == 16
    assert full.labels[:5].tolist() == [0, 1, 119, 120, 999]
    assert np.array_equal(full.images[0, 1].reshape(-1), datas[0][0, 256:512])
    assert np.array_equal(full.images[-5:].reshape(5, -1), datas[2])  # batch 10 after batch 2
    in120 = load_dataset("imagenet-downsampled", root=tmp_path, image_size=16, num_classes=120)
    assert len(in120) == 9 and in120.num_classes == 120 and in120.name == "imagenet-downsampled-120"
    val = load_dataset("imagenet-downsampled", root=tmp_path, train=False, image_size=16, num_classes=120)
    assert val.labels.tolist() == [4, 118]
    with pytest.raises(DatasetError, match="not found"):
        load_dataset("imagenet-downsampled", root=tmp_path, image_size=32)


def test_imagenet_downsampled_bad_batches(tmp_path):
    np.savez(tmp_path / "val_data.npz", images=np.zeros((2, 768), np.uint8), y=[1, 2])
    with pytest.raises(DatasetError, match="needs fields 'data' and 'labels', has images, y"):
        load_dataset("imagenet-downsampled", root=tmp_path, train=False, image_size=16)
    write_npz(tmp_path / "val_data.npz", 2, 8, [1, 2])
    with pytest.raises(DatasetError, match="must be N x 768 uint8 for 16px"):
        load_dataset("imagenet-downsampled", root=tmp_path, train=False, image_size=16)
    write_npz(tmp_path / "val_data.npz", 2, 16, [0, 2])
    with pytest.raises(DatasetError, match=r"labels must be integers in 1..1000 \(1-based\)"):
        load_dataset("imagenet-downsampled", root=tmp_path, train=False, image_size=16)
    write_npz(tmp_path / "val_data.npz", 2, 16, [1])
    with pytest.raises(DatasetError, match="2 images but 1 labels"):
        load_dataset("imagenet-downsampled", root=tmp_path, train=False, image_size=16)
    (tmp_path / "val_data.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(DatasetError, match="not a readable npz batch"):
        load_dataset("imagenet-downsampled", root=tmp_path, train=False, image_size=16)
    with pytest.raises(DatasetError, match="image_size must be one of"):
        load_dataset("imagenet-downsampled", root=tmp_path, image_size=24)


# ---------------------------------------------------------------- image folders


def write_folder(root, counts=(3, 2), size=(40, 30)):
    rng = np.random.default_rng(0)
    for c, n in enumerate(counts):
        (root / f"class{c}").mkdir(parents=True)
        for i in range(n):
            pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
            suffix, mode = (".JPEG", "RGB") if i % 2 == 0 else (".png", "L")
            Image.fromarray(pixels).convert(mode).save(root / f"class{c}" / f"img{i}{suffix}")


def test_imagefolder_decodes_jpeg_and_png_lazily(tmp_path):
    write_folder(tmp_path / "flowers")
    (tmp_path / "flowers" / "class0" / "notes.txt").write_text("not an image")
    ds = load_dataset("imagefolder", root=tmp_path / "flowers", image_size=16)
    assert ds.name == "flowers" and ds.classes == ["class0", "class1"] and len(ds) == 5
    assert ds.labels.tolist() == [0, 0, 0, 1, 1] and ds.mean == (0.485, 0.456, 0.406)
    for i in range(len(ds)):
        image, label = ds[i]
        assert image.shape == (3, 16, 16) and image.dtype == torch.uint8 and label == ds.labels[i]
    grey, _ = ds[1]  # the PNG was written in mode L: three equal channels
    assert torch.equal(grey[0], grey[1]) and torch.equal(grey[1], grey[2])
    batches = list(BatchLoader(ds, batch_size=2, shuffle=False))
    assert [tuple(x.shape) for x, _ in batches] == [(2, 3, 16, 16), (2, 3, 16, 16), (1, 3, 16, 16)]
    with pytest.raises(DatasetError, match="no test part"):
        load_dataset("imagefolder", root=tmp_path / "flowers", train=False)


def test_imagefolder_train_val_layout(tmp_path):
    write_folder(tmp_path / "in" / "train", counts=(2, 2, 1))
    write_folder(tmp_path / "in" / "val", counts=(1, 1, 1))
    assert len(load_dataset("imagefolder", root=tmp_path / "in", image_size=8)) == 5
    val = load_dataset("imagefolder", root=tmp_path / "in", train=False, image_size=8)
    assert len(val) == 3 and val.num_classes == 3


def test_study_data_spec_of_an_imagefolder_with_a_name_option(tmp_path):
    """A study's image-folder source or target with `options = { name = ... }` (the GPU configs')."""
    from nastransfer.study.driver.tasks import canonical_json
    from nastransfer.study.worker.body import load_data

    write_folder(tmp_path / "in" / "train", counts=(2, 2, 1))
    write_folder(tmp_path / "in" / "val", counts=(1, 1, 1))
    options = {"image_size": 8, "name": "imagenet"}
    spec = {"kind": "dataset", "dataset": "imagefolder", "root": str(tmp_path / "in"), "options": options}
    dataset = load_data(canonical_json(spec))
    assert dataset.name == "imagenet" and len(dataset) == 5 and dataset[0][0].shape == (3, 8, 8)
    proxy = load_data(canonical_json(_proxy_of(spec)))
    assert proxy.num_classes == 2 and proxy.image_size == 4


def test_official_split_reads_its_files_with_the_target_options(tmp_path):
    """A target trained on its own train/val files keeps its reader options (here the image size
    and display name an image folder needs), which this path must pass on to the reader."""
    from nastransfer.train import get_protocol
    from nastransfer.train.evaluator import prepare_data

    write_folder(tmp_path / "in" / "train", counts=(2, 2, 1))
    write_folder(tmp_path / "in" / "val", counts=(1, 1, 1))
    protocol = get_protocol("cpu-mini", split="official")
    options = {"image_size": 8, "name": "imagenet"}
    train, test = prepare_data("imagefolder", protocol, tmp_path / "in", options)
    assert (len(train), len(test)) == (5, 3) and train.name == test.name == "imagenet"
    assert train[0][0].shape == test[0][0].shape == (3, 8, 8)


def _proxy_of(spec):
    options = {"classes": 2, "per_class": None, "fraction": None, "resolution": 4, "seed": 0}
    return {"kind": "proxy", "of": spec, **options}


@pytest.mark.parametrize("num_workers", [0, 1])
def test_undecodable_image_names_the_file(tmp_path, num_workers):
    write_folder(tmp_path / "bad", counts=(2, 1))
    broken = tmp_path / "bad" / "class1" / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    ds = load_dataset("imagefolder", root=tmp_path / "bad", image_size=8)
    with pytest.raises(DatasetError) as err:
        list(BatchLoader(ds, batch_size=4, shuffle=False, num_workers=num_workers))
    assert str(broken) in str(err.value) and "cannot decode image" in str(err.value)
    assert "\n" not in str(err.value)


def test_empty_image_folder(tmp_path):
    (tmp_path / "x" / "a").mkdir(parents=True)
    with pytest.raises(DatasetError, match="hold no images"):
        load_dataset("imagefolder", root=tmp_path / "x")


class _RunsCode:
    """Unpickling this would call `os.system`: a batch carrying it must be refused, not run."""

    def __reduce__(self):
        import os

        return (os.system, ("echo unpickled",))


def test_cifar_batch_carrying_code_is_refused(tmp_path):
    write_cifar10(tmp_path / "cifar-10-batches-py")
    body = {b"data": cifar_images(6, 1), b"labels": [0] * 6, b"extra": _RunsCode()}
    py2_pickle(tmp_path / "cifar-10-batches-py" / "data_batch_1", body)
    with pytest.raises(DatasetError, match=r"data_batch_1: refuses the pickled global (posix|os)\.system"):
        load_dataset("cifar10", root=tmp_path)
