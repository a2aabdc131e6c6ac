"""Augmentations: shape and dtype kept, input untouched, seeded, exact flips."""
from __future__ import annotations

import numpy as np
import pytest

import dlcore
from dlcore.data import (
    Compose,
    GaussianNoise,
    RandomCrop,
    RandomHorizontalFlip,
    RandomRotation,
    RandomShift,
    RandomVerticalFlip,
    hflip,
    vflip,
)

TRANSFORMS = [RandomShift(2), RandomRotation(15), RandomHorizontalFlip(), RandomVerticalFlip(),
              RandomCrop(padding=3), GaussianNoise(0.1), Compose([RandomShift(1),
                                                                   GaussianNoise(0.05)])]


def batch(shape=(16, 2, 10, 10)):
    return np.random.default_rng(0).random(shape).astype(np.float32)


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda t: type(t).__name__)
@pytest.mark.parametrize("shape", [(16, 2, 10, 10), (16, 10, 10)])
def test_shape_dtype_kept_and_input_untouched(transform, shape):
    X = batch(shape)
    before = X.copy()
    out = transform(X)
    assert out.shape == X.shape and out.dtype == X.dtype
    assert np.array_equal(X, before)
    assert not np.array_equal(out, X)


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda t: type(t).__name__)
def test_seeded_through_manual_seed(transform):
    X = batch()
    dlcore.manual_seed(1)
    a = transform(X)
    dlcore.manual_seed(1)
    b = transform(X)
    dlcore.manual_seed(2)
    c = transform(X)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_own_generator():
    X = batch()
    a = RandomShift(2, generator=np.random.default_rng(7))(X)
    b = RandomShift(2, generator=np.random.default_rng(7))(X)
    assert np.array_equal(a, b)


def test_flips_are_exact():
    X = batch()
    assert np.array_equal(hflip(X), X[..., ::-1]) and np.array_equal(hflip(hflip(X)), X)
    assert np.array_equal(vflip(X), X[..., ::-1, :])
    out = RandomHorizontalFlip(p=1.0)(X)
    assert np.array_equal(out, X[..., ::-1])
    assert np.array_equal(RandomHorizontalFlip(p=0.0)(X), X)
    mixed = RandomHorizontalFlip(p=0.5)(X)
    for i in range(len(X)):
        assert np.array_equal(mixed[i], X[i]) or np.array_equal(mixed[i], X[i, :, :, ::-1])


def test_shift_moves_pixels_whole():
    X = np.zeros((50, 1, 9, 9), dtype=np.float32)
    X[:, 0, 4, 4] = 1.0
    out = RandomShift(2)(X)
    assert np.all(out.sum(axis=(1, 2, 3)) == 1)  # the dot stays inside, moved
    rows, cols = np.nonzero(out[:, 0])[1:]
    assert np.abs(rows - 4).max() <= 2 and np.abs(cols - 4).max() <= 2
    assert len(set(zip(rows.tolist(), cols.tolist(), strict=True))) > 5


def test_crop_to_smaller_size_and_errors():
    X = batch((4, 3, 10, 10))
    assert RandomCrop(6)(X).shape == (4, 3, 6, 6)
    with pytest.raises(ValueError, match="larger"):
        RandomCrop(12)(X)
    with pytest.raises(ValueError, match="batch of images"):
        RandomShift(1)(np.zeros(5))


def test_rotation_turns_about_the_centre():
    yy, xx = np.mgrid[:21, :21]
    blob = np.exp(-((yy - 10) ** 2 + (xx - 10) ** 2) / 18).astype(np.float32)
    out = RandomRotation(30)(np.stack([blob] * 4))
    assert np.abs(out - blob).max() < 0.05  # a round blob at the centre stays put
    bar = np.zeros((21, 21), dtype=np.float32)
    bar[10, 2:19] = 1.0
    turned = RandomRotation(30)(np.stack([bar] * 8))
    assert np.all(turned[:, 10, 10] > 0.9)  # the centre is fixed
    assert np.all(turned[:, 10, 2:19].sum(1) < bar.sum() - 1)  # the ends moved


def test_noise_clip_and_repr():
    out = GaussianNoise(1.0, clip=(0.0, 1.0))(batch())
    assert out.min() >= 0 and out.max() <= 1
    assert "RandomShift(max_shift=1" in repr(TRANSFORMS[-1])
    with pytest.raises(ValueError):
        GaussianNoise(-1)
