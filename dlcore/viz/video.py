"""Lesson 12, video: the frames of generated clips side by side, and what a
frame-by-frame model predicted.

    from dlcore.viz import video
    video.clips_figure(X[:4], y[:4])                       # one row per clip, time to the right
    video.clips_figure(X[:4], y[:4], predicted=y_hat[:4])  # titles say right or wrong
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from ..data.clips import DIRECTIONS
from . import plots


def clips_figure(X: np.ndarray, y: Sequence[int], predicted: Sequence[int] | None = None,
                 ) -> Figure:
    """Clips X (N, T, 1, H, W) as N rows of T frames; each row names its true
    direction (and the predicted one, if given)."""
    X = np.asarray(X)
    if X.ndim != 5 or X.shape[2] != 1:
        raise ValueError(f"clips_figure expects clips (N, T, 1, H, W), got {X.shape}")
    n, frames = X.shape[:2]
    with plots.style():
        fig, axes = plots.subplots("wide", n, frames, squeeze=False)
        # not a fixed size: one small square per frame, so it grows with the clips shown
        fig.set_size_inches(1.25 * frames + 1.6, 1.3 * n + 0.3)
        for i in range(n):
            for t in range(frames):
                ax = axes[i, t]
                ax.imshow(X[i, t, 0], cmap="gray", vmin=0, vmax=1)
                ax.set_xticks([])
                ax.set_yticks([])
                if i == 0:
                    ax.set_title(f"frame {t + 1}", fontsize=9)
            label = f"moves {DIRECTIONS[int(y[i])]}"
            if predicted is not None:
                guess = DIRECTIONS[int(predicted[i])]
                label += f"\nread: {guess}" + ("" if guess == DIRECTIONS[int(y[i])] else " ✗")
            axes[i, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    return plots.finish(fig)
