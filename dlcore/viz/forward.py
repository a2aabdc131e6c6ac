"""Lesson 02 (the forward pass): activation functions and how layers bend space.

``activation_figure`` draws an activation f and its derivative f', both
computed by the engine's own module (``forward`` gives f(x), ``backward`` of
ones gives f'(x)), with a marker at a chosen x and the saturated stretches
(where f' is tiny) shaded. ``grid_warp_figure`` pushes a grid of lines and a
2-D data set through the first k modules of a network whose layers are all
2 wide, so one sees what each Linear (stretch, rotate, shift) and each
activation (bend, squash) does to the plane.
"""
from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator

from .. import nn
from . import plots

# The activations a learner can pick: (label, module class).
ACTIVATIONS = (
    ("sigmoid", nn.Sigmoid),
    ("tanh", nn.Tanh),
    ("ReLU", nn.ReLU),
    ("leaky ReLU (0.1)", functools.partial(nn.LeakyReLU, 0.1)),
    ("GELU", nn.GELU),
)
SATURATION = 0.05   # f' below this share of its largest value counts as saturated
SHADE_COLOR = "#e2e8f0"


def activation_and_derivative(activation: nn.Module, x: np.ndarray):
    """f(x) from ``activation.forward`` and f'(x) from ``activation.backward``
    of ones: for an elementwise f, dL/dx = f'(x) * dL/dy, so a gradient of
    ones returns f' itself."""
    x = np.asarray(x, dtype=np.float64)
    y = activation(x)
    return y, activation.backward(np.ones_like(x))


def activation_figure(activation=nn.Sigmoid, x0: float = 1.0,
                      x_range: tuple[float, float] = (-6.0, 6.0)) -> Figure:
    """Left: f(x). Right: f'(x). A marker at x0 on both; stretches where
    |f'| < 5% of its peak (the unit barely learns there) are shaded.

    ``activation``: a module class (or a function returning a module). ``fig.parts``
    keeps the artists ``update_activation_figure`` changes in place.
    """
    with plots.style():
        fig, (ax_f, ax_d) = plots.subplots("wide", ncols=2)
        markers, guides = [], []
        for ax in (ax_f, ax_d):
            ax.axhline(0, color="#cbd5e0", lw=1)
            ax.axvline(0, color="#cbd5e0", lw=1)
            guides.append(ax.axvline(x0, color=plots.ACCENT, lw=1, ls="--"))
            # a few round ticks: tick labels are most of what a new range redraws
            ax.xaxis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10]))
            ax.yaxis.set_major_locator(MaxNLocator(5, steps=[1, 2, 5, 10]))
        fig.supxlabel("x (the input z of the unit)", fontsize="medium")   # one for both
        (f_line,) = ax_f.plot([], [], color=plots.CLASS_COLORS[0], lw=2.5)
        (d_line,) = ax_d.plot([], [], color=plots.CLASS_COLORS[1], lw=2.5)
        for ax in (ax_f, ax_d):
            markers.append(ax.plot([], [], "o", color=plots.ACCENT, ms=9)[0])
        ax_f.set_ylabel("f(x)")
        ax_d.set_ylabel("f'(x)")
        shade = Patch(color=SHADE_COLOR, label="saturated: |f'| < 5% of its peak")
        # under the axes, beside the x label: never over a curve
        legend = fig.legend(handles=[shade], loc="outside lower right", frameon=False)
    fig.parts = SimpleNamespace(f_line=f_line, d_line=d_line, markers=markers,
                                guides=guides, legend=legend, shading=[])
    update_activation_figure(fig, activation, x0, x_range)
    return plots.finish(fig)


def update_activation_figure(fig: Figure, activation=nn.Sigmoid, x0: float = 1.0,
                             x_range: tuple[float, float] = (-6.0, 6.0)) -> bool:
    """Draw another activation, marker or range into an ``activation_figure``. True
    unless only the marker moved (then only ``activation_moving`` artists changed)."""
    parts = fig.parts
    full = parts.__dict__.get("shown") != (activation, tuple(x_range))
    parts.shown = (activation, tuple(x_range))
    ax_f, ax_d = fig.axes[:2]
    module = activation()
    name = next((label for label, make in ACTIVATIONS if make is activation),
                type(module).__name__)
    low, high = x_range
    high = max(high, low + 1.0)        # a range slider may close up: keep one unit to draw
    x = np.linspace(low, high, 400)
    y, dy = activation_and_derivative(module, x)
    (y0,), (dy0,) = activation_and_derivative(module, np.array([x0]))
    peak = max(dy.max(), 1e-12)
    flat = np.abs(dy) < SATURATION * peak
    for shading in parts.shading:
        shading.remove()
    parts.shading = [ax.fill_between(x, 0, 1, where=flat, transform=ax.get_xaxis_transform(),
                                     color=SHADE_COLOR, zorder=0.5) for ax in (ax_f, ax_d)]
    parts.f_line.set_data(x, y)
    parts.d_line.set_data(x, dy)
    for marker, value in zip(parts.markers, (y0, dy0), strict=True):
        marker.set_data([x0], [value])
    for guide in parts.guides:
        guide.set_xdata([x0, x0])
    for ax in (ax_f, ax_d):
        ax.set_xlim(low, high)
    span = max(y.max() - y.min(), 1e-12)
    ax_f.set_ylim(y.min() - 0.06 * span, y.max() + 0.06 * span)
    ax_f.set_title(f"{name}:  f({x0:.2f}) = {y0:.3f}")
    ax_d.set_title(f"its derivative:  f'({x0:.2f}) = {dy0:.3f}")
    ax_d.set_ylim(min(dy.min(), 0) - 0.05 * peak, 1.15 * peak)
    parts.legend.set_visible(bool(flat.any()))
    return full


def activation_moving(fig: Figure) -> list:
    """What moving the marker changes in an ``activation_figure``."""
    parts = fig.parts
    return [*parts.markers, *parts.guides, *(ax.title for ax in fig.axes[:2])]


def activation_explorer():
    """A dropdown of activations, the marker's x and the input range on sliders."""
    import ipywidgets as widgets

    controls = {
        "activation": widgets.Dropdown(options=list(ACTIVATIONS), value=nn.Sigmoid,
                                       description="activation function",
                                       style=plots.slider_style()),
        "x0": widgets.FloatSlider(value=1.0, min=-8.0, max=8.0, step=0.25,
                                  description="marker at input x", style=plots.slider_style()),
        "x_range": widgets.FloatRangeSlider(value=(-6.0, 6.0), min=-12.0, max=12.0, step=1.0,
                                            description="input range shown",
                                            style=plots.slider_style()),
    }
    return plots.interactive_figure(activation_figure, controls,
                                    update=update_activation_figure,
                                    animated=activation_moving, continuous=True,
                                    name="forward.activation_explorer")


def activations_overview(x_range: tuple[float, float] = (-5.0, 5.0)) -> Figure:
    """Sigmoid, tanh and ReLU side by side (left) and their derivatives (right),
    all from the engine's modules."""
    x = np.linspace(*x_range, 401)
    with plots.style():
        fig, (ax_f, ax_d) = plots.subplots("wide", ncols=2)
        for k, (label, make) in enumerate(ACTIVATIONS[:3]):
            y, dy = activation_and_derivative(make(), x)
            style = dict(lw=2.5, color=plots.CLASS_COLORS[k], ls=plots.LINESTYLES[k], label=label)
            ax_f.plot(x, y, **style)
            ax_d.plot(x, dy, **style)
        for ax, title in ((ax_f, "activation functions f(x)"),
                          (ax_d, "their derivatives f'(x)")):
            ax.axhline(0, color="#cbd5e0", lw=1)
            ax.axvline(0, color="#cbd5e0", lw=1)
            ax.set_xlim(*x_range)
            ax.set_xlabel("x")
            ax.set_title(title)
            ax.legend(loc="upper left", framealpha=0.9)
        ax_f.set_ylim(-1.2, 2.2)
        ax_d.set_ylim(-0.1, 1.2)
    return plots.finish(fig)


def shapes_figure(model: nn.Sequential, batch_size: int = 4) -> Figure:
    """Every array of a forward pass as a box: height the batch size N, width
    the number of features, labelled with its shape; the modules between them.

    The labels are ``fig.axes[0].texts`` (the shapes in order, then the modules).
    """
    first = next(m for m in model if hasattr(m, "in_features"))
    x = np.zeros((batch_size, first.in_features), dtype=np.float32)
    steps = plots.layer_outputs(model, x)
    widest = max(out.shape[1] for _, out in steps)
    with plots.style():
        fig, ax = plots.subplots("wide")
        fig.set_size_inches(10.0, 2.2)   # one row of flat boxes: "wide" would leave a band
        left = 0.0
        gap = 2.2
        unit = min(0.3, 3.0 / widest)
        height = 0.25 * batch_size
        for k, (name, out) in enumerate(steps):
            width = unit * out.shape[1]
            colour = plots.CLASS_COLORS[0] if k == 0 else (
                plots.CLASS_COLORS[1] if k == len(steps) - 1 else plots.CLASS_COLORS[2])
            ax.add_patch(Rectangle((left, -height / 2), width, height, facecolor=colour,
                                   alpha=0.25, edgecolor=colour, lw=2))
            for r in range(1, batch_size):          # one row per sample
                ax.plot([left, left + width], [-height / 2 + r * 0.25] * 2, color=colour,
                        lw=0.6, alpha=0.6)
            for c in range(1, out.shape[1]):        # one column per feature
                ax.plot([left + c * unit] * 2, [-height / 2, height / 2], color=colour,
                        lw=0.6, alpha=0.6)
            role = "X" if k == 0 else ("y_hat" if k == len(steps) - 1 else f"h{k}")
            ax.text(left + width / 2, -height / 2 - 0.15, f"{role} {out.shape}",
                    ha="center", va="top", fontsize=10)
            if k:
                plots.arrow(ax, (left - gap + 0.1, 0), (left - 0.1, 0), color="#4a5568",
                            lw=1.2, head="->", size=10)
                ax.text(left - gap / 2, 0.12, name.split(" ", 1)[1], ha="center", va="bottom",
                        fontsize=9, rotation=0)
            left += width + gap
        ax.set_xlim(-0.3, left - gap + 0.3)
        ax.set_ylim(-height / 2 - 0.8, height / 2 + 0.4)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(f"a batch of N = {batch_size} rows through the network: "
                     "box height = N, width = features")
    return plots.finish(fig)


def grid_lines(limits: tuple[float, float, float, float], num_lines: int = 13,
               points_per_line: int = 80) -> np.ndarray:
    """Horizontal and vertical lines filling ``limits`` as one batch of points,
    shape (2 * num_lines, points_per_line, 2)."""
    x0, x1, y0, y1 = limits
    t = np.linspace(0, 1, points_per_line)
    lines = []
    for v in np.linspace(y0, y1, num_lines):
        lines.append(np.stack([x0 + (x1 - x0) * t, np.full_like(t, v)], axis=1))
    for v in np.linspace(x0, x1, num_lines):
        lines.append(np.stack([np.full_like(t, v), y0 + (y1 - y0) * t], axis=1))
    return np.array(lines, dtype=np.float32)


def _limits_of(*arrays: np.ndarray, margin: float = 0.06) -> tuple[float, ...]:
    """(x0, x1, y0, y1) around all the points of the arrays (..., 2), with a margin."""
    pts = np.concatenate([np.asarray(a).reshape(-1, 2) for a in arrays])
    low, high = pts.min(axis=0), pts.max(axis=0)
    pad = margin * np.maximum(high - low, 1e-3)
    return (low[0] - pad[0], high[0] + pad[0], low[1] - pad[1], high[1] + pad[1])


def grid_warp_figure(model: nn.Sequential, layer: int, X: np.ndarray,
                     y: np.ndarray | None = None, num_lines: int = 13,
                     classifier: bool = False) -> Figure:
    """Left: the input plane, a grid and the data. Right: the same grid and
    data after the first ``layer`` modules of ``model`` (0 = the input itself).
    Every module's output must be 2-D (N, 2) so it can be drawn.

    ``classifier=True``: the model's two outputs are the scores of classes 0
    and 1, so after the last module the line score 1 = score 0 (the diagonal)
    is drawn, labelled 'decision line': the network decides by a straight line
    in the space its last layer made.

    The warped points are the collection with label 'data' in ``fig.axes[1]``, the
    grid its two ``LineCollection``s (labels 'horizontal lines', 'vertical lines').
    Every module's output is computed once (``fig.parts.steps``), so
    ``update_grid_warp_figure`` only moves the drawn points to another step.
    """
    if not 0 <= layer <= len(model):
        raise ValueError(f"layer must be between 0 and {len(model)}, got {layer}")
    X = np.asarray(X, dtype=np.float32)
    limits = (X[:, 0].min() - 0.3, X[:, 0].max() + 0.3, X[:, 1].min() - 0.3,
              X[:, 1].max() + 0.3)
    lines = grid_lines(limits, num_lines)
    flat = lines.reshape(-1, 2)
    steps = plots.layer_outputs(model, np.concatenate([flat, X]))
    for name, out in steps:
        if out.ndim != 2 or out.shape[1] != 2:
            raise ValueError(f"grid_warp_figure draws 2-D outputs; {name} gives {out.shape}")
    colors = ("#4a5568" if y is None else
              [plots.CLASS_COLORS[int(c)] for c in np.asarray(y).ravel()])
    with plots.style():
        fig, axes = plots.subplots("wide", ncols=2)
        grids, points = [], []
        for ax in axes:
            pair = []
            for part, (label, color) in enumerate((("horizontal lines", plots.CLASS_COLORS[6]),
                                                   ("vertical lines", plots.CLASS_COLORS[4]))):
                segments = lines[part * num_lines:(part + 1) * num_lines]
                pair.append(ax.add_collection(LineCollection(segments, colors=color, lw=0.9,
                                                             alpha=0.55, label=label)))
            grids.append(pair)
            points.append(ax.scatter(X[:, 0], X[:, 1], s=16, c=colors, edgecolor="white",
                                     linewidth=0.5, zorder=3, label="data"))
        axes[0].set_title("input space")
        axes[0].set_xlabel("$x_1$")
        axes[0].set_ylabel("$x_2$")
        x0, x1, y0, y1 = _limits_of(lines, X)
        axes[0].set_xlim(x0, x1)
        axes[0].set_ylim(y0, y1)
        (decision,) = axes[1].plot([], [], color="black", lw=2, ls="--",
                                   label="decision line: score 1 = score 0")
        legend = axes[1].legend(handles=[decision], loc="lower right", framealpha=0.9)
        suptitle = fig.suptitle("", fontsize=12)
    fig.parts = SimpleNamespace(steps=steps, num_points=len(flat), shape=lines.shape,
                                num_lines=num_lines, grid=grids[1], points=points[1],
                                decision=decision, legend=legend, suptitle=suptitle,
                                classifier=classifier, num_modules=len(model))
    update_grid_warp_figure(fig, layer)
    return plots.finish(fig)


def update_grid_warp_figure(fig: Figure, layer: int) -> None:
    """Show step ``layer`` (0 = the input) on the right of a ``grid_warp_figure``."""
    parts = fig.parts
    if not 0 <= layer <= parts.num_modules:
        raise ValueError(f"layer must be between 0 and {parts.num_modules}, got {layer}")
    ax = fig.axes[1]
    name, out = parts.steps[layer]
    warped_lines = out[:parts.num_points].reshape(parts.shape)
    warped_X = out[parts.num_points:]
    n = parts.num_lines
    parts.grid[0].set_segments(warped_lines[:n])
    parts.grid[1].set_segments(warped_lines[n:])
    parts.points.set_offsets(warped_X)
    x0, x1, y0, y1 = _limits_of(warped_lines, warped_X)
    last = parts.classifier and layer == parts.num_modules
    if last:
        ends = np.array([min(warped_X.min(), warped_lines.min()),
                         max(warped_X.max(), warped_lines.max())])
        parts.decision.set_data(ends, ends)
    else:
        parts.decision.set_data([], [])
    parts.legend.set_visible(last)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_title("input space" if layer == 0 else f"after {name}")
    ax.set_xlabel("unit 1" if layer else "$x_1$")
    ax.set_ylabel("unit 2" if layer else "$x_2$")
    parts.suptitle.set_text(f"step {layer} of {parts.num_modules}: " + (
        "the input, before any module" if layer == 0 else
        f"the grid and the data after {layer} module{'s' if layer != 1 else ''}"))


def grid_warp_explorer(model: nn.Sequential, X: np.ndarray, y: np.ndarray | None = None,
                       classifier: bool = False):
    """A slider over the modules of ``model``: how far the grid has been pushed (every
    module's output is computed once, when the widget is made)."""
    import ipywidgets as widgets

    controls = {"layer": widgets.IntSlider(value=0, min=0, max=len(model),
                                           description="modules applied",
                                           style=plots.slider_style())}

    def draw(layer):
        return grid_warp_figure(model, layer, X, y, classifier=classifier)

    # Only the right panel and the title change: they are redrawn over the rest (the
    # input plane, drawn once), which halves the time of a move.
    return plots.interactive_figure(draw, controls, update=update_grid_warp_figure,
                                    animated=lambda fig: [fig.axes[1], fig.parts.suptitle],
                                    continuous=True, name="forward.grid_warp_explorer")
