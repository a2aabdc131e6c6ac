"""Lesson 03 (loss functions): mean squared error and softmax cross-entropy.

``mse_figure`` draws a line through regression data with each error as a
square (the squares' mean area is the MSE) beside the MSE as a function of
the slope. ``softmax_figure`` draws logits, their softmax probabilities and
the cross-entropy -log p[target]; ``softmax_explorer`` puts the logits on
sliders. All numbers come from the engine (``nn.MSELoss``,
``nn.CrossEntropyLoss``, ``nn.functional.softmax``).
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .. import nn
from ..nn import functional as F
from . import plots


def mse_figure(w: float, b: float, x: np.ndarray, y: np.ndarray,
               w_range: tuple[float, float] = (-2.0, 4.0),
               b_range: tuple[float, float] = (-3.0, 3.0)) -> Figure:
    """Left: data (x, y), the line y_hat = w x + b and each error drawn as a
    square of side |y_hat - y|. Right: MSE against the slope w (b fixed), with
    the current w marked. The title gives the MSE from ``nn.MSELoss``.
    The loss axis is fixed for slopes in ``w_range`` and intercepts in ``b_range``
    (the sliders' ranges), so a new intercept visibly lifts or lowers the parabola.
    ``fig.parts`` keeps the artists ``update_mse_figure`` moves."""
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    # The MSE is a bowl in (w, b): its highest point over the sliders' box is a corner.
    top = max(np.mean((wc * x + bc - y) ** 2) for wc in w_range for bc in b_range)
    with plots.style():
        fig, (ax, ax_l) = plots.subplots("wide", ncols=2)
        squares, errors = [], []
        for xi, yi in zip(x, y, strict=True):
            squares.append(ax.add_patch(Rectangle((xi, yi), 0, 0,
                                                  facecolor=plots.CLASS_COLORS[1], alpha=0.18,
                                                  edgecolor=plots.CLASS_COLORS[1], lw=0.8)))
            errors.append(ax.plot([xi, xi], [yi, yi], color=plots.CLASS_COLORS[1], lw=1)[0])
        ax.scatter(x, y, s=28, color=plots.CLASS_COLORS[0], zorder=3, label="data (x, y)")
        grid = np.linspace(x.min() - 2.5, x.max() + 1.0, 2)
        (line,) = ax.plot(grid, grid, color="black", lw=2, label="y_hat")
        pad = 1.0   # fixed limits, so the view holds still while the sliders move
        ax.set_xlim(x.min() - pad - 1.5, x.max() + pad)
        ax.set_ylim(y.min() - pad - 1.0, y.max() + pad)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        legend = ax.legend(loc="upper left", framealpha=0.9)
        (curve,) = ax_l.plot([], [], color=plots.CLASS_COLORS[0], lw=2.5,
                             label="MSE, intercept b fixed at +0.00")
        (marker,) = ax_l.plot([], [], "o", color=plots.ACCENT, ms=10, label="w")
        ax_l.set_xlim(*w_range)
        ax_l.set_ylim(0, 1.08 * top)
        ax_l.set_xlabel("slope w")
        ax_l.set_ylabel("MSE")
        ax_l.set_title("the loss as a function of the weight")
        marker_legend = ax_l.legend(loc="upper center")
    fig.parts = SimpleNamespace(x=x, y=y, w_range=w_range, squares=squares, errors=errors,
                                line=line, legend=legend, curve=curve, marker=marker,
                                marker_legend=marker_legend)
    update_mse_figure(fig, w, b)
    return plots.finish(fig)


def update_mse_figure(fig: Figure, w: float, b: float) -> bool:
    """Move the line of an ``mse_figure`` to y_hat = w x + b: new squares, new MSE, and,
    for a new b, a new loss curve. Only ``mse_moving`` artists change (returns False),
    unless w lies outside the figure's ``w_range`` (the curve's axis grows: True)."""
    parts = fig.parts
    ax, ax_l = fig.axes
    x, y = parts.x, parts.y
    y_hat = w * x + b
    loss = nn.MSELoss()(y_hat, y)
    for square, error, xi, yi, pi in zip(parts.squares, parts.errors, x, y, y_hat,
                                         strict=True):
        side = pi - yi
        square.set_bounds(xi, yi, -side if side > 0 else side, side)
        error.set_ydata([yi, pi])
    grid = parts.line.get_xdata()
    parts.line.set_ydata(w * grid + b)
    parts.legend.get_texts()[-1].set_text(f"y_hat = {w:.2f} x + {b:.2f}")
    ax.set_title(f"MSE = mean area of the squares = {loss:.3f}")
    slopes = np.linspace(min(parts.w_range[0], w), max(parts.w_range[1], w), 121)
    grown = slopes[0] != parts.w_range[0] or slopes[-1] != parts.w_range[1]
    if grown or parts.__dict__.get("b") != b:        # the curve depends on b only
        curve = np.array([nn.MSELoss()(s * x + b, y) for s in slopes])   # the engine's MSE
        parts.curve.set_data(slopes, curve)
        parts.marker_legend.get_texts()[0].set_text(f"MSE, intercept b fixed at {b:+.2f}")
        parts.b = b
    parts.marker.set_data([w], [loss])
    parts.marker_legend.get_texts()[1].set_text(f"w = {w:.2f}")
    if grown:
        ax_l.set_xlim(slopes[0], slopes[-1])
    return grown


def mse_moving(fig: Figure) -> list:
    """What a new slope or intercept moves in an ``mse_figure`` (the rest is blitted)."""
    parts = fig.parts
    return [*parts.squares, *parts.errors, parts.line, parts.legend, fig.axes[0].title,
            parts.curve, parts.marker, parts.marker_legend]


def mse_explorer(x: np.ndarray, y: np.ndarray):
    """Slope and intercept on sliders over ``mse_figure``. The figure is drawn once, its
    loss axis fixed: a move redraws only the line, the squares, the loss curve and the
    numbers over the rest."""
    import ipywidgets as widgets

    controls = {
        "w": widgets.FloatSlider(value=0.5, min=-2.0, max=4.0, step=0.1,
                                 description="slope w", style=plots.slider_style()),
        "b": widgets.FloatSlider(value=0.0, min=-3.0, max=3.0, step=0.1,
                                 description="intercept b", style=plots.slider_style()),
    }

    def draw(w, b):
        return mse_figure(w, b, x, y, w_range=(controls["w"].min, controls["w"].max),
                          b_range=(controls["b"].min, controls["b"].max))

    return plots.interactive_figure(draw, controls, update=update_mse_figure,
                                    animated=mse_moving, continuous=True,
                                    name="losses.mse_explorer")


def softmax_figure(logits, target: int = 0, class_names=None) -> Figure:
    """Left: the logits z (raw scores). Middle: softmax(z), probabilities that
    sum to 1, the target class highlighted. Right: the cross-entropy
    -log p[target] as a curve of p, the current point marked.

    The probability bars are ``fig.axes[1].patches``; the loss is in the
    right panel's title, computed by ``nn.CrossEntropyLoss``. ``fig.parts`` keeps
    the artists ``update_softmax_figure`` changes.
    """
    z = np.asarray(logits, dtype=np.float64).ravel()
    num_classes = len(z)
    if not 0 <= target < num_classes:
        raise ValueError(f"target must be a class index in [0, {num_classes}), got {target}")
    names = list(class_names) if class_names is not None else [f"class {c}" for c in
                                                               range(num_classes)]
    with plots.style():
        fig, (ax_z, ax_p, ax_l) = plots.subplots("wide", ncols=3)
        z_bars = ax_z.bar(names, np.zeros(num_classes))
        ax_z.axhline(0, color="#4a5568", lw=1)
        ax_z.set_ylim(-6.5, 6.5)
        ax_z.set_title("logits z (any real number)")
        z_texts = [ax_z.text(c, 0, "", ha="center", fontsize=10) for c in range(num_classes)]
        p_bars = ax_p.bar(names, np.zeros(num_classes))
        ax_p.set_ylim(0, 1.12)
        ax_p.set_title("softmax(z): probabilities, sum 1")
        p_texts = [ax_p.text(c, 0, "", ha="center", va="bottom", fontsize=10)
                   for c in range(num_classes)]
        grid = np.linspace(0.005, 1, 200)
        ax_l.plot(grid, -np.log(grid), color=plots.CLASS_COLORS[0], lw=2.5)
        ax_l.axhline(np.log(num_classes), color="#718096", lw=1.2, ls=":",
                     label=f"blind guess: log {num_classes} = {np.log(num_classes):.2f}")
        (point,) = ax_l.plot([], [], "o", color=plots.CLASS_COLORS[1], ms=10,
                             label="true class (coloured bar)")
        ax_l.legend(loc="upper right", framealpha=0.9)
        ax_l.set_xlim(0, 1.02)
        ax_l.set_ylim(0, 5.5)
        ax_l.set_ylabel("loss")
        ax_l.set_xlabel("p[target], the coloured bar")
        for ax in (ax_z, ax_p):
            ax.tick_params(axis="x", labelrotation=30 if num_classes > 4 else 0)
    fig.parts = SimpleNamespace(names=names, z_bars=z_bars, z_texts=z_texts, p_bars=p_bars,
                                p_texts=p_texts, point=point)
    update_softmax_figure(fig, z, target)
    return plots.finish(fig)


def update_softmax_figure(fig: Figure, logits, target: int = 0) -> bool:
    """New logits or a new target class in a ``softmax_figure``."""
    parts = fig.parts
    ax_l = fig.axes[2]
    z = np.asarray(logits, dtype=np.float64).ravel()
    num_classes = len(parts.names)
    if len(z) != num_classes:
        raise ValueError(f"expected {num_classes} logits, got {len(z)}")
    if not 0 <= target < num_classes:
        raise ValueError(f"target must be a class index in [0, {num_classes}), got {target}")
    p = F.softmax(z)
    loss = nn.CrossEntropyLoss()(z[None, :], np.array([target]))
    for c in range(num_classes):
        color = plots.CLASS_COLORS[1] if c == target else "#a0aec0"
        for bar, value in ((parts.z_bars[c], z[c]), (parts.p_bars[c], p[c])):
            bar.set_height(value)
            bar.set_color(color)
        text = parts.z_texts[c]
        text.set_text(f"{z[c]:.1f}")
        text.set_y(z[c] + (0.3 if z[c] >= 0 else -0.3))
        text.set_va("bottom" if z[c] >= 0 else "top")
        parts.p_texts[c].set_text(f"{p[c]:.2f}")
        parts.p_texts[c].set_y(p[c] + 0.02)
    parts.point.set_data([p[target]], [loss])
    ax_l.set_title(f"cross-entropy = -log {p[target]:.2f} = {loss:.3f}")
    return False


def softmax_moving(fig: Figure) -> list:
    """Everything a logit or the target changes in a ``softmax_figure``."""
    parts = fig.parts
    return [*parts.z_bars, *parts.z_texts, *parts.p_bars, *parts.p_texts, parts.point,
            fig.axes[2].title]


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

    def update(fig, target, **logits):
        return update_softmax_figure(fig, [logits[f"z{c}"] for c in range(num_classes)],
                                     target)

    return plots.interactive_figure(draw, controls, update=update, animated=softmax_moving,
                                    continuous=True, name="losses.softmax_explorer")
