"""TensorDataset and DataLoader: lengths, order, seeds, drop_last, transform."""
from __future__ import annotations

import numpy as np
import pytest

import dlcore
from dlcore.data import DataLoader, TensorDataset


def make(n=10):
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return TensorDataset(X, y)


def order_of(loader):
    return np.concatenate([yb for _, yb in loader])


def test_tensor_dataset_indexing_and_len():
    ds = make(10)
    assert len(ds) == 10
    x, y = ds[3]
    assert np.array_equal(x, [9, 10, 11]) and y == 3
    xb, yb = ds[np.array([1, 4])]
    assert xb.shape == (2, 3) and list(yb) == [1, 4]
    assert "10 samples" in repr(ds)


def test_tensor_dataset_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="same number of samples"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError):
        TensorDataset()


@pytest.mark.parametrize("n, batch_size, drop_last, expected", [
    (10, 3, False, 4), (10, 3, True, 3), (9, 3, True, 3), (9, 3, False, 3), (2, 5, True, 0),
])
def test_len_is_number_of_batches(n, batch_size, drop_last, expected):
    loader = DataLoader(make(n), batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == expected
    batches = list(loader)
    assert len(batches) == expected
    sizes = [len(yb) for _, yb in batches]
    if drop_last:
        assert all(s == batch_size for s in sizes)
    else:
        assert sum(sizes) == n


def test_no_shuffle_keeps_order_and_pairs():
    loader = DataLoader(make(10), batch_size=4)
    for xb, yb in loader:
        assert np.array_equal(xb[:, 0], yb * 3)  # rows stay paired with labels
    assert list(order_of(loader)) == list(range(10))


def test_shuffle_is_a_permutation_and_changes_between_epochs():
    loader = DataLoader(make(50), batch_size=7, shuffle=True, seed=3)
    first, second = order_of(loader), order_of(loader)
    assert sorted(first) == list(range(50))
    assert not np.array_equal(first, second)
    for xb, yb in loader:
        assert np.array_equal(xb[:, 0], yb * 3)


def test_same_seed_same_orders_different_seed_different_orders():
    a = DataLoader(make(50), batch_size=8, shuffle=True, seed=1)
    b = DataLoader(make(50), batch_size=8, shuffle=True, seed=1)
    c = DataLoader(make(50), batch_size=8, shuffle=True, seed=2)
    for _ in range(2):  # epoch after epoch
        oa, ob, oc = order_of(a), order_of(b), order_of(c)
        assert np.array_equal(oa, ob)
        assert not np.array_equal(oa, oc)


def test_seed_none_follows_manual_seed():
    dlcore.manual_seed(5)
    first = order_of(DataLoader(make(40), batch_size=8, shuffle=True))
    dlcore.manual_seed(5)
    again = order_of(DataLoader(make(40), batch_size=8, shuffle=True))
    dlcore.manual_seed(6)
    other = order_of(DataLoader(make(40), batch_size=8, shuffle=True))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_generic_indexable_dataset_is_stacked():
    class Squares:
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.array([i, i * i], dtype=np.float32), i

    batches = list(DataLoader(Squares(), batch_size=2))
    assert len(batches) == 3
    xb, yb = batches[1]
    assert xb.shape == (2, 2) and list(yb) == [2, 3]
    assert np.array_equal(xb[:, 1], [4, 9])


def test_transform_applies_to_inputs_only():
    loader = DataLoader(make(6), batch_size=3, transform=lambda X: -X)
    xb, yb = next(iter(loader))
    assert np.array_equal(xb[:, 0], -(yb * 3)) and yb.min() >= 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(make(), batch_size=0)
    with pytest.raises(TypeError, match="__len__"):
        DataLoader(42)


def test_one_fancy_index_per_batch_not_one_per_sample():
    class Counting(TensorDataset):
        calls = 0

        def __getitem__(self, index):
            Counting.calls += 1
            return super().__getitem__(index)

    X = np.zeros((1000, 64), dtype=np.float32)
    loader = DataLoader(Counting(X, np.zeros(1000, dtype=np.int64)), 32, shuffle=True, seed=0)
    assert sum(len(xb) for xb, _ in loader) == 1000
    assert Counting.calls == len(loader) == 32
