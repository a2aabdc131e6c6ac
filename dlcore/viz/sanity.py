"""Lesson 06's pictures of the sanity checks before a long run.

The lesson measures everything itself (the ratio of each update to its weight,
the activations and gradients of each layer); this file only draws:

    update_ratio_figure({"lr 1e-3": {"layer 1": [...], "layer 2": [...]}, ...})
    layer_histograms_figure(activations, gradients)
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from . import plots

LINESTYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D")


def update_ratio_figure(ratios: Mapping[str, Mapping[str, Sequence[float]]],
                        target: float = 1e-3) -> Figure:
    """One panel per run (say, per learning rate): for each layer, the ratio
    ||update|| / ||weight|| at each step, on a log scale, with a band around
    ``target`` (a factor of 10 either way)."""
    with plots.style():
        fig, axes = plots.subplots("wide", 1, len(ratios), sharey=True, squeeze=False)
        for ax, (run, layers) in zip(axes[0], ratios.items(), strict=True):
            ax.axhspan(target / 10, target * 10, color="0.9", zorder=0)
            ax.axhline(target, color="0.5", lw=1, ls=":")
            for k, (layer, values) in enumerate(layers.items()):
                ax.semilogy(np.arange(1, len(values) + 1), values,
                            linestyle=LINESTYLES[k % len(LINESTYLES)],
                            marker=MARKERS[k % len(MARKERS)], markevery=8, ms=4, lw=1.6,
                            color=plots.CLASS_COLORS[k % len(plots.CLASS_COLORS)], label=layer)
            ax.set_title(run, fontsize=10.5)
            ax.set_xlabel("step")
            ax.grid(True, which="major", alpha=0.3)
        axes[0, 0].set_ylabel("‖update‖ / ‖weight‖ (log scale)")
        axes[0, 0].legend(fontsize=8.5, loc="lower left")
    return plots.finish(fig)


def layer_histograms_figure(activations: Mapping[str, Mapping[str, np.ndarray]],
                            gradients: Mapping[str, Mapping[str, np.ndarray]]) -> Figure:
    """Two rows of panels, one column per layer: top, the histogram of the layer's
    outputs (activations); bottom, of the gradient of its weight. Each is keyed
    first by run (say, an initialisation), then by layer; runs are overlaid as
    outlines with their own colour and line style, and the legend gives each
    one's standard deviation in the first and last layer."""
    runs = list(activations)
    layers = list(next(iter(activations.values())))
    with plots.style():
        fig, axes = plots.subplots("wide", 2, len(layers), squeeze=False)
        rows = ((activations, "output"), (gradients, "weight gradient"))
        for row, (data, what) in enumerate(rows):
            for col, layer in enumerate(layers):
                ax = axes[row, col]
                for k, run in enumerate(runs):
                    values = np.asarray(data[run][layer]).ravel()
                    ax.hist(values, bins=40, histtype="step", lw=1.6, density=True,
                            linestyle=LINESTYLES[k % len(LINESTYLES)],
                            color=plots.CLASS_COLORS[k % len(plots.CLASS_COLORS)],
                            label=f"{run}: std {values.std():.2g}")
                ax.set_yticks([])
                ax.set_title(f"{layer}: {what}", fontsize=9.5)
                ax.tick_params(labelsize=8)
                ax.legend(fontsize=7, loc="upper right", frameon=False)
    return plots.finish(fig)
