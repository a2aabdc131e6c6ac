"""Toy 2-D data sets: shapes, dtypes, classes, determinism."""
from __future__ import annotations

import numpy as np
import pytest

from dlcore.data import make_blobs, make_circles, make_moons, make_spirals, make_xor

MAKERS = [(make_moons, 2), (make_circles, 2), (make_spirals, 3), (make_xor, 2),
          (make_blobs, 3)]


@pytest.mark.parametrize("make, classes", MAKERS)
def test_shapes_dtypes_classes(make, classes):
    X, y = make(n=120, seed=0)
    assert X.shape == (120, 2) and X.dtype == np.float32
    assert y.shape == (120,) and y.dtype == np.int64
    counts = np.bincount(y)
    assert len(counts) == classes and counts.min() >= 120 // classes - 1
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("make, classes", MAKERS)
def test_seeded(make, classes):
    X1, y1 = make(n=60, seed=1)
    X2, y2 = make(n=60, seed=1)
    X3, _ = make(n=60, seed=2)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_geometry():
    X, y = make_circles(n=200, noise=0.0, factor=0.5)
    r = np.linalg.norm(X, axis=1)
    assert np.allclose(r[y == 0], 1.0, atol=1e-5) and np.allclose(r[y == 1], 0.5, atol=1e-5)
    X, y = make_xor(n=200, noise=0.0)
    assert np.array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(np.int64))
    X, y = make_blobs(n=300, centers=4, dim=5, std=0.1)
    assert X.shape == (300, 5) and len(np.unique(y)) == 4


def test_bad_arguments():
    with pytest.raises(ValueError, match="n must be"):
        make_moons(n=0)
    with pytest.raises(ValueError, match="noise"):
        make_moons(noise=-1)
    with pytest.raises(ValueError, match="factor"):
        make_circles(factor=2)
