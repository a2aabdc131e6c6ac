"""Small generated video clips: a bright square moving across a dark frame.

The label is the direction of motion, so no single frame can tell it: a model
must compare frames over time (lesson 12: a CNN reads each frame, a recurrent
layer reads the frames in order).

    X, y = make_clips(n=600, frames=6, size=12, seed=0)   # X (n, T, 1, H, W), y (n,)
    DIRECTIONS[y[0]]                                      # 'right', 'left', 'down' or 'up'
"""
from __future__ import annotations

import numpy as np

DIRECTIONS = ("right", "left", "down", "up")
_STEPS = {"right": (0, 1), "left": (0, -1), "down": (1, 0), "up": (-1, 0)}   # (row, col)


def make_clips(n: int = 600, frames: int = 6, size: int = 12, square: int = 3,
               speed: int = 1, noise: float = 0.1, seed: int = 0
               ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` clips of ``frames`` frames, ``size`` x ``size`` pixels: a square of side
    ``square`` starts at a random place and moves ``speed`` pixels a frame in one
    of the four ``DIRECTIONS`` (the label, balanced), staying inside the frame;
    Gaussian ``noise`` is added and pixels are clipped to [0, 1].

    Returns X (n, T, 1, H, W) float32 and y (n,) int64.
    """
    travel = speed * (frames - 1)
    if square + travel > size:
        raise ValueError(f"make_clips: a square of {square} px moving {travel} px does not "
                         f"fit in {size} px frames; use a larger size or fewer frames")
    g = np.random.default_rng(seed)
    y = np.arange(n) % len(DIRECTIONS)
    g.shuffle(y)
    X = np.zeros((n, frames, 1, size, size), dtype=np.float32)
    for i, label in enumerate(y):
        d_row, d_col = _STEPS[DIRECTIONS[label]]
        # a start from which every frame of the path stays inside
        row = _start(g, d_row, size, square, travel)
        col = _start(g, d_col, size, square, travel)
        for t in range(frames):
            r, c = row + t * speed * d_row, col + t * speed * d_col
            X[i, t, 0, r:r + square, c:c + square] = 1.0
    if noise:
        X += (noise * g.standard_normal(X.shape)).astype(np.float32)
        np.clip(X, 0.0, 1.0, out=X)
    return X, y.astype(np.int64)


def _start(g: np.random.Generator, step: int, size: int, square: int, travel: int) -> int:
    if step > 0:
        return int(g.integers(0, size - square - travel + 1))
    if step < 0:
        return int(g.integers(travel, size - square + 1))
    return int(g.integers(0, size - square + 1))
