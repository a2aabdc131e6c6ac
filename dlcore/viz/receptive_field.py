"""Lesson 07's picture of receptive fields: which input pixels one unit can see.

The lesson computes the fields itself (a five-line loop over the layers); this
file only draws them:

    regions = {"conv 1": (-1.0, -1.0, 3), "pool 1": (-1.0, -1.0, 4), ...}
    receptive_field_figure(image, regions, measured=seen)

A region is ``(top, left, size)`` in input pixels: the square of rows
top .. top + size - 1 and the same columns; it may reach past the image (into
the zero padding), and the figure shows that part too.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from . import plots

LINESTYLES = ("-", "--", "-.", ":")


def receptive_field_figure(image: np.ndarray, regions: Mapping[str, tuple[float, float, int]],
                           measured: np.ndarray | None = None) -> Figure:
    """Left: ``image`` (H, W) with one square per layer, the region of the input
    that one unit of that layer depends on (nested, widening with depth). Right,
    if given: ``measured`` (H, W), True where a change of the input pixel changes
    the unit of the last layer, as the backward pass finds it."""
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"receptive_field_figure expected an image (H, W), got {image.shape}")
    H, W = image.shape
    ncols = 1 if measured is None else 2
    with plots.style():
        fig, axes = plots.subplots("wide" if ncols == 2 else "medium", 1, ncols, squeeze=False)
        ax = axes[0, 0]
        ax.imshow(image, cmap="gray_r", extent=(-0.5, W - 0.5, H - 0.5, -0.5))
        ax.add_patch(Rectangle((-0.5, -0.5), W, H, fill=False, ec="0.3", lw=1))
        for k, (name, (top, left, size)) in enumerate(regions.items()):
            color = plots.CLASS_COLORS[k % len(plots.CLASS_COLORS)]
            ax.add_patch(Rectangle((left - 0.5, top - 0.5), size, size, fill=False, ec=color,
                                   lw=2.2, ls=LINESTYLES[k % len(LINESTYLES)],
                                   label=f"{name}: {size}×{size} pixels"))
        low = min([0.0] + [min(top, left) for top, left, _ in regions.values()]) - 1
        high = max([max(H, W) - 1.0] + [max(top, left) + size - 1
                                       for top, left, size in regions.values()]) + 1
        ax.set_xlim(low - 0.5, high + 0.5)
        ax.set_ylim(high + 0.5, low - 0.5)
        ax.set_title("what one unit of each layer sees\n(outside the grey frame: zero padding)",
                     fontsize=10.5)
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=9, frameon=False)
        ax.set_xticks(range(W))
        ax.set_yticks(range(H))
        ax.tick_params(labelsize=8)
        if measured is not None:
            ax = axes[0, 1]
            ax.imshow(np.asarray(measured, dtype=float), cmap="Blues", vmin=0, vmax=1.4,
                      extent=(-0.5, W - 0.5, H - 0.5, -0.5))
            ax.set_xticks(range(W))
            ax.set_yticks(range(H))
            ax.tick_params(labelsize=8)
            ax.set_title("measured with backward: pixels the last\n"
                         f"layer's unit depends on ({int(np.sum(measured))} of {H * W})",
                         fontsize=10.5)
    return plots.finish(fig)
