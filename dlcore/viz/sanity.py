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
            ax.minorticks_off()     # one tick per decade: half the drawing time of the minor ones
            ax.set_title(run, fontsize=10.5)
            ax.set_xlabel("step")
            ax.grid(True, which="major", alpha=0.3)
        axes[0, 0].set_ylabel("‖update‖ / ‖weight‖ (log scale)")
        axes[0, 0].legend(fontsize=8.5, loc="upper left")
    return plots.finish(fig)


def layer_histograms_figure(activations: Mapping[str, Mapping[str, np.ndarray]],
                            gradients: Mapping[str, Mapping[str, np.ndarray]]) -> Figure:
    """Two rows of panels, one column per layer: top, the layer's outputs
    (activations); bottom, the gradient of its weight. Each is keyed first by run
    (say, an initialisation), then by layer. What is drawn is the histogram of
    log10 |value| of the non-zero values, so runs whose scales differ by orders of
    magnitude show side by side; the legend gives each run's standard deviation
    and its fraction of exact zeros (a ReLU's output for negative inputs)."""
    runs = list(activations)
    layers = list(next(iter(activations.values())))
    with plots.style():
        fig, axes = plots.subplots("wide", 2, len(layers), sharey="row", squeeze=False)
        rows = ((activations, "output"), (gradients, "weight gradient"))
        for row, (data, what) in enumerate(rows):
            for col, layer in enumerate(layers):
                ax = axes[row, col]
                values = {run: np.asarray(data[run][layer], dtype=np.float64).ravel()
                          for run in runs}
                logs = {run: np.log10(np.abs(v[v != 0])) for run, v in values.items()}
                every = np.concatenate([v for v in logs.values()] + [np.zeros(0)])
                bins = np.linspace(every.min(), every.max(), 41) if every.size else 40
                for k, run in enumerate(runs):
                    v = values[run]
                    ax.hist(logs[run], bins=bins, histtype="step", lw=1.6,
                            weights=np.full(len(logs[run]), 1 / max(len(v), 1)),
                            linestyle=LINESTYLES[k % len(LINESTYLES)],
                            color=plots.CLASS_COLORS[k % len(plots.CLASS_COLORS)],
                            label=f"{run}: std {v.std():.2g}, {np.mean(v == 0):.0%} zero")
                ax.set_title(f"{layer}: {what}", fontsize=9.5)
                ax.tick_params(labelsize=8)
                ax.legend(fontsize=7, loc="upper left", frameon=False)
                ax.set_ylim(top=ax.get_ylim()[1] * 1.35)      # room for the legend
                if row == 1:
                    ax.set_xlabel("log10 |value|", fontsize=9)
            axes[row, 0].set_ylabel("share of values", fontsize=9)
    return plots.finish(fig)
