"""Lesson 09's picture of what batching buys: time per example and arithmetic rate
against the batch size, one line per layer.

    from dlcore.viz import compute_cost
    compute_cost.batch_figure(batch_sizes, seconds, macs)

The timing loop is the lesson's own; this file only draws what it measured.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from . import plots


def batch_figure(batch_sizes: Sequence[int], seconds: Mapping[str, Sequence[float]],
                 macs: Mapping[str, float]) -> Figure:
    """Left: seconds per training step (forward and backward) divided by the batch
    size, in microseconds per example. Right: multiply-adds per second reached,
    counting the backward pass as twice the forward (``3 * macs * N / seconds``).
    ``seconds[name]`` has one time per batch size; ``macs[name]`` is the layer's
    forward multiply-adds per example. Log scales on both axes."""
    if not seconds:
        raise ValueError("batch_figure: no layers to draw")
    sizes = np.asarray(batch_sizes, dtype=float)
    with plots.style():
        fig, (ax, ax_rate) = plots.subplots("wide", 1, 2)
        for k, (name, times) in enumerate(seconds.items()):
            times = np.asarray(times, dtype=float)
            if times.shape != sizes.shape:
                raise ValueError(f"batch_figure: {name} has {len(times)} times for "
                                 f"{len(sizes)} batch sizes")
            style = {"color": plots.CLASS_COLORS[k % len(plots.CLASS_COLORS)], "lw": 2,
                     "ls": plots.LINESTYLES[k % len(plots.LINESTYLES)],
                     "marker": plots.MARKERS[k % len(plots.MARKERS)], "label": name}
            ax.plot(sizes, times / sizes * 1e6, **style)
            ax_rate.plot(sizes, 3 * macs[name] * sizes / times / 1e9, **style)
        for a in (ax, ax_rate):
            a.set_xscale("log")
            a.set_yscale("log")
            a.set_xlabel("batch size N")
            a.set_xticks(sizes, [f"{int(n)}" for n in sizes])
            a.xaxis.set_minor_locator(NullLocator())     # the batch sizes are the ticks
            a.grid(True, which="major", alpha=0.3)
        ax.set_ylabel("µs per example (forward + backward)")
        ax.set_title("time per example (the same arithmetic at every N)")
        ax_rate.set_ylabel("billions of multiply-adds per second")
        ax_rate.set_title("rate of arithmetic reached")
        ax_rate.legend(fontsize=8.5, loc="best")
    return plots.finish(fig)
