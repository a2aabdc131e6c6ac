"""Learning curves: loss and metrics per epoch, training beside validation.

    fig = plot_history(history)                       # what History.plot() draws
    fig = compare_curves({"SGD": h1, "Adam": h2}, key="val_loss")
    fig = plot_curves({"train": losses}, ylabel="loss")   # any lists of numbers

Training curves are solid blue lines with round markers, validation dashed
vermillion with square ones (told apart without colour too); the
best validation epoch of an early-stopped run is marked. Each function returns
a closed ``Figure`` (see ``dlcore.viz.plots``); pass ``axes`` to draw into
existing ones instead (then the figure is left open to its owner).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator

from . import plots

_NOT_CURVES = ("lr", "time")


def _panels(history: Any, keys: Iterable[str] | None) -> list[str]:
    """'loss' first, then metrics; validation keys join their training twin."""
    if keys is not None:
        return [k.removeprefix("val_") for k in keys]
    names = [k.removeprefix("val_") for k in history.keys() if k not in _NOT_CURVES]
    ordered = sorted(dict.fromkeys(names), key=lambda k: (k != "loss", names.index(k)))
    return ordered


def plot_history(history: Any, keys: Iterable[str] | None = None, axes: Any = None) -> Any:
    """One panel per quantity ('loss', 'accuracy', ...) against the epoch.

    ``history`` is a ``dlcore.train.History`` (or anything with ``keys()``,
    ``[key]`` and ``epochs``); ``keys`` picks the panels, e.g. ``['loss']``.
    """
    panels = _panels(history, keys)
    if not panels:
        raise ValueError("plot_history: the history holds no curves yet (train an epoch)")
    epochs = list(getattr(history, "epochs", [])) or None
    with plots.style():
        own = axes is None
        if own:
            fig, axes = plots.subplots("wide" if len(panels) > 1 else "medium",
                                       1, len(panels), squeeze=False)
            axes = list(axes[0])
        else:
            axes = list(np.atleast_1d(axes))
            fig = axes[0].figure
        if len(axes) < len(panels):
            raise ValueError(f"plot_history: {len(panels)} panels ({panels}) but only "
                             f"{len(axes)} axes given")
        best = getattr(history, "best_epoch", None)
        for ax, name in zip(axes, panels, strict=False):
            for key, label, dashes in ((name, "train", "-"), (f"val_{name}", "validation",
                                                             "--")):
                if key in history.keys():
                    values = history[key]
                    x = epochs or list(range(1, len(values) + 1))
                    ax.plot(x, values, dashes, color=plots.CLASS_COLORS[0 if dashes == "-"
                                                                        else 1],
                            marker=("o" if dashes == "-" else "s") if len(values) < 30
                            else None, ms=3, label=label)
            if best is not None:
                ax.axvline(best, color=plots.ACCENT, lw=1, ls=":", label=f"best epoch {best}")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel("epoch")
            ax.set_ylabel(name)
            ax.set_title(name)
            ax.legend()
        return plots.finish(fig) if own else fig


def plot_curves(curves: Mapping[str, Sequence[float]], ylabel: str = "loss",
                xlabel: str = "epoch", title: str | None = None, log: bool = False,
                ax: Any = None) -> Any:
    """Several named sequences of numbers on one set of axes (x counts from 1),
    each in its own colour, line style and marker."""
    with plots.style():
        own = ax is None
        if own:
            fig, ax = plots.subplots("medium")
        else:
            fig = ax.figure
        for i, (label, values) in enumerate(curves.items()):
            # colour, line style and marker all differ, so no curve needs colour alone
            ax.plot(range(1, len(values) + 1), values,
                    color=plots.CLASS_COLORS[i % len(plots.CLASS_COLORS)],
                    ls=plots.LINESTYLES[i % len(plots.LINESTYLES)],
                    marker=plots.MARKERS[i % len(plots.MARKERS)], ms=4,
                    markevery=max(1, len(values) // 10), label=label)
        if log:
            ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
        ax.legend()
        return plots.finish(fig) if own else fig


def compare_curves(histories: Mapping[str, Any], key: str = "val_loss", log: bool = False,
                   ax: Any = None) -> Any:
    """One curve per run: ``histories`` maps a label (say, an optimizer's
    name) to its ``History``; ``key`` picks what to compare."""
    curves = {label: h[key] for label, h in histories.items()}
    return plot_curves(curves, ylabel=key, title=key, log=log, ax=ax)
