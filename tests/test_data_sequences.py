"""Sequence tasks: shapes, dtypes, that targets follow from inputs, determinism."""
from __future__ import annotations

import numpy as np
import pytest

from dlcore.data import adding_problem, copy_task, sine_waves


def test_adding_problem_targets_are_the_marked_sum():
    X, y = adding_problem(100, length=30, seed=0)
    assert X.shape == (100, 30, 2) and X.dtype == np.float32
    assert y.shape == (100, 1) and y.dtype == np.float32
    markers = X[:, :, 1]
    assert np.all(markers.sum(1) == 2)
    assert np.all(markers[:, :15].sum(1) == 1)  # one mark in each half
    assert np.allclose((X[:, :, 0] * markers).sum(1), y[:, 0], atol=1e-6)
    assert 0 <= X[:, :, 0].min() and X[:, :, 0].max() <= 1
    X2, _ = adding_problem(100, length=30, seed=0)
    assert np.array_equal(X, X2)
    assert not np.array_equal(X, adding_problem(100, length=30, seed=1)[0])


def test_copy_task_output_repeats_input():
    X, y = copy_task(20, length=4, n_symbols=5, delay=6, seed=0)
    T = 2 * 4 + 6
    assert X.shape == (20, T, 7) and X.dtype == np.float32
    assert y.shape == (20, T) and y.dtype == np.int64
    assert np.all(X.sum(2) == 1)  # one-hot
    tokens = X.argmax(2)
    assert np.array_equal(y[:, -4:], tokens[:, :4])
    assert np.all(y[:, :-4] == 0) and np.all(tokens[:, 4 + 6 - 1] == 1)
    assert tokens[:, :4].min() >= 2


def test_sine_waves_next_step():
    X, y = sine_waves(50, window=16, noise=0.0, seed=0)
    assert X.shape == (50, 16, 1) and y.shape == (50, 1)
    assert X.dtype == np.float32 and np.abs(X).max() <= 1
    # A pure sine obeys x[t+1] = 2 cos(w) x[t] - x[t-1]; check it is smooth.
    assert np.abs(np.diff(X[:, :, 0], axis=1)).max() < 0.6
    assert np.abs(y[:, 0] - X[:, -1, 0]).max() < 0.6


def test_bad_arguments():
    with pytest.raises(ValueError):
        adding_problem(10, length=1)
    with pytest.raises(ValueError):
        copy_task(0)
    with pytest.raises(ValueError):
        sine_waves(10, window=0)
