"""Lesson 12, fraud: how the scores of rare fraud and common legitimate
transactions overlap, and precision and recall against the threshold.

    from dlcore.viz import fraud
    fraud.threshold_curves(p_fraud, y, chosen=0.05)
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

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


def threshold_curves(p_fraud: np.ndarray, y: np.ndarray, chosen: float | None = None
                     ) -> Figure:
    """Left: histograms of P(fraud) for legitimate and fraudulent transactions
    (log counts: the fraud is rare). Right: precision and recall against the
    threshold (log scale), with ``chosen`` marked; precision stops where
    nothing is flagged any more."""
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
        ax.legend(fontsize=9)
        curve.plot(thresholds, 100 * precision, color=legit, ls="-", lw=2, label="precision")
        curve.plot(thresholds, 100 * recall, color=bad, ls="--", lw=2, label="recall")
        curve.set_xscale("log")
        curve.set_xlabel("threshold: fraud when P(fraud) ≥ threshold (log scale)")
        curve.set_ylabel("%")
        curve.set_ylim(-3, 103)
        curve.set_title("precision and recall against the threshold")
        if chosen is not None:
            ax.axvline(chosen, color="black", ls=":", lw=1.5)
            curve.axvline(chosen, color="black", ls=":", lw=1.5, label=f"chosen {chosen:.3f}")
        curve.legend(fontsize=9)
    return plots.finish(fig)
