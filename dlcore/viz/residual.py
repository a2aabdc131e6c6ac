"""Lesson 07's picture of a plain deep stack against a residual one.

The lesson measures everything itself (the signal after each block, the gradient
that reaches each block's weights, the training loss per epoch); this file only
draws those numbers:

    residual_figure(signal={"plain": [...], "residual": [...]},
                    gradient={"plain": [...], "residual": [...]},
                    losses={"plain, 2 blocks": [...], ...})
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, MaxNLocator

from . import plots

STYLES = (("-", "o"), ("--", "s"), ("-.", "^"), (":", "D"))


def _line(ax, k: int, x, y, label: str, log: bool = True) -> None:
    linestyle, marker = STYLES[k % len(STYLES)]
    plot = ax.semilogy if log else ax.plot
    plot(x, y, linestyle=linestyle, marker=marker, ms=4, lw=1.8, label=label,
         color=plots.CLASS_COLORS[k % len(plots.CLASS_COLORS)])


def residual_figure(signal: Mapping[str, Sequence[float]],
                    gradient: Mapping[str, Sequence[float]],
                    losses: Mapping[str, Sequence[float]]) -> Figure:
    """Three panels. ``signal``: the standard deviation of the activations after
    each block, at initialisation. ``gradient``: the size (norm) of the gradient
    of each block's weights after one backward pass, at initialisation. Both are
    keyed by network and indexed by block (1 = nearest the input). ``losses``:
    the training loss per epoch of each run, keyed by run."""
    names = list(dict.fromkeys([*losses, *signal, *gradient]))   # one style per network
    with plots.style():
        # fixed margins, no layout engine: one draw less for a figure drawn once
        fig, axes = plots.subplots("wide", 1, 3, layout=None, gridspec_kw={
            "left": 0.07, "right": 0.99, "bottom": 0.12, "top": 0.87, "wspace": 0.3})
        for name, values in signal.items():
            _line(axes[0], names.index(name), np.arange(1, len(values) + 1), values, name)
        axes[0].set_title("signal after each block\n(at initialisation)", fontsize=10.5)
        axes[0].set_xlabel("block")
        axes[0].set_ylabel("standard deviation (log scale)")
        for name, values in gradient.items():
            _line(axes[1], names.index(name), np.arange(1, len(values) + 1), values, name)
        axes[1].set_title("gradient reaching each block's\nweights (at initialisation)",
                          fontsize=10.5)
        axes[1].set_xlabel("block")
        axes[1].set_ylabel("gradient norm (log scale)")
        for name, values in losses.items():
            _line(axes[2], names.index(name), np.arange(1, len(values) + 1), values, name,
                  log=False)
        axes[2].axhline(np.log(10), color="0.5", lw=1, ls=":")
        axes[2].annotate("ln 10 = 2.30: guessing", (1, np.log(10)),
                         xytext=(0, 6), textcoords="offset points", fontsize=8.5, color="0.35")
        top = max([np.log(10)] + [max(values) for values in losses.values()])
        axes[2].set_ylim(0, 1.12 * top)
        axes[2].set_title("training loss per epoch", fontsize=10.5)
        axes[2].set_xlabel("epoch")
        axes[2].set_ylabel("loss")
        axes[2].xaxis.set_major_locator(MaxNLocator(integer=True))     # whole epochs
        for ax in axes[:2]:          # at most ~5 labelled decades: text is most of a draw
            ax.yaxis.set_major_locator(LogLocator(numticks=6))
        for ax in axes:
            ax.legend(fontsize=8.5)
            ax.grid(True, alpha=0.3)
    return plots.finish(fig)
