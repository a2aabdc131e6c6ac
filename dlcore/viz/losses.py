"""Lesson 03 (loss functions): mean squared error and softmax cross-entropy.

``mse_figure`` draws a line through regression data with each error as a
square (the squares' mean area is the MSE) beside the MSE as a function of
the slope. ``softmax_figure`` draws logits, their softmax probabilities and
the cross-entropy -log p[target]; ``softmax_explorer`` puts the logits on
sliders. All numbers come from the engine (``nn.MSELoss``,
``nn.CrossEntropyLoss``, ``nn.functional.softmax``).
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .. import nn
from ..nn import functional as F
from . import plots


def mse_figure(w: float, b: float, x: np.ndarray, y: np.ndarray,
               w_range: tuple[float, float] = (-2.0, 4.0)) -> Figure:
    """Left: data (x, y), the line y_hat = w x + b and each error drawn as a
    square of side |y_hat - y|. Right: MSE against the slope w (b fixed), with
    the current w marked. The title gives the MSE from ``nn.MSELoss``."""
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    y_hat = w * x + b
    loss = nn.MSELoss()(y_hat, y)
    slopes = np.linspace(min(w_range[0], w), max(w_range[1], w), 121)
    curve = np.array([nn.MSELoss()(s * x + b, y) for s in slopes])   # the engine's MSE
    with plots.style():
        fig, (ax, ax_l) = plots.subplots("wide", ncols=2)
        for xi, yi, pi in zip(x, y, y_hat, strict=True):
            side = pi - yi
            ax.add_patch(Rectangle((xi, yi), -side if side > 0 else side, side,
                                   facecolor=plots.CLASS_COLORS[1], alpha=0.18,
                                   edgecolor=plots.CLASS_COLORS[1], lw=0.8))
            ax.plot([xi, xi], [yi, pi], color=plots.CLASS_COLORS[1], lw=1)
        ax.scatter(x, y, s=28, color=plots.CLASS_COLORS[0], zorder=3, label="data (x, y)")
        grid = np.linspace(x.min() - 2.5, x.max() + 1.0, 2)
        ax.plot(grid, w * grid + b, color="black", lw=2, label=f"y_hat = {w:.2f} x + {b:.2f}")
        pad = 1.0   # fixed limits, so the view holds still while the sliders move
        ax.set_xlim(x.min() - pad - 1.5, x.max() + pad)
        ax.set_ylim(y.min() - pad - 1.0, y.max() + pad)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.legend(loc="upper left", framealpha=0.9)
        ax.set_title(f"MSE = mean area of the squares = {loss:.3f}")
        ax_l.plot(slopes, curve, color=plots.CLASS_COLORS[0], lw=2.5)
        ax_l.plot([w], [loss], "o", color=plots.ACCENT, ms=10, label=f"w = {w:.2f}")
        ax_l.set_xlabel(f"slope w (intercept b fixed at {b:.2f})")
        ax_l.set_ylabel("MSE")
        ax_l.set_title("the loss as a function of the weight")
        ax_l.legend(loc="upper center")
    return plots.finish(fig)


def mse_explorer(x: np.ndarray, y: np.ndarray):
    """Slope and intercept on sliders over ``mse_figure``."""
    import ipywidgets as widgets

    controls = {
        "w": widgets.FloatSlider(value=0.5, min=-2.0, max=4.0, step=0.1,
                                 description="slope w", style=plots.slider_style()),
        "b": widgets.FloatSlider(value=0.0, min=-3.0, max=3.0, step=0.1,
                                 description="intercept b", style=plots.slider_style()),
    }

    def draw(w, b):
        return mse_figure(w, b, x, y)

    return plots.interactive_figure(draw, controls, height="400px")


def softmax_figure(logits, target: int = 0, class_names=None) -> Figure:
    """Left: the logits z (raw scores). Middle: softmax(z), probabilities that
    sum to 1, the target class highlighted. Right: the cross-entropy
    -log p[target] as a curve of p, the current point marked.

    The probability bars are ``fig.axes[1].patches``; the loss is in the
    right panel's title, computed by ``nn.CrossEntropyLoss``.
    """
    z = np.asarray(logits, dtype=np.float64).ravel()
    num_classes = len(z)
    if not 0 <= target < num_classes:
        raise ValueError(f"target must be a class index in [0, {num_classes}), got {target}")
    names = list(class_names) if class_names is not None else [f"class {c}" for c in
                                                               range(num_classes)]
    p = F.softmax(z)
    loss = nn.CrossEntropyLoss()(z[None, :], np.array([target]))
    colors = [plots.CLASS_COLORS[1] if c == target else "#a0aec0" for c in range(num_classes)]
    with plots.style():
        fig, (ax_z, ax_p, ax_l) = plots.subplots("wide", ncols=3)
        ax_z.bar(names, z, color=colors)
        ax_z.axhline(0, color="#4a5568", lw=1)
        ax_z.set_ylim(-6.5, 6.5)
        ax_z.set_title("logits z (any real number)")
        for c, v in enumerate(z):
            ax_z.text(c, v + (0.3 if v >= 0 else -0.3), f"{v:.1f}", ha="center",
                      va="bottom" if v >= 0 else "top", fontsize=10)
        ax_p.bar(names, p, color=colors)
        ax_p.set_ylim(0, 1.12)
        ax_p.set_title("softmax(z): probabilities, sum 1")
        for c, v in enumerate(p):
            ax_p.text(c, v + 0.02, f"{v:.2f}", ha="center", va="bottom", fontsize=10)
        grid = np.linspace(0.005, 1, 200)
        ax_l.plot(grid, -np.log(grid), color=plots.CLASS_COLORS[0], lw=2.5)
        ax_l.axhline(np.log(num_classes), color="#718096", lw=1.2, ls=":",
                     label=f"blind guess: log {num_classes} = {np.log(num_classes):.2f}")
        ax_l.plot([p[target]], [loss], "o", color=plots.CLASS_COLORS[1], ms=10,
                  label="true class (coloured bar)")
        ax_l.legend(loc="upper right", framealpha=0.9)
        ax_l.set_xlim(0, 1.02)
        ax_l.set_ylim(0, 5.5)
        ax_l.set_xlabel(f"p[target] (target = {names[target]})")
        ax_l.set_ylabel("loss")
        ax_l.set_title(f"cross-entropy = -log {p[target]:.2f} = {loss:.3f}")
        for ax in (ax_z, ax_p):
            ax.tick_params(axis="x", labelrotation=30 if num_classes > 4 else 0)
    return plots.finish(fig)


def softmax_explorer(num_classes: int = 3, class_names=None):
    """One slider per logit and a target class, over ``softmax_figure``."""
    import ipywidgets as widgets

    names = list(class_names) if class_names is not None else [f"class {c}" for c in
                                                               range(num_classes)]
    start = [2.0, 1.0, 0.0, -1.0, -2.0]
    controls = {f"z{c}": widgets.FloatSlider(value=start[c % 5], min=-6.0, max=6.0, step=0.1,
                                             description=f"logit z{c} ({names[c]})",
                                             style=plots.slider_style())
                for c in range(num_classes)}
    controls["target"] = widgets.Dropdown(options=[(n, c) for c, n in enumerate(names)],
                                          value=0, description="true class")

    def draw(target, **logits):
        return softmax_figure([logits[f"z{c}"] for c in range(num_classes)], target, names)

    return plots.interactive_figure(draw, controls, height="400px")
