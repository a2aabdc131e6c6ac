"""Lesson 10's weight-decay picture: runs of the same network with no decay, with
an L2 penalty in the loss and with decoupled decay (AdamW), side by side.

    from dlcore.viz import weight_decay
    weight_decay.decay_figure({"no decay": (history, norms), ...})

The training loop is the lesson's own (a loop over ``fit``); this file only draws.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from .. import train
from . import plots

STYLES, MARKERS = plots.LINESTYLES, plots.MARKERS       # one line style and marker a run


def weight_norm(model) -> float:
    """The Euclidean norm of all the weight matrices of ``model`` together (biases
    left out, as is usual for weight decay's effect)."""
    return float(np.sqrt(sum(float((p.data.astype(np.float64) ** 2).sum())
                             for name, p in model.named_parameters()
                             if name.endswith("weight"))))


def decay_figure(runs: Mapping[str, tuple[train.History, np.ndarray]]) -> Figure:
    """Left: the validation loss per epoch of each run. Right: the norm of its
    weights per epoch. ``runs`` maps a label to ``(history, norms)``, ``norms``
    one value per epoch (as ``weight_norm`` measures it)."""
    if not runs:
        raise ValueError("decay_figure: no runs to draw")
    with plots.style():
        fig, (ax, ax_norm) = plots.subplots("wide", 1, 2)
        for k, (label, (history, norms)) in enumerate(runs.items()):
            color = plots.CLASS_COLORS[k % len(plots.CLASS_COLORS)]
            style = {"color": color, "ls": STYLES[k % len(STYLES)], "lw": 2,
                     "marker": MARKERS[k % len(MARKERS)], "markevery": 10, "ms": 5}
            epochs = np.arange(1, len(history) + 1)
            ax.plot(epochs, history["val_loss"], label=label, **style)
            ax_norm.plot(np.arange(1, len(norms) + 1), norms, label=label, **style)
        ax.set_xlabel("epoch")
        ax.set_ylabel("validation loss")
        ax.set_title("validation loss")
        ax_norm.set_xlabel("epoch")
        ax_norm.set_ylabel("norm of all weights")
        ax_norm.set_title("how large the weights grow")
        ax_norm.legend(loc="best", fontsize=8.5)
    return plots.finish(fig)
