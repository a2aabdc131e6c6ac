"""Lesson 12, fraud: how the scores of rare fraud and common legitimate
transactions overlap, and precision and recall against the threshold.

    from dlcore.viz import fraud
    fraud.threshold_curves(p_fraud, y, chosen=0.05)
    fraud.threshold_explorer(p_fraud, y)       # the widget: a threshold slider
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullLocator

from . import plots


def precision_recall_at(p_fraud: np.ndarray, y: np.ndarray, thresholds: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall of "fraud when p_fraud >= t" for every t in
    ``thresholds``; precision is NaN (undefined) where nothing is flagged."""
    p, fraud = np.asarray(p_fraud)[None, :], np.asarray(y)[None, :] == 1
    flagged = p >= np.asarray(thresholds)[:, None]
    caught = (flagged & fraud).sum(axis=1)
    precision = np.where(flagged.sum(axis=1) > 0, caught / np.maximum(flagged.sum(axis=1), 1),
                         np.nan)
    return precision, caught / max(int(fraud.sum()), 1)


def _at(p: np.ndarray, y: np.ndarray, threshold: float) -> str:
    """What a threshold does, in words: flagged, recall and precision."""
    flagged = p >= threshold
    caught = int(np.sum(flagged & (y == 1)))
    precision = f"{caught / flagged.sum():.0%}" if flagged.any() else "undefined"
    return (f"threshold {threshold:.3f}: {flagged.sum()} flagged, recall "
            f"{caught / max(int(np.sum(y == 1)), 1):.0%}, precision {precision}")


def threshold_curves(p_fraud: np.ndarray, y: np.ndarray, chosen: float | None = None
                     ) -> Figure:
    """Left: histograms of P(fraud) for legitimate and fraudulent transactions
    (log counts: the fraud is rare). Right: precision and recall against the
    threshold (log scale), with ``chosen`` marked (dotted, and its recall and
    precision in the title); precision stops where nothing is flagged any more.
    ``fig.parts`` holds what ``update_threshold`` moves."""
    p, y = np.asarray(p_fraud), np.asarray(y)
    thresholds = np.logspace(-3, 0, 200)
    precision, recall = precision_recall_at(p, y, thresholds)
    legit, bad = plots.CLASS_COLORS[0], plots.CLASS_COLORS[1]
    with plots.style():
        fig, (ax, curve) = plots.subplots("wide", 1, 2)
        bins = np.linspace(0, 1, 41)
        ax.hist(p[y == 0], bins=bins, color=legit, alpha=0.7,
                label=f"legitimate ({np.sum(y == 0)})")
        ax.hist(p[y == 1], bins=bins, color=bad, alpha=0.9, hatch="//", edgecolor="white",
                label=f"fraud ({np.sum(y == 1)})")
        ax.set_yscale("log")
        ax.set_xlabel("P(fraud) given by the network")
        ax.set_ylabel("transactions (log scale)")
        ax.set_title("scores of the two classes overlap")
        ax.legend(loc="upper right", fontsize=9)
        curve.plot(thresholds, 100 * precision, color=legit, ls="-", lw=2, label="precision")
        curve.plot(thresholds, 100 * recall, color=bad, ls="--", lw=2, label="recall")
        curve.set_xscale("log")
        curve.set_xlabel("threshold: fraud when P(fraud) ≥ threshold (log scale)")
        curve.set_ylabel("%")
        curve.set_ylim(-3, 103)
        curve.set_title("precision and recall against the threshold")
        lines = []
        if chosen is not None:
            lines = [axis.axvline(chosen, color="black", ls=":", lw=1.5) for axis in (ax, curve)]
        curve.legend(loc="center left", fontsize=9)
        for axis in (ax.yaxis, curve.xaxis):          # the two log scales: decades only,
            axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))   # as plain numbers
            axis.set_minor_locator(NullLocator())     # (10^-3 labels would need mathtext)
    fig.parts = SimpleNamespace(p=p, y=y, lines=lines, title=curve.title)
    if chosen is not None:
        update_threshold(fig, chosen)
    return plots.finish(fig)


def update_threshold(fig: Figure, threshold: float) -> None:
    """Move the chosen threshold of a ``threshold_curves`` figure drawn with one."""
    parts = fig.parts
    for line in parts.lines:
        line.set_xdata([threshold, threshold])
    parts.title.set_text(_at(parts.p, parts.y, threshold))


def threshold_explorer(p_fraud: np.ndarray, y: np.ndarray, start: float = 0.05):
    """The widget: a threshold slider (log scale) moves the dotted line over the
    scores and the curves, and says what that threshold flags, catches and
    misses. Only the lines and the title are redrawn."""
    import ipywidgets as widgets

    from .applications import live_figure

    controls = {"threshold": widgets.FloatLogSlider(
        value=start, base=10, min=-3, max=0, step=0.02, readout_format=".3f",
        description="threshold: fraud if P(fraud) ≥", style=plots.slider_style(),
        layout=widgets.Layout(width="520px"))}

    def draw(threshold: float) -> Figure:
        return threshold_curves(p_fraud, y, chosen=threshold)

    return live_figure(draw, controls, update_threshold,
                       lambda fig: [*fig.parts.lines, fig.parts.title],
                       name="fraud.threshold_explorer")
