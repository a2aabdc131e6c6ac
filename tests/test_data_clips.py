"""dlcore.data.clips: the square moves one step a frame in the labelled direction."""
import numpy as np
import pytest

from dlcore.data.clips import DIRECTIONS, make_clips


def centre(frame):
    rows, cols = np.nonzero(frame > 0.5)
    return rows.mean(), cols.mean()


def test_shapes_balance_and_seed():
    X, y = make_clips(40, frames=5, size=10, noise=0.0, seed=3)
    assert X.shape == (40, 5, 1, 10, 10) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [10, 10, 10, 10]
    X2, y2 = make_clips(40, frames=5, size=10, noise=0.0, seed=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)


def test_the_square_moves_in_the_labelled_direction_and_stays_inside():
    X, y = make_clips(60, frames=6, size=12, square=3, speed=1, noise=0.0, seed=0)
    steps = {"right": (0, 1), "left": (0, -1), "down": (1, 0), "up": (-1, 0)}
    for clip, label in zip(X, y, strict=True):
        assert all(np.sum(frame[0] > 0.5) == 9 for frame in clip)      # never cut by the edge
        (r0, c0), (r1, c1) = centre(clip[0, 0]), centre(clip[-1, 0])
        assert (r1 - r0, c1 - c0) == tuple(5 * s for s in steps[DIRECTIONS[label]])


def test_noise_stays_in_range_and_too_long_a_path_is_refused():
    X, _ = make_clips(8, noise=0.3, seed=1)
    assert X.min() >= 0 and X.max() <= 1
    with pytest.raises(ValueError, match="does not fit"):
        make_clips(4, frames=10, size=8, square=3)
