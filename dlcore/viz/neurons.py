"""Lesson 01 (neurons and layers): one neuron on 2-D data, and network diagrams.

A neuron with two inputs computes z = w1 x1 + w2 x2 + b and outputs a = f(z).
Where z = 0 is a straight line, the *decision line*: the neuron's output is
above its midpoint on one side and below it on the other. ``neuron_figure``
draws the neuron and that line over the data; ``neuron_explorer`` puts its
weights, bias and activation on sliders. ``network_figure`` /
``network_builder`` draw a network from its layer list.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from matplotlib import patheffects
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Circle
from matplotlib.ticker import MaxNLocator

from .. import nn
from . import plots

# The activations a learner can pick: (label, module class).
ACTIVATIONS = (
    ("sigmoid", nn.Sigmoid),
    ("tanh", nn.Tanh),
    ("ReLU", nn.ReLU),
    ("none (linear)", nn.Identity),
)
SURFACE_STEPS = 100   # the output surface's grid: 100 x 100 points, smooth at this size


def make_neuron(w1: float, w2: float, b: float, activation: type = nn.Sigmoid) -> nn.Sequential:
    """A neuron as the engine builds it: ``Linear(2, 1)`` with the given weight
    and bias, then the activation."""
    linear = nn.Linear(2, 1)
    linear.weight.data[:] = [[w1, w2]]
    linear.bias.data[:] = [b]
    return nn.Sequential(linear, activation())


def decision_line(w1: float, w2: float, b: float,
                  limits: tuple[float, float, float, float]) -> np.ndarray | None:
    """The two ends of the line w1 x1 + w2 x2 + b = 0 inside the box
    ``limits = (x1_min, x1_max, x2_min, x2_max)``, as a (2, 2) array of points;
    None when the line misses the box (or w = 0, so there is no line)."""
    x0, x1, y0, y1 = limits
    points = []
    if abs(w2) > 1e-12:
        for x in (x0, x1):
            y = -(w1 * x + b) / w2
            if y0 - 1e-9 <= y <= y1 + 1e-9:
                points.append((x, y))
    if abs(w1) > 1e-12:
        for y in (y0, y1):
            x = -(w2 * y + b) / w1
            if x0 - 1e-9 <= x <= x1 + 1e-9:
                points.append((x, y))
    unique = []
    for p in points:
        if all(np.hypot(p[0] - q[0], p[1] - q[1]) > 1e-9 for q in unique):
            unique.append(p)
    if len(unique) < 2:
        return None
    return np.array(unique[:2])


def draw_neuron(ax, w1: float, w2: float, b: float, activation_name: str) -> SimpleNamespace:
    """A neuron as a diagram: inputs, weighted edges, the sum with its bias,
    the activation, the output. A negative weight's edge is vermillion and dashed, a
    positive one's green and solid (told apart without colour too).

    Returns the artists that carry numbers (``edges``, ``weights``, ``bias``,
    ``activation``), which ``set_neuron`` changes in place."""
    blue = plots.CLASS_COLORS[0]
    edges, weights = [], []
    for y, name in ((1.0, "$x_1$"), (-1.0, "$x_2$")):
        ax.add_patch(Circle((0, y), 0.32, color=blue))
        ax.text(0, y, name, ha="center", va="center", color="white", fontsize=13)
        edges.append(plots.arrow(ax, (0.34, y), (1.62, 0.12 * np.sign(y)), size=14))
        weights.append(ax.text(0.75, 1.3 * y, "", ha="left", va="center", fontsize=11))
    ax.add_patch(Circle((2.0, 0), 0.42, facecolor="white", edgecolor="#2d3748", lw=2))
    ax.text(2.0, 0, r"$\Sigma$", ha="center", va="center", fontsize=16)
    bias = ax.text(2.0, -0.75, "", ha="center", fontsize=11)
    plots.arrow(ax, (2.44, 0), (3.05, 0), color="black", lw=1.5)
    ax.text(2.75, 0.12, "z", ha="center", fontsize=11)
    ax.add_patch(Circle((3.5, 0), 0.42, facecolor="#edf2f7", edgecolor="#2d3748", lw=2))
    ax.text(3.5, 0, "f", ha="center", va="center", fontsize=15, style="italic")
    activation = ax.text(3.5, -0.75, "", ha="center", fontsize=10)
    plots.arrow(ax, (3.94, 0), (4.45, 0), color="black", lw=1.5)
    ax.text(4.55, 0, "a", va="center", fontsize=13)
    ax.text(2.3, 2.05, "z = $w_1 x_1 + w_2 x_2 + b$,  a = f(z)", ha="center", fontsize=11)
    ax.set_xlim(-0.5, 4.9)
    ax.set_ylim(-1.7, 2.3)
    ax.set_aspect("equal")
    ax.axis("off")
    parts = SimpleNamespace(edges=edges, weights=weights, bias=bias, activation=activation)
    set_neuron(parts, w1, w2, b, activation_name)
    return parts


def set_neuron(parts: SimpleNamespace, w1: float, w2: float, b: float,
               activation_name: str) -> None:
    """Write new numbers into a ``draw_neuron`` diagram: edge widths and colours, the
    weights, the bias and the activation's name."""
    _, vermillion, green = plots.CLASS_COLORS[:3]
    for k, (edge, text, w) in enumerate(zip(parts.edges, parts.weights, (w1, w2), strict=True)):
        edge.set_linewidth(1 + 2.5 * min(abs(w), 3) / 3)
        edge.set_color(vermillion if w < 0 else green)
        edge.set_linestyle("--" if w < 0 else "-")
        # w₁ in Unicode, not mathtext: parsing "$w_1$" again on every move of a slider
        # cost more than drawing the rest of the diagram
        text.set_text(f"w{'₁₂'[k]} = {w:.1f}")
    parts.bias.set_text(f"+ b = {b:.1f}")
    parts.activation.set_text(activation_name)


def _activation_name(activation: type) -> str:
    return next((label for label, cls in ACTIVATIONS if cls is activation),
                activation.__name__)


def _limits(X: np.ndarray) -> tuple[float, float, float, float]:
    X = np.asarray(X)
    return (float(X[:, 0].min()) - 0.5, float(X[:, 0].max()) + 0.5,
            float(X[:, 1].min()) - 0.5, float(X[:, 1].max()) + 0.5)


def _output_norm(zz: np.ndarray, centre: float) -> Normalize:
    """Colours centred (white) on f(0), the output on the decision line, so the two
    sides read blue and vermillion; a fixed range for outputs that stay in [0, 1]
    (sigmoid) or [-1, 1] (tanh), so sharper weights read as sharper colours.
    (A plain ``Normalize`` symmetric about the centre, not ``CenteredNorm``: the same
    colours, but the colour bar of a plain one gets a linear axis, several times
    cheaper to draw on every move.)"""
    low, high = float(zz.min()), float(zz.max())
    if low >= 0 and high <= 1:
        low, high = 0.0, 1.0
    elif low >= -1 and high <= 1:
        low, high = -1.0, 1.0
    half = max(centre - low, high - centre, 1e-6)
    return Normalize(vmin=centre - half, vmax=centre + half)


def neuron_figure(w1: float = 1.0, w2: float = 1.0, b: float = 0.0,
                  activation: type = nn.Sigmoid, X: np.ndarray | None = None,
                  y: np.ndarray | None = None) -> Figure:
    """Left: the neuron with its numbers. Right: its output a = f(w.x + b) over
    the plane (colour, white where z = 0), the decision line z = 0 (black), the
    weight vector w (an arrow: it points to where the output grows) and the data X
    (N, 2) coloured by label y (N,), with the share the line gets right.

    The line is the one with label 'decision line' in ``fig.axes[1]``; ``fig.parts``
    keeps the artists ``update_neuron_figure`` changes for new weights.
    """
    if X is None:
        X = np.array([[-2.0, -2.0], [2.0, 2.0]], dtype=np.float32)
    limits = _limits(X)
    with plots.style():
        # Fixed positions, not constrained layout: the colour bar's tick labels change
        # width with the activation (0.00 ... 1.00 for sigmoid, -0.75 for tanh, 20 for a
        # linear unit), and a layout frozen for one of them would cut off another.
        fig, (ax_n, ax) = plots.subplots("wide", ncols=2, width_ratios=[1, 1.25],
                                         layout="none")
        fig.subplots_adjust(left=0.0, right=0.855, bottom=0.12, top=0.91, wspace=0.14)
        neuron = draw_neuron(ax_n, w1, w2, b, _activation_name(activation))
        image = ax.imshow(np.zeros((2, 2)), extent=limits, origin="lower", aspect="auto",
                          cmap=plots.SURFACE_CMAP, alpha=0.75, interpolation="bilinear")
        cax = fig.add_axes((0.875, 0.18, 0.014, 0.64))
        fig.colorbar(image, cax=cax, ticks=MaxNLocator(5))
        cax.set_title("output a", fontsize=10, loc="left", pad=9)   # clear of a tick at 1.0
        plots.scatter_classes(ax, X, y)
        data = list(ax.collections)          # redrawn over each new surface (blitting)
        (line,) = ax.plot([], [], color="black", lw=2.5, label="decision line")
        # A white outline keeps the orange w readable over the vermillion side.
        outline = [patheffects.withStroke(linewidth=4, foreground="white")]
        arrow = plots.arrow(ax, (0, 0), (1, 1), color=plots.ACCENT, lw=2.5, size=16,
                            zorder=4)
        arrow.set_path_effects(outline)
        w_label = ax.text(0, 0, "w", color=plots.ACCENT, fontsize=14, weight="bold",
                          ha="center", va="center", zorder=4, path_effects=outline)
        ax.set_xlim(limits[0], limits[1])
        ax.set_ylim(limits[2], limits[3])
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        # The legend sits under the neuron diagram, off the data.
        handles, labels = ax.get_legend_handles_labels()
        ax_n.set_ylim(-2.55, 2.3)
        ax_n.legend(handles, labels, loc="lower center", ncol=len(handles), fontsize=9.5,
                    handletextpad=0.3, columnspacing=0.9, frameon=False,
                    borderaxespad=0.0)
    xx, yy, points = plots.grid(X, steps=SURFACE_STEPS, limits=limits)
    fig.parts = SimpleNamespace(neuron=neuron, image=image, line=line, arrow=arrow,
                                w_label=w_label, points=points, shape=xx.shape, X=X, y=y,
                                limits=limits, colorbar_axis=cax.yaxis, data=data)
    update_neuron_figure(fig, w1, w2, b, activation)
    return plots.finish(fig)


def update_neuron_figure(fig: Figure, w1: float = 1.0, w2: float = 1.0, b: float = 0.0,
                         activation: type = nn.Sigmoid) -> None:
    """Give a ``neuron_figure`` new weights, bias and activation, in place: only
    ``moving_artists`` change (a new colour scale moves the colour bar's tick labels; its
    colours always run through the whole colour map, so the bar itself stays)."""
    parts = fig.parts
    ax = fig.axes[1]
    set_neuron(parts.neuron, w1, w2, b, _activation_name(activation))
    neuron = make_neuron(w1, w2, b, activation)
    zz = np.asarray(neuron(parts.points)).reshape(parts.shape)
    centre = float(np.asarray(activation()(np.zeros((1, 1), dtype=np.float32))).ravel()[0])
    parts.image.set_data(zz)
    norm = _output_norm(zz, centre)
    old = parts.image.norm
    if (old.vmin, old.vmax) != (norm.vmin, norm.vmax):
        parts.image.set_norm(norm)
    limits = parts.limits
    line = decision_line(w1, w2, b, limits)
    title = "no line: both weights are 0" if line is None and w1 == w2 == 0 else ""
    parts.arrow.set_visible(line is not None)
    parts.w_label.set_visible(line is not None)
    if line is not None:
        parts.line.set_data(line[:, 0], line[:, 1])
        mid = line.mean(axis=0)
        length = 0.18 * min(limits[1] - limits[0], limits[3] - limits[2])
        direction = np.array([w1, w2]) / np.hypot(w1, w2) * length
        parts.arrow.set_positions(tuple(mid), tuple(mid + direction))
        parts.w_label.set_position(tuple(mid + 1.45 * direction))
    else:
        parts.line.set_data([], [])
        if not title:
            title = "the decision line lies outside this view"
    if parts.y is not None and not title:
        z = parts.X @ np.array([w1, w2]) + b
        correct = np.mean((z > 0) == (np.asarray(parts.y) == 1))
        title = f"the line puts {correct:.0%} of the points on their class's side"
    ax.set_title(title or "output of the neuron")


def moving_artists(fig: Figure) -> list:
    """The artists of a ``neuron_figure`` that a change of weights or activation moves:
    the rest (axes, ticks, the colour bar's colours, the diagram's circles) is drawn once
    and blitted under them."""
    parts = fig.parts
    # the data points come right after the surface, so they are drawn over it (blitted
    # artists are drawn after the background, in this order, whatever their zorder)
    return [parts.image, *parts.data, parts.line, parts.arrow, parts.w_label,
            fig.axes[1].title,
            *parts.neuron.edges, *parts.neuron.weights, parts.neuron.bias,
            parts.neuron.activation, parts.colorbar_axis]


def neuron_explorer(X: np.ndarray, y: np.ndarray):
    """Sliders for w1, w2, b and a dropdown for the activation, over ``neuron_figure``
    (updated in place: a move recomputes the 100 x 100 surface and redraws)."""
    import ipywidgets as widgets

    def slider(value, low, high, text):
        return widgets.FloatSlider(value=value, min=low, max=high, step=0.1, description=text,
                                   style=plots.slider_style())

    controls = {
        "w1": slider(1.0, -3.0, 3.0, "weight w1 (on x1)"),
        "w2": slider(0.5, -3.0, 3.0, "weight w2 (on x2)"),
        "b": slider(0.0, -4.0, 4.0, "bias b (slides the line)"),
        "activation": widgets.Dropdown(options=list(ACTIVATIONS), value=nn.Sigmoid,
                                       description="activation f(z)",
                                       style=plots.slider_style()),
    }

    def draw(w1, w2, b, activation):
        return neuron_figure(w1, w2, b, activation, X, y)

    # JPEG: the smooth colour surface made a PNG take ~30 ms to encode, a JPEG ~2 ms
    # (text and lines stay sharp at the core's quality 90)
    return plots.interactive_figure(draw, controls, update=update_neuron_figure,
                                    animated=moving_artists, columns=4, continuous=True,
                                    name="neurons.neuron_explorer", format="jpeg")


def build_network(num_inputs: int, hidden: list[int], num_outputs: int,
                  activation: type = nn.ReLU) -> nn.Sequential:
    """``Linear -> activation`` for each hidden width, then a ``Linear`` output."""
    layers: list[nn.Module] = []
    width = num_inputs
    for h in hidden:
        layers += [nn.Linear(width, h), activation()]
        width = h
    layers.append(nn.Linear(width, num_outputs))
    return nn.Sequential(*layers)


def network_figure(num_inputs: int = 2, num_hidden_layers: int = 1, width: int = 4,
                   num_outputs: int = 1, activation: type = nn.ReLU, ax=None) -> Figure:
    """The diagram of ``build_network`` with ``num_hidden_layers`` layers of
    ``width`` units, titled with its parameter count (drawn into ``ax`` if given)."""
    model = build_network(num_inputs, [width] * num_hidden_layers, num_outputs, activation)
    count = sum(p.numel() for p in model.parameters())
    return plots.network_diagram(model, ax=ax, title=f"{count:,} parameters: "
                                                     f"{len(model)} modules in nn.Sequential")


def update_network_figure(fig: Figure, **values) -> None:
    """Redraw a ``network_figure`` for new widths in the same axes (the figure, its
    layout and the axes' ticks stay; the circles, lines and labels are drawn again)."""
    ax = fig.axes[0]
    for artist in [*ax.lines, *ax.collections, *ax.texts, *ax.patches]:
        artist.remove()
    network_figure(**values, ax=ax)


def network_builder():
    """Sliders for the number of inputs, hidden layers, their width and the
    outputs, drawing the network they make."""
    import ipywidgets as widgets

    def slider(value, low, high, text):
        return widgets.IntSlider(value=value, min=low, max=high, description=text,
                                 style=plots.slider_style())

    controls = {
        "num_inputs": slider(2, 1, 8, "input units"),
        "num_hidden_layers": slider(1, 0, 4, "hidden layers"),
        "width": slider(4, 1, 12, "units per hidden layer"),
        "num_outputs": slider(1, 1, 10, "output units"),
        "activation": widgets.Dropdown(options=list(ACTIVATIONS[:3]), value=nn.ReLU,
                                       description="hidden activation",
                                       style=plots.slider_style()),
    }
    return plots.interactive_figure(network_figure, controls, update=update_network_figure,
                                    columns=3, continuous=True, name="neurons.network_builder")
