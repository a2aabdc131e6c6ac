"""What a 2-D model does to the plane: its data as coloured points, its output as a
surface, the line where its decision flips.

    fig = plots.decision_boundary(model, X, y)      # X (N, 2), y (N,) class labels
    xx, yy, zz = plots.surface(model, X)            # the numbers behind the picture
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from matplotlib.colors import CenteredNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .style import CLASS_COLORS, SURFACE_CMAP, class_cmap, finish, style, subplots


def scatter_classes(ax, X: np.ndarray, y: np.ndarray | None = None, *, size: float = 22,
                    label_prefix: str = "class ") -> None:
    """Points of a 2-D data set, coloured by class (one legend entry per class)."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"scatter_classes expected points (N, 2), got {X.shape}")
    if y is None:
        ax.scatter(X[:, 0], X[:, 1], s=size, color="#4a5568", edgecolor="white",
                   linewidth=0.6, zorder=3)
        return
    y = np.asarray(y).astype(int).ravel()
    for c in np.unique(y):
        pts = X[y == c]
        ax.scatter(pts[:, 0], pts[:, 1], s=size, color=CLASS_COLORS[c % len(CLASS_COLORS)],
                   edgecolor="white", linewidth=0.6, zorder=3, label=f"{label_prefix}{c}")


def grid(X: np.ndarray, steps: int = 150, margin: float = 0.5,
         limits: tuple[float, float, float, float] | None = None):
    """A (steps, steps) mesh covering the points X (N, 2) plus a margin.

    Returns ``xx, yy`` (each (steps, steps)) and ``points`` (steps*steps, 2),
    the mesh as a batch a model can take.
    """
    if limits is None:
        X = np.asarray(X)
        limits = (X[:, 0].min() - margin, X[:, 0].max() + margin,
                  X[:, 1].min() - margin, X[:, 1].max() + margin)
    x0, x1, y0, y1 = limits
    xx, yy = np.meshgrid(np.linspace(x0, x1, steps), np.linspace(y0, y1, steps))
    points = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)
    return xx, yy, points


def surface(fn: Callable[[np.ndarray], np.ndarray], X: np.ndarray, steps: int = 150,
            margin: float = 0.5, limits: tuple[float, float, float, float] | None = None):
    """Evaluate a model (or any function of a batch (N, 2)) over ``grid(X)``.

    Returns ``xx, yy, zz``: zz is (steps, steps) for a one-output model and
    (steps, steps, C) for a C-output one.
    """
    xx, yy, points = grid(X, steps, margin, limits)
    out = np.asarray(fn(points))
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.shape[0] != points.shape[0]:
        raise ValueError(f"surface: the function returned {out.shape[0]} rows for "
                         f"{points.shape[0]} grid points")
    return xx, yy, out.reshape(xx.shape + out.shape[1:])


def decision_boundary(model: Callable[[np.ndarray], np.ndarray], X: np.ndarray,
                      y: np.ndarray | None = None, *, ax=None, threshold: float | None = None,
                      steps: int = 150, title: str | None = None, size: str = "square",
                      colorbar: bool = True, boundary: bool = True,
                      legend: bool = True) -> Figure:
    """What a model does to every point of the plane around the data X (N, 2).

    One output (a score or a probability): its value as a blue-to-vermillion surface
    and the decision line where it crosses ``threshold`` (0.5 when every value
    lies in [0, 1], else 0; ``boundary=False`` leaves it out). C outputs:
    each point coloured by its argmax class. The data are drawn on top,
    coloured by their labels y (N,).
    """
    with style():
        if ax is None:
            fig, ax = subplots(size)
        else:
            fig = ax.figure
        xx, yy, zz = surface(model, X, steps)
        if zz.ndim == 2:
            if threshold is None:
                threshold = 0.5 if zz.min() >= 0 and zz.max() <= 1 else 0.0
            low, high = float(zz.min()), float(zz.max())
            if low >= 0 and high <= 1:
                low, high = 0.0, 1.0
            high = max(high, low + 1e-6)
            # The threshold is white, so the two sides read blue and vermillion.
            norm = CenteredNorm(vcenter=threshold,
                                halfrange=max(threshold - low, high - threshold))
            filled = ax.contourf(xx, yy, zz, levels=np.linspace(low, high, 21), norm=norm,
                                 cmap=SURFACE_CMAP, alpha=0.75)
            if boundary and low < threshold < high:
                ax.contour(xx, yy, zz, levels=[threshold], colors="black", linewidths=2)
            if colorbar:
                fig.colorbar(filled, ax=ax, shrink=0.8, label="model output",
                             ticks=MaxNLocator(5))
        else:
            classes = zz.argmax(axis=-1)
            num_classes = zz.shape[-1]
            ax.contourf(xx, yy, classes, levels=np.arange(num_classes + 1) - 0.5,
                        cmap=class_cmap(num_classes), alpha=0.3)
            ax.contour(xx, yy, classes, levels=np.arange(num_classes) + 0.5,
                       colors="black", linewidths=1)
        scatter_classes(ax, X, y)
        if y is not None and legend:
            ax.legend(loc="best", framealpha=0.9)
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.set_xlim(xx.min(), xx.max())
        ax.set_ylim(yy.min(), yy.max())
        if title:
            ax.set_title(title)
    return finish(fig)
