"""Printed digits: shapes, ranges, balance, determinism, speed, the 8x8 look."""
from __future__ import annotations

import time

import numpy as np
import pytest

from dlcore.data import FONTS, load_digits, load_printed_digits, printed_digits
from dlcore.data.printed import _glyph


def test_shapes_dtypes_range_balance():
    X, y = printed_digits(200, seed=0)
    assert X.shape == (200, 1, 28, 28) and X.dtype == np.float32
    assert y.shape == (200,) and y.dtype == np.int64
    assert X.min() >= 0 and X.max() <= 1
    assert list(np.bincount(y)) == [20] * 10
    # Ink in the middle, background near the border.
    assert X[:, 0, 10:18, 10:18].mean() > 3 * X[:, 0, :2, :].mean()


def test_seeded_and_cached_copies():
    X1, y1 = printed_digits(100, seed=3)
    X1[:] = 0  # the caller's copy; the cache must not change
    X2, y2 = printed_digits(100, seed=3)
    X3, _ = printed_digits(100, seed=4)
    assert X2.max() > 0 and np.array_equal(y1, y2)
    assert not np.array_equal(X2, X3)


def test_every_font_draws_every_digit_differently():
    for font in FONTS:
        glyphs = [_glyph(font, d) for d in range(10)]
        assert all(g.shape == (64, 64) and 0.05 < g.mean() < 0.6 for g in glyphs), font
        assert len({g.tobytes() for g in glyphs}) == 10
    with pytest.raises(ValueError, match="font"):
        _glyph("ComicSans", 1)


def test_thousands_of_images_in_seconds():
    start = time.perf_counter()
    X, _ = printed_digits(3000, seed=123)
    assert len(X) == 3000
    assert time.perf_counter() - start < 5.0


def test_8x8_matches_sklearn_digits_layout_and_scale():
    X8, _ = printed_digits(300, size=8, seed=0)
    assert X8.shape == (300, 1, 8, 8)
    assert np.allclose(X8 * 16, np.round(X8 * 16))  # counts 0..16, divided by 16
    real = load_digits().X_train
    assert abs(X8.mean() - real.mean()) < 0.1
    s = load_printed_digits(500, size=8, images=False)
    assert s.X_train.shape[1:] == real.shape[1:] == (64,)


def test_load_printed_digits_splits():
    s = load_printed_digits(1000)
    assert (len(s.X_train), len(s.X_val), len(s.X_test)) == (700, 100, 200)
    train = {r.tobytes() for r in s.X_train}
    assert not train & {r.tobytes() for r in s.X_test}


def test_bad_arguments():
    with pytest.raises(ValueError, match="n must"):
        printed_digits(0)
    with pytest.raises(ValueError, match="size"):
        printed_digits(10, size=4)
