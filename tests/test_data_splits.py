"""Stratified 40/40/20 splits: disjoint, covering, within one sample per class, fixed by seed."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nastransfer.data import ArrayDataset, Subset, paper_splits, three_way_split
from nastransfer.errors import DatasetError

label_arrays = st.lists(st.integers(0, 6), min_size=0, max_size=400).map(np.array)
fraction_triples = st.tuples(st.integers(0, 10), st.integers(0, 10), st.integers(1, 10)).map(
    lambda t: tuple(x / sum(t) for x in t)
)


@settings(max_examples=150, deadline=None)
@given(labels=label_arrays, fractions=fraction_triples, seed=st.integers(0, 2**31))
def test_split_is_a_stratified_partition(labels, fractions, seed):
    parts = three_way_split(labels, fractions, seed)
    joined = np.concatenate(parts)
    assert sorted(joined.tolist()) == list(range(len(labels)))  # disjoint and covering
    for cls in np.unique(labels):
        n = int((labels == cls).sum())
        for part, fraction in zip(parts, fractions, strict=True):
            assert abs(int((labels[part] == cls).sum()) - fraction * n) < 1.0
    again = three_way_split(labels, fractions, seed)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again, strict=True))


def test_split_depends_on_seed_and_is_balanced():
    labels = np.repeat(np.arange(10), 100)
    a = three_way_split(labels, seed=0)
    b = three_way_split(labels, seed=1)
    assert [len(p) for p in a] == [400, 400, 200]
    assert not np.array_equal(a[0], b[0])
    assert np.bincount(labels[a[2]]).tolist() == [20] * 10


@pytest.mark.parametrize("fractions", [(0.5, 0.5, 0.5), (0.4, 0.4), (-0.2, 1.0, 0.2)])
def test_bad_fractions_raise(fractions):
    with pytest.raises(DatasetError, match="fractions"):
        three_way_split(np.zeros(10, dtype=int), fractions)


def test_paper_splits_are_views_with_all_attributes():
    rng = np.random.default_rng(0)
    ds = ArrayDataset(rng.integers(0, 256, (300, 3, 8, 8), dtype=np.uint8), np.arange(300) % 3, "abc", "toy")
    splits = paper_splits(ds, seed=3)
    assert [len(s) for s in splits] == [120, 120, 60]
    for part in splits:
        assert isinstance(part, Subset)
        assert (part.num_classes, part.in_channels, part.image_size) == (3, 3, 8)
        assert part.classes == ["a", "b", "c"]
        assert np.array_equal(part.images, ds.images[part.indices])
        assert np.array_equal(part.labels, ds.labels[part.indices])
        assert part.mean == ds.mean
    train_val = splits.train_val
    assert len(train_val) == 240 and not set(train_val.indices) & set(splits.test.indices)


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_subset_of_subset_flattens_to_root_indices(data):
    rng = np.random.default_rng(0)
    ds = ArrayDataset(rng.integers(0, 256, (50, 1, 4, 4), dtype=np.uint8), np.arange(50) % 4, "wxyz", "toy")
    outer_idx = data.draw(st.lists(st.integers(0, 49), max_size=30))
    outer = Subset(ds, outer_idx)
    top = max(len(outer_idx) - 1, 0)
    inner_idx = data.draw(st.lists(st.integers(0, top), max_size=20)) if outer_idx else []
    inner = Subset(outer, inner_idx)
    expected = np.asarray(outer_idx, dtype=np.int64)[np.asarray(inner_idx, dtype=np.int64)]
    assert inner.dataset is ds and np.array_equal(inner.indices, expected)
    assert np.array_equal(inner.images, ds.images[expected])
    assert np.array_equal(inner.labels, ds.labels[expected])


def test_subset_index_out_of_range():
    ds = ArrayDataset(np.zeros((5, 1, 2, 2), np.uint8), np.zeros(5, int), ["a"], "toy")
    with pytest.raises(DatasetError, match="subset index out of range 0..4"):
        Subset(ds, [5])
