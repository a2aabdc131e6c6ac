"""Small 2-D data sets to watch a network bend its decision boundary.

Each returns ``(X, y)``: X float32 (n, 2) (``make_blobs``: (n, dim)), y int64
(n,) class indices. The same ``seed`` gives the same points every time;
``noise`` is the standard deviation of Gaussian jitter added to the points.
"""
from __future__ import annotations

import numpy as np


def _check_n(n: int, name: str, minimum: int = 1) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise ValueError(f"{name}: n must be an integer >= {minimum}, got {n!r}")


def _finish(X: np.ndarray, y: np.ndarray, noise: float, generator: np.random.Generator
            ) -> tuple[np.ndarray, np.ndarray]:
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    X = X + noise * generator.standard_normal(X.shape)
    order = generator.permutation(len(X))
    return X[order].astype(np.float32), y[order].astype(np.int64)


def make_moons(n: int = 200, noise: float = 0.1, seed: int = 0
               ) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (classes 0 and 1), as scikit-learn's."""
    _check_n(n, "make_moons", 2)
    g = np.random.default_rng(seed)
    n0 = n // 2
    t0 = np.linspace(0, np.pi, n0)
    t1 = np.linspace(0, np.pi, n - n0)
    X = np.concatenate([np.stack([np.cos(t0), np.sin(t0)], 1),
                        np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], 1)])
    y = np.concatenate([np.zeros(n0), np.ones(n - n0)])
    return _finish(X, y, noise, g)


def make_circles(n: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int = 0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """A circle of class 0 around a smaller one (radius ``factor``) of class 1."""
    _check_n(n, "make_circles", 2)
    if not 0 < factor < 1:
        raise ValueError(f"make_circles: factor must be in (0, 1), got {factor}")
    g = np.random.default_rng(seed)
    n0 = n // 2
    t0 = np.linspace(0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0, 2 * np.pi, n - n0, endpoint=False)
    X = np.concatenate([np.stack([np.cos(t0), np.sin(t0)], 1),
                        factor * np.stack([np.cos(t1), np.sin(t1)], 1)])
    y = np.concatenate([np.zeros(n0), np.ones(n - n0)])
    return _finish(X, y, noise, g)


def make_spirals(n: int = 300, classes: int = 3, noise: float = 0.2, seed: int = 0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` interleaved spiral arms (CS231n's example); not linearly separable.

    ``noise`` jitters the angle (in radians) of each point along its arm.
    """
    _check_n(n, "make_spirals", classes)
    g = np.random.default_rng(seed)
    counts = [n // classes + (k < n % classes) for k in range(classes)]
    X, y = [], []
    for k, count in enumerate(counts):
        r = np.linspace(0.0, 1.0, count)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, count) + noise * g.standard_normal(count)
        X.append(np.stack([r * np.sin(t), r * np.cos(t)], 1))
        y.append(np.full(count, k))
    return _finish(np.concatenate(X), np.concatenate(y), 0.0, g)


def make_xor(n: int = 200, noise: float = 0.1, seed: int = 0
             ) -> tuple[np.ndarray, np.ndarray]:
    """Four clusters at (+-1, +-1): class 1 where the signs differ (x0 * x1 < 0).

    The classic problem a single neuron cannot solve and one hidden layer can.
    """
    _check_n(n, "make_xor", 4)
    g = np.random.default_rng(seed)
    corners = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]], dtype=np.float64)
    which = np.arange(n) % 4
    X = corners[which] * 0.5
    y = (which >= 2).astype(np.int64)
    return _finish(X, y, noise, g)


def make_blobs(n: int = 300, centers: int = 3, std: float = 1.0, dim: int = 2,
               box: float = 5.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters of spread ``std`` around ``centers`` random points in
    [-box, box]^dim; class k is the points around centre k."""
    _check_n(n, "make_blobs", centers)
    g = np.random.default_rng(seed)
    middle = g.uniform(-box, box, size=(centers, dim))
    y = np.arange(n) % centers
    return _finish(middle[y], y, std, g)
