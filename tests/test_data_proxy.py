"""Proxy sets: class and image selection, label remapping, resolution, manifests, composition."""

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nastransfer.data import ArrayDataset, ProxyManifest, make_proxy, paper_splits
from nastransfer.errors import DatasetError


def toy(n_per_class=(30, 20, 25, 40, 10), size=12, name="toy"):
    labels = np.repeat(np.arange(len(n_per_class)), n_per_class)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (len(labels), 3, size, size), dtype=np.uint8)
    return ArrayDataset(images, labels, [f"c{i}" for i in range(len(n_per_class))], name)


DATA = toy()


@settings(max_examples=60, deadline=None)
@given(k=st.integers(1, 5), per_class=st.integers(1, 10), seed=st.integers(0, 10_000))
def test_proxy_keeps_k_classes_with_per_class_images(k, per_class, seed):
    proxy = make_proxy(DATA, classes=k, per_class=per_class, seed=seed)
    assert proxy.num_classes == k and len(proxy) == k * per_class
    assert np.bincount(proxy.labels, minlength=k).tolist() == [per_class] * k
    for new, root in enumerate(proxy.manifest.class_ids):  # remapping is consistent with the root labels
        assert (DATA.labels[proxy.indices[proxy.labels == new]] == root).all()
        assert proxy.classes[new] == DATA.classes[root]
    assert len(set(proxy.indices.tolist())) == len(proxy)
    assert make_proxy(DATA, classes=k, per_class=per_class, seed=seed).manifest.hash == proxy.manifest.hash


@settings(max_examples=60, deadline=None)
@given(fraction=st.floats(0.05, 1.0), seed=st.integers(0, 10_000))
def test_fraction_takes_that_share_of_each_class(fraction, seed):
    proxy = make_proxy(DATA, fraction=fraction, seed=seed)
    counts = np.bincount(proxy.labels, minlength=5)
    for count, n in zip(counts, (30, 20, 25, 40, 10), strict=True):
        assert count == max(1, round(fraction * n))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), k1=st.integers(2, 5), k2=st.integers(1, 2))
def test_proxy_of_proxy_composes_to_root_indices(seed, k1, k2):
    outer = make_proxy(DATA, classes=k1, fraction=0.5, seed=seed)
    inner = make_proxy(outer, classes=k2, per_class=3, resolution=6, seed=seed + 1)
    assert set(inner.indices) <= set(outer.indices)
    rebuilt = inner.manifest.apply(DATA)
    assert np.array_equal(rebuilt.indices, inner.indices) and np.array_equal(rebuilt.labels, inner.labels)
    for i in range(len(inner)):
        image, label = inner[i]
        root_label = DATA.labels[inner.indices[i]]
        assert inner.manifest.class_ids[label] == root_label
        assert image.shape == (3, 6, 6)


def test_named_classes_keep_given_order_and_resize():
    proxy = make_proxy(DATA, classes=["c3", "c0"], resolution=6)
    assert proxy.classes == ["c3", "c0"] and proxy.image_size == 6
    images, labels = proxy.get_batch(np.arange(len(proxy)))
    assert images.shape == (70, 3, 6, 6) and images.dtype == torch.uint8
    assert labels.tolist() == [1] * 30 + [0] * 40  # root order of indices, new labels
    assert np.array_equal(proxy.images, images.numpy())


def test_proxy_of_a_split_refers_to_the_root():
    train = paper_splits(DATA, seed=0).train
    proxy = make_proxy(train, classes=2, per_class=4, seed=5)
    assert set(proxy.indices) <= set(train.indices)
    assert proxy.manifest.source_size == len(DATA)


def test_manifest_round_trip_and_tamper(tmp_path):
    proxy = make_proxy(DATA, classes=3, per_class=5, resolution=8, seed=2)
    path = tmp_path / "proxy.json"
    proxy.manifest.save(path)
    loaded = ProxyManifest.load(path)
    assert loaded == proxy.manifest and loaded.hash == proxy.manifest.hash
    body = json.loads(path.read_text())
    body["indices"][0] += 1
    path.write_text(json.dumps(body))
    with pytest.raises(DatasetError, match="hash does not match"):
        ProxyManifest.load(path)
    path.write_text("{not json")
    with pytest.raises(DatasetError, match="not a proxy manifest"):
        ProxyManifest.load(path)
    with pytest.raises(DatasetError, match="was cut from"):
        proxy.manifest.apply(toy(name="other"))
    relabelled = toy()
    relabelled._labels = relabelled.labels[::-1].copy()  # same name and size, other labels
    with pytest.raises(DatasetError, match="labels differ"):
        proxy.manifest.apply(relabelled)
    with pytest.raises(DatasetError, match="a view"):
        proxy.manifest.apply(proxy)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"classes": 6}, "cannot keep 6 classes"),
        ({"classes": 0}, "cannot keep 0 classes"),
        ({"fraction": 0.0}, r"fraction must be in \(0, 1\]"),
        ({"fraction": 1.5}, r"fraction must be in \(0, 1\]"),
        ({"per_class": 11}, "class 'c4' has only 10 images"),
        ({"classes": ["c1", "nope"]}, "unknown class 'nope'"),
        ({"per_class": 2, "fraction": 0.5}, "not both"),
    ],
)
def test_impossible_proxies_raise(kwargs, match):
    with pytest.raises(DatasetError, match=match):
        make_proxy(DATA, **kwargs)
