"""Lesson 12, video: the frames of generated clips side by side, and what a
frame-by-frame model predicted.

    from dlcore.viz import video
    video.clips_figure(X[:4], y[:4])                       # one row per clip, time to the right
    video.clips_figure(X[:4], y[:4], predicted=y_hat[:4])  # titles say right or wrong
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from ..data.clips import DIRECTIONS
from . import plots


def clips_figure(X: np.ndarray, y: Sequence[int], predicted: Sequence[int] | None = None,
                 ) -> Figure:
    """Clips X (N, T, 1, H, W) as N rows of T frames; each row names its true
    direction (and the predicted one, if given, with ✗ where it is wrong).

    All the frames are laid out in one image, a white line between them, and shown
    once (one ``imshow``, not one axes per frame: a tenth of the drawing)."""
    X = np.asarray(X)
    if X.ndim != 5 or X.shape[2] != 1:
        raise ValueError(f"clips_figure expects clips (N, T, 1, H, W), got {X.shape}")
    n, frames, _, h, w = X.shape
    gap = 2                                                 # pixels of white between frames
    mosaic = plots.mosaic(X[:, :, 0].reshape(n * frames, h, w), frames, gap=(gap, gap))
    with plots.style():
        fig, ax = plots.subplots("wide")
        # not a fixed size: one small square per frame, so it grows with the clips shown
        fig.set_size_inches(1.25 * frames + 1.6, 1.3 * n + 0.3)
        cmap = matplotlib.colormaps["gray"].with_extremes(bad="white")
        ax.imshow(mosaic, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
        ax.axis("off")
        for t in range(frames):
            ax.text(t * (w + gap) + (w - 1) / 2, -1.5, f"frame {t + 1}", ha="center",
                    va="bottom", fontsize=9)
        for i in range(n):
            label = f"moves {DIRECTIONS[int(y[i])]}"
            if predicted is not None:
                guess = DIRECTIONS[int(predicted[i])]
                label += f"\nread: {guess}" + ("" if guess == DIRECTIONS[int(y[i])] else " ✗")
            ax.text(-2, i * (h + gap) + (h - 1) / 2, label, ha="right", va="center", fontsize=9)
    return plots.finish(fig)
