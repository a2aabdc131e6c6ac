"""Lesson 01 (neurons and layers): one neuron on 2-D data, and network diagrams.

A neuron with two inputs computes z = w1 x1 + w2 x2 + b and outputs a = f(z).
Where z = 0 is a straight line, the *decision line*: the neuron's output is
above its midpoint on one side and below it on the other. ``neuron_figure``
draws the neuron and that line over the data; ``neuron_explorer`` puts its
weights, bias and activation on sliders. ``network_figure`` /
``network_builder`` draw a network from its layer list.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from .. import nn
from . import plots

# The activations a learner can pick: (label, module class).
ACTIVATIONS = (
    ("sigmoid", nn.Sigmoid),
    ("tanh", nn.Tanh),
    ("ReLU", nn.ReLU),
    ("none (linear)", nn.Identity),
)


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


def draw_neuron(ax, w1: float, w2: float, b: float, activation_name: str) -> None:
    """A neuron as a diagram: inputs, weighted edges, the sum with its bias,
    the activation, the output. A negative weight's edge is vermillion and dashed, a
    positive one's green and solid (told apart without colour too)."""
    blue, vermillion, green = plots.CLASS_COLORS[:3]
    for y, name, w in ((1.0, "$x_1$", w1), (-1.0, "$x_2$", w2)):
        ax.add_patch(Circle((0, y), 0.32, color=blue))
        ax.text(0, y, name, ha="center", va="center", color="white", fontsize=13)
        ax.annotate("", (1.62, 0.12 * np.sign(y)), (0.34, y),
                    arrowprops={"arrowstyle": "->", "lw": 1 + 2.5 * min(abs(w), 3) / 3,
                                "color": vermillion if w < 0 else green,
                                "linestyle": "--" if w < 0 else "-"})
        ax.text(0.75, 1.3 * y, f"$w_{1 if y > 0 else 2}$ = {w:.1f}", ha="left", va="center",
                fontsize=11)
    ax.add_patch(Circle((2.0, 0), 0.42, facecolor="white", edgecolor="#2d3748", lw=2))
    ax.text(2.0, 0, r"$\Sigma$", ha="center", va="center", fontsize=16)
    ax.text(2.0, -0.75, f"+ b = {b:.1f}", ha="center", fontsize=11)
    ax.annotate("", (3.05, 0), (2.44, 0), arrowprops={"arrowstyle": "->", "lw": 1.5})
    ax.text(2.75, 0.12, "z", ha="center", fontsize=11)
    ax.add_patch(Circle((3.5, 0), 0.42, facecolor="#edf2f7", edgecolor="#2d3748", lw=2))
    ax.text(3.5, 0, "f", ha="center", va="center", fontsize=15, style="italic")
    ax.text(3.5, -0.75, activation_name, ha="center", fontsize=10)
    ax.annotate("", (4.45, 0), (3.94, 0), arrowprops={"arrowstyle": "->", "lw": 1.5})
    ax.text(4.55, 0, "a", va="center", fontsize=13)
    ax.text(2.3, 2.05, "z = $w_1 x_1 + w_2 x_2 + b$,  a = f(z)", ha="center", fontsize=11)
    ax.set_xlim(-0.5, 4.9)
    ax.set_ylim(-1.7, 2.3)
    ax.set_aspect("equal")
    ax.axis("off")


def neuron_figure(w1: float = 1.0, w2: float = 1.0, b: float = 0.0,
                  activation: type = nn.Sigmoid, X: np.ndarray | None = None,
                  y: np.ndarray | None = None) -> Figure:
    """Left: the neuron with its numbers. Right: its output a = f(w.x + b) over
    the plane (colour), the decision line z = 0 (black), the weight vector w
    (an arrow: it points to where the output grows) and the data X (N, 2)
    coloured by label y (N,), with the share the line gets right.

    The line is the one with label 'decision line' in ``fig.axes[1]``.
    """
    if X is None:
        X = np.array([[-2.0, -2.0], [2.0, 2.0]], dtype=np.float32)
    neuron = make_neuron(w1, w2, b, activation)
    name = next((label for label, cls in ACTIVATIONS if cls is activation),
                activation.__name__)
    with plots.style():
        fig, (ax_n, ax) = plots.subplots("wide", ncols=2, width_ratios=[1, 1.25])
        draw_neuron(ax_n, w1, w2, b, name)
        plots.decision_boundary(neuron, X, y, ax=ax, boundary=False, steps=120)
        limits = (*ax.get_xlim(), *ax.get_ylim())
        line = decision_line(w1, w2, b, limits)
        title = "no line: both weights are 0" if line is None and w1 == w2 == 0 else ""
        if line is not None:
            ax.plot(line[:, 0], line[:, 1], color="black", lw=2.5, label="decision line")
            mid = line.mean(axis=0)
            length = 0.18 * min(limits[1] - limits[0], limits[3] - limits[2])
            direction = np.array([w1, w2]) / np.hypot(w1, w2) * length
            ax.annotate("", mid + direction, mid,
                        arrowprops={"arrowstyle": "-|>", "lw": 2.5, "color": plots.ACCENT})
            ax.text(*(mid + 1.3 * direction), "w", color=plots.ACCENT,
                    fontsize=13, weight="bold", ha="center", va="center")
        elif not title:
            title = "the decision line lies outside this view"
        if y is not None and not title:
            z = X @ np.array([w1, w2]) + b
            correct = np.mean((z > 0) == (np.asarray(y) == 1))
            title = f"the line puts {correct:.0%} of the points on their class's side"
        ax.set_title(title or "output of the neuron")
        ax.legend(loc="upper left", framealpha=0.9)
    return plots.finish(fig)


def neuron_explorer(X: np.ndarray, y: np.ndarray):
    """Sliders for w1, w2, b and a dropdown for the activation, over ``neuron_figure``."""
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

    return plots.interactive_figure(draw, controls, height="400px", columns=4)


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
                   num_outputs: int = 1, activation: type = nn.ReLU) -> Figure:
    """The diagram of ``build_network`` with ``num_hidden_layers`` layers of
    ``width`` units, titled with its parameter count."""
    model = build_network(num_inputs, [width] * num_hidden_layers, num_outputs, activation)
    count = sum(p.numel() for p in model.parameters())
    return plots.network_diagram(model, title=f"{count:,} parameters: "
                                              f"{len(model)} modules in nn.Sequential")


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
    return plots.interactive_figure(network_figure, controls, height="400px", columns=3)
