"""Splits: sizes, no overlap, stratification, determinism; normalisation on train only."""
from __future__ import annotations

import numpy as np
import pytest

from dlcore.data import DataLoader, Standardizer, split_indices, standardize, train_val_test_split


def test_split_indices_disjoint_and_complete():
    tr, va, te = split_indices(100, 0.1, 0.2, seed=0)
    assert (len(tr), len(va), len(te)) == (70, 10, 20)
    allidx = np.concatenate([tr, va, te])
    assert sorted(allidx) == list(range(100))


def test_split_is_seeded():
    a = split_indices(100, seed=1)
    b = split_indices(100, seed=1)
    c = split_indices(100, seed=2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[2], c[2])


def test_stratified_split_keeps_class_proportions():
    y = np.repeat(np.arange(4), [10, 20, 30, 40]).astype(np.int64)
    X = np.arange(100, dtype=np.float32)[:, None]
    s = train_val_test_split(X, y, 0.1, 0.2, seed=0)
    assert list(np.bincount(s.y_test)) == [2, 4, 6, 8]
    assert list(np.bincount(s.y_val)) == [1, 2, 3, 4]
    assert np.all(y[s.X_test[:, 0].astype(int)] == s.y_test)  # rows follow their labels


def test_bad_sizes():
    with pytest.raises(ValueError, match="val_size"):
        split_indices(10, val_size=1.5)
    with pytest.raises(ValueError, match="leave some training"):
        split_indices(10, 0.5, 0.5)


def test_standardizer_uses_train_statistics():
    rng = np.random.default_rng(0)
    X_train = rng.normal(5.0, 2.0, size=(500, 3)).astype(np.float32)
    X_test = rng.normal(0.0, 1.0, size=(100, 3)).astype(np.float32)
    scaler = Standardizer().fit(X_train)
    Z = scaler.transform(X_train)
    assert Z.dtype == np.float32
    assert np.allclose(Z.mean(0), 0, atol=1e-5) and np.allclose(Z.std(0), 1, atol=1e-4)
    # The test set is moved with the training statistics, not its own.
    assert np.allclose(scaler.transform(X_test).mean(0), (X_test.mean(0) - X_train.mean(0))
                       / X_train.std(0), atol=1e-4)
    assert np.allclose(scaler.inverse_transform(Z), X_train, atol=1e-4)


def test_standardizer_per_channel_and_constant_features():
    X = np.random.default_rng(0).random((10, 3, 4, 4)).astype(np.float32)
    X[:, 2] = 7.0
    Z = Standardizer(axis=(0, 2, 3)).fit_transform(X)
    assert np.allclose(Z[:, :2].mean(axis=(0, 2, 3)), 0, atol=1e-5)
    assert np.all(np.isfinite(Z)) and np.allclose(Z[:, 2], 0)
    with pytest.raises(RuntimeError, match="fit"):
        Standardizer().transform(X)


def test_splits_helpers():
    X = np.random.default_rng(0).normal(3, 2, size=(200, 4)).astype(np.float32)
    y = (np.arange(200) % 2).astype(np.int64)
    s = standardize(train_val_test_split(X, y, seed=0))
    assert abs(s.X_train.mean()) < 1e-5 and abs(s.X_test.mean()) > 1e-4
    tr, va, te = s.loaders(batch_size=16, seed=0)
    assert isinstance(tr, DataLoader) and tr.shuffle and not va.shuffle
    assert len(tr) == -(-len(s.X_train) // 16)
    assert len(s.train) == len(s.y_train) and "train" in repr(s)
