"""BatchLoader: every item once per epoch, deterministic reshuffles, disjoint DDP shards, augmentation."""

import numpy as np
import pytest
import torch

from nastransfer.data import ArrayDataset, Augment, BatchLoader, make_proxy, paper_splits


def numbered(n=103, size=4):
    """Item i's pixels all equal i % 256 and its label is i % 5, so batches reveal their indices."""
    images = np.broadcast_to((np.arange(n) % 256).astype(np.uint8)[:, None, None, None], (n, 1, size, size))
    return ArrayDataset(np.ascontiguousarray(images), np.arange(n) % 5, list("abcde"), "numbered")


def seen(loader):
    out = []
    for x, y in loader:
        assert x.dtype == torch.float32 and y.dtype == torch.int64 and x.ndim == 4
        ids = torch.round(x[:, 0, 0, 0] * 255).long()
        assert torch.equal(ids % 5, y)
        out.extend(ids.tolist())
    return out


def test_each_item_once_per_epoch_and_len_counts_batches():
    loader = BatchLoader(numbered(), batch_size=10, seed=4)
    assert len(loader) == 11
    first = seen(loader)
    assert sorted(first) == list(range(103))
    assert seen(loader) == first  # same epoch, same order
    loader.set_epoch(1)
    second = seen(loader)
    assert sorted(second) == list(range(103)) and second != first
    assert BatchLoader(numbered(), batch_size=10, seed=4, drop_last=True).__len__() == 10
    assert seen(BatchLoader(numbered(), batch_size=10, shuffle=False)) == list(range(103))


@pytest.mark.parametrize("world_size", [2, 3, 4])
def test_ddp_shards_are_disjoint_equal_and_cover_all_but_the_remainder(world_size):
    shards = []
    for rank in range(world_size):
        loader = BatchLoader(numbered(), batch_size=8, seed=1, rank=rank, world_size=world_size)
        loader.set_epoch(3)
        shards.append(seen(loader))
        assert len(loader) == len(BatchLoader(numbered(), 8, rank=0, world_size=world_size))
    sizes = {len(s) for s in shards}
    assert sizes == {103 // world_size}
    union = set().union(*map(set, shards))
    assert len(union) == sum(len(s) for s in shards) == 103 - 103 % world_size


def test_views_are_batched_with_their_labels_and_resolution():
    ds = numbered(200, size=8)
    train = paper_splits(ds, seed=0).train
    assert sorted(seen(BatchLoader(train, 16))) == sorted(train.indices.tolist())
    proxy = make_proxy(ds, classes=["b", "d"], resolution=4)
    x, y = next(iter(BatchLoader(proxy, 500, shuffle=False)))
    assert x.shape == (80, 1, 4, 4) and set(y.tolist()) == {0, 1}
    assert torch.equal(y, torch.from_numpy(proxy.labels))


def test_augmented_loader_is_deterministic_by_seed_and_epoch_and_normalises():
    ds = numbered(64, size=8)
    aug = Augment(crop_padding=2, flip=True, cutout=3)

    def first_batch(seed, epoch):
        loader = BatchLoader(ds, 32, seed=seed, augment=aug)
        loader.set_epoch(epoch)
        return next(iter(loader))[0]

    assert torch.equal(first_batch(0, 0), first_batch(0, 0))
    assert not torch.equal(first_batch(0, 0), first_batch(0, 1))
    loader = BatchLoader(ds, 64, augment=Augment())
    assert loader.augment.mean == ds.mean
    x, _ = next(iter(loader))
    assert abs(x.mean().item()) < 1e-4 and abs(x.std(unbiased=False).item() - 1) < 1e-3
